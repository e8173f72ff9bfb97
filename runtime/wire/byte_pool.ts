/**
 * Small byte arrays carved from shared 64 KiB slabs, the technique of Node's
 * `Buffer` pool. Each fresh `ArrayBuffer` costs hundreds of nanoseconds in
 * V8/Deno, more than building a whole packet, so emitters take their output
 * from here. A region is never handed out twice, so results never alias each
 * other; a slab is freed once no view into it remains.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { allocBytes } from "./byte_pool.ts";
 * const a = allocBytes(60), b = allocBytes(60);
 * a.fill(1);
 * assert.equal(b[0], 0);
 * assert.equal(a.length, 60);
 * assert.equal(allocBytes(100_000).byteOffset, 0); // large arrays get their own buffer
 * ```
 */
const SLAB = 64 * 1024;
const MAX_POOLED = 4096;
let slab = new Uint8Array(SLAB);
let used = 0;

/** A zeroed `Uint8Array` of `n` bytes, pooled when small. */
export function allocBytes(n: number): Uint8Array {
  if (n > MAX_POOLED) return new Uint8Array(n);
  if (used + n > SLAB) {
    slab = new Uint8Array(SLAB);
    used = 0;
  }
  // Keep regions 8-aligned so DataViews over them stay cheap.
  const out = slab.subarray(used, used + n);
  used += (n + 7) & ~7;
  return out;
}
