/**
 * The TCP header (RFC 9293 §3.1), with the AE bit of AccECN
 * (draft-ietf-tcpm-accurate-ecn §3.1, formerly the NS bit of RFC 3540).
 *
 * ```text
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |          Source Port          |       Destination Port        |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                        Sequence Number                        |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                    Acknowledgment Number                      |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |  Data |     |A|C|E|U|A|P|R|S|F|                               |
 *    | Offset|Rsrvd|E|W|C|R|C|S|S|Y|I|            Window             |
 *    |       |     | |R|E|G|K|H|T|N|N|                               |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |           Checksum            |         Urgent Pointer        |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                           [Options]                           |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                             data                              :
 *    :                                                               |
 * ```
 *
 * `TcpFields` holds raw wire values, so anything the wire can carry can be
 * crafted: SYN+FIN, reserved bits, a wrong checksum or data offset. On emit,
 * `dataOffset` and `checksum` are computed when left undefined.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { emitTcp, parseTcp, tcpLength, TcpFlag } from "./tcp.ts";
 * const spec = {
 *   srcPort: 40000, dstPort: 8080, seq: 0, ack: 0, flags: TcpFlag.SYN, window: 65535,
 *   urgent: 0, options: [{ kind: "mss" as const, value: 1460 }], payload: new Uint8Array(0),
 * };
 * const src = new Uint8Array([192, 0, 2, 1]), dst = new Uint8Array([192, 168, 0, 1]);
 * const buf = new Uint8Array(tcpLength(spec));
 * emitTcp(spec, buf, 0, { src, dst });
 * const back = parseTcp(buf, 0, buf.length, { src, dst });
 * assert.equal(back.dataOffset, 6);
 * assert.equal(back.checksumOk, true);
 * assert.deepEqual(back.options, spec.options);
 * ```
 */
import { be } from "./big_endian.ts";
import { checksum } from "./checksum.ts";
import { DecodeError } from "./decode_error.ts";
import {
  emitTcpOptions,
  parseTcpOptions,
  type TcpOption,
  tcpOptionsLength,
} from "./tcp_options.ts";

/** Byte offsets of the header fields. */
export const TCP_FIELD = {
  SRC_PORT: 0,
  DST_PORT: 2,
  SEQ: 4,
  ACK: 8,
  /** Data offset (high nibble), reserved (bits 1-3) and AE (bit 0). */
  OFFSET_FLAGS: 12,
  FLAGS: 13,
  WINDOW: 14,
  CHECKSUM: 16,
  URGENT: 18,
  OPTIONS: 20,
} as const;

/** How one header field reads and writes at a segment's offset `o`: raw wire values. */
export interface HeaderField {
  get(b: Uint8Array, o: number): number;
  set(b: Uint8Array, o: number, v: number): void;
}

const u16At = (p: number): HeaderField => ({
  get: (b, o) => be.u16(b, o + p),
  set: (b, o, v) => be.put16(b, o + p, v),
});
const u32At = (p: number): HeaderField => ({
  get: (b, o) => be.u32(b, o + p),
  set: (b, o, v) => be.put32(b, o + p, v >>> 0),
});
/** `width` bits starting at bit `shift` of byte `p` (bit 0 the lowest). */
const bitsAt = (p: number, shift: number, width: number): HeaderField => {
  const mask = (1 << width) - 1;
  return {
    get: (b, o) => (b[o + p] >>> shift) & mask,
    set: (b, o, v) => {
      b[o + p] = (b[o + p] & ~(mask << shift)) | ((v & mask) << shift);
    },
  };
};

/**
 * The fixed header, one entry per field of the diagram above: `parseTcp`
 * reads with it, `emitTcp` writes with it, and `TcpView` is a view over it.
 * The flags are nine bits across two bytes: AE is bit 0 of byte 12.
 */
