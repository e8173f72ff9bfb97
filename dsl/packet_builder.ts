/**
 * Immutable packet builders. Every method returns a new builder over a new
 * frozen definition, so `const base = tcp().ports(40000, 8080)` can be
 * reused: `base.syn()` leaves `base` as it was. Each method is a one-liner
 * over an exported modifier (`field`, `opts`, `payload`, …), so
 * `syn(opts(mss(1460), wscale(7)))` works without chaining.
 *
 * A builder is a description, not bytes: fields left unset are filled from
 * the connection when the packet is injected (ports, addresses, window, the
 * timestamp echo, and seq/ack relative to each side's ISN, as packetdrill
 * does), and are left unchecked, or checked against the connection, when the
 * builder is used as an expected pattern. Fields may hold matchers (`any`,
 * `range`, `where`) for patterns.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { syn, tcp } from "./packet_builder.ts";
 * import { any } from "./matcher.ts";
 * const base = tcp().ports(40000, 8080);
 * const s = base.syn().seq(100).opts("<ts:false>");
 * assert.equal(base.def.flags, 0);
 * assert.equal(s.def.flags, 2);
 * assert.equal(s.def.seq, 100);
 * assert.deepEqual(s.def.options, { mode: "override", set: { ts: false } });
 * assert.ok(Object.isFrozen(s.def));
 * assert.equal(syn().win(any).def.win, any);
 * assert.throws(() => syn().seq(-1), /tcp\.seq: want an integer 0\.\.4294967295, got -1/);
 * ```
 */
import { isRstReason, RST_REASONS, type RstReason } from "../runtime/wire/stack_reasons.ts";
import { parseTcpFlags, TcpFlag } from "../runtime/wire/tcp.ts";
import { ECN } from "../runtime/wire/line_format.ts";
import { checkFields, fieldSchemas } from "./field_schema.ts";
import { type FieldMatch, isMatcher, masked, range } from "./matcher.ts";
import {
  combineOptionSpecs,
  type OptionInput,
  type OptionSpec,
  optionSpec,
} from "./option_spec.ts";

/** IP-level settings of a packet; unset fields come from the connection. */
export interface IpDef {
  readonly src?: string;
  readonly dst?: string;
  readonly ttl?: FieldMatch;
  readonly tos?: number;
  readonly ecn?: number;
  readonly df?: boolean;
}

/** How a pattern's options are compared: exactly, as required/forbidden items, or not at all. */
export type OptionsMatch = "exact" | "subset" | "ignore";

/** The definition behind a TCP builder. */
export interface TcpDef {
  readonly proto: "tcp";
  /** The builder's name, for messages: `syn`, `rstAck`, `tcp`. */
  readonly name: string;
  readonly flags: FieldMatch;
  readonly srcPort?: FieldMatch;
  readonly dstPort?: FieldMatch;
  readonly seq?: FieldMatch;
  readonly ack?: FieldMatch;
  readonly win?: FieldMatch;
  readonly urg?: FieldMatch;
  /** For patterns: the payload's length, when no payload is given (`dataSegment()` wants 1 or more). */
  readonly len?: FieldMatch;
  readonly options?: OptionSpec;
  readonly optionsMatch?: OptionsMatch;
  /** Bytes, or a length (zero bytes when injected; any bytes of that length when expected). */
  readonly payload?: Uint8Array | number;
  /** A checksum to write instead of the right one; `"bad"` writes a wrong one. */
  readonly checksum?: number | "bad";
  readonly ip: IpDef;
  /** A name other steps can refer to (`seqEquals("late-ack")`). */
  readonly label?: string;
  /** For patterns: why the stack sent this RST, in the kernel's words (`TCP_ABORT_ON_LINGER`). */
  readonly reason?: RstReason;
}

/** The definition behind a UDP builder. */
export interface UdpDef {
  readonly proto: "udp";
  readonly name: string;
  readonly srcPort?: number;
  readonly dstPort?: number;
  readonly payload?: Uint8Array | number;
  readonly checksum?: number | "bad";
  readonly ip: IpDef;
  readonly label?: string;
}

