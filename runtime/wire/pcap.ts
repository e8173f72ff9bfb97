/**
 * Capture files: classic pcap (draft-ietf-opsawg-pcap §4, §5) and pcapng
 * (draft-ietf-opsawg-pcapng §4), read and written in a streaming fashion.
 *
 * ```text
 * pcap:   [file header 24 B][record header 16 B][packet]...
 * pcapng: [SHB][IDB]...[EPB | SPB | other blocks]...    each block:
 *         +---------------+---------------+----------------+---------------+
 *         | Block Type    | Total Length  | Body ...       | Total Length  |
 *         +---------------+---------------+----------------+---------------+
 * ```
 *
 * Parsing does no I/O: `CaptureParser` is fed chunks and hands back whole
 * records, holding only the bytes of the record in progress, so memory stays
 * constant however long the capture. `readCapture` wraps it around any async
 * source of chunks (a file's `readable`, a fetch body). Writers hand their
 * bytes to a sink function.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CaptureParser, LinkType, PcapWriter } from "./pcap.ts";
 * const chunks: Uint8Array[] = [];
 * const w = new PcapWriter((b) => chunks.push(b), { linkType: LinkType.RAW });
 * w.write({ tsSec: 1, tsNsec: 500_000, data: new Uint8Array([0x45, 0, 0, 20]) });
 * const p = new CaptureParser();
 * const recs = chunks.flatMap((c) => p.push(c));
 * p.end();
 * assert.equal(recs.length, 1);
 * assert.equal(recs[0].tsNsec, 500_000);
 * assert.equal(recs[0].linkType, LinkType.RAW);
 * ```
 */
import { DecodeError } from "./decode_error.ts";

