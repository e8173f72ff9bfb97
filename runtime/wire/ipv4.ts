/**
 * The IPv4 header (RFC 791 §3.1), with DSCP/ECN in place of TOS (RFC 2474 §3,
 * RFC 3168 §5).
 *
 * ```text
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |Version|  IHL  |    DSCP   |ECN|          Total Length         |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |         Identification        |R|D|M|      Fragment Offset    |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |  Time to Live |    Protocol   |         Header Checksum       |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                       Source Address                          |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                    Destination Address                        |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                    Options (kept as raw bytes)                |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { emitIpv4Header, ipv4HeaderLength, parseIpv4 } from "./ipv4.ts";
 * const spec = {
 *   version: 4, dscp: 0, ecn: 0, id: 1, reservedFlag: false, df: true, mf: false,
 *   fragmentOffset: 0, ttl: 64, protocol: 6, src: new Uint8Array([192, 0, 2, 1]),
 *   dst: new Uint8Array([192, 168, 0, 1]), options: new Uint8Array(0),
 * };
 * const buf = new Uint8Array(ipv4HeaderLength(spec) + 4);
 * emitIpv4Header(spec, buf, 0, 4);
 * const { header, payloadEnd } = parseIpv4(buf);
 * assert.equal(header.totalLength, 24);
 * assert.equal(header.checksumOk, true);
 * assert.equal(payloadEnd, 24);
 * ```
 */
import { be } from "./big_endian.ts";
import { checksum } from "./checksum.ts";
import { DecodeError } from "./decode_error.ts";

/** Byte offsets of the header fields. */
export const IPV4_FIELD = {
  VERSION_IHL: 0,
  DSCP_ECN: 1,
  TOTAL_LENGTH: 2,
  ID: 4,
  FLAGS_FRAGMENT: 6,
  TTL: 8,
  PROTOCOL: 9,
  CHECKSUM: 10,
  SRC: 12,
  DST: 16,
  OPTIONS: 20,
} as const;

/** RFC 791 §3.1: a header without options is 5 words; IHL allows at most 15. */
export const IPV4_MIN_HEADER = 20;

/** Raw IPv4 header values. */
export interface Ipv4Fields {
  kind: "ipv4";
  /** The version nibble as on the wire (4 when valid). */
  version: number;
  /** Header length in 32-bit words (5..15 when valid). */
  ihl: number;
  dscp: number;
  /** RFC 3168 §5: 0 Not-ECT, 1 ECT(1), 2 ECT(0), 3 CE. */
  ecn: number;
  totalLength: number;
  id: number;
  /** The reserved ("evil", RFC 3514) flag bit. */
  reservedFlag: boolean;
  df: boolean;
  mf: boolean;
  /** In 8-byte units, as on the wire. */
  fragmentOffset: number;
  ttl: number;
  protocol: number;
  checksum: number;
  src: Uint8Array;
  dst: Uint8Array;
  /** Options and padding, raw. */
  options: Uint8Array;
  /** Set by parsing: whether `checksum` verifies. */
  checksumOk?: boolean;
}

/** What `emitIpv4Header` takes: computed fields may be left out. */
export type Ipv4Spec =
  & Omit<Ipv4Fields, "kind" | "ihl" | "totalLength" | "checksum" | "checksumOk" | "protocol">
  & {
    kind?: "ipv4";
    ihl?: number;
    totalLength?: number;
    checksum?: number;
    protocol?: number;
  };

/**
 * A plain header from `src` to `dst`: no DSCP/ECN, id 0, no flags, TTL 64
 * (the Linux default, `net.ipv4.ip_default_ttl`), no options. Callers spread
 * it and override what they need.
 */
export function ipv4Header(src: Uint8Array, dst: Uint8Array): Ipv4Spec & { kind: "ipv4" } {
  return {
    kind: "ipv4",
    version: 4,
    dscp: 0,
    ecn: 0,
    id: 0,
    reservedFlag: false,
    df: false,
    mf: false,
    fragmentOffset: 0,
    ttl: 64,
    src,
    dst,
    options: NO_OPTIONS,
  };
}

// Shared: a zero-length array cannot be written to, and a fresh one costs an allocation.
const NO_OPTIONS = new Uint8Array(0);

/** A mutable view over IPv4 header bytes. */
export class Ipv4View {
  readonly bytes: Uint8Array;
  constructor(bytes: Uint8Array) {
    if (bytes.length < IPV4_MIN_HEADER) {
      throw new DecodeError("IPv4 header", `need ${IPV4_MIN_HEADER} bytes, got ${bytes.length}`);
    }
    this.bytes = bytes;
  }
  get version(): number {
    return this.bytes[0] >>> 4;
  }
  get ihl(): number {
    return this.bytes[0] & 0xf;
  }
  get ecn(): number {
    return this.bytes[1] & 3;
  }
  set ecn(v: number) {
    this.bytes[1] = (this.bytes[1] & 0xfc) | (v & 3);
  }
  get totalLength(): number {
    return be.u16(this.bytes, IPV4_FIELD.TOTAL_LENGTH);
  }
  set totalLength(v: number) {
    be.put16(this.bytes, IPV4_FIELD.TOTAL_LENGTH, v);
  }
  get ttl(): number {
    return this.bytes[IPV4_FIELD.TTL];
  }
  set ttl(v: number) {
    this.bytes[IPV4_FIELD.TTL] = v;
  }
  get protocol(): number {
    return this.bytes[IPV4_FIELD.PROTOCOL];
  }
  get checksum(): number {
    return be.u16(this.bytes, IPV4_FIELD.CHECKSUM);
  }
  set checksum(v: number) {
    be.put16(this.bytes, IPV4_FIELD.CHECKSUM, v);
  }
  /** Recomputes the header checksum (RFC 791 §3.1 "Header Checksum"). */
  fillChecksum(): void {
    this.checksum = 0;
    this.checksum = checksum.finish(checksum.sum(this.bytes, 0, this.ihl * 4, 0));
  }
}

