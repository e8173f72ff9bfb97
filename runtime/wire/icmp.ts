/**
 * ICMPv4 (RFC 792) and ICMPv6 (RFC 4443) messages.
 *
 * ```text
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |     Type      |     Code      |          Checksum             |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                 Rest of header (by type)                      |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |    Body: echo data, or as much of the offending datagram      |
 *    |    as fits (RFC 792 "Internet Header + 64 bits", RFC 4443 §2.4)|
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 *
 * The rest-of-header word is kept raw; `echo` and `mtu` are decoded from it
 * where the type defines them. Error messages decode their quoted datagram
 * as far as the bytes go.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { emitIcmp, icmpRest, parseIcmp } from "./icmp.ts";
 * const buf = new Uint8Array(8);
 * emitIcmp({ kind: "icmpv4", type: 3, code: 4, rest: icmpRest.mtu(1400), body: new Uint8Array(0) }, buf, 0);
 * const m = parseIcmp(buf, 0, buf.length, "icmpv4");
 * assert.equal(m.mtu, 1400);
 * assert.equal(m.checksumOk, true);
 * ```
 */
import { be } from "./big_endian.ts";
import { checksum } from "./checksum.ts";
import { DecodeError } from "./decode_error.ts";
import { icmpNames } from "./icmp_names.ts";
import type { PseudoHeader } from "./tcp.ts";

/** IP protocol numbers. */
export const ICMPV4_PROTOCOL = 1;
export const ICMPV6_PROTOCOL = 58;

/** ICMPv4 types (RFC 792) and codes used by PMTU discovery (RFC 1191). */
export const Icmpv4Type = {
  ECHO_REPLY: 0,
  DEST_UNREACHABLE: 3,
  ECHO_REQUEST: 8,
  TIME_EXCEEDED: 11,
  PARAMETER_PROBLEM: 12,
} as const;

/** ICMPv6 types (RFC 4443 §2.1). */
export const Icmpv6Type = {
  DEST_UNREACHABLE: 1,
  PACKET_TOO_BIG: 2,
  TIME_EXCEEDED: 3,
  PARAMETER_PROBLEM: 4,
  ECHO_REQUEST: 128,
  ECHO_REPLY: 129,
} as const;

/** What an ICMP error quotes of the datagram that caused it, decoded as far as it goes. */
export interface QuotedDatagram {
  version?: number;
  protocol?: number;
  src?: Uint8Array;
  dst?: Uint8Array;
  totalLength?: number;
  srcPort?: number;
  dstPort?: number;
  /** TCP only: the quoted sequence number (RFC 792 quotes 64 bits, enough for it). */
  seq?: number;
  ack?: number;
  flags?: number;
  /** Why decoding stopped where it did, when it stopped short. */
  stopped?: string;
}

/** Raw ICMP message fields with decoded extras. */
export interface IcmpFields {
  kind: "icmpv4" | "icmpv6";
  type: number;
  code: number;
  checksum: number;
  /** The 32-bit word after the checksum, raw. */
  rest: number;
  body: Uint8Array;
  checksumOk?: boolean;
  /** Echo request/reply identifier and sequence number. */
  echo?: { id: number; seq: number };
  /** Next-hop MTU of frag-needed (RFC 1191 §4) or packet-too-big (RFC 4443 §3.2). */
  mtu?: number;
  quoted?: QuotedDatagram;
}

/** What `emitIcmp` takes. */
export type IcmpSpec = Omit<IcmpFields, "checksum" | "checksumOk" | "echo" | "mtu" | "quoted"> & {
  /** The checksum to write; `"bad"` writes one that cannot verify. Computed when left out. */
  checksum?: number | "bad";
};

/** Builds the rest-of-header word for the types that structure it. */
export const icmpRest = {
  /** Echo: identifier in the high half, sequence number in the low half. */
  echo(id: number, seqNo: number): number {
    return (((id & 0xffff) << 16) | (seqNo & 0xffff)) >>> 0;
  },
  /** ICMPv4 frag-needed puts the MTU in the low 16 bits (RFC 1191 §4); ICMPv6 PTB uses all 32 (RFC 4443 §3.2). */
  mtu(mtu: number, v6 = false): number {
    return v6 ? mtu >>> 0 : mtu & 0xffff;
  },
} as const;

/** A mutable view over an ICMP message's fixed 8 bytes and body. */
export class IcmpView {
  readonly bytes: Uint8Array;
  constructor(bytes: Uint8Array) {
    if (bytes.length < 8) {
      throw new DecodeError("ICMP message", `need 8 bytes, got ${bytes.length}`);
    }
    this.bytes = bytes;
  }
  get type(): number {
    return this.bytes[0];
  }
  set type(v: number) {
    this.bytes[0] = v;
  }
  get code(): number {
    return this.bytes[1];
  }
  set code(v: number) {
    this.bytes[1] = v;
  }
  get checksum(): number {
    return be.u16(this.bytes, 2);
  }
  set checksum(v: number) {
    be.put16(this.bytes, 2, v);
  }
  get rest(): number {
    return be.u32(this.bytes, 4);
  }
  set rest(v: number) {
    be.put32(this.bytes, 4, v >>> 0);
  }
  /** Recomputes the checksum; ICMPv6 covers the pseudo-header too (RFC 4443 §2.3). */
  fillChecksum(pseudo?: PseudoHeader): void {
    this.checksum = 0;
    const n = this.bytes.length;
    const acc = pseudo ? checksum.pseudo(pseudo.src, pseudo.dst, ICMPV6_PROTOCOL, n) : 0;
    this.checksum = checksum.finish(checksum.sum(this.bytes, 0, n, acc));
  }
}

