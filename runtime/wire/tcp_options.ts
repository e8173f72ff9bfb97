import { assertNever } from "./assert_never.ts";
import { be } from "./big_endian.ts";

/**
 * TCP options (RFC 9293 §3.1 "Options", §3.2).
 *
 * ```text
 *  Kind   Length  Meaning                       Reference
 *  0      -       End of Option List            RFC 9293 §3.2
 *  1      -       No-Operation                  RFC 9293 §3.2
 *  2      4       Maximum Segment Size          RFC 9293 §3.7.1
 *  3      3       Window Scale                  RFC 7323 §2.2
 *  4      2       SACK Permitted                RFC 2018 §2
 *  5      2+8n    SACK blocks                   RFC 2018 §3
 *  8      10      Timestamps                    RFC 7323 §3.2
 *  19     18      MD5 signature                 RFC 2385 §3.0
 *  29     var     TCP-AO (kept raw)             RFC 5925 §2.2
 *  30     var     MPTCP (kept raw)              RFC 8684 §3
 *  34     2+c     Fast Open cookie              RFC 7413 §4.1.1
 *  172    2+3n    AccECN order 0                draft-ietf-tcpm-accurate-ecn §3.2.3
 *  174    2+3n    AccECN order 1                draft-ietf-tcpm-accurate-ecn §3.2.3
 *  254    4+c     Fast Open, experimental form  RFC 6994 (ExID 0xF989)
 * ```
 *
 * Decoding is lossless: every list that `parseTcpOptions` returns re-emits,
 * through `emitTcpOptions`, to exactly the bytes it came from. Known kinds
 * with the wrong length become `raw` options with a `malformed` reason, and a
 * list that cannot be walked any further ends in a `malformed` entry holding
 * the remaining bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseTcpOptions, emitTcpOptions, tcpOptionsLength } from "./tcp_options.ts";
 * const bytes = new Uint8Array([2, 4, 0x05, 0xb4, 1, 3, 3, 7]);
 * const opts = parseTcpOptions(bytes, 0, bytes.length);
 * assert.deepEqual(opts, [{ kind: "mss", value: 1460 }, { kind: "nop" }, { kind: "wscale", shift: 7 }]);
 * const out = new Uint8Array(tcpOptionsLength(opts));
 * emitTcpOptions(opts, out, 0);
 * assert.deepEqual(out, bytes);
 * ```
 */
export type TcpOption =
  | { kind: "eol"; trailing?: Uint8Array }
  | { kind: "nop" }
  | { kind: "mss"; value: number }
  | { kind: "wscale"; shift: number }
  | { kind: "sackOk" }
  | { kind: "sack"; blocks: Array<[number, number]> }
  | { kind: "ts"; val: number; ecr: number }
  | { kind: "md5"; digest: Uint8Array }
  | { kind: "fastOpen"; cookie: Uint8Array }
  | { kind: "fastOpenExp"; cookie: Uint8Array }
  | { kind: "accEcn"; order: 0 | 1; counters: number[] }
  | { kind: "raw"; type: number; data: Uint8Array; malformed?: string }
  | { kind: "malformed"; bytes: Uint8Array; reason: string };

/** Option kind numbers (IANA "TCP Option Kind Numbers"). */
export const TcpOptionKind = {
  EOL: 0,
  NOP: 1,
  MSS: 2,
  WSCALE: 3,
  SACK_OK: 4,
  SACK: 5,
  TS: 8,
  MD5: 19,
  AO: 29,
  MPTCP: 30,
  FAST_OPEN: 34,
  ACC_ECN_0: 172,
  ACC_ECN_1: 174,
  EXP_1: 253,
  EXP_2: 254,
} as const;

/** RFC 7413 §4.1.1: the experimental ExID that marks Fast Open in kind 254. */
export const FAST_OPEN_MAGIC = 0xf989;

