/**
 * RACK loss detection (RFC 8985 §6, Linux tcp_recovery.c): a segment is
 * lost once a segment sent after it was delivered and more than RACK's RTT
 * plus a reordering window has passed since it was sent. Time, not
 * duplicate counts, decides, so a lost retransmission or a lost tail is
 * found too. `linux_recovery.ts` acts on what this finds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sentAfter } from "./rack.ts";
 * // Sent at the same instant, the later transmission counts as later (tcp_skb_sent_after).
 * assert.equal(sentAfter(5, 5, 12, 11), true);
 * assert.equal(sentAfter(4, 5, 90, 11), false);
 * ```
 */
import { CaState } from "./ca_state.ts";
import { SegMark, type SentSegment } from "./rtx_queue.ts";
import type { Tcb } from "./tcb.ts";

/** tcp_rack_advance: a delivered segment moves RACK's record if it was sent later. */
export function rackAdvance(t: Tcb, s: SentSegment, now: number): void {
  const r = t.snd.recovery;
  const rtt = now - s.sentAt;
  // A retransmitted segment delivered sooner than min_rtt may be the original's delivery.
  if (rtt < r.minRtt && s.marks & (SegMark.RETRANS | SegMark.EVER_RETRANS)) return;
  r.rack.advanced = true;
  r.rack.rtt = rtt;
  if (sentAfter(s.sentAt, r.rack.sentAt, s.order, r.rack.order)) {
    r.rack.sentAt = s.sentAt;
    r.rack.order = s.order;
  }
}

/** tcp_skb_sent_after: later in time, or at the same instant later in the queue's order of transmissions. */
export function sentAfter(t1: number, t2: number, order1: number, order2: number): boolean {
  return t1 > t2 || (t1 === t2 && order1 > order2);
}

/**
 * tcp_rack_reo_wnd: none before any reordering was seen while recovering or
 * once DupThresh segments are SACKed; else min_rtt/4, at most srtt.
 */
function rackReoWnd(t: Tcb): number {
  const r = t.snd.recovery;
  if (!r.reordSeen) {
    if (t.snd.caState >= CaState.RECOVERY) return 0;
    if (r.queue.sackedOut >= t.profile.dupThresh) return 0;
  }
  // The kernel's µs: (min_rtt >> 2) and srtt_us >> 3.
  return Math.min(Math.floor((r.minRtt * 1000) / 4), Math.floor(t.snd.srtt * 1000)) / 1000;
}

/**
 * tcp_rack_detect_loss: a segment sent before RACK's record and not
 * delivered within its RTT plus the reordering window is lost. Returns
 * the longest wait among those not yet due (ms), 0 for none.
 */
export function rackDetectLoss(t: Tcb): number {
  const r = t.snd.recovery, q = r.queue;
  const now = t.host.clock.now();
  const reoWnd = rackReoWnd(t);
  let wait = 0;
  for (let i = 0; i < q.packetsOut; i++) {
    const s = q.at(i);
    if (!sentAfter(r.rack.sentAt, s.sentAt, r.rack.order, s.order)) {
      // Linux walks a list sorted by send time and stops here. In sequence order, a segment
      // sent once was sent no later than any after it, so nothing after it qualifies either.
      if (!(s.marks & SegMark.EVER_RETRANS)) break;
      continue;
    }
    if (s.marks & SegMark.SACKED) continue;
    if (s.marks & SegMark.LOST && !(s.marks & SegMark.RETRANS)) continue;
    const remaining = r.rack.rtt + reoWnd - (now - s.sentAt);
    if (remaining <= 0) markLost(t, s);
    else wait = Math.max(wait, remaining);
  }
  return wait;
}

/** tcp_mark_skb_lost, counting tp->lost. */
export function markLost(t: Tcb, s: SentSegment): void {
  if (!(s.marks & (SegMark.LOST | SegMark.SACKED))) t.snd.recovery.lost++;
  t.snd.recovery.queue.markLost(s);
}
