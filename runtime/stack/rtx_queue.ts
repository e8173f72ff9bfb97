/**
 * The sender's retransmission queue as Linux keeps it (`tcp_rtx_queue`):
 * every segment sent and not yet cumulatively acknowledged, in sequence
 * order, with when it last went out and its scoreboard marks
 * (`TCP_SKB_CB(skb)->sacked`: SACKED_ACKED, SACKED_RETRANS, LOST,
 * EVER_RETRANS). The counts TCP_INFO shows and `tcp_packets_in_flight`
 * uses (packets_out, sacked_out, lost_out, retrans_out) are kept as the
 * marks change, so no count is ever recomputed by a walk.
 *
 * One entry is one segment as it first went out (at most one MSS, or a FIN),
 * so one entry is one packet of Linux's pcount. A retransmission marks every
 * entry it overlaps.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RtxQueue, SegMark } from "./rtx_queue.ts";
 * const q = new RtxQueue();
 * q.sent(1, 1001, 0);
 * q.sent(1001, 2001, 0);
 * q.sent(2001, 3001, 0);
 * assert.equal(q.sack(1001, 2001).length, 1); // the second segment arrived
 * q.markLost(q.at(0));
 * assert.deepEqual([q.packetsOut, q.sackedOut, q.lostOut, q.retransOut], [3, 1, 1, 0]);
 * q.retransmitted(1, 1001, 5);
 * assert.equal(q.at(0).marks & SegMark.RETRANS, SegMark.RETRANS);
 * assert.equal(q.inFlight(), 3 - (1 + 1) + 1);
 * assert.equal(q.acked(2001).length, 2);
 * assert.deepEqual([q.packetsOut, q.sackedOut, q.lostOut, q.retransOut], [1, 0, 0, 0]);
 * ```
 */
import { seq } from "../wire/seq.ts";

/** A segment's scoreboard marks: the bits of Linux's TCP_SKB_CB(skb)->sacked. */
export const SegMark = Object.freeze({
  /** TCPCB_SACKED_ACKED: the peer SACKed it. */
  SACKED: 1,
  /** TCPCB_SACKED_RETRANS: retransmitted, and that copy is still in flight. */
  RETRANS: 2,
  /** TCPCB_LOST: marked lost, by RACK, NewReno's rule or a timeout. */
  LOST: 4,
  /** TCPCB_EVER_RETRANS: retransmitted at least once. */
  EVER_RETRANS: 8,
});

/** One segment sent and not yet cumulatively acknowledged. */
export interface SentSegment {
  start: number;
  /** Sequence number after it (a FIN counts one). */
  readonly end: number;
  /** When it last went out (ms on the stack's clock): RACK compares these. */
  sentAt: number;
  /**
   * The queue's count of transmissions when it last went out: orders what
   * went out at the same instant, as a µs clock would (a virtual clock
   * sends a whole flight, and its retransmissions, at one instant).
   */
  order: number;
  /** `SegMark` bits. */
  marks: number;
}

/** Segments in sequence order; counts kept as marks change. */
export class RtxQueue {
  #segs: SentSegment[] = [];
  #head = 0;
  #sends = 0;
  /** packets_out: segments sent and not cumulatively acknowledged. */
  packetsOut = 0;
  /** sacked_out (SACK connections): segments marked SACKED. */
  sackedOut = 0;
  /** lost_out: segments marked LOST. */
  lostOut = 0;
  /** retrans_out: retransmitted copies still in flight. */
  retransOut = 0;

  /** The i-th outstanding segment, lowest first. */
  at(i: number): SentSegment {
    return this.#segs[this.#head + i];
  }

  /** The highest sequence number sent, or undefined when nothing is outstanding. */
  get end(): number | undefined {
    return this.packetsOut ? this.#segs[this.#segs.length - 1].end : undefined;
  }

  /** A new segment [start, end) went out at `now`. */
  sent(start: number, end: number, now: number): void {
    this.#segs.push({ start, end, sentAt: now, order: ++this.#sends, marks: 0 });
    this.packetsOut++;
  }