type OptionKind = TcpOption["kind"];
type OptionOf<K extends OptionKind> = Extract<TcpOption, { kind: K }>;

/**
 * Everything about one option kind in one place: the kind numbers it is
 * read from, the number it is sent with, its length, how its bytes read and
 * how they are written. Parsing, emitting and `tcpOptionKindOf` all go
 * through this table; a new option is one new entry.
 */
interface OptionDescriptor<K extends OptionKind> {
  /** Kind numbers read as this option (EOL, NOP and `malformed` are the walk's own). */
  readonly types: readonly number[];
  /** The kind number it is sent with; -1 for `malformed`, which has none. */
  kindOf(o: OptionOf<K>): number;
  /** Bytes it takes on the wire, kind and length included. */
  length(o: OptionOf<K>): number;
  /** Writes it whole at `p`; returns where the next option starts. */
  emit(o: OptionOf<K>, b: Uint8Array, p: number): number;
  /** Reads the option of `len` bytes at `at` (kind `type`); wrong lengths give `raw`. */
  decode(b: Uint8Array, at: number, len: number, type: number): TcpOption;
}

function rawOf(type: number, bytes: Uint8Array, at: number, len: number, why: string): TcpOption {
  return { kind: "raw", type, data: bytes.subarray(at + 2, at + len), malformed: why };
}

function checkLen(len: number, what: string): number {
  if (len > 255) {
    throw new RangeError(`Cannot emit TCP option ${what}: length ${len} is above 255`);
  }
  return len;
}

/** Writes kind and length at `p`. */
function tlvHeader(b: Uint8Array, p: number, kind: number, len: number, what: string): void {
  b[p] = kind;
  b[p + 1] = checkLen(len, what);
}

/** Writes kind, length and the opaque `data` at `p`; returns the end. */
function tlv(b: Uint8Array, p: number, kind: number, data: Uint8Array, what: string): number {
  tlvHeader(b, p, kind, 2 + data.length, what);
  b.set(data, p + 2);
  return p + 2 + data.length;
}

const notDecoded = (): never => {
  throw new Error("read by the option walk, not by kind");
};