export const TCP_HEADER = {
  srcPort: u16At(TCP_FIELD.SRC_PORT),
  dstPort: u16At(TCP_FIELD.DST_PORT),
  seq: u32At(TCP_FIELD.SEQ),
  ack: u32At(TCP_FIELD.ACK),
  dataOffset: bitsAt(TCP_FIELD.OFFSET_FLAGS, 4, 4),
  reserved: bitsAt(TCP_FIELD.OFFSET_FLAGS, 1, 3),
  flags: {
    get: (b, o) => ((b[o + TCP_FIELD.OFFSET_FLAGS] & 1) << 8) | b[o + TCP_FIELD.FLAGS],
    set: (b, o, v) => {
      const p = o + TCP_FIELD.OFFSET_FLAGS;
      b[p] = (b[p] & 0xfe) | ((v >>> 8) & 1);
      b[o + TCP_FIELD.FLAGS] = v;
    },
  },
  window: u16At(TCP_FIELD.WINDOW),
  checksum: u16At(TCP_FIELD.CHECKSUM),
  urgent: u16At(TCP_FIELD.URGENT),
} as const satisfies Record<string, HeaderField>;

/** A field of the fixed header. */
export type TcpHeaderField = keyof typeof TCP_HEADER;

/** The nine flag bits, as the 9-bit value `TcpFields.flags` holds. */
export const TcpFlag = {
  FIN: 0x001,
  SYN: 0x002,
  RST: 0x004,
  PSH: 0x008,
  ACK: 0x010,
  URG: 0x020,
  ECE: 0x040,
  CWR: 0x080,
  AE: 0x100,
} as const;

/** IP protocol number of TCP. */
export const TCP_PROTOCOL = 6;
/** RFC 9293 §3.1: the header without options is 5 words. */
export const TCP_MIN_HEADER = 20;
/** RFC 9293 §3.1: a 4-bit data offset allows at most 15 words, so 40 bytes of options. */
export const TCP_MAX_OPTIONS = 40;

/** Raw TCP header values plus options and payload. */
export interface TcpFields {
  kind: "tcp";
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  /** Header length in 32-bit words, as on the wire (5..15 when valid). */
  dataOffset: number;
  /** The three reserved bits, 0..7. */
  reserved: number;
  /** The nine flag bits; see `TcpFlag`. */
  flags: number;
  window: number;
  checksum: number;
  urgent: number;
  options: TcpOption[];
  payload: Uint8Array;
  /** Set by parsing when the pseudo-header was known: whether `checksum` verifies. */
  checksumOk?: boolean;
}

/** What `emitTcp` takes: `TcpFields` whose computed fields may be left out. */
export type TcpSpec =
  & Omit<TcpFields, "kind" | "dataOffset" | "checksum" | "reserved" | "checksumOk">
  & {
    kind?: "tcp";
    dataOffset?: number;
    /** The checksum to write; `"bad"` writes one that cannot verify. Computed when left out. */
    checksum?: number | "bad";
    reserved?: number;
  };

/** Addresses for the pseudo-header (RFC 9293 §3.1, RFC 8200 §8.1). */
export interface PseudoHeader {
  src: Uint8Array;
  dst: Uint8Array;
}

/** A mutable view over TCP header bytes. Reads and writes go straight to the buffer. */
export class TcpView {
  readonly bytes: Uint8Array;

  constructor(bytes: Uint8Array) {
    if (bytes.length < TCP_MIN_HEADER) {
      throw new DecodeError("TCP header", `need ${TCP_MIN_HEADER} bytes, got ${bytes.length}`);
    }
    this.bytes = bytes;
  }
  #get(f: TcpHeaderField): number {
    return TCP_HEADER[f].get(this.bytes, 0);
  }
  #set(f: TcpHeaderField, v: number): void {
    TCP_HEADER[f].set(this.bytes, 0, v);
  }
  get srcPort(): number {
    return this.#get("srcPort");
  }
  set srcPort(v: number) {
    this.#set("srcPort", v);
  }
  get dstPort(): number {
    return this.#get("dstPort");
  }
  set dstPort(v: number) {
    this.#set("dstPort", v);
  }
  get seq(): number {
    return this.#get("seq");
  }
  set seq(v: number) {
    this.#set("seq", v);
  }
  get ack(): number {
    return this.#get("ack");
  }
  set ack(v: number) {
    this.#set("ack", v);
  }
  get dataOffset(): number {
    return this.#get("dataOffset");
  }
  set dataOffset(v: number) {
    this.#set("dataOffset", v);
  }
  get reserved(): number {
    return this.#get("reserved");
  }
  set reserved(v: number) {
    this.#set("reserved", v);
  }
  get flags(): number {
    return this.#get("flags");
  }
  set flags(v: number) {
    this.#set("flags", v);
  }
  get window(): number {
    return this.#get("window");
  }
  set window(v: number) {
    this.#set("window", v);
  }
  get checksum(): number {
    return this.#get("checksum");
  }
  set checksum(v: number) {
    this.#set("checksum", v);
  }
  get urgent(): number {
    return this.#get("urgent");
  }
  set urgent(v: number) {
    this.#set("urgent", v);
  }
  /** Recomputes the checksum over the whole view (header and payload). */
  fillChecksum(pseudo: PseudoHeader): void {
    this.checksum = 0;
    this.checksum = segmentChecksum(this.bytes, 0, this.bytes.length, pseudo);
  }
}

