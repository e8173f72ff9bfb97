/**
 * Network byte order (RFC 1700, "big-endian"): reading and writing 8-, 16-,
 * 24- and 32-bit fields at any offset of a byte array. One helper for every
 * codec, so no header writes its own shifts; values wrap to the width, as
 * the wire would hold them (a crafted 0x1_0000 port is 0).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { be } from "./big_endian.ts";
 * const b = new Uint8Array(9);
 * be.put16(b, 0, 0x1f90);
 * be.put32(b, 2, 0xdeadbeef);
 * be.put24(b, 6, 0x010203);
 * assert.deepEqual([...b], [0x1f, 0x90, 0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03]);
 * assert.equal(be.u16(b, 0), 8080);
 * assert.equal(be.u32(b, 2), 0xdeadbeef);
 * assert.equal(be.u24(b, 6), 0x010203);
 * be.put16(b, 0, 0x1_0050);
 * assert.equal(be.u16(b, 0), 80);
 * ```
 */
export const be = {
  /** The 16-bit value at `p`. */
  u16: (b: Uint8Array, p: number): number => (b[p] << 8) | b[p + 1],
  /** The 24-bit value at `p` (AccECN counters). */
  u24: (b: Uint8Array, p: number): number => (b[p] << 16) | (b[p + 1] << 8) | b[p + 2],
  /** The 32-bit value at `p`, unsigned. */
  u32: (b: Uint8Array, p: number): number =>
    ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0,
  /** Writes the low 16 bits of `v` at `p`. */
  put16(b: Uint8Array, p: number, v: number): void {
    b[p] = v >>> 8;
    b[p + 1] = v;
  },
  /** Writes the low 24 bits of `v` at `p`. */
  put24(b: Uint8Array, p: number, v: number): void {
    b[p] = v >>> 16;
    b[p + 1] = v >>> 8;
    b[p + 2] = v;
  },
  /** Writes the low 32 bits of `v` at `p`. */
  put32(b: Uint8Array, p: number, v: number): void {
    b[p] = v >>> 24;
    b[p + 1] = v >>> 16;
    b[p + 2] = v >>> 8;
    b[p + 3] = v;
  },
} as const;