/** The definition behind an ICMP builder (ICMPv4 or ICMPv6 by address family). */
export interface IcmpDef {
  readonly proto: "icmp";
  readonly name: string;
  readonly type: number;
  readonly code: number;
  /** The 4 bytes after the checksum (id/seq, MTU, …) as a 32-bit number. */
  readonly rest?: number;
  /** Quote this injected segment (by label or builder) as the offending datagram. */
  readonly quote?: string;
  readonly payload?: Uint8Array | number;
  readonly checksum?: number | "bad";
  readonly ip: IpDef;
  readonly label?: string;
}

/** Any packet definition. */
export type PacketDef = TcpDef | UdpDef | IcmpDef;

/** A change to a definition. */
export type Modifier<D extends PacketDef = PacketDef> = (d: D) => D;

const enc = new TextEncoder();

function checked(key: string, v: unknown): void {
  const shape = fieldSchemas.tcp.shape as Record<string, import("zod").ZodType>;
  if (!isMatcher(v)) checkFields(shape[key], v, `tcp.${key}`);
}

/**
 * Sets one TCP field (`seq`, `ack`, `win`, `urg`, `srcPort`, `dstPort`) to a value or matcher.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { field, tcp } from "./packet_builder.ts";
 * assert.equal(tcp({ flags: "S" }, field("win", 1024)).def.win, 1024);
 * ```
 */
export function field(
  key: "seq" | "ack" | "win" | "urg" | "srcPort" | "dstPort",
  value: FieldMatch,
): Modifier<TcpDef> {
  checked(key, value);
  return (d) => ({ ...d, [key]: value });
}

/**
 * Sets the flags from letters (`"S."`, `"R"`, `"FP."`) or a number.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ack, flags } from "./packet_builder.ts";
 * assert.equal(ack(flags("P.")).def.flags, 0x18);
 * ```
 */
export function flags(f: string | FieldMatch): Modifier<TcpDef> {
  const v = typeof f === "string" ? parseTcpFlags(f) : f;
  return (d) => ({ ...d, flags: v });
}

/**
 * Options; see `option_spec.ts` for the three forms.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { opts, syn } from "./packet_builder.ts";
 * assert.equal(syn(opts("<ts:false>")).def.options?.mode, "override");
 * ```
 */
export function opts(...items: OptionInput[]): Modifier<TcpDef> {
  const spec = optionSpec(items);
  return (d) => ({
    ...d,
    options: combineOptionSpecs(d.options, spec),
    optionsMatch: spec.mode === "exact" ? "exact" : "subset",
  });
}

/**
 * Options an expected packet must carry (and, for `false` entries, must not).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { optsInclude, synAck } from "./packet_builder.ts";
 * assert.equal(synAck(optsInclude({ ts: true })).def.optionsMatch, "subset");
 * ```
 */
export function optsInclude(...items: OptionInput[]): Modifier<TcpDef> {
  const spec = optionSpec(items);
  return (d) => ({ ...d, options: spec, optionsMatch: "subset" });
}

/**
 * Lets an expected packet carry any options.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { anyOpts, synAck } from "./packet_builder.ts";
 * assert.equal(synAck(anyOpts()).def.optionsMatch, "ignore");
 * ```
 */
export function anyOpts(): Modifier<TcpDef> {
  return (d) => ({ ...d, options: undefined, optionsMatch: "ignore" });
}

/**
 * The payload: bytes, text (UTF-8), or a length.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ack, payload } from "./packet_builder.ts";
 * assert.equal(ack(payload(100)).def.payload, 100);
 * ```
 */
export function payload<D extends PacketDef>(p: Uint8Array | string | number): Modifier<D> {
  checkFields(fieldSchemas.tcp.shape.payload, p, "payload");
  const v = typeof p === "string" ? enc.encode(p) : p;
  return (d) => ({ ...d, payload: v });
}

/**
 * Sets IP fields.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ip, syn } from "./packet_builder.ts";
 * assert.equal(syn(ip({ ttl: 1 })).def.ip.ttl, 1);
 * ```
 */
