/**
 * The receiver's side of SACK: which blocks of out-of-order data to report,
 * in the order RFC 2018 §4 asks for. The first block holds the segment that
 * arrived most recently; the others follow, most recent first. A duplicate
 * segment is reported once as a D-SACK block in front of them (RFC 2883 §4),
 * followed by the block that contains it when there is one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SackBlocks } from "./sack_blocks.ts";
 * const s = new SackBlocks();
 * s.received(3000, 4000);
 * s.received(5000, 6000);
 * s.received(4000, 4500); // joins the first block, which becomes the newest
 * assert.deepEqual(s.take(3), [[3000, 4500], [5000, 6000]]);
 * s.duplicate(1000, 2000);
 * assert.deepEqual(s.take(3), [[1000, 2000], [3000, 4500], [5000, 6000]]);
 * assert.deepEqual(s.take(3), [[3000, 4500], [5000, 6000]]); // the D-SACK went out once
 * s.advance(4500);
 * assert.deepEqual(s.take(3), [[5000, 6000]]);
 * ```
 */
import { seq } from "../wire/seq.ts";

/** SACK blocks to send, most recent first. */
export class SackBlocks {
  /** Merged blocks, most recent first. */
  #recent: Array<[number, number]> = [];
  #dsack: [number, number] | undefined;

  /** Whether there is anything to report. */
  get empty(): boolean {
    return this.#recent.length === 0 && !this.#dsack;
  }

  /** Out-of-order data `[s, e)` was queued. */
  received(s: number, e: number): void {
    let ns = s, ne = e;
    let merged = true;
    let rest = this.#recent;
    while (merged) {
      merged = false;
      const keep: Array<[number, number]> = [];
      for (const b of rest) {
        if (seq.le(b[0], ne) && seq.ge(b[1], ns)) {
          ns = seq.min(ns, b[0]);
          ne = seq.max(ne, b[1]);
          merged = true;
        } else keep.push(b);
      }
      rest = keep;
    }
    this.#recent = [[ns, ne], ...rest];
  }

  /** A segment `[s, e)` duplicated data already received: report it once (RFC 2883). */
  duplicate(s: number, e: number): void {
    this.#dsack = [s, e];
  }

  /** rcv.nxt moved to `next`: blocks below it are no longer out of order. */
  advance(next: number): void {
    if (!this.#recent.length) return;
    this.#recent = this.#recent.filter((b) => seq.gt(b[1], next));
  }

  /** Up to `max` blocks for the next ACK; the D-SACK block is used up. */
  take(max: number): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    const d = this.#dsack;
    this.#dsack = undefined;
    let blocks = this.#recent;
    if (d) {
      out.push(d);
      // RFC 2883 §4: a duplicate inside a held block is followed by that block.
      const i = blocks.findIndex((b) => seq.le(b[0], d[0]) && seq.ge(b[1], d[1]));
      if (i > 0) blocks = [blocks[i], ...blocks.slice(0, i), ...blocks.slice(i + 1)];
    }
    for (const b of blocks) {
      if (out.length >= max) break;
      out.push(b);
    }
    return out;
  }

  /** Drops everything. */
  clear(): void {
    this.#recent = [];
    this.#dsack = undefined;
  }
}
