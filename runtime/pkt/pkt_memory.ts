/**
 * Memory handed to the kernel during one packetdrill run. Buffers come from
 * large `ArrayBuffer`s that stay put (the kernel keeps pointers to them:
 * iovecs inside a msghdr, and with MSG_ZEROCOPY the pages themselves until
 * the data is acknowledged) and are never reused within a run. That is
 * packetdrill's `--send_omit_free`, which the kernel's zerocopy scripts ask
 * for; synack does it always, since freeing early can only corrupt data.
 * Write buffers are zeros, as packetdrill's `calloc`'d ones.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Arena, pointerOf } from "./pkt_memory.ts";
 * const a = new Arena();
 * const x = a.alloc(10);
 * const y = a.alloc(10);
 * assert.equal(x.length, 10);
 * assert.ok(pointerOf(y) - pointerOf(x) >= 64n); // separate cache lines: never one iovec
 * ```
 */

const CHUNK = 1 << 20;
const ALIGN = 64;

/** A bump allocator over stable, zero-filled memory. */
export class Arena {
  #chunk = new Uint8Array(new ArrayBuffer(CHUNK));
  #used = 0;
  readonly #kept: Uint8Array[] = [];

  /** `n` zero bytes that stay valid and unused by anything else until the run ends. */
  alloc(n: number): Uint8Array {
    const size = Math.max(1, n);
    if (size > CHUNK / 4) {
      const big = new Uint8Array(new ArrayBuffer(size));
      this.#kept.push(big);
      return big;
    }
    if (this.#used + size > CHUNK) {
      this.#kept.push(this.#chunk);
      this.#chunk = new Uint8Array(new ArrayBuffer(CHUNK));
      this.#used = 0;
    }
    const out = this.#chunk.subarray(this.#used, this.#used + size);
    // A gap between buffers: two iovecs never touch, so the kernel never merges them into one frag.
    this.#used += Math.ceil((size + 1) / ALIGN) * ALIGN;
    return out;
  }
}

/** The address of a buffer's first byte, for a pointer field inside a struct. */
export function pointerOf(b: Uint8Array): bigint {
  return BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(b as Uint8Array<ArrayBuffer>)));
}