/** LINKTYPE_ values synack reads and writes (tcpdump.org link-layer header types). */
export const LinkType = {
  ETHERNET: 1,
  RAW: 101,
  /** Linux cooked capture, `tcpdump -i any` (runtime/wire/sll.ts). */
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

/** One captured packet. */
export interface CaptureRecord {
  linkType: number;
  tsSec: number;
  /** Nanoseconds within the second. */
  tsNsec: number;
  /** The captured bytes (at most the snap length). */
  data: Uint8Array;
  /** The packet's length on the wire. */
  origLength: number;
  /** pcapng interface index; 0 in classic pcap. */
  interfaceId: number;
}

/** What writers take: `origLength` defaults to the data's length. */
export type CaptureInput = Pick<CaptureRecord, "tsSec" | "tsNsec" | "data"> & {
  origLength?: number;
  /** pcapng: the interface it was captured on (an index into the writer's `interfaces`). */
  interfaceId?: number;
  /** A packet comment (pcapng `opt_comment`); classic pcap has nowhere to put it. */
  comment?: string;
};

const PCAP_US = 0xa1b2c3d4;
const PCAP_NS = 0xa1b23c4d;
const NG_SHB = 0x0a0d0d0a;
const NG_BOM = 0x1a2b3c4d;
const NG_IDB = 1;
const NG_SPB = 3;
const NG_EPB = 6;
// A record larger than this is a corrupt length, not a packet (pcap §4: snaplen is a hint only).
const MAX_RECORD = 256 * 1024 * 1024;

interface Iface {
  linkType: number;
  snaplen: number;
  /** Timestamp units per second, as a BigInt. */
  perSec: bigint;
}

/**
 * A push parser for pcap and pcapng: feed chunks, receive records. A chunk
 * is parsed in place; bytes left over (a record cut by the chunk's end) go to
 * a buffer that grows by doubling, so a record of any size costs time linear
 * in its length, however small the chunks it arrives in.
 */
export class CaptureParser {
  #buf: Uint8Array = new Uint8Array(0);
  #off = 0;
  /** Where the buffered bytes end (`#buf` may have room after them). */
  #end = 0;
  /** Whether `#buf` is our own buffer (else it is the caller's chunk). */
  #owned = false;
  #format: "pcap" | "pcapng" | undefined;
  #le = true;
  #nanos = false;
  #linkType = 0;
  #ifaces: Iface[] = [];
  /** Bytes consumed so far, for error messages. */
  #pos = 0;

  /** The format detected from the first bytes, once known. */
  get format(): "pcap" | "pcapng" | undefined {
    return this.#format;
  }

  /** Adds a chunk; returns every record it completes. */
  push(chunk: Uint8Array): CaptureRecord[] {
    const rest = this.#end - this.#off;
    if (rest === 0) {
      // Nothing pending: parse the chunk where it is.
      this.#buf = chunk;
      this.#off = 0;
      this.#end = chunk.length;
      this.#owned = false;
    } else this.#append(chunk, rest);
    const out: CaptureRecord[] = [];
    for (;;) {
      const r = this.#step();
      if (r === undefined) break;
      if (r !== null) out.push(r);
    }
    return out;
  }

  /** Appends after `rest` pending bytes, in our own buffer, doubling it when full. */
  #append(chunk: Uint8Array, rest: number): void {
    if (!this.#owned || this.#buf.length - this.#end < chunk.length) {
      const grown = new Uint8Array(Math.max(2 * (rest + chunk.length), 1 << 16));
      grown.set(this.#buf.subarray(this.#off, this.#end));
      this.#buf = grown;
      this.#off = 0;
      this.#end = rest;
      this.#owned = true;
    }
    this.#buf.set(chunk, this.#end);
    this.#end += chunk.length;
  }

  /** Declares the input finished; throws `DecodeError` if a record was cut short. */
  end(): void {
    const rest = this.#end - this.#off;
    if (this.#format === undefined) {
      throw new DecodeError(
        "capture file",
        `${rest} bytes are too few for a pcap or pcapng header`,
      );
    }
    if (rest > 0) {
      throw new DecodeError(
        "capture file",
        `last record at byte ${this.#pos} is truncated (${rest} bytes left)`,
      );
    }
  }

  /**
   * A record's bytes: a view of the caller's chunk, which we never write to,
   * or a copy out of our own buffer, which later chunks overwrite.
   */
  #bytes(from: number, to: number): Uint8Array {
    return this.#owned ? this.#buf.slice(from, to) : this.#buf.subarray(from, to);
  }

  #avail(): number {
    return this.#end - this.#off;
  }

  #u32(at: number, le = this.#le): number {
    const b = this.#buf, p = this.#off + at;
    return le
      ? (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0
      : ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
  }

  #u16(at: number): number {
    const b = this.#buf, p = this.#off + at;
    return this.#le ? b[p] | (b[p + 1] << 8) : (b[p] << 8) | b[p + 1];
  }

  #consume(n: number): void {
    this.#off += n;
    this.#pos += n;
  }

  /** One record, `null` for a block that holds none, `undefined` when more bytes are needed. */
  #step(): CaptureRecord | null | undefined {
    if (this.#format === undefined) return this.#header();
    return this.#format === "pcap" ? this.#pcapRecord() : this.#ngBlock();
  }

  #header(): null | undefined {
    if (this.#avail() < 4) return undefined;
    const be = this.#u32(0, false);
    if (be === NG_SHB) {
      this.#format = "pcapng";
      return null;
    }
    if (this.#avail() < 24) return undefined;
    const le = this.#u32(0, true);
    if (le === PCAP_US || le === PCAP_NS) this.#le = true;
    else if (be === PCAP_US || be === PCAP_NS) this.#le = false;
    else {
      throw new DecodeError(
        "capture file",
        `magic 0x${be.toString(16).padStart(8, "0")} is neither pcap nor pcapng`,
      );
    }
    this.#nanos = this.#u32(0) === PCAP_NS;
    this.#linkType = this.#u32(20) & 0x0fffffff;
    this.#format = "pcap";
    this.#consume(24);
    return null;
  }

  #pcapRecord(): CaptureRecord | undefined {
    if (this.#avail() < 16) return undefined;
    const incl = this.#u32(8);
    if (incl > MAX_RECORD) {
      throw new DecodeError(
        "pcap record",
        `captured length ${incl} at byte ${this.#pos} is implausible`,
      );
    }
    if (this.#avail() < 16 + incl) return undefined;
    const frac = this.#u32(4);
    const rec: CaptureRecord = {
      linkType: this.#linkType,
      tsSec: this.#u32(0),
      tsNsec: this.#nanos ? frac : frac * 1000,
      data: this.#bytes(this.#off + 16, this.#off + 16 + incl),
      origLength: this.#u32(12),
      interfaceId: 0,
    };
    this.#consume(16 + incl);
    return rec;
  }

  #ngBlock(): CaptureRecord | null | undefined {
    if (this.#avail() < 12) return undefined;
    const typeBe = this.#u32(0, false);
    if (typeBe === NG_SHB) {
      // The section header fixes the byte order for everything up to the next one.
      const bom = this.#u32(8, true);
      if (bom === NG_BOM) this.#le = true;
      else if (this.#u32(8, false) === NG_BOM) this.#le = false;
      else {throw new DecodeError(
          "pcapng section header",
          `byte-order magic at byte ${this.#pos + 8} is wrong`,
        );}
      this.#ifaces = [];
    }
    const type = this.#u32(0);
    const len = this.#u32(4);
    if (len < 12 || len % 4 !== 0 || len > MAX_RECORD) {
      throw new DecodeError("pcapng block", `block at byte ${this.#pos} has length ${len}`);
    }
    if (this.#avail() < len) return undefined;
    if (this.#u32(len - 4) !== len) {
      throw new DecodeError(
        "pcapng block",
        `block at byte ${this.#pos} has mismatched trailing length`,
      );
    }
    let rec: CaptureRecord | null = null;
    if (type === NG_IDB) this.#ifaces.push(this.#idb(len));
    else if (type === NG_EPB) rec = this.#epb(len);
    else if (type === NG_SPB) rec = this.#spb(len);
    this.#consume(len);
    return rec;
  }

  #idb(len: number): Iface {
    if (len < 20) throw new DecodeError("pcapng interface block", `length ${len} is below 20`);
    const iface: Iface = { linkType: this.#u16(8), snaplen: this.#u32(12), perSec: 1_000_000n };
    for (let p = 16; p + 4 <= len - 4;) {
      const code = this.#u16(p);
      const olen = this.#u16(p + 2);
      if (code === 0) break;
      if (code === 9 && olen >= 1) {
        const v = this.#buf[this.#off + p + 4];
        iface.perSec = v & 0x80 ? 1n << BigInt(v & 0x7f) : 10n ** BigInt(v);
      }
      p += 4 + ((olen + 3) & ~3);
    }
    return iface;
  }

  #iface(id: number): Iface {
    const i = this.#ifaces[id];
    if (!i) {
      throw new DecodeError(
        "pcapng packet block",
        `interface ${id} at byte ${this.#pos} was never described`,
      );
    }
    return i;
  }

  #epb(len: number): CaptureRecord {
    if (len < 32) throw new DecodeError("pcapng packet block", `length ${len} is below 32`);
    const id = this.#u32(8);
    const iface = this.#iface(id);
    const ts = (BigInt(this.#u32(12)) << 32n) | BigInt(this.#u32(16));
    const cap = this.#u32(20);
    if (28 + cap > len - 4) {
      throw new DecodeError(
        "pcapng packet block",
        `captured length ${cap} overruns the block at byte ${this.#pos}`,
      );
    }
    const sec = ts / iface.perSec;
    return {
      linkType: iface.linkType,
      tsSec: Number(sec),
      tsNsec: Number(((ts - sec * iface.perSec) * 1_000_000_000n) / iface.perSec),
      data: this.#bytes(this.#off + 28, this.#off + 28 + cap),
      origLength: this.#u32(24),
      interfaceId: id,
    };
  }

  #spb(len: number): CaptureRecord {
    const iface = this.#iface(0);
    const orig = this.#u32(8);
    const cap = Math.min(orig, iface.snaplen || orig, len - 16);
    return {
      linkType: iface.linkType,
      tsSec: 0,
      tsNsec: 0,
      data: this.#bytes(this.#off + 12, this.#off + 12 + cap),
      origLength: orig,
      interfaceId: 0,
    };
  }
}

/** Reads records from any async source of byte chunks, holding one record at a time. */
export async function* readCapture(
  source: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>,
): AsyncGenerator<CaptureRecord> {
  const parser = new CaptureParser();
  for await (const chunk of source as AsyncIterable<Uint8Array>) yield* parser.push(chunk);
  parser.end();
}

/** Reads every record of a capture held in memory. */
export function readCaptureBytes(bytes: Uint8Array): CaptureRecord[] {
  const p = new CaptureParser();
  const out = p.push(bytes);
  p.end();
  return out;
}

/** Where writers put their bytes. */
export type CaptureSink = (bytes: Uint8Array) => void;

/** Writer options. */
export interface CaptureWriterOptions {
  linkType: number;
  /** Default 262144, tcpdump's. */
  snaplen?: number;
  /** pcapng: one interface per name (`if_name`), all of `linkType`; one unnamed if left out. */
  interfaces?: readonly string[];
}

/** Writes classic pcap with nanosecond timestamps, little-endian. */
export class PcapWriter {
  readonly #sink: CaptureSink;
  readonly #snaplen: number;

  constructor(sink: CaptureSink, opts: CaptureWriterOptions) {
    this.#sink = sink;
    this.#snaplen = opts.snaplen ?? 262144;
    const h = new DataView(new ArrayBuffer(24));
    h.setUint32(0, PCAP_NS, true);
    h.setUint16(4, 2, true);
    h.setUint16(6, 4, true);
    h.setUint32(16, this.#snaplen, true);
    h.setUint32(20, opts.linkType, true);
    sink(new Uint8Array(h.buffer));
  }

  /** Appends one packet, cut to the snap length. */
  write(rec: CaptureInput): void {
    const data = rec.data.length > this.#snaplen ? rec.data.subarray(0, this.#snaplen) : rec.data;
    const out = new Uint8Array(16 + data.length);
    const dv = new DataView(out.buffer);
    dv.setUint32(0, rec.tsSec, true);
    dv.setUint32(4, rec.tsNsec, true);
    dv.setUint32(8, data.length, true);
    dv.setUint32(12, rec.origLength ?? rec.data.length, true);
    out.set(data, 16);
    this.#sink(out);
  }
}

/** Writes pcapng: one section, one interface with nanosecond resolution. */
export class PcapngWriter {
  readonly #sink: CaptureSink;
  readonly #snaplen: number;

  constructor(sink: CaptureSink, opts: CaptureWriterOptions) {
    this.#sink = sink;
    this.#snaplen = opts.snaplen ?? 262144;
    const shb = new DataView(new ArrayBuffer(28));
    shb.setUint32(0, NG_SHB, true);
    shb.setUint32(4, 28, true);
    shb.setUint32(8, NG_BOM, true);
    shb.setUint16(12, 1, true);
    shb.setUint16(14, 0, true);
    shb.setBigInt64(16, -1n, true); // section length unknown: we stream
    shb.setUint32(24, 28, true);
    sink(new Uint8Array(shb.buffer));
    for (const name of opts.interfaces ?? [undefined]) {
      sink(idb(opts.linkType, this.#snaplen, name));
    }
  }

  /** Appends one Enhanced Packet Block. */
  write(rec: CaptureInput): void {
    const data = rec.data.length > this.#snaplen ? rec.data.subarray(0, this.#snaplen) : rec.data;
    const padded = (data.length + 3) & ~3;
    // pcapng §3.5: opt_comment (1) as UTF-8, padded to 32 bits, then opt_endofopt.
    const note = rec.comment ? new TextEncoder().encode(rec.comment) : undefined;
    const opts = note ? 4 + ((note.length + 3) & ~3) + 4 : 0;
    const len = 32 + padded + opts;
    const out = new Uint8Array(len);
    const dv = new DataView(out.buffer);
    const ts = BigInt(rec.tsSec) * 1_000_000_000n + BigInt(rec.tsNsec);
    dv.setUint32(0, NG_EPB, true);
    dv.setUint32(4, len, true);
    dv.setUint32(8, rec.interfaceId ?? 0, true);
    dv.setUint32(12, Number(ts >> 32n), true);
    dv.setUint32(16, Number(ts & 0xffffffffn), true);
    dv.setUint32(20, data.length, true);
    dv.setUint32(24, rec.origLength ?? rec.data.length, true);
    out.set(data, 28);
    if (note) {
      const o = 28 + padded;
      dv.setUint16(o, 1, true);
      dv.setUint16(o + 2, note.length, true);
      out.set(note, o + 4);
    }
    dv.setUint32(len - 4, len, true);
    this.#sink(out);
  }
}

/** A pcapng Interface Description Block: nanosecond resolution, and `if_name` when given. */
function idb(linkType: number, snaplen: number, name?: string): Uint8Array {
  const n = name === undefined ? undefined : new TextEncoder().encode(name);
  const nameOpt = n ? 4 + ((n.length + 3) & ~3) : 0;
  const len = 32 + nameOpt;
  const out = new Uint8Array(len);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, NG_IDB, true);
  dv.setUint32(4, len, true);
  dv.setUint16(8, linkType, true);
  dv.setUint32(12, snaplen, true);
  let o = 16;
  if (n) {
    dv.setUint16(o, 2, true); // if_name
    dv.setUint16(o + 2, n.length, true);
    out.set(n, o + 4);
    o += nameOpt;
  }
  dv.setUint16(o, 9, true); // if_tsresol
  dv.setUint16(o + 2, 1, true);
  out[o + 4] = 9; // 10^-9 s
  // opt_endofopt is the zeroed word after it; then the trailing length.
  dv.setUint32(len - 4, len, true);
  return out;
}