export function ip<D extends PacketDef>(o: IpDef): Modifier<D> {
  const s = fieldSchemas.ipv4.shape;
  if (o.src !== undefined) checkFields(fieldSchemas.address, o.src, "ip.src");
  if (o.dst !== undefined) checkFields(fieldSchemas.address, o.dst, "ip.dst");
  if (o.ttl !== undefined && !isMatcher(o.ttl)) checkFields(s.ttl, o.ttl, "ip.ttl");
  if (o.tos !== undefined) checkFields(s.tos, o.tos, "ip.tos");
  if (o.ecn !== undefined) checkFields(s.ecn, o.ecn, "ip.ecn");
  if (o.df !== undefined) checkFields(s.df, o.df, "ip.df");
  return (d) => ({ ...d, ip: { ...d.ip, ...o } });
}

/**
 * A checksum to write instead of the right one; no argument writes a wrong one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checksum, syn } from "./packet_builder.ts";
 * assert.equal(syn(checksum()).def.checksum, "bad");
 * assert.equal(syn(checksum(0xbeef)).def.checksum, 0xbeef);
 * ```
 */
export function checksum<D extends PacketDef>(value?: number): Modifier<D> {
  if (value !== undefined) checkFields(fieldSchemas.tcp.shape.checksum, value, "checksum");
  return (d) => ({ ...d, checksum: value ?? "bad" });
}

/**
 * Names the packet so later steps can refer to it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ack, named } from "./packet_builder.ts";
 * assert.equal(ack(named("late-ack")).def.label, "late-ack");
 * ```
 */
export function named<D extends PacketDef>(label: string): Modifier<D> {
  return (d) => ({ ...d, label });
}

/**
 * For patterns: the stack must say it sent this RST for `name`, one of the
 * kernel's `enum sk_rst_reason` (`../runtime/wire/stack_reasons.ts`). The
 * kernel says so through its tracepoint, the built-in stack on its own.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rst, rstReason } from "./packet_builder.ts";
 * assert.equal(rst().with(rstReason("NO_SOCKET")).def.reason, "NO_SOCKET");
 * assert.throws(() => rstReason("TCP_PAWS"), /want a reset reason the kernel names/);
 * ```
 */
export function rstReason(name: string): Modifier<TcpDef> {
  if (!isRstReason(name)) {
    throw new RangeError(
      `reason(${JSON.stringify(name)}): want a reset reason the kernel names: ${
        RST_REASONS.join(", ")
      }`,
    );
  }
  return (d) => ({ ...d, reason: name });
}

function freeze<D extends PacketDef>(d: D): D {
  Object.freeze(d.ip);
  return Object.freeze(d);
}

/** Shared IP-level methods. */
abstract class Builder<D extends PacketDef, Self> {
  readonly def: D;
  constructor(def: D) {
    this.def = freeze(def);
  }
  protected abstract make(d: D): Self;
  /** Applies modifiers. */
  with(...mods: Modifier<D>[]): Self {
    return this.make(mods.reduce((d, m) => m(d), this.def));
  }
  /** Source address (the script's by default). */
  src(a: string): Self {
    return this.with(ip({ src: a }));
  }
  /** Destination address (the stack under test's by default). */
  dst(a: string): Self {
    return this.with(ip({ dst: a }));
  }
  /** IPv4 TTL / IPv6 hop limit. */
  ttl(v: FieldMatch): Self {
    return this.with(ip({ ttl: v }));
  }
  /** The whole TOS / traffic class byte. */
  tos(v: number): Self {
    return this.with(ip({ tos: v }));
  }
  /** ECN codepoint: 0..3 or `noecn`, `ect1`, `ect0`, `ce`. */
  ecn(v: number | (typeof ECN)[number]): Self {
    return this.with(ip({ ecn: typeof v === "number" ? v : ECN.indexOf(v) }));
  }
  /** Sets the DF bit (IPv4). */
  df(v = true): Self {
    return this.with(ip({ df: v }));
  }
  /** The payload: bytes, text, or a length. */
  payload(p: Uint8Array | string | number): Self {
    return this.with(payload(p));
  }
  /** A deliberately wrong (or given) checksum. */
  checksum(value?: number): Self {
    return this.with(checksum(value));
  }
  /** Names the packet for `seqEquals("name")` and friends. */
  named(label: string): Self {
    return this.with(named(label));
  }
}

