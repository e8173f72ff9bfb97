/**
 * Bytes written by the application and not yet acknowledged, in order. The
 * first byte has sequence number `seq`; acknowledged bytes are dropped from
 * the front. Reads that fall inside one written chunk are views, not copies.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SendBuffer } from "./send_buffer.ts";
 * const b = new SendBuffer(1000);
 * b.push(new TextEncoder().encode("hello "));
 * b.push(new TextEncoder().encode("world"));
 * assert.equal(b.length, 11);
 * assert.equal(new TextDecoder().decode(b.read(4, 5)), "o wor");
 * b.consume(6);
 * assert.equal(b.seq, 1006);
 * assert.equal(new TextDecoder().decode(b.read(0, 5)), "world");
 * ```
 */
import { seq } from "../wire/seq.ts";

/** The unacknowledged part of a send stream. */
export class SendBuffer {
  #chunks: Uint8Array[] = [];
  #skip = 0;
  #length = 0;
  /** Sequence number of the first byte held. */
  seq: number;

  constructor(startSeq: number) {
    this.seq = startSeq >>> 0;
  }

  /** Bytes held. */
  get length(): number {
    return this.#length;
  }

  /** Appends bytes (kept by reference). */
  push(data: Uint8Array): void {
    if (!data.length) return;
    this.#chunks.push(data);
    this.#length += data.length;
  }

  /** `n` bytes starting `offset` bytes after `seq`. */
  read(offset: number, n: number): Uint8Array {
    let at = offset + this.#skip;
    let i = 0;
    while (i < this.#chunks.length && at >= this.#chunks[i].length) at -= this.#chunks[i++].length;
    const first = this.#chunks[i];
    if (first && at + n <= first.length) return first.subarray(at, at + n);
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n && i < this.#chunks.length) {
      const c = this.#chunks[i++];
      const take = Math.min(c.length - at, n - filled);
      out.set(c.subarray(at, at + take), filled);
      filled += take;
      at = 0;
    }
    return out;
  }

  /** Drops `n` acknowledged bytes from the front. */
  consume(n: number): void {
    n = Math.min(n, this.#length);
    this.#length -= n;
    this.seq = seq.add(this.seq, n);
    n += this.#skip;
    while (this.#chunks.length && n >= this.#chunks[0].length) n -= this.#chunks.shift()!.length;
    this.#skip = n;
  }

  /** Drops everything. */
  clear(): void {
    this.#chunks = [];
    this.#skip = 0;
    this.#length = 0;
  }
}