const OPTIONS: { readonly [K in OptionKind]: OptionDescriptor<K> } = {
  // RFC 9293 §3.2: EOL ends the list; what follows is padding, kept as-is.
  eol: {
    types: [],
    kindOf: () => TcpOptionKind.EOL,
    length: (o) => 1 + (o.trailing?.length ?? 0),
    emit: (o, b, p) => {
      b[p] = TcpOptionKind.EOL;
      if (!o.trailing) return p + 1;
      b.set(o.trailing, p + 1);
      return p + 1 + o.trailing.length;
    },
    decode: notDecoded,
  },
  nop: {
    types: [],
    kindOf: () => TcpOptionKind.NOP,
    length: () => 1,
    emit: (_o, b, p) => {
      b[p] = TcpOptionKind.NOP;
      return p + 1;
    },
    decode: notDecoded,
  },
  // RFC 9293 §3.7.1.
  mss: {
    types: [TcpOptionKind.MSS],
    kindOf: () => TcpOptionKind.MSS,
    length: () => 4,
    emit: (o, b, p) => {
      b[p] = TcpOptionKind.MSS;
      b[p + 1] = 4;
      be.put16(b, p + 2, o.value);
      return p + 4;
    },
    decode: (b, at, len, type) =>
      len === 4
        ? { kind: "mss", value: be.u16(b, at + 2) }
        : rawOf(type, b, at, len, `MSS option length ${len}, want 4`),
  },
  // RFC 7323 §2.2.
  wscale: {
    types: [TcpOptionKind.WSCALE],
    kindOf: () => TcpOptionKind.WSCALE,
    length: () => 3,
    emit: (o, b, p) => {
      b[p] = TcpOptionKind.WSCALE;
      b[p + 1] = 3;
      b[p + 2] = o.shift;
      return p + 3;
    },
    decode: (b, at, len, type) =>
      len === 3
        ? { kind: "wscale", shift: b[at + 2] }
        : rawOf(type, b, at, len, `window scale option length ${len}, want 3`),
  },
  // RFC 2018 §2.
  sackOk: {
    types: [TcpOptionKind.SACK_OK],
    kindOf: () => TcpOptionKind.SACK_OK,
    length: () => 2,
    emit: (_o, b, p) => {
      b[p] = TcpOptionKind.SACK_OK;
      b[p + 1] = 2;
      return p + 2;
    },
    decode: (b, at, len, type) =>
      len === 2
        ? { kind: "sackOk" }
        : rawOf(type, b, at, len, `SACK-permitted option length ${len}, want 2`),
  },
  // RFC 2018 §3: 2 + 8n bytes, n blocks of left and right edge.
  sack: {
    types: [TcpOptionKind.SACK],
    kindOf: () => TcpOptionKind.SACK,
    length: (o) => 2 + 8 * o.blocks.length,
    emit: (o, b, p) => {
      tlvHeader(b, p, TcpOptionKind.SACK, 2 + 8 * o.blocks.length, "SACK");
      let q = p + 2;
      for (const [l, r] of o.blocks) {
        be.put32(b, q, l);
        be.put32(b, q + 4, r);
        q += 8;
      }
      return q;
    },
    decode: (b, at, len, type) => {
      if (len < 10 || (len - 2) % 8 !== 0) {
        return rawOf(type, b, at, len, `SACK option length ${len}, want 2 + 8n with n >= 1`);
      }
      const blocks: Array<[number, number]> = [];
      for (let q = at + 2; q < at + len; q += 8) blocks.push([be.u32(b, q), be.u32(b, q + 4)]);
      return { kind: "sack", blocks };
    },
  },
  // RFC 7323 §3.2.
  ts: {
    types: [TcpOptionKind.TS],
    kindOf: () => TcpOptionKind.TS,
    length: () => 10,
    emit: (o, b, p) => {
      b[p] = TcpOptionKind.TS;
      b[p + 1] = 10;
      be.put32(b, p + 2, o.val);
      be.put32(b, p + 6, o.ecr);
      return p + 10;
    },
    decode: (b, at, len, type) =>
      len === 10
        ? { kind: "ts", val: be.u32(b, at + 2), ecr: be.u32(b, at + 6) }
        : rawOf(type, b, at, len, `timestamps option length ${len}, want 10`),
  },
  // RFC 2385 §3.0.
  md5: {
    types: [TcpOptionKind.MD5],
    kindOf: () => TcpOptionKind.MD5,
    length: (o) => 2 + o.digest.length,
    emit: (o, b, p) => tlv(b, p, TcpOptionKind.MD5, o.digest, "MD5 signature"),
    decode: (b, at, len, type) =>
      len === 18
        ? { kind: "md5", digest: b.subarray(at + 2, at + 18) }
        : rawOf(type, b, at, len, `MD5 signature option length ${len}, want 18`),
  },
  // RFC 7413 §4.1.1.
  fastOpen: {
    types: [TcpOptionKind.FAST_OPEN],
    kindOf: () => TcpOptionKind.FAST_OPEN,
    length: (o) => 2 + o.cookie.length,
    emit: (o, b, p) => tlv(b, p, TcpOptionKind.FAST_OPEN, o.cookie, "Fast Open"),
    decode: (b, at, len) => ({ kind: "fastOpen", cookie: b.subarray(at + 2, at + len) }),
  },
  // RFC 6994: kind 254 with the ExID 0xF989 is Fast Open; any other ExID stays raw.
  fastOpenExp: {
    types: [TcpOptionKind.EXP_2],
    kindOf: () => TcpOptionKind.EXP_2,
    length: (o) => 4 + o.cookie.length,
    emit: (o, b, p) => {
      tlvHeader(b, p, TcpOptionKind.EXP_2, 4 + o.cookie.length, "Fast Open (experimental)");
      be.put16(b, p + 2, FAST_OPEN_MAGIC);
      b.set(o.cookie, p + 4);
      return p + 4 + o.cookie.length;
    },
    decode: (b, at, len, type) =>
      len >= 4 && be.u16(b, at + 2) === FAST_OPEN_MAGIC
        ? { kind: "fastOpenExp", cookie: b.subarray(at + 4, at + len) }
        : { kind: "raw", type, data: b.subarray(at + 2, at + len) },
  },
  // draft-ietf-tcpm-accurate-ecn §3.2.3: up to three 24-bit counters; the kind gives their order.
  accEcn: {
    types: [TcpOptionKind.ACC_ECN_0, TcpOptionKind.ACC_ECN_1],
    kindOf: (o) => o.order === 0 ? TcpOptionKind.ACC_ECN_0 : TcpOptionKind.ACC_ECN_1,
    length: (o) => 2 + 3 * o.counters.length,
    emit: (o, b, p) => {
      const kind = o.order === 0 ? TcpOptionKind.ACC_ECN_0 : TcpOptionKind.ACC_ECN_1;
      tlvHeader(b, p, kind, 2 + 3 * o.counters.length, "AccECN");
      let q = p + 2;
      for (const c of o.counters) {
        be.put24(b, q, c);
        q += 3;
      }
      return q;
    },
    decode: (b, at, len, type) => {
      if ((len - 2) % 3 !== 0 || len > 11) {
        return rawOf(type, b, at, len, `AccECN option length ${len}, want 2, 5, 8 or 11`);
      }
      const counters: number[] = [];
      for (let q = at + 2; q < at + len; q += 3) counters.push(be.u24(b, q));
      return { kind: "accEcn", order: type === TcpOptionKind.ACC_ECN_0 ? 0 : 1, counters };
    },
  },
  raw: {
    types: [],
    kindOf: (o) => o.type,
    length: (o) => 2 + o.data.length,
    emit: (o, b, p) => tlv(b, p, o.type, o.data, `kind ${o.type}`),
    decode: (b, at, len, type) => ({ kind: "raw", type, data: b.subarray(at + 2, at + len) }),
  },
  malformed: {
    types: [],
    kindOf: () => -1,
    length: (o) => o.bytes.length,
    emit: (o, b, p) => {
      b.set(o.bytes, p);
      return p + o.bytes.length;
    },
    decode: notDecoded,
  },
};

