/**
 * Sequence-number arithmetic modulo 2^32 (RFC 9293 §3.4). Every comparison of
 * sequence or acknowledgment numbers in synack goes through here, so that
 * wrap-around is handled in exactly one place.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { seq } from "./seq.ts";
 * assert.equal(seq.add(0xffffffff, 2), 1);
 * assert.ok(seq.lt(0xfffffff0, 5)); // 5 is "after" 0xfffffff0 once wrapped
 * assert.equal(seq.diff(5, 0xfffffff0), 21);
 * assert.ok(seq.inWindow(3, 0xfffffffe, 10));
 * ```
 */
export const seq = {
  /** `a + n` modulo 2^32. */
  add(a: number, n: number): number {
    return (a + n) >>> 0;
  },
  /** Signed distance `a - b`, in (-2^31, 2^31]. */
  diff(a: number, b: number): number {
    return (a - b) | 0;
  },
  /** `a` comes strictly before `b`. */
  lt(a: number, b: number): boolean {
    return ((a - b) | 0) < 0;
  },
  /** `a` comes before or equals `b`. */
  le(a: number, b: number): boolean {
    return ((a - b) | 0) <= 0;
  },
  /** `a` comes strictly after `b`. */
  gt(a: number, b: number): boolean {
    return ((a - b) | 0) > 0;
  },
  /** `a` comes after or equals `b`. */
  ge(a: number, b: number): boolean {
    return ((a - b) | 0) >= 0;
  },
  /** `start <= x < start + len`, the window test of RFC 9293 §3.10.7.4. */
  inWindow(x: number, start: number, len: number): boolean {
    return ((x - start) >>> 0) < len;
  },
  /** The later of `a` and `b`. */
  max(a: number, b: number): number {
    return ((a - b) | 0) >= 0 ? a : b;
  },
  /** The earlier of `a` and `b`. */
  min(a: number, b: number): number {
    return ((a - b) | 0) <= 0 ? a : b;
  },
} as const;