function segmentChecksum(b: Uint8Array, start: number, end: number, p: PseudoHeader): number {
  const acc = checksum.pseudo(p.src, p.dst, TCP_PROTOCOL, end - start);
  return checksum.finish(checksum.sum(b, start, end, acc));
}

/**
 * Decodes a TCP segment from `bytes[start, end)`. Throws `DecodeError` when
 * the header is truncated or its data offset is impossible; a bad checksum
 * is reported in `checksumOk`, never thrown.
 */
export function parseTcp(
  bytes: Uint8Array,
  start = 0,
  end = bytes.length,
  pseudo?: PseudoHeader,
): TcpFields {
  const len = end - start;
  if (len < TCP_MIN_HEADER) {
    throw new DecodeError("TCP header", `need ${TCP_MIN_HEADER} bytes, got ${len}`);
  }
  const b = bytes;
  const o = start;
  const H = TCP_HEADER;
  const dataOffset = H.dataOffset.get(b, o);
  if (dataOffset < 5) {
    throw new DecodeError("TCP header", `data offset ${dataOffset} is below 5`);
  }
  const hdr = dataOffset * 4;
  if (hdr > len) {
    throw new DecodeError(
      "TCP header",
      `data offset ${dataOffset} claims ${hdr} bytes, only ${len} present`,
    );
  }
  const fields: TcpFields = {
    kind: "tcp",
    srcPort: H.srcPort.get(b, o),
    dstPort: H.dstPort.get(b, o),
    seq: H.seq.get(b, o),
    ack: H.ack.get(b, o),
    dataOffset,
    reserved: H.reserved.get(b, o),
    flags: H.flags.get(b, o),
    window: H.window.get(b, o),
    checksum: H.checksum.get(b, o),
    urgent: H.urgent.get(b, o),
    options: hdr > TCP_MIN_HEADER ? parseTcpOptions(b, o + TCP_MIN_HEADER, o + hdr) : [],
    payload: b.subarray(o + hdr, end),
    checksumOk: undefined,
  };
  if (pseudo) {
    const acc = checksum.pseudo(pseudo.src, pseudo.dst, TCP_PROTOCOL, len);
    fields.checksumOk = checksum.fold(checksum.sum(b, start, end, acc)) === 0xffff;
  }
  return fields;
}

/**
 * SEG.LEN of RFC 9293 §3.3.1: the sequence space a segment occupies, its
 * payload plus one for SYN and one for FIN.
 */
export function segmentLength(t: { flags: number; payload: Uint8Array }): number {
  return t.payload.length + (t.flags & TcpFlag.SYN ? 1 : 0) + (t.flags & TcpFlag.FIN ? 1 : 0);
}

/** Bytes of header (with options and padding) that `emitTcp` writes for `spec`. */
export function tcpHeaderLength(spec: TcpSpec): number {
  const optLen = tcpOptionsLength(spec.options);
  if (spec.dataOffset !== undefined) return TCP_MIN_HEADER + optLen;
  const padded = (optLen + 3) & ~3;
  if (padded > TCP_MAX_OPTIONS) {
    throw new RangeError(
      `Cannot emit TCP header: options take ${optLen} bytes, above the ${TCP_MAX_OPTIONS} ` +
        `a data offset of 15 allows (RFC 9293 §3.1); set dataOffset explicitly to craft this`,
    );
  }
  return TCP_MIN_HEADER + padded;
}

