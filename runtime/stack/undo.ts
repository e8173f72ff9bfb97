/**
 * Undoing a cwnd reduction the ACKs prove needless, as Linux does: an ACK
 * that echoes the timestamp of an original transmission (Eifel, RFC 3522:
 * tcp_packet_delayed), D-SACKs for every retransmission (RFC 2883, RFC
 * 3708: undo_retrans), at the end of recovery, on a partial ACK, or after a
 * timeout (tcp_try_undo_recovery, _partial, _dsack, _loss). Also the step
 * back to Open or Disorder (tcp_try_keep_open).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mayUndo } from "./undo.ts";
 * assert.equal(typeof mayUndo, "function"); // driven end to end in tests/stack_congestion_test.ts
 * ```
 */
import { seq } from "../wire/seq.ts";
import { CaState } from "./ca_state.ts";
import { anyRetransDone, cwndSegs, leftOut, setCwndSegs } from "./recovery_window.ts";
import type { Tcb } from "./tcb.ts";

/** tcp_try_keep_open: Disorder while anything is SACKed, lost or retransmitted. */
export function tryKeepOpen(t: Tcb): void {
  const r = t.snd.recovery;
  const state = leftOut(t) || anyRetransDone(t) ? CaState.DISORDER : CaState.OPEN;
  if (t.snd.caState !== state) {
    t.snd.caState = state;
    r.highSeq = t.snd.max;
  }
}

/** tcp_init_undo. */
export function initUndo(t: Tcb): void {
  const r = t.snd.recovery;
  r.undoMarker = t.snd.una;
  r.undoRetrans = r.queue.retransOut || -1;
}

/** tcp_packet_delayed: the ACK echoes a timestamp from before the first retransmission. */
export function packetDelayed(t: Tcb): boolean {
  const r = t.snd.recovery;
  if (r.retransStamp !== undefined) {
    const ecr = r.ackEcr;
    return t.tsOk && ecr !== undefined && ecr !== 0 && seq.lt(ecr, r.retransStamp);
  }
  // Nothing retransmitted, unless NewReno cleared the stamp holding recovery at high_seq.
  return t.sackOk || seq.lt(t.snd.una, r.highSeq);
}

/** tcp_may_undo. */
export function mayUndo(t: Tcb): boolean {
  const r = t.snd.recovery;
  return r.undoMarker !== undefined && (r.undoRetrans === 0 || packetDelayed(t));
}

/**
 * tcp_try_undo_recovery: at the end of recovery, undo if it proved
 * spurious. Without SACK, recovery holds until data above high_seq is
 * acknowledged (RFC 6582 §3.2 step 5's caution, tcp_is_non_sack_preventing_reopen).
 */
export function tryUndoRecovery(t: Tcb): boolean {
  const r = t.snd.recovery;
  if (mayUndo(t)) undoCwndReduction(t, false);
  if (!t.sackOk && t.snd.una === r.highSeq) {
    if (!anyRetransDone(t)) r.retransStamp = undefined;
    return true;
  }
  t.snd.caState = CaState.OPEN;
  return false;
}

/** tcp_try_undo_partial: a partial ACK that echoes an original's timestamp was reordering. */
export function tryUndoPartial(t: Tcb): boolean {
  const r = t.snd.recovery;
  if (r.undoMarker === undefined || !packetDelayed(t)) return false;
  if (r.queue.retransOut) return true;
  if (!anyRetransDone(t)) r.retransStamp = undefined;
  undoCwndReduction(t, true);
  tryKeepOpen(t);
  return false;
}

/** tcp_try_undo_dsack: every retransmission was reported a duplicate. */
export function tryUndoDsack(t: Tcb): boolean {
  const r = t.snd.recovery;
  if (r.undoMarker === undefined || r.undoRetrans !== 0) return false;
  undoCwndReduction(t, false);
  return true;
}

/** tcp_undo_cwnd_reduction: cwnd and ssthresh back as they were (Reno's undo_cwnd). */
export function undoCwndReduction(t: Tcb, unmarkLoss: boolean): void {
  const r = t.snd.recovery;
  if (unmarkLoss) r.queue.unmarkLost();
  if (r.priorSsthresh) {
    setCwndSegs(t, Math.max(cwndSegs(t), r.priorCwnd));
    if (r.priorSsthresh > t.snd.ssthresh) t.snd.ssthresh = r.priorSsthresh;
  }
  r.undoMarker = undefined;
  r.rack.advanced = true;
}

/** tcp_try_undo_loss. */
export function tryUndoLoss(t: Tcb, frtoUndo: boolean): boolean {
  const r = t.snd.recovery;
  if (!frtoUndo && !mayUndo(t)) return false;
  undoCwndReduction(t, true);
  t.snd.retransmits = 0;
  if (!t.sackOk && t.snd.una === r.highSeq) {
    if (!anyRetransDone(t)) r.retransStamp = undefined;
    return true;
  }
  if (frtoUndo || t.sackOk) t.snd.caState = CaState.OPEN;
  return true;
}
