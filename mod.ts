/**
 * synack: a packet-crafting REPL and TCP test DSL for Deno.
 *
 * This module is the public API:
 * - the DSL: packet builders (`syn()`, `ack().opts({ ts: false })`), option
 *   literals, expectations (`expect(rst()).seqEquals(ack)`), socket calls and
 *   `scenario()`, which also registers with `Deno.test`;
 * - the engine: the runner, virtual and real clocks, traces (pcap and JSON);
 * - the built-in TCP stack with its `linux` and `rfc7323-strict` profiles;
 * - the wire layer: codecs for IPv4, IPv6, TCP (every option), UDP,
 *   ICMPv4/v6 and Ethernet, the packetdrill-style line syntax, pcap/pcapng,
 *   sequence arithmetic and the zod schemas of user-facing field specs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { emitPacket, formatLine, parseLine, parsePacket } from "./mod.ts";
 * const line = "192.0.2.1:40000 > 192.168.0.1:8080 S 0:0(0) win 65535 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>";
 * const bytes = emitPacket(parseLine(line).packet);
 * assert.equal(bytes.length, 60);
 * assert.equal(formatLine(parsePacket(bytes)), line);
 * ```
 *
 * @module
 */
export { address } from "./runtime/wire/address.ts";
export { allocBytes } from "./runtime/wire/byte_pool.ts";
export { checksum } from "./runtime/wire/checksum.ts";
export { concatBytes } from "./runtime/wire/concat_bytes.ts";
export { DecodeError } from "./runtime/wire/decode_error.ts";
export {
  emitEthernet,
  type EthernetFields,
  EtherType,
  parseEthernet,
} from "./runtime/wire/ethernet.ts";
export { hex } from "./runtime/wire/hex.ts";
export {
  emitIcmp,
  type IcmpFields,
  icmpRest,
  type IcmpSpec,
  Icmpv4Type,
  Icmpv6Type,
  IcmpView,
  parseIcmp,
  parseQuoted,
  type QuotedDatagram,
} from "./runtime/wire/icmp.ts";
export {
  emitIpv4Header,
  type Ipv4Fields,
  type Ipv4Spec,
  Ipv4View,
  parseIpv4,
} from "./runtime/wire/ipv4.ts";
export {
  emitIpv6Header,
  type Ipv6Extension,
  type Ipv6Fields,
  type Ipv6Spec,
  Ipv6View,
  parseIpv6,
} from "./runtime/wire/ipv6.ts";
export { formatLine, type FormatLineOptions } from "./runtime/wire/line_format.ts";
export { type ParsedLine, parseLine } from "./runtime/wire/line_parse.ts";
export { LineSyntaxError } from "./runtime/wire/line_syntax_error.ts";
export { formatOption, formatOptionList, parseOptionList } from "./runtime/wire/option_list.ts";
export {
  emitPacket,
  type IpFields,
  type LinkKind,
  type Packet,
  type PacketSpec,
  parsePacket,
  type RawTransport,
  type Transport,
} from "./runtime/wire/packet.ts";
export {
  CaptureParser,
  type CaptureRecord,
  LinkType,
  PcapngWriter,
  PcapWriter,
  readCapture,
  readCaptureBytes,
} from "./runtime/wire/pcap.ts";
export { seq } from "./runtime/wire/seq.ts";
export {
  emitTcp,
  formatTcpFlags,
  parseTcp,
  parseTcpFlags,
  type PseudoHeader,
  type TcpFields,
  TcpFlag,
  type TcpSpec,
  TcpView,
} from "./runtime/wire/tcp.ts";
export {
  emitTcpOptions,
  parseTcpOptions,
  type TcpOption,
  TcpOptionKind,
  tcpOptionKindOf,
  tcpOptionsLength,
} from "./runtime/wire/tcp_options.ts";
export { emitUdp, parseUdp, type UdpFields, type UdpSpec, UdpView } from "./runtime/wire/udp.ts";
export { formatVerbose } from "./runtime/wire/verbose.ts";
export { checkFields, fieldSchemas } from "./dsl/field_schema.ts";
export { any, type FieldMatch, masked, type Matcher, range, where } from "./dsl/matcher.ts";
export { type Duration, parseDuration } from "./dsl/duration.ts";
export {
  eol,
  mss,
  nop,
  type OptionInput,
  type OptionOverride,
  type OptionSpec,
  sack,
  sackOk,
  ts,
  wscale,
} from "./dsl/option_spec.ts";
export {
  ack,
  anyOpts,
  challengeAck,
  checksum as badChecksum,
  data,
  dataSegment,
  field,
  fin,
  finAck,
  flags,
  fragNeeded,
  icmp,
  IcmpBuilder,
  ip,
  named,
  opts,
  optsInclude,
  type PacketDef,
  packetTooBig,
  payload,
  rst,
  rstAck,
  syn,
  synAck,
  tcp,
  TcpBuilder,
  udp,
  UdpBuilder,
  unreachable,
} from "./dsl/packet_builder.ts";
export {
  type CallDef,
  type CallWant,
  expect,
  ExpectBuilder,
  expectDrop,
  expectNothing,
  inject,
  oneOf,
  type PathOp,
  type Relation,
  type Step,
  type StepInput,
  sysctl,
  toSteps,
  useProfile,
  wait,
} from "./dsl/steps.ts";
export {
  accept,
  bind,
  CallBuilder,
  close,
  connect,
  fcntl,
  getsockopt,
  listen,
  peer,
  poll,
  read,
  setsockopt,
  shutdown,
  socket,
  write,
} from "./dsl/socket_steps.ts";
export { type ImpairOptions, path, PathBuilder } from "./dsl/path_steps.ts";
export { conntrack, ConntrackBuilder, type EntryInput } from "./dsl/conntrack_steps.ts";
/** packetdrill's steps in TypeScript (`synack convert`'s output): `pkt.script`, `pkt.at`, … */
export * as pkt from "./dsl/pkt/pkt_steps.ts";
export {
  builtin,
  type HostDef,
  kernel,
  type LinkDef,
  on,
  topology,
  type TopologyDef,
} from "./dsl/topology_def.ts";
export {
  defineScenario,
  type Scenario,
  type ScenarioContext,
  type ScenarioOptions,
  type StepOutcome,
} from "./dsl/scenario_def.ts";
export { formatLocation, ScenarioError, type SourceLoc } from "./dsl/source_location.ts";
export { stepsFromJSON, stepsToJSON } from "./dsl/step_codec.ts";
export { openTarget, runScenarioOn, scenario } from "./runtime/scenario.ts";
export { type RunConfig, type RunResult, runScenario } from "./runtime/engine/runner.ts";
export { ScenarioFailure } from "./runtime/engine/failure.ts";
export {
  type Clock,
  DEFAULT_TOLERANCE,
  RealClock,
  timingTolerance,
  VirtualClock,
} from "./runtime/engine/clock.ts";
export { Trace, type TraceEvent } from "./runtime/engine/trace.ts";
export type { Backend, Endpoints, Peer, SocketApi, Target } from "./runtime/engine/target.ts";
export { MemoryLink } from "./runtime/backend/memory_link.ts";
export { checkProfile, profiles, type StackProfile } from "./runtime/stack/profile.ts";
export { Stack } from "./runtime/stack/stack.ts";
export { builtinPeer, builtinTarget } from "./runtime/stack/builtin_target.ts";
export { kernelTarget } from "./runtime/kernel/kernel_target.ts";
export { rawTarget } from "./runtime/kernel/raw_target.ts";
export { kernelUnavailable } from "./runtime/kernel/kernel_support.ts";
export { openTopology, type TopologyTarget } from "./runtime/topology/topology_target.ts";
export { TargetUnavailable } from "./runtime/engine/target_unavailable.ts";
export { type Divergence, firstDivergence } from "./runtime/engine/divergence.ts";
export {
  Errno,
  type ErrnoName,
  formatCall,
  type SocketCall,
  type SysResult,
  type TcpInfo,
  TcpState,
} from "./runtime/wire/socket_call.ts";
