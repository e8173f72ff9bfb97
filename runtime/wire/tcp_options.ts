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
  /** Writes it whole at `p`. */
  emit(o: OptionOf<K>, b: Uint8Array, p: number): void;
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

/** Writes kind and length at `p`; returns where the body starts. */
function tlvHeader(b: Uint8Array, p: number, kind: number, len: number, what: string): number {
  b[p] = kind;
  b[p + 1] = checkLen(len, what);
  return p + 2;
}

const notDecoded = (): never => {
  throw new Error("read by the option walk, not by kind");
};

/** An option of one fixed length whose body is read and written by `read`/`write`. */
function fixed<K extends OptionKind>(
  type: number,
  len: number,
  what: string,
  read: (b: Uint8Array, body: number) => OptionOf<K>,
  write: (o: OptionOf<K>, b: Uint8Array, body: number) => void,
): OptionDescriptor<K> {
  return {
    types: [type],
    kindOf: () => type,
    length: () => len,
    emit: (o, b, p) => write(o, b, tlvHeader(b, p, type, len, what)),
    decode: (b, at, l) =>
      l === len
        ? read(b, at + 2)
        : rawOf(type, b, at, l, `${what} option length ${l}, want ${len}`),
  };
}

/** An option whose body is opaque bytes (`cookie`, `digest`, `data`) after `prefix` bytes. */
function bytesBody<K extends OptionKind>(
  type: number,
  what: string,
  body: (o: OptionOf<K>) => Uint8Array,
  decode: OptionDescriptor<K>["decode"],
): OptionDescriptor<K> {
  return {
    types: [type],
    kindOf: () => type,
    length: (o) => 2 + body(o).length,
    emit: (o, b, p) => b.set(body(o), tlvHeader(b, p, type, 2 + body(o).length, what)),
    decode,
  };
}

const OPTIONS: { readonly [K in OptionKind]: OptionDescriptor<K> } = {
  // RFC 9293 §3.2: EOL ends the list; what follows is padding, kept as-is.
  eol: {
    types: [],
    kindOf: () => TcpOptionKind.EOL,
    length: (o) => 1 + (o.trailing?.length ?? 0),
    emit: (o, b, p) => {
      b[p] = TcpOptionKind.EOL;
      if (o.trailing) b.set(o.trailing, p + 1);
    },
    decode: notDecoded,
  },
  nop: {
    types: [],
    kindOf: () => TcpOptionKind.NOP,
    length: () => 1,
    emit: (_o, b, p) => {
      b[p] = TcpOptionKind.NOP;
    },
    decode: notDecoded,
  },
  mss: fixed(
    TcpOptionKind.MSS,
    4,
    "MSS",
    (b, q) => ({ kind: "mss", value: be.u16(b, q) }),
    (o, b, q) => be.put16(b, q, o.value),
  ),
  wscale: fixed(
    TcpOptionKind.WSCALE,
    3,
    "window scale",
    (b, q) => ({ kind: "wscale", shift: b[q] }),
    (o, b, q) => {
      b[q] = o.shift;
    },
  ),
  sackOk: fixed(TcpOptionKind.SACK_OK, 2, "SACK-permitted", () => ({ kind: "sackOk" }), () => {}),
  // RFC 2018 §3: 2 + 8n bytes, n blocks of left and right edge.
  sack: {
    types: [TcpOptionKind.SACK],
    kindOf: () => TcpOptionKind.SACK,
    length: (o) => 2 + 8 * o.blocks.length,
    emit: (o, b, p) => {
      let q = tlvHeader(b, p, TcpOptionKind.SACK, 2 + 8 * o.blocks.length, "SACK");
      for (const [l, r] of o.blocks) {
        be.put32(b, q, l);
        be.put32(b, q + 4, r);
        q += 8;
      }
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
  ts: fixed(
    TcpOptionKind.TS,
    10,
    "timestamps",
    (b, q) => ({ kind: "ts", val: be.u32(b, q), ecr: be.u32(b, q + 4) }),
    (o, b, q) => {
      be.put32(b, q, o.val);
      be.put32(b, q + 4, o.ecr);
    },
  ),
  md5: bytesBody(
    TcpOptionKind.MD5,
    "MD5 signature",
    (o) => o.digest,
    (b, at, len, type) =>
      len === 18
        ? { kind: "md5", digest: b.subarray(at + 2, at + 18) }
        : rawOf(type, b, at, len, `MD5 signature option length ${len}, want 18`),
  ),
  fastOpen: bytesBody(
    TcpOptionKind.FAST_OPEN,
    "Fast Open",
    (o) => o.cookie,
    (b, at, len) => ({ kind: "fastOpen", cookie: b.subarray(at + 2, at + len) }),
  ),
  // RFC 6994: kind 254 with the ExID 0xF989 is Fast Open; any other ExID stays raw.
  fastOpenExp: {
    types: [TcpOptionKind.EXP_2],
    kindOf: () => TcpOptionKind.EXP_2,
    length: (o) => 4 + o.cookie.length,
    emit: (o, b, p) => {
      const q = tlvHeader(
        b,
        p,
        TcpOptionKind.EXP_2,
        4 + o.cookie.length,
        "Fast Open (experimental)",
      );
      be.put16(b, q, FAST_OPEN_MAGIC);
      b.set(o.cookie, q + 2);
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
      let q = tlvHeader(b, p, kind, 2 + 3 * o.counters.length, "AccECN");
      for (const c of o.counters) {
        be.put24(b, q, c);
        q += 3;
      }
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
    emit: (o, b, p) => b.set(o.data, tlvHeader(b, p, o.type, 2 + o.data.length, `kind ${o.type}`)),
    decode: (b, at, len, type) => ({ kind: "raw", type, data: b.subarray(at + 2, at + len) }),
  },
  malformed: {
    types: [],
    kindOf: () => -1,
    length: (o) => o.bytes.length,
    emit: (o, b, p) => b.set(o.bytes, p),
    decode: notDecoded,
  },
};

/** The descriptor of `o`'s kind (the table is keyed by kind, so this cast is exact). */
const descriptorOf = (o: TcpOption) => OPTIONS[o.kind] as unknown as OptionDescriptor<OptionKind>;

/** Kind number to descriptor; a kind not listed is read as `raw`. */
const BY_TYPE = new Map<number, OptionDescriptor<OptionKind>>(
  Object.values(OPTIONS).flatMap((d) =>
    d.types.map((t) => [t, d as unknown as OptionDescriptor<OptionKind>] as const)
  ),
);

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
    const bad = (why: string): TcpOption[] => {
      out.push({ kind: "malformed", bytes: bytes.subarray(i, end), reason: why });
      return out;
    };
    if (i + 1 >= end) return bad(`option kind ${kind} at byte ${i - start} has no length byte`);
    const len = bytes[i + 1];
    if (len < 2) {
      return bad(`option kind ${kind} at byte ${i - start} has length ${len}, below 2`);
    }
    if (i + len > end) {
      return bad(
        `option kind ${kind} at byte ${i - start} has length ${len}, past the ${
          end - i
        } bytes left`,
      );
    }
    out.push((BY_TYPE.get(kind) ?? OPTIONS.raw).decode(bytes, i, len, kind));
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
  for (const o of opts) {
    const d = descriptorOf(o);
    d.emit(o, buf, p);
    p += d.length(o);
  }
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