type AnyDescriptor = OptionDescriptor<OptionKind>;
const row = (k: OptionKind) => OPTIONS[k] as unknown as AnyDescriptor;
const EOL = row("eol"), NOP = row("nop"), MSS = row("mss"), WSCALE = row("wscale");
const SACK_OK = row("sackOk"), SACK = row("sack"), TS = row("ts"), MD5 = row("md5");
const FO = row("fastOpen"), FO_EXP = row("fastOpenExp"), ACC_ECN = row("accEcn");
const RAW = row("raw"), MALFORMED = row("malformed");

/**
 * The table's row for `o` (keyed by kind, so the cast is exact). Only an
 * index: a string switch compares interned pointers, where `OPTIONS[o.kind]`
 * with a varying key is a megamorphic lookup that made emitting a SYN's
 * options three times slower.
 */
function descriptorOf(o: TcpOption): AnyDescriptor {
  switch (o.kind) {
    case "eol":
      return EOL;
    case "nop":
      return NOP;
    case "mss":
      return MSS;
    case "wscale":
      return WSCALE;
    case "sackOk":
      return SACK_OK;
    case "sack":
      return SACK;
    case "ts":
      return TS;
    case "md5":
      return MD5;
    case "fastOpen":
      return FO;
    case "fastOpenExp":
      return FO_EXP;
    case "accEcn":
      return ACC_ECN;
    case "raw":
      return RAW;
    case "malformed":
      return MALFORMED;
    default:
      return assertNever(o, "TCP option");
  }
}