function isError(kind: "icmpv4" | "icmpv6", type: number): boolean {
  return kind === "icmpv4"
    ? type === 3 || type === 11 || type === 12 || type === 4 || type === 5
    : type < 128;
}

/** Decodes a message from `bytes[start, end)`; ICMPv6 needs the pseudo-header to verify its checksum. */
export function parseIcmp(
  bytes: Uint8Array,
  start: number,
  end: number,
  kind: "icmpv4" | "icmpv6",
  pseudo?: PseudoHeader,
): IcmpFields {
  const b = bytes;
  const o = start;
  const name = kind === "icmpv4" ? "ICMPv4 message" : "ICMPv6 message";
  if (end - start < 8) throw new DecodeError(name, `need 8 bytes, got ${end - start}`);
  const type = b[o];
  const rest = be.u32(b, o + 4);
  const m: IcmpFields = {
    kind,
    type,
    code: b[o + 1],
    checksum: be.u16(b, o + 2),
    rest,
    body: b.subarray(o + 8, end),
  };
  let acc = 0;
  if (kind === "icmpv6") {
    if (pseudo) acc = checksum.pseudo(pseudo.src, pseudo.dst, ICMPV6_PROTOCOL, end - start);
  }
  if (kind === "icmpv4" || pseudo) {
    m.checksumOk = checksum.fold(checksum.sum(b, o, end, acc)) === 0xffff;
  }
  if (icmpNames.isEcho(kind, type)) m.echo = { id: rest >>> 16, seq: rest & 0xffff };
  if (icmpNames.hasMtu(kind, type, m.code)) m.mtu = icmpRest.mtu(rest, kind === "icmpv6");
  if (isError(kind, type)) m.quoted = parseQuoted(m.body);
  return m;
}

/**
 * Decodes the quoted original datagram as far as its bytes go. Never throws:
 * `stopped` says where and why it ended.
 */
export function parseQuoted(q: Uint8Array): QuotedDatagram {
  const out: QuotedDatagram = {};
  if (q.length < 1) return { stopped: "no quoted datagram" };
  const version = q[0] >>> 4;
  out.version = version;
  let l4: number;
  if (version === 4) {
    if (q.length < 20) return { ...out, stopped: `quoted IPv4 header has ${q.length} of 20 bytes` };
    l4 = (q[0] & 0xf) * 4;
    out.totalLength = be.u16(q, 2);
    out.protocol = q[9];
    out.src = q.subarray(12, 16);
    out.dst = q.subarray(16, 20);
    if (l4 < 20) return { ...out, stopped: `quoted IHL ${l4 / 4} is below 5` };
  } else if (version === 6) {
    if (q.length < 40) return { ...out, stopped: `quoted IPv6 header has ${q.length} of 40 bytes` };
    l4 = 40;
    out.totalLength = 40 + (be.u16(q, 4));
    out.protocol = q[6];
    out.src = q.subarray(8, 24);
    out.dst = q.subarray(24, 40);
  } else {
    return { ...out, stopped: `quoted version ${version} is neither 4 nor 6` };
  }
  const p = out.protocol;
  if (p !== 6 && p !== 17) return out;
  if (q.length < l4 + 4) {
    return { ...out, stopped: "quoted transport header is cut before the ports" };
  }
  out.srcPort = be.u16(q, l4);
  out.dstPort = be.u16(q, l4 + 2);
  if (p === 17) return out;
  if (q.length < l4 + 8) {
    return { ...out, stopped: "quoted TCP header is cut before the sequence number" };
  }
  out.seq = be.u32(q, l4 + 4);
  if (q.length < l4 + 12) {
    return { ...out, stopped: "quoted TCP header is cut after the sequence number" };
  }
  out.ack = be.u32(q, l4 + 8);
  if (q.length < l4 + 14) return { ...out, stopped: "quoted TCP header is cut before the flags" };
  out.flags = ((q[l4 + 12] & 1) << 8) | q[l4 + 13];
  return out;
}

/** Writes the message; ICMPv6 needs the pseudo-header when the checksum is computed. */
export function emitIcmp(
  spec: IcmpSpec,
  buf: Uint8Array,
  at: number,
  pseudo?: PseudoHeader,
): number {
  const b = buf;
  const o = at;
  const total = 8 + spec.body.length;
  b[o] = spec.type;
  b[o + 1] = spec.code;
  b[o + 2] = 0;
  b[o + 3] = 0;
  b[o + 4] = spec.rest >>> 24;
  b[o + 5] = spec.rest >>> 16;
  be.put16(b, o + 6, spec.rest);
  b.set(spec.body, o + 8);
  let sum = spec.checksum;
  if (typeof sum !== "number") {
    let acc = 0;
    if (spec.kind === "icmpv6") {
      if (!pseudo) {
        throw new RangeError(
          "Cannot emit ICMPv6 checksum: the pseudo-header addresses are unknown; pass them or set checksum",
        );
      }
      acc = checksum.pseudo(pseudo.src, pseudo.dst, ICMPV6_PROTOCOL, total);
    }
    const right = checksum.finish(checksum.sum(b, o, o + total, acc));
    sum = sum === "bad" ? checksum.wrong(right) : right;
  }
  be.put16(b, o + 2, sum);
  return total;
}
