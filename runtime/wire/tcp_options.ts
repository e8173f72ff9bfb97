import { assertNever } from "./assert_never.ts";

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

function rawOf(type: number, bytes: Uint8Array, at: number, len: number, why: string): TcpOption {
  return { kind: "raw", type, data: bytes.subarray(at + 2, at + len), malformed: why };
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
    if (kind === 0) {
      // RFC 9293 §3.2: EOL ends the list; what follows is padding, kept as-is.
      out.push(
        i + 1 < end ? { kind: "eol", trailing: bytes.subarray(i + 1, end) } : { kind: "eol" },
      );
      return out;
    }
    if (kind === 1) {
      out.push({ kind: "nop" });
      i++;
      continue;
    }
    if (i + 1 >= end) {
      out.push({
        kind: "malformed",
        bytes: bytes.subarray(i, end),
        reason: `option kind ${kind} at byte ${i - start} has no length byte`,
      });
      return out;
    }
    const len = bytes[i + 1];
    if (len < 2) {
      out.push({
        kind: "malformed",
        bytes: bytes.subarray(i, end),
        reason: `option kind ${kind} at byte ${i - start} has length ${len}, below 2`,
      });
      return out;
    }
    if (i + len > end) {
      out.push({
        kind: "malformed",
        bytes: bytes.subarray(i, end),
        reason: `option kind ${kind} at byte ${i - start} has length ${len}, past the ${
          end - i
        } bytes left`,
      });
      return out;
    }
    out.push(decodeOne(bytes, i, kind, len));
    i += len;
  }
  return out;
}

function decodeOne(b: Uint8Array, at: number, kind: number, len: number): TcpOption {
  switch (kind) {
    case TcpOptionKind.MSS:
      if (len !== 4) return rawOf(kind, b, at, len, `MSS option length ${len}, want 4`);
      return { kind: "mss", value: (b[at + 2] << 8) | b[at + 3] };
    case TcpOptionKind.WSCALE:
      if (len !== 3) return rawOf(kind, b, at, len, `window scale option length ${len}, want 3`);
      return { kind: "wscale", shift: b[at + 2] };
    case TcpOptionKind.SACK_OK:
      if (len !== 2) return rawOf(kind, b, at, len, `SACK-permitted option length ${len}, want 2`);
      return { kind: "sackOk" };
    case TcpOptionKind.SACK: {
      if (len < 10 || (len - 2) % 8 !== 0) {
        return rawOf(kind, b, at, len, `SACK option length ${len}, want 2 + 8n with n >= 1`);
      }
      const blocks: Array<[number, number]> = [];
      for (let p = at + 2; p < at + len; p += 8) blocks.push([u32(b, p), u32(b, p + 4)]);
      return { kind: "sack", blocks };
    }
    case TcpOptionKind.TS:
      if (len !== 10) return rawOf(kind, b, at, len, `timestamps option length ${len}, want 10`);
      return { kind: "ts", val: u32(b, at + 2), ecr: u32(b, at + 6) };
    case TcpOptionKind.MD5:
      if (len !== 18) return rawOf(kind, b, at, len, `MD5 signature option length ${len}, want 18`);
      return { kind: "md5", digest: b.subarray(at + 2, at + 18) };
    case TcpOptionKind.FAST_OPEN:
      return { kind: "fastOpen", cookie: b.subarray(at + 2, at + len) };
    case TcpOptionKind.EXP_2:
      if (len >= 4 && ((b[at + 2] << 8) | b[at + 3]) === FAST_OPEN_MAGIC) {
        return { kind: "fastOpenExp", cookie: b.subarray(at + 4, at + len) };
      }
      return { kind: "raw", type: kind, data: b.subarray(at + 2, at + len) };
    case TcpOptionKind.ACC_ECN_0:
    case TcpOptionKind.ACC_ECN_1: {
      if ((len - 2) % 3 !== 0 || len > 11) {
        return rawOf(kind, b, at, len, `AccECN option length ${len}, want 2, 5, 8 or 11`);
      }
      const counters: number[] = [];
      for (let p = at + 2; p < at + len; p += 3) {
        counters.push((b[p] << 16) | (b[p + 1] << 8) | b[p + 2]);
      }
      return { kind: "accEcn", order: kind === TcpOptionKind.ACC_ECN_0 ? 0 : 1, counters };
    }
    default:
      return { kind: "raw", type: kind, data: b.subarray(at + 2, at + len) };
  }
}

function u32(b: Uint8Array, p: number): number {
  return ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
}

/** How many bytes `emitTcpOptions` writes for `opts` (before any padding). */
export function tcpOptionsLength(opts: readonly TcpOption[]): number {
  let n = 0;
  for (const o of opts) n += optionLength(o);
  return n;
}

