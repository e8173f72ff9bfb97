/**
 * A set of disjoint byte ranges in sequence space, kept sorted: the sender's
 * SACK scoreboard (RFC 6675 §3) is one. Ranges are half-open `[start, end)`
 * and compared with modular sequence arithmetic, so they survive wrap-around.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SeqRanges } from "./seq_ranges.ts";
 * const r = new SeqRanges();
 * assert.equal(r.add(100, 200), 100);
 * assert.equal(r.add(150, 300), 100); // only 200..300 is new
 * r.add(400, 500);
 * assert.deepEqual(r.list(), [[100, 300], [400, 500]]);
 * assert.equal(r.uncovered(0, 450), 200); // 0..100 and 300..400
 * r.trimBelow(250);
 * assert.deepEqual(r.list(), [[250, 300], [400, 500]]);
 * ```
 */
import { seq } from "../wire/seq.ts";

/** Sorted disjoint `[start, end)` ranges. */
export class SeqRanges {
  /** Flat pairs: start0, end0, start1, end1, … */
  #r: number[] = [];

  /** How many ranges. */
  get count(): number {
    return this.#r.length >> 1;
  }

  /** Bytes covered in all. */
  get bytes(): number {
    let n = 0;
    for (let i = 0; i < this.#r.length; i += 2) n += seq.diff(this.#r[i + 1], this.#r[i]);
    return n;
  }

  /** The ranges as `[start, end]` pairs, lowest first. */
  list(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (let i = 0; i < this.#r.length; i += 2) out.push([this.#r[i], this.#r[i + 1]]);
    return out;
  }

  /** Start of range `i` (lowest first). */
  start(i: number): number {
    return this.#r[2 * i];
  }

  /** End of range `i`. */
  end(i: number): number {
    return this.#r[2 * i + 1];
  }

  /** Adds `[s, e)`, merging what it touches; returns how many bytes were not covered before. */
  add(s: number, e: number): number {
    if (!seq.lt(s, e)) return 0;
    const r = this.#r;
    let i = 0;
    while (i < r.length && seq.lt(r[i + 1], s)) i += 2;
    let j = i;
    let ns = s, ne = e;
    let covered = 0;
    while (j < r.length && seq.le(r[j], e)) {
      covered += seq.diff(seq.min(r[j + 1], e), seq.max(r[j], s));
      ns = seq.min(ns, r[j]);
      ne = seq.max(ne, r[j + 1]);
      j += 2;
    }
    r.splice(i, j - i, ns, ne);
    return seq.diff(e, s) - Math.max(0, covered);
  }

  /** Whether `x` lies in a range. */
  has(x: number): boolean {
    const r = this.#r;
    for (let i = 0; i < r.length; i += 2) {
      if (seq.lt(x, r[i])) return false;
      if (seq.lt(x, r[i + 1])) return true;
    }
    return false;
  }

  /** Bytes of `[a, b)` not covered by any range. */
  uncovered(a: number, b: number): number {
    if (!seq.lt(a, b)) return 0;
    let n = seq.diff(b, a);
    const r = this.#r;
    for (let i = 0; i < r.length; i += 2) {
      const s = seq.max(r[i], a), e = seq.min(r[i + 1], b);
      if (seq.lt(s, e)) n -= seq.diff(e, s);
    }
    return n;
  }

  /** The first uncovered sequence number at or after `x`. */
  nextUncovered(x: number): number {
    const r = this.#r;
    for (let i = 0; i < r.length; i += 2) {
      if (seq.lt(x, r[i])) return x;
      if (seq.lt(x, r[i + 1])) x = r[i + 1];
    }
    return x;
  }

  /** The start of the first range above `x`, or `undefined`. */
  nextStart(x: number): number | undefined {
    const r = this.#r;
    for (let i = 0; i < r.length; i += 2) if (seq.gt(r[i], x)) return r[i];
    return undefined;
  }

  /** Drops everything below `x`. */
  trimBelow(x: number): void {
    const r = this.#r;
    let i = 0;
    while (i < r.length && seq.le(r[i + 1], x)) i += 2;
    if (i) r.splice(0, i);
    if (r.length && seq.lt(r[0], x)) r[0] = x;
  }

  /** Drops everything. */
  clear(): void {
    this.#r = [];
  }
}
