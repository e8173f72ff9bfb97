/**
 * The IPv6 header (RFC 8200 §3) and its extension-header chain (RFC 8200 §4).
 *
 * ```text
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |Version| Traffic Class |           Flow Label                  |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |         Payload Length        |  Next Header  |   Hop Limit   |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                                                               |
 *    +                  Source Address (128 bits)                    +
 *    |                                                               |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                                                               |
 *    +               Destination Address (128 bits)                  +
 *    |                                                               |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 *
 * Extension headers are kept as raw bytes (each whole, with its own Next
 * Header byte) and walked to find the upper layer. The fragment header is
 * also decoded, since a non-first fragment has no upper-layer header.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { emitIpv6Header, ipv6HeaderLength, parseIpv6 } from "./ipv6.ts";
 * import { address } from "./address.ts";
 * const spec = {
 *   version: 6, trafficClass: 0, flowLabel: 0x12345, hopLimit: 64,
 *   src: address.parse("fd3d:fa7b:d17d::1"), dst: address.parse("fd3d:a0b:17d6::1"),
 *   extensions: [{ type: 60, bytes: new Uint8Array([0, 0, 1, 4, 0, 0, 0, 0]) }],
 * };
 * const buf = new Uint8Array(ipv6HeaderLength(spec) + 20);
 * emitIpv6Header(spec, buf, 0, 20, 6);
 * const p = parseIpv6(buf);
 * assert.equal(p.header.nextHeader, 60);
 * assert.equal(p.protocol, 6);
 * assert.equal(p.payloadStart, 48);
 * ```
 */
import { be } from "./big_endian.ts";
import { DecodeError } from "./decode_error.ts";

/** RFC 8200 §3: the fixed header is 40 bytes. */
export const IPV6_HEADER = 40;

/** Next Header values that are extension headers we can walk past (RFC 8200 §4.1, RFC 7045). */
export const Ipv6Ext = {
  HOP_BY_HOP: 0,
  ROUTING: 43,
  FRAGMENT: 44,
  AUTH: 51,
  DEST_OPTS: 60,
  MOBILITY: 135,
  HIP: 139,
  SHIM6: 140,
} as const;

/** One extension header, raw, with its decoded fragment fields where it is one. */
export interface Ipv6Extension {
  /** The Next Header value that announced this header. */
  type: number;
  /** The whole header, its own Next Header byte included. */
  bytes: Uint8Array;
  /** For a fragment header (44): offset in 8-byte units, M flag, identification. */
  fragment?: { offset: number; more: boolean; id: number };
}

/** Raw IPv6 header values plus the extension chain. */
export interface Ipv6Fields {
  kind: "ipv6";
  version: number;
  trafficClass: number;
  flowLabel: number;
  payloadLength: number;
  nextHeader: number;
  hopLimit: number;
  src: Uint8Array;
  dst: Uint8Array;
  extensions: Ipv6Extension[];
}

/** What `emitIpv6Header` takes: computed fields may be left out. */
export type Ipv6Spec = Omit<Ipv6Fields, "kind" | "payloadLength" | "nextHeader"> & {
  kind?: "ipv6";
  payloadLength?: number;
  nextHeader?: number;
};

/** A mutable view over the fixed IPv6 header. */
export class Ipv6View {
  readonly bytes: Uint8Array;
  constructor(bytes: Uint8Array) {
    if (bytes.length < IPV6_HEADER) {
      throw new DecodeError("IPv6 header", `need ${IPV6_HEADER} bytes, got ${bytes.length}`);
    }
    this.bytes = bytes;
  }
  get version(): number {
    return this.bytes[0] >>> 4;
  }
  set version(v: number) {
    this.bytes[0] = (this.bytes[0] & 0x0f) | ((v & 0xf) << 4);
  }
  get trafficClass(): number {
    return (be.u16(this.bytes, 0) >>> 4) & 0xff;
  }
  set trafficClass(v: number) {
    const w = be.u16(this.bytes, 0);
    be.put16(this.bytes, 0, (w & 0xf00f) | ((v & 0xff) << 4));
  }
  get flowLabel(): number {
    return be.u32(this.bytes, 0) & 0xfffff;
  }
  set flowLabel(v: number) {
    const w = be.u32(this.bytes, 0);
    be.put32(this.bytes, 0, ((w & 0xfff00000) | (v & 0xfffff)) >>> 0);
  }
  get payloadLength(): number {
    return be.u16(this.bytes, 4);
  }
  set payloadLength(v: number) {
    be.put16(this.bytes, 4, v);
  }
  get nextHeader(): number {
    return this.bytes[6];
  }
  set nextHeader(v: number) {
    this.bytes[6] = v;
  }
  get hopLimit(): number {
    return this.bytes[7];
  }
  set hopLimit(v: number) {
    this.bytes[7] = v;
  }
}

/** The result of `parseIpv6`. */
export interface Ipv6Parse {
  header: Ipv6Fields;
  /** The upper-layer protocol at the end of the chain (59 for "no next header"). */
  protocol: number;
  /** True when the payload is a non-first fragment, so it holds no upper-layer header. */
  laterFragment: boolean;
  /** True when the payload is part of a fragmented datagram at all. */
  fragmented: boolean;
  payloadStart: number;
  payloadEnd: number;
}