function optionLength(o: TcpOption): number {
  switch (o.kind) {
    case "eol":
      return 1 + (o.trailing ? o.trailing.length : 0);
    case "nop":
      return 1;
    case "mss":
      return 4;
    case "wscale":
      return 3;
    case "sackOk":
      return 2;
    case "sack":
      return 2 + 8 * o.blocks.length;
    case "ts":
      return 10;
    case "md5":
      return 2 + o.digest.length;
    case "fastOpen":
      return 2 + o.cookie.length;
    case "fastOpenExp":
      return 4 + o.cookie.length;
    case "accEcn":
      return 2 + 3 * o.counters.length;
    case "raw":
      return 2 + o.data.length;
    case "malformed":
      return o.bytes.length;
    default:
      return assertNever(o);
  }
}

/** Writes `opts` into `buf` at `at`; returns the number of bytes written. */
export function emitTcpOptions(opts: readonly TcpOption[], buf: Uint8Array, at: number): number {
  let p = at;
  for (const o of opts) {
    switch (o.kind) {
      case "eol":
        buf[p++] = 0;
        if (o.trailing) {
          buf.set(o.trailing, p);
          p += o.trailing.length;
        }
        break;
      case "nop":
        buf[p++] = 1;
        break;
      case "mss":
        buf[p] = 2;
        buf[p + 1] = 4;
        buf[p + 2] = o.value >>> 8;
        buf[p + 3] = o.value;
        p += 4;
        break;
      case "wscale":
        buf[p] = 3;
        buf[p + 1] = 3;
        buf[p + 2] = o.shift;
        p += 3;
        break;
      case "sackOk":
        buf[p] = 4;
        buf[p + 1] = 2;
        p += 2;
        break;
      case "sack":
        buf[p] = 5;
        buf[p + 1] = checkLen(2 + 8 * o.blocks.length, "SACK");
        p += 2;
        for (const [l, r] of o.blocks) {
          put32(buf, p, l);
          put32(buf, p + 4, r);
          p += 8;
        }
        break;
      case "ts":
        buf[p] = 8;
        buf[p + 1] = 10;
        put32(buf, p + 2, o.val);
        put32(buf, p + 6, o.ecr);
        p += 10;
        break;
      case "md5":
        p = putTlv(buf, p, 19, o.digest, "MD5 signature");
        break;
      case "fastOpen":
        p = putTlv(buf, p, 34, o.cookie, "Fast Open");
        break;
      case "fastOpenExp":
        buf[p] = 254;
        buf[p + 1] = checkLen(4 + o.cookie.length, "Fast Open (experimental)");
        buf[p + 2] = FAST_OPEN_MAGIC >>> 8;
        buf[p + 3] = FAST_OPEN_MAGIC & 0xff;
        buf.set(o.cookie, p + 4);
        p += 4 + o.cookie.length;
        break;
      case "accEcn":
        buf[p] = o.order === 0 ? 172 : 174;
        buf[p + 1] = checkLen(2 + 3 * o.counters.length, "AccECN");
        p += 2;
        for (const c of o.counters) {
          buf[p] = c >>> 16;
          buf[p + 1] = c >>> 8;
          buf[p + 2] = c;
          p += 3;
        }
        break;
      case "raw":
        p = putTlv(buf, p, o.type, o.data, `kind ${o.type}`);
        break;
      case "malformed":
        buf.set(o.bytes, p);
        p += o.bytes.length;
        break;
      default:
        assertNever(o);
    }
  }
  return p - at;
}

function checkLen(len: number, what: string): number {
  if (len > 255) {
    throw new RangeError(`Cannot emit TCP option ${what}: length ${len} is above 255`);
  }
  return len;
}

function putTlv(buf: Uint8Array, p: number, kind: number, data: Uint8Array, what: string): number {
  buf[p] = kind;
  buf[p + 1] = checkLen(2 + data.length, what);
  buf.set(data, p + 2);
  return p + 2 + data.length;
}

function put32(b: Uint8Array, p: number, v: number): void {
  b[p] = v >>> 24;
  b[p + 1] = v >>> 16;
  b[p + 2] = v >>> 8;
  b[p + 3] = v;
}

/** The kind number an option is sent with; `-1` for `malformed`, which has none of its own. */
export function tcpOptionKindOf(o: TcpOption): number {
  switch (o.kind) {
    case "eol":
      return TcpOptionKind.EOL;
    case "nop":
      return TcpOptionKind.NOP;
    case "mss":
      return TcpOptionKind.MSS;
    case "wscale":
      return TcpOptionKind.WSCALE;
    case "sackOk":
      return TcpOptionKind.SACK_OK;
    case "sack":
      return TcpOptionKind.SACK;
    case "ts":
      return TcpOptionKind.TS;
    case "md5":
      return TcpOptionKind.MD5;
    case "fastOpen":
      return TcpOptionKind.FAST_OPEN;
    case "fastOpenExp":
      return TcpOptionKind.EXP_2;
    case "accEcn":
      return o.order === 0 ? TcpOptionKind.ACC_ECN_0 : TcpOptionKind.ACC_ECN_1;
    case "raw":
      return o.type;
    case "malformed":
      return -1;
    default:
      return assertNever(o, "TCP option");
  }
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