/** Bytes that `emitTcp` writes for `spec`: header, options, padding and payload. */
export function tcpLength(spec: TcpSpec): number {
  return tcpHeaderLength(spec) + spec.payload.length;
}

/**
 * Writes `spec` into `buf` at `at` and returns the number of bytes written.
 * Left-out `dataOffset` is computed from the options, padded with zeros to a
 * word boundary (RFC 9293 §3.1 "Padding"); left-out `checksum` is computed
 * over the pseudo-header, which must then be given.
 */
export function emitTcp(spec: TcpSpec, buf: Uint8Array, at: number, pseudo?: PseudoHeader): number {
  const hdr = tcpHeaderLength(spec);
  const doff = spec.dataOffset ?? hdr / 4;
  if (!(doff >= 0 && doff <= 15)) {
    throw new RangeError(`Cannot emit TCP header: data offset ${doff} is outside 0..15`);
  }
  const end = at + hdr + spec.payload.length;
  if (end > buf.length) {
    throw new RangeError(
      `Cannot emit TCP segment: needs ${end - at} bytes, buffer has ${buf.length - at}`,
    );
  }
  const b = buf;
  const o = at;
  const H = TCP_HEADER;
  b[o + TCP_FIELD.OFFSET_FLAGS] = 0; // the bit fields below share this byte
  H.srcPort.set(b, o, spec.srcPort);
  H.dstPort.set(b, o, spec.dstPort);
  H.seq.set(b, o, spec.seq);
  H.ack.set(b, o, spec.ack);
  H.dataOffset.set(b, o, doff);
  H.reserved.set(b, o, spec.reserved ?? 0);
  H.flags.set(b, o, spec.flags);
  H.window.set(b, o, spec.window);
  H.checksum.set(b, o, 0);
  H.urgent.set(b, o, spec.urgent);
  const optEnd = o + TCP_MIN_HEADER + emitTcpOptions(spec.options, b, o + TCP_MIN_HEADER);
  b.fill(0, optEnd, o + hdr);
  b.set(spec.payload, o + hdr);
  let sum = spec.checksum;
  if (typeof sum !== "number") {
    if (!pseudo) {
      throw new RangeError(
        "Cannot emit TCP checksum: the pseudo-header addresses are unknown; pass them or set checksum",
      );
    }
    const right = segmentChecksum(b, o, end, pseudo);
    sum = sum === "bad" ? checksum.wrong(right) : right;
  }
  H.checksum.set(b, o, sum);
  return end - at;
}

const FLAG_CHARS: ReadonlyArray<[number, string]> = [
  [TcpFlag.FIN, "F"],
  [TcpFlag.SYN, "S"],
  [TcpFlag.RST, "R"],
  [TcpFlag.PSH, "P"],
  [TcpFlag.ACK, "."],
  [TcpFlag.URG, "U"],
  [TcpFlag.ECE, "E"],
  [TcpFlag.CWR, "W"],
  [TcpFlag.AE, "e"],
];

/**
 * Flags in tcpdump/packetdrill letters, in tcpdump's order: `F S R P . U E W e`
 * (`e` is AE). No flags at all prints as `none`.
 */
export function formatTcpFlags(flags: number): string {
  let s = "";
  for (const [bit, ch] of FLAG_CHARS) if (flags & bit) s += ch;
  return s === "" ? "none" : s;
}

/** Reads flags written by `formatTcpFlags` (letters in any order); throws `RangeError` on an unknown letter. */
export function parseTcpFlags(text: string): number {
  if (text === "none") return 0;
  let f = 0;
  for (const ch of text) {
    const hit = FLAG_CHARS.find(([, c]) => c === ch);
    if (!hit) {
      throw new RangeError(
        `Cannot parse TCP flags "${text}": want letters from "FSRP.UEWe", got "${ch}"`,
      );
    }
    f |= hit[0];
  }
  return f;
}