function isExtension(nh: number): boolean {
  return nh === 0 || nh === 43 || nh === 44 || nh === 51 || nh === 60 || nh === 135 || nh === 139 ||
    nh === 140;
}

/** Decodes the fixed header and walks the extension chain within the payload length. */
export function parseIpv6(bytes: Uint8Array, start = 0, end = bytes.length): Ipv6Parse {
  const b = bytes;
  const o = start;
  const len = end - start;
  if (len < IPV6_HEADER) {
    throw new DecodeError("IPv6 header", `need ${IPV6_HEADER} bytes, got ${len}`);
  }
  const version = b[o] >>> 4;
  if (version !== 6) throw new DecodeError("IPv6 header", `version ${version} is not 6`);
  const payloadLength = be.u16(b, o + 4);
  // RFC 2675 jumbograms (payload length 0 with a Jumbo option) are not supported.
  if (IPV6_HEADER + payloadLength > len) {
    throw new DecodeError(
      "IPv6 header",
      `payload length ${payloadLength} exceeds the ${len - IPV6_HEADER} bytes present`,
    );
  }
  const payloadEnd = o + IPV6_HEADER + payloadLength;
  const nextHeader = b[o + 6];
  const extensions: Ipv6Extension[] = [];
  let nh = nextHeader;
  let p = o + IPV6_HEADER;
  let laterFragment = false;
  let fragmented = false;
  while (isExtension(nh) && !laterFragment) {
    if (p + 2 > payloadEnd) {
      throw new DecodeError("IPv6 extension header", `type ${nh} at byte ${p - o} is truncated`);
    }
    const hlen = nh === 44 ? 8 : nh === 51 ? (b[p + 1] + 2) * 4 : (b[p + 1] + 1) * 8;
    if (p + hlen > payloadEnd) {
      throw new DecodeError(
        "IPv6 extension header",
        `type ${nh} at byte ${p - o} claims ${hlen} bytes, only ${payloadEnd - p} present`,
      );
    }
    const ext: Ipv6Extension = { type: nh, bytes: b.subarray(p, p + hlen) };
    if (nh === 44) {
      const fo = be.u16(b, p + 2);
      ext.fragment = {
        offset: fo >>> 3,
        more: (fo & 1) === 1,
        id: be.u32(b, p + 4),
      };
      fragmented = true;
      laterFragment = ext.fragment.offset !== 0;
    }
    extensions.push(ext);
    nh = b[p];
    p += hlen;
  }
  const header: Ipv6Fields = {
    kind: "ipv6",
    version,
    trafficClass: ((b[o] & 0xf) << 4) | (b[o + 1] >>> 4),
    flowLabel: ((b[o + 1] & 0xf) << 16) | be.u16(b, o + 2),
    payloadLength,
    nextHeader,
    hopLimit: b[o + 7],
    src: b.subarray(o + 8, o + 24),
    dst: b.subarray(o + 24, o + 40),
    extensions,
  };
  return { header, protocol: nh, laterFragment, fragmented, payloadStart: p, payloadEnd };
}

/** Bytes that `emitIpv6Header` writes: 40 plus the extension headers. */
export function ipv6HeaderLength(spec: Ipv6Spec): number {
  let n = IPV6_HEADER;
  for (const e of spec.extensions) n += e.bytes.length;
  return n;
}

/**
 * Writes the fixed header and the extension chain for an upper-layer payload
 * of `upperLength` bytes with protocol `upper`. When `nextHeader` is left out,
 * the chain is linked: each header's Next Header byte names the one after it.
 */
export function emitIpv6Header(
  spec: Ipv6Spec,
  buf: Uint8Array,
  at: number,
  upperLength: number,
  upper: number,
): number {
  const hdr = ipv6HeaderLength(spec);
  const plen = spec.payloadLength ?? hdr - IPV6_HEADER + upperLength;
  if (plen > 0xffff && spec.payloadLength === undefined) {
    throw new RangeError(
      `Cannot emit IPv6 header: payload of ${plen} bytes is above 65535 (RFC 8200 §3)`,
    );
  }
  const b = buf;
  const o = at;
  const exts = spec.extensions;
  const link = spec.nextHeader === undefined;
  const nh = spec.nextHeader ?? (exts.length ? exts[0].type : upper);
  b[o] = ((spec.version & 0xf) << 4) | ((spec.trafficClass >>> 4) & 0xf);
  b[o + 1] = ((spec.trafficClass & 0xf) << 4) | ((spec.flowLabel >>> 16) & 0xf);
  be.put16(b, o + 2, spec.flowLabel);
  be.put16(b, o + 4, plen);
  b[o + 6] = nh;
  b[o + 7] = spec.hopLimit;
  b.set(spec.src, o + 8);
  b.set(spec.dst, o + 24);
  let p = o + IPV6_HEADER;
  for (let i = 0; i < exts.length; i++) {
    b.set(exts[i].bytes, p);
    if (link) b[p] = i + 1 < exts.length ? exts[i + 1].type : upper;
    p += exts[i].bytes.length;
  }
  return hdr;
}
