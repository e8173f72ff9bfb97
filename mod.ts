/**
 * synack: a packet-crafting REPL and TCP test DSL for Deno.
 *
 * This module is the public API. So far it holds the wire layer: codecs for
 * IPv4, IPv6, TCP (with every option), UDP, ICMPv4/v6 and Ethernet, the
 * packetdrill-style line syntax, pcap/pcapng streaming, sequence arithmetic
 * and the zod schemas of user-facing field specs.
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