/** Kind number to descriptor, by index; a kind not listed is read as `raw`. */
const BY_TYPE: OptionDescriptor<OptionKind>[] = Array.from(
  { length: 256 },
  () => OPTIONS.raw as unknown as OptionDescriptor<OptionKind>,
);
for (const d of Object.values(OPTIONS)) {
  for (const t of d.types) BY_TYPE[t] = d as unknown as OptionDescriptor<OptionKind>;
}

/**
 * Decodes the options area `bytes[start, end)`. Never throws: problems are
 * reported inside the returned list.
 */
export function parseTcpOptions(bytes: Uint8Array, start: number, end: number): TcpOption[] {
  const out: TcpOption[] = [];
  let i = start;
  while (i < end) {
    const kind = bytes[i];
    if (kind === TcpOptionKind.EOL) {
      out.push(
        i + 1 < end ? { kind: "eol", trailing: bytes.subarray(i + 1, end) } : { kind: "eol" },
      );
      return out;
    }
    if (kind === TcpOptionKind.NOP) {
      out.push({ kind: "nop" });
      i++;
      continue;
    }
    const why = i + 1 >= end
      ? `option kind ${kind} at byte ${i - start} has no length byte`
      : bytes[i + 1] < 2
      ? `option kind ${kind} at byte ${i - start} has length ${bytes[i + 1]}, below 2`
      : i + bytes[i + 1] > end
      ? `option kind ${kind} at byte ${i - start} has length ${bytes[i + 1]}, past the ${
        end - i
      } bytes left`
      : undefined;
    if (why) {
      out.push({ kind: "malformed", bytes: bytes.subarray(i, end), reason: why });
      return out;
    }
    const len = bytes[i + 1];
    out.push(BY_TYPE[kind].decode(bytes, i, len, kind));
    i += len;
  }
  return out;
}

/** How many bytes `emitTcpOptions` writes for `opts` (before any padding). */
export function tcpOptionsLength(opts: readonly TcpOption[]): number {
  let n = 0;
  for (const o of opts) n += descriptorOf(o).length(o);
  return n;
}

/** Writes `opts` into `buf` at `at`; returns the number of bytes written. */
export function emitTcpOptions(opts: readonly TcpOption[], buf: Uint8Array, at: number): number {
  let p = at;
  for (const o of opts) p = descriptorOf(o).emit(o, buf, p);
  return p - at;
}

/** The kind number an option is sent with; `-1` for `malformed`, which has none of its own. */
export function tcpOptionKindOf(o: TcpOption): number {
  return descriptorOf(o).kindOf(o);
}

/**
 * `opts` with every SACK block moved by `delta` in sequence space (mod 2^32):
 * `-isn` makes blocks relative to an ISN, `+isn` makes them absolute again.
 * Returns `opts` itself when it holds no SACK option.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { shiftSackBlocks } from "./tcp_options.ts";
 * const abs = [{ kind: "nop" as const }, { kind: "sack" as const, blocks: [[5001, 6001]] as Array<[number, number]> }];
 * assert.deepEqual(shiftSackBlocks(abs, -5000)[1], { kind: "sack", blocks: [[1, 1001]] });
 * assert.deepEqual(shiftSackBlocks([{ kind: "sack", blocks: [[0, 10]] }], -1)[0], { kind: "sack", blocks: [[4294967295, 9]] });
 * ```
 */
export function shiftSackBlocks<T extends readonly TcpOption[]>(opts: T, delta: number): T {
  if (!opts.some((o) => o.kind === "sack")) return opts;
  return opts.map((o) =>
    o.kind === "sack"
      ? { kind: "sack", blocks: o.blocks.map(([l, r]) => [(l + delta) >>> 0, (r + delta) >>> 0]) }
      : o
  ) as unknown as T;
}