/**
 * A TCP segment builder.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { syn, TcpBuilder } from "./packet_builder.ts";
 * const b = syn().seq(100).win(1024);
 * assert.ok(b instanceof TcpBuilder);
 * assert.deepEqual([b.def.seq, b.def.win], [100, 1024]);
 * ```
 */
export class TcpBuilder extends Builder<TcpDef, TcpBuilder> {
  protected make(d: TcpDef): TcpBuilder {
    return new TcpBuilder(d);
  }
  /** Sequence number, relative to the sender's ISN. */
  seq(v: FieldMatch): TcpBuilder {
    return this.with(field("seq", v));
  }
  /** Acknowledgment number, relative to the receiver's ISN; does not set the ACK flag. */
  ack(v: FieldMatch): TcpBuilder {
    return this.with(field("ack", v));
  }
  /** Window field, as on the wire (already scaled). */
  win(v: FieldMatch): TcpBuilder {
    return this.with(field("win", v));
  }
  /** Urgent pointer. */
  urg(v: FieldMatch): TcpBuilder {
    return this.with(field("urg", v));
  }
  /** Source and destination ports. */
  ports(src: FieldMatch, dst: FieldMatch): TcpBuilder {
    return this.with(field("srcPort", src), field("dstPort", dst));
  }
  /** For patterns: the payload length, a number or matcher (`range(1, 1460)`), whatever the bytes. */
  len(m: FieldMatch): TcpBuilder {
    return this.with((d) => ({ ...d, len: m }));
  }
  /** Flags as letters (`"S."`) or a number. */
  flags(f: string | FieldMatch): TcpBuilder {
    return this.with(flags(f));
  }
  /** Options: `{ ts: false }`, `"<mss 1460,nop,wscale 7>"`, `"<ts:false>"` or factories. */
  opts(...items: OptionInput[]): TcpBuilder {
    return this.with(opts(...items));
  }
  /** For patterns: options that must be present (or, with `false`, absent). */
  optsInclude(...items: OptionInput[]): TcpBuilder {
    return this.with(optsInclude(...items));
  }
  /** For patterns: ignore options. */
  anyOpts(): TcpBuilder {
    return this.with(anyOpts());
  }
  /** For patterns: the reason the stack gives for this RST (`"TCP_ABORT_ON_CLOSE"`). */
  reason(name: string): TcpBuilder {
    return this.with(rstReason(name));
  }
  /** Turns this into a SYN. */
  syn(): TcpBuilder {
    return this.with(flags(TcpFlag.SYN), (d) => ({ ...d, name: "syn" }));
  }
}

/**
 * A UDP datagram builder.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { udp, UdpBuilder } from "./packet_builder.ts";
 * const b = udp().ports(5353, 53);
 * assert.ok(b instanceof UdpBuilder);
 * assert.deepEqual([b.def.srcPort, b.def.dstPort], [5353, 53]);
 * ```
 */
export class UdpBuilder extends Builder<UdpDef, UdpBuilder> {
  protected make(d: UdpDef): UdpBuilder {
    return new UdpBuilder(d);
  }
  /** Source and destination ports. */
  ports(src: number, dst: number): UdpBuilder {
    checkFields(fieldSchemas.udp, { srcPort: src, dstPort: dst }, "udp");
    return this.with((d) => ({ ...d, srcPort: src, dstPort: dst }));
  }
}

/**
 * An ICMP message builder.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fragNeeded, IcmpBuilder } from "./packet_builder.ts";
 * assert.ok(fragNeeded(1400) instanceof IcmpBuilder);
 * ```
 */