  /**
   * [start, end) went out again at `now`: every segment it overlaps is marked
   * retransmitted (tcp_retransmit_skb), or with `probe` (a tail loss probe)
   * only ever-retransmitted. Returns how many were not in flight as
   * retransmissions before.
   */
  retransmitted(start: number, end: number, now: number, probe = false): number {
    let added = 0;
    for (let i = this.#firstEndingAfter(start); i < this.#segs.length; i++) {
      const s = this.#segs[i];
      if (!seq.lt(s.start, end)) break;
      s.sentAt = now;
      s.order = ++this.#sends;
      if (!probe && !(s.marks & SegMark.RETRANS)) {
        s.marks |= SegMark.RETRANS;
        this.retransOut++;
        added++;
      }
      s.marks |= SegMark.EVER_RETRANS;
    }
    return added;
  }

  /**
   * The cumulative ACK reached `una`: removes the segments it covers and
   * returns them, their marks as they were (tcp_clean_rtx_queue). A segment
   * covered in part keeps its rest (tcp_trim_head).
   */
  acked(una: number): SentSegment[] {
    const out: SentSegment[] = [];
    while (this.#head < this.#segs.length) {
      const s = this.#segs[this.#head];
      if (!seq.le(s.end, una)) {
        if (seq.gt(una, s.start)) s.start = una;
        break;
      }
      out.push({ ...s });
      this.#unmark(s, SegMark.SACKED | SegMark.RETRANS | SegMark.LOST);
      this.#head++;
      this.packetsOut--;
    }
    // Reclaim the consumed prefix now and then rather than shifting on every ACK.
    if (this.#head > 64 && this.#head * 2 > this.#segs.length) {
      this.#segs = this.#segs.slice(this.#head);
      this.#head = 0;
    }
    return out;
  }

  /**
   * The peer SACKed [start, end): marks the segments wholly inside it and
   * returns those newly marked, with their marks from before
   * (tcp_sacktag_one). A SACKed segment is no longer lost or retransmitted.
   */
  sack(start: number, end: number): SentSegment[] {
    const out: SentSegment[] = [];
    for (let i = this.#firstEndingAfter(start); i < this.#segs.length; i++) {
      const s = this.#segs[i];
      if (seq.gt(s.end, end)) break;
      if (seq.lt(s.start, start) || s.marks & SegMark.SACKED) continue;
      out.push({ ...s });
      this.#unmark(s, SegMark.RETRANS | SegMark.LOST);
      s.marks |= SegMark.SACKED;
      this.sackedOut++;
    }
    return out;
  }

  /**
   * Marks a segment lost (tcp_mark_skb_lost): a SACKed one never is; a lost
   * retransmission is lost again, and no longer counts as in flight.
   */
  markLost(s: SentSegment): void {
    if (s.marks & SegMark.SACKED) return;
    if (s.marks & SegMark.LOST) {
      this.#unmark(s, SegMark.RETRANS);
      return;
    }
    s.marks |= SegMark.LOST;
    this.lostOut++;
  }

  /** Clears the LOST marks (an undo: tcp_undo_cwnd_reduction with unmark_loss). */
  unmarkLost(): void {
    for (let i = this.#head; i < this.#segs.length; i++) {
      this.#unmark(this.#segs[i], SegMark.LOST);
    }
  }

  /** Forgets every SACK mark (the receiver reneged: RFC 2018 §8). */
  forgetSacks(): void {
    for (let i = this.#head; i < this.#segs.length; i++) {
      this.#unmark(this.#segs[i], SegMark.SACKED);
    }
  }

  /** Forgets everything (the connection is gone). */
  clear(): void {
    this.#segs = [];
    this.#head = 0;
    this.packetsOut =
      this.sackedOut =
      this.lostOut =
      this.retransOut =
        0;
  }

  /**
   * tcp_packets_in_flight: packets_out − left_out + retrans_out, where
   * left_out is sacked_out (or, without SACK, the duplicate ACKs counted in
   * its place) plus lost_out.
   */
  inFlight(sackedOut: number = this.sackedOut): number {
    return this.packetsOut - (sackedOut + this.lostOut) + this.retransOut;
  }

  /** Index of the first segment whose end lies after `s`, by binary search. */
  #firstEndingAfter(s: number): number {
    let lo = this.#head, hi = this.#segs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (seq.le(this.#segs[mid].end, s)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  #unmark(s: SentSegment, bits: number): void {
    const off = s.marks & bits;
    if (off & SegMark.SACKED) this.sackedOut--;
    if (off & SegMark.RETRANS) this.retransOut--;
    if (off & SegMark.LOST) this.lostOut--;
    s.marks &= ~off;
  }
}
