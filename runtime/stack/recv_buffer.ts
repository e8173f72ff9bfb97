/**
 * The receive side of a connection: bytes that arrived in order and wait for
 * `read()`, plus segments that arrived early (out of order), kept sorted
 * until the gap before them fills (RFC 9293 §3.10.7.4, "seventh, process the
 * segment text").
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RecvBuffer } from "./recv_buffer.ts";
 * const r = new RecvBuffer();
 * r.store(1005, new Uint8Array([5, 6]), false);
 * assert.equal(r.oooBytes, 2);
 * let next = r.append(1000, new Uint8Array([0, 1, 2, 3, 4]));
 * next = r.drain(next).next;
 * assert.equal(next, 1007);
 * assert.deepEqual(r.take(100), new Uint8Array([0, 1, 2, 3, 4, 5, 6]));
 * ```
 */
import { concatBytes } from "../wire/concat_bytes.ts";
import { seq } from "../wire/seq.ts";

interface Held {
  seq: number;
  data: Uint8Array;
  fin: boolean;
}

/** In-order bytes for the application and the out-of-order queue. */
export class RecvBuffer {
  #ready: Uint8Array[] = [];
  #readyBytes = 0;
  #ooo: Held[] = [];
  #oooBytes = 0;

  /** Bytes ready for `read()`. */
  get readable(): number {
    return this.#readyBytes;
  }

  /** Bytes held out of order. */
  get oooBytes(): number {
    return this.#oooBytes;
  }

  /** Appends in-order data that starts at `at`; returns the next expected sequence number. */
  append(at: number, data: Uint8Array): number {
    if (data.length) {
      this.#ready.push(data);
      this.#readyBytes += data.length;
    }
    return seq.add(at, data.length);
  }

  /** Keeps a segment that starts beyond `rcv.nxt`. Duplicates of held data are ignored. */
  store(at: number, data: Uint8Array, fin: boolean): void {
    const i = this.#ooo.findIndex((h) => seq.ge(h.seq, at));
    if (i >= 0 && this.#ooo[i].seq === at && this.#ooo[i].data.length >= data.length) return;
    this.#ooo.splice(i < 0 ? this.#ooo.length : i, 0, { seq: at, data, fin });
    this.#oooBytes += data.length;
  }

  /** Whether held out-of-order data already covers all of `[s, e)`. */
  holds(s: number, e: number): boolean {
    let at = s;
    for (const h of this.#ooo) {
      if (seq.gt(h.seq, at)) break;
      const end = seq.add(h.seq, h.data.length);
      if (seq.gt(end, at)) at = end;
      if (seq.ge(at, e)) return true;
    }
    return seq.ge(at, e) && seq.lt(s, e);
  }

  /**
   * Moves held segments that now continue at `next` into the ready data.
   * Returns the new `rcv.nxt` (without the FIN) and whether a held FIN was reached.
   */
  drain(next: number): { next: number; fin: boolean } {
    let fin = false;
    while (this.#ooo.length && seq.le(this.#ooo[0].seq, next)) {
      const h = this.#ooo.shift()!;
      this.#oooBytes -= h.data.length;
      const end = seq.add(h.seq, h.data.length);
      if (seq.gt(end, next)) next = this.append(next, h.data.subarray(seq.diff(next, h.seq)));
      if (h.fin && seq.ge(next, end)) {
        fin = true;
        this.#dropHeld();
        break;
      }
    }
    return { next, fin };
  }

  /** Removes and returns up to `n` ready bytes. */
  take(n: number): Uint8Array {
    n = Math.min(n, this.#readyBytes);
    if (n === 0) return new Uint8Array(0);
    const first = this.#ready[0];
    if (first.length === n) {
      this.#ready.shift();
      this.#readyBytes -= n;
      return first;
    }
    if (first.length > n) {
      this.#ready[0] = first.subarray(n);
      this.#readyBytes -= n;
      return first.subarray(0, n);
    }
    const parts: Uint8Array[] = [];
    let left = n;
    while (left > 0) {
      const c = this.#ready[0];
      if (c.length <= left) {
        parts.push(this.#ready.shift()!);
        left -= c.length;
      } else {
        parts.push(c.subarray(0, left));
        this.#ready[0] = c.subarray(left);
        left = 0;
      }
    }
    this.#readyBytes -= n;
    return concatBytes(parts);
  }

  /** Drops everything. */
  clear(): void {
    this.#ready = [];
    this.#readyBytes = 0;
    this.#dropHeld();
  }

  #dropHeld(): void {
    this.#ooo = [];
    this.#oooBytes = 0;
  }
}