export class IcmpBuilder extends Builder<IcmpDef, IcmpBuilder> {
  protected make(d: IcmpDef): IcmpBuilder {
    return new IcmpBuilder(d);
  }
  /** The 32-bit "rest of header" (id/seq, next-hop MTU…). */
  rest(v: number): IcmpBuilder {
    checkFields(fieldSchemas.icmp.shape.mtu, v, "icmp.rest");
    return this.with((d) => ({ ...d, rest: v }));
  }
  /** The next-hop MTU of frag-needed (RFC 1191 §4) or packet-too-big (RFC 4443 §3.2). */
  mtu(v: number): IcmpBuilder {
    checkFields(fieldSchemas.icmp.shape.mtu, v, "icmp.mtu");
    return this.with((d) => ({ ...d, rest: v }));
  }
  /**
   * Quotes the packet named `label` (injected or received) as the offending
   * datagram. Without it, an ICMP error quotes the last packet the script
   * received from the stack.
   */
  quote(label: string): IcmpBuilder {
    return this.with((d) => ({ ...d, quote: label }));
  }
}

const { FIN, SYN, RST, PSH, ACK } = TcpFlag;
const make = (name: string, f: number, mods: Modifier<TcpDef>[]) =>
  new TcpBuilder({ proto: "tcp", name, flags: f, ip: {} }).with(...mods);

/**
 * A TCP segment with the given fields (`flags` as letters or a number).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tcp } from "./packet_builder.ts";
 * assert.equal(tcp({ flags: "SE", seq: 7 }).def.seq, 7);
 * ```
 */
export function tcp(
  fields: { flags?: string | number; [k: string]: unknown } = {},
  ...mods: Modifier<TcpDef>[]
): TcpBuilder {
  const f = checkFields(fieldSchemas.tcp, fields, "tcp");
  let b = make("tcp", 0, []);
  if (f.flags !== undefined) b = b.flags(f.flags);
  for (const k of ["srcPort", "dstPort", "seq", "ack", "win", "urg"] as const) {
    if (f[k] !== undefined) b = b.with(field(k, f[k]));
  }
  if (f.payload !== undefined) b = b.payload(f.payload);
  if (f.checksum !== undefined) b = b.checksum(f.checksum);
  return b.with(...mods);
}
/**
 * SYN.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { syn } from "./packet_builder.ts";
 * assert.deepEqual([syn().def.name, syn().def.flags], ["syn", 0x02]);
 * ```
 */
export const syn = (...mods: Modifier<TcpDef>[]) => make("syn", SYN, mods);
/**
 * SYN+ACK.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { synAck } from "./packet_builder.ts";
 * assert.equal(synAck().def.flags, 0x12);
 * ```
 */
export const synAck = (...mods: Modifier<TcpDef>[]) => make("synAck", SYN | ACK, mods);
/**
 * A bare ACK.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ack } from "./packet_builder.ts";
 * assert.equal(ack().ack(1001).def.ack, 1001);
 * ```
 */
export const ack = (...mods: Modifier<TcpDef>[]) => make("ack", ACK, mods);
/**
 * RST without ACK.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rst } from "./packet_builder.ts";
 * assert.equal(rst().def.flags, 0x04);
 * ```
 */
export const rst = (...mods: Modifier<TcpDef>[]) => make("rst", RST, mods);
/**
 * RST with ACK.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rstAck } from "./packet_builder.ts";
 * assert.equal(rstAck().def.flags, 0x14);
 * ```
 */
export const rstAck = (...mods: Modifier<TcpDef>[]) => make("rstAck", RST | ACK, mods);
/**
 * FIN without ACK.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fin } from "./packet_builder.ts";
 * assert.equal(fin().def.flags, 0x01);
 * ```
 */
export const fin = (...mods: Modifier<TcpDef>[]) => make("fin", FIN, mods);
/**
 * FIN with ACK.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { finAck } from "./packet_builder.ts";
 * assert.equal(finAck().def.flags, 0x11);
 * ```
 */
export const finAck = (...mods: Modifier<TcpDef>[]) => make("finAck", FIN | ACK, mods);
/**
 * A data segment (PSH+ACK) carrying `p`: bytes, text, or a length.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { data } from "./packet_builder.ts";
 * const d = data("hello").def;
 * assert.equal(d.flags, 0x18);
 * assert.equal((d.payload as Uint8Array).length, 5);
 * ```
 */
export const data = (p: Uint8Array | string | number, ...mods: Modifier<TcpDef>[]) =>
  make("data", PSH | ACK, [payload(p), ...mods]);
