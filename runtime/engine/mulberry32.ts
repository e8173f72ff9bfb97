/**
 * mulberry32: a small, fast, seeded 32-bit generator, good enough for ISNs,
 * timestamp offsets, ephemeral ports and simulated loss in a test stack.
 * Same seed, same sequence, so runs repeat exactly.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mulberry32 } from "./mulberry32.ts";
 * const a = mulberry32(1), b = mulberry32(1);
 * const x = a();
 * assert.equal(x, b());
 * assert.ok(Number.isInteger(x) && x >= 0 && x < 2 ** 32);
 * ```
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}