/** The result of `parseIpv4`: the header and where its payload lies in the input. */
export interface Ipv4Parse {
  header: Ipv4Fields;
  payloadStart: number;
  payloadEnd: number;
}

/**
 * Decodes the IPv4 header at `bytes[start, end)`. Bytes beyond `totalLength`
 * (link-layer padding) are not part of the datagram; `payloadEnd` says where
 * it stops.
 */
export function parseIpv4(bytes: Uint8Array, start = 0, end = bytes.length): Ipv4Parse {
  const b = bytes;
  const o = start;
  const len = end - start;
  if (len < IPV4_MIN_HEADER) {
    throw new DecodeError("IPv4 header", `need ${IPV4_MIN_HEADER} bytes, got ${len}`);
  }
  const version = b[o] >>> 4;
  if (version !== 4) throw new DecodeError("IPv4 header", `version ${version} is not 4`);
  const ihl = b[o] & 0xf;
  if (ihl < 5) throw new DecodeError("IPv4 header", `IHL ${ihl} is below 5`);
  const hdr = ihl * 4;
  if (hdr > len) {
    throw new DecodeError("IPv4 header", `IHL ${ihl} claims ${hdr} bytes, only ${len} present`);
  }
  const totalLength = be.u16(b, o + 2);
  if (totalLength < hdr) {
    throw new DecodeError(
      "IPv4 header",
      `total length ${totalLength} is below the header length ${hdr}`,
    );
  }
  if (totalLength > len) {
    throw new DecodeError(
      "IPv4 header",
      `total length ${totalLength} exceeds the ${len} bytes present`,
    );
  }
  const ff = be.u16(b, o + 6);
  const header: Ipv4Fields = {
    kind: "ipv4",
    version,
    ihl,
    dscp: b[o + 1] >>> 2,
    ecn: b[o + 1] & 3,
    totalLength,
    id: be.u16(b, o + 4),
    reservedFlag: (ff & 0x8000) !== 0,
    df: (ff & 0x4000) !== 0,
    mf: (ff & 0x2000) !== 0,
    fragmentOffset: ff & 0x1fff,
    ttl: b[o + 8],
    protocol: b[o + 9],
    checksum: be.u16(b, o + 10),
    src: b.subarray(o + 12, o + 16),
    dst: b.subarray(o + 16, o + 20),
    options: b.subarray(o + 20, o + hdr),
    checksumOk: checksum.fold(checksum.sum(b, o, o + hdr, 0)) === 0xffff,
  };
  return { header, payloadStart: o + hdr, payloadEnd: o + totalLength };
}

/** Bytes of header that `emitIpv4Header` writes: 20 plus options, padded to a word unless `ihl` is set. */
export function ipv4HeaderLength(spec: Ipv4Spec): number {
  const n = spec.options.length;
  if (spec.ihl !== undefined) return IPV4_MIN_HEADER + n;
  const padded = (n + 3) & ~3;
  if (padded > 40) {
    throw new RangeError(
      `Cannot emit IPv4 header: options take ${n} bytes, above the 40 an IHL of 15 allows (RFC 791 §3.1); ` +
        `set ihl explicitly to craft this`,
    );
  }
  return IPV4_MIN_HEADER + padded;
}

/**
 * Writes the header for a datagram whose payload is `payloadLength` bytes.
 * Left-out `ihl`, `totalLength`, `protocol` (0) and `checksum` are computed.
 */
export function emitIpv4Header(
  spec: Ipv4Spec,
  buf: Uint8Array,
  at: number,
  payloadLength: number,
): number {
  const hdr = ipv4HeaderLength(spec);
  const ihl = spec.ihl ?? hdr / 4;
  const total = spec.totalLength ?? hdr + payloadLength;
  if (total > 0xffff && spec.totalLength === undefined) {
    throw new RangeError(
      `Cannot emit IPv4 header: datagram of ${total} bytes is above 65535 (RFC 791 §3.1)`,
    );
  }
  const b = buf;
  const o = at;
  b[o] = ((spec.version & 0xf) << 4) | (ihl & 0xf);
  b[o + 1] = ((spec.dscp & 0x3f) << 2) | (spec.ecn & 3);
  be.put16(b, o + 2, total);
  be.put16(b, o + 4, spec.id);
  const ff = (spec.reservedFlag ? 0x8000 : 0) | (spec.df ? 0x4000 : 0) | (spec.mf ? 0x2000 : 0) |
    (spec.fragmentOffset & 0x1fff);
  be.put16(b, o + 6, ff);
  b[o + 8] = spec.ttl;
  b[o + 9] = spec.protocol ?? 0;
  b[o + 10] = 0;
  b[o + 11] = 0;
  b.set(spec.src, o + 12);
  b.set(spec.dst, o + 16);
  b.set(spec.options, o + 20);
  b.fill(0, o + 20 + spec.options.length, o + hdr);
  const sum = spec.checksum ?? checksum.finish(checksum.sum(b, o, o + hdr, 0));
  be.put16(b, o + 10, sum);
  return hdr;
}