/**
 * For patterns: any segment that carries data: ACK set, SYN and RST clear,
 * PSH and FIN either way, one byte or more. What a path rule counts as "the
 * 3rd data segment".
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dataSegment } from "./packet_builder.ts";
 * assert.deepEqual(dataSegment().def.len, { matcher: "range", min: 1, max: 65535 });
 * ```
 */
export const dataSegment = (...mods: Modifier<TcpDef>[]) =>
  make("dataSegment", 0, [
    (d) => ({ ...d, flags: masked(ACK, ACK | SYN | RST), len: range(1, 65535) }),
    ...mods,
  ]);
/**
 * The ACK RFC 5961 answers an in-window RST or SYN with: seq = snd.nxt and
 * ack = rcv.nxt of the stack, which is what an unset `ack()` pattern expects.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { challengeAck } from "./packet_builder.ts";
 * assert.equal(challengeAck().def.flags, 0x10);
 * ```
 */
export const challengeAck = (...mods: Modifier<TcpDef>[]) => make("challengeAck", ACK, mods);
/**
 * A UDP datagram.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { udp } from "./packet_builder.ts";
 * assert.equal(udp().payload("ping").def.proto, "udp");
 * ```
 */
export const udp = (...mods: Modifier<UdpDef>[]) =>
  new UdpBuilder({ proto: "udp", name: "udp", ip: {} }).with(...mods);
/**
 * An ICMP message of `type`/`code` (numbers as in RFC 792 or RFC 4443 by family).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { icmp } from "./packet_builder.ts";
 * assert.deepEqual([icmp(8).def.type, icmp(8).def.code], [8, 0]);
 * ```
 */
export const icmp = (type: number, code = 0, ...mods: Modifier<IcmpDef>[]) => {
  checkFields(fieldSchemas.icmp, { type, code }, "icmp");
  return new IcmpBuilder({ proto: "icmp", name: "icmp", type, code, ip: {} }).with(...mods);
};

/**
 * ICMPv4 "fragmentation needed and DF set" with the next-hop MTU (RFC 1191 §4),
 * quoting the last segment the script received unless told otherwise.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fragNeeded } from "./packet_builder.ts";
 * const d = fragNeeded(1400).def;
 * assert.deepEqual([d.type, d.code, d.rest], [3, 4, 1400]);
 * ```
 */
export const fragNeeded = (mtu: number, ...mods: Modifier<IcmpDef>[]) =>
  icmp(3, 4, ...mods).mtu(mtu);
/**
 * ICMPv6 "packet too big" with the MTU (RFC 4443 §3.2); for IPv6 scenarios.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { packetTooBig } from "./packet_builder.ts";
 * assert.equal(packetTooBig(1280).def.rest, 1280);
 * ```
 */
export const packetTooBig = (mtu: number, ...mods: Modifier<IcmpDef>[]) =>
  icmp(2, 0, ...mods).mtu(mtu);
/** The destination-unreachable codes by name (ICMPv4, RFC 792 and RFC 1812 §5.2.7.1). */
const UNREACH_V4 = { net: 0, host: 1, protocol: 2, port: 3, admin: 13 } as const;
/**
 * ICMPv4 destination unreachable (type 3) with its code by name or number,
 * quoting the last segment the script received: `unreachable("port")`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { unreachable } from "./packet_builder.ts";
 * assert.equal(unreachable("port").def.type, 3);
 * ```
 */
export const unreachable = (
  code: keyof typeof UNREACH_V4 | number,
  ...mods: Modifier<IcmpDef>[]
) => {
  if (typeof code === "string" && !Object.hasOwn(UNREACH_V4, code)) {
    throw new RangeError(
      `unreachable(): want one of ${Object.keys(UNREACH_V4).join(", ")} or a code number, got ${
        JSON.stringify(code)
      }`,
    );
  }
  return icmp(3, typeof code === "number" ? code : UNREACH_V4[code], ...mods);
};

/** Any builder. */
export type AnyBuilder = TcpBuilder | UdpBuilder | IcmpBuilder;
