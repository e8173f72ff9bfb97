/**
 * cwnd around loss recovery, in segments as Linux counts it: what is in
 * flight (tcp_packets_in_flight), the reduction's start and end
 * (tcp_init_cwnd_reduction, tcp_end_cwnd_reduction), Proportional Rate
 * Reduction during it (RFC 6937, tcp_cwnd_reduction), growth by the
 * profile's congestion control outside it, only while cwnd limits the
 * sender (tcp_is_cwnd_limited, tcp_cwnd_validate).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { prrSendCount } from "./recovery_window.ts";
 * // RFC 6937 §3: 10 segments before, ssthresh 5, one delivered, 6 in flight: cwnd 7.
 * assert.equal(prrSendCount({ ssthresh: 5, inFlight: 6, priorCwnd: 10, delivered: 1, out: 0 }, 1, false), 1);
 * ```
 */
import { seq } from "../wire/seq.ts";
import { AckFlag } from "./ack_flag.ts";
import { CaState } from "./ca_state.ts";
import { CONGESTION_CONTROLS } from "./congestion_control.ts";
import { SegMark } from "./rtx_queue.ts";
import type { Tcb } from "./tcb.ts";

const { DATA_ACKED, SND_UNA_ADVANCED } = AckFlag;
/** TCP_INFINITE_SSTHRESH. */
const INFINITE = 0x7fffffff;
/** tcp_packets_in_flight, in segments. */
export function inFlight(t: Tcb): number {
  const r = t.snd.recovery;
  return r.queue.inFlight(t.sackOk ? r.queue.sackedOut : r.renoSacked);
}

/** sacked_out as TCP_INFO shows it: SACKed segments, or without SACK the duplicate ACKs counted. */
export function sackedOut(t: Tcb): number {
  return t.sackOk ? t.snd.recovery.queue.sackedOut : t.snd.recovery.renoSacked;
}

export function leftOut(t: Tcb): number {
  return sackedOut(t) + t.snd.recovery.queue.lostOut;
}

/** tcp_any_retrans_done. */
export function anyRetransDone(t: Tcb): boolean {
  const q = t.snd.recovery.queue;
  return q.retransOut > 0 || (q.packetsOut > 0 && (q.at(0).marks & SegMark.EVER_RETRANS) !== 0);
}

export const cwndSegs = (t: Tcb): number =>
  Math.max(1, Math.floor(t.snd.cwnd / Math.max(1, t.effMss)));

export const setCwndSegs = (t: Tcb, n: number): void => {
  t.snd.cwnd = Math.max(1, n) * t.effMss;
};

export const control = (t: Tcb) => CONGESTION_CONTROLS[t.profile.congestionControl];

/** tcp_current_ssthresh: what an undo may restore. */
export function currentSsthresh(t: Tcb): number {
  if (t.snd.caState === CaState.RECOVERY) return t.snd.ssthresh;
  return Math.max(t.snd.ssthresh, (cwndSegs(t) >> 1) * t.effMss + (cwndSegs(t) >> 2) * t.effMss);
}

/** tcp_init_cwnd_reduction. */
export function initCwndReduction(t: Tcb): void {
  const r = t.snd.recovery;
  r.highSeq = t.snd.max;
  t.snd.tlpHighSeq = undefined;
  r.priorCwnd = cwndSegs(t);
  r.prrDelivered = r.prrOut = 0;
  t.snd.ssthresh = control(t).ssthresh(t);
}

/** tcp_end_cwnd_reduction: cwnd falls to ssthresh, unless the reduction was undone. */
export function endCwndReduction(t: Tcb): void {
  if (t.snd.ssthresh < INFINITE && t.snd.recovery.undoMarker !== undefined) {
    t.snd.cwnd = t.snd.ssthresh;
  }
}

/** tcp_cong_control: PRR while recovering, growth by congestion control otherwise. */
export function congControl(t: Tcb, ackedSacked: number, newlyLost: number, flag: number): void {
  if (t.snd.caState === CaState.RECOVERY) cwndReduction(t, ackedSacked, newlyLost, flag);
  else if (flag & DATA_ACKED && ackedSacked > 0 && isCwndLimited(t)) {
    control(t).grow(t, ackedSacked);
  }
}

/**
 * tcp_is_cwnd_limited: cwnd grows only when it limits the sender, or, in
 * slow start, while it is below twice the most segments in flight.
 */
function isCwndLimited(t: Tcb): boolean {
  const r = t.snd.recovery;
  if (r.cwndLimited) return true;
  return t.snd.cwnd < t.snd.ssthresh && cwndSegs(t) < 2 * r.maxPacketsOut;
}

/**
 * tcp_cwnd_validate, after sending: remember for the current window whether
 * cwnd held data back, else the most segments that were in flight.
 */
export function cwndValidate(t: Tcb, held: boolean): void {
  const r = t.snd.recovery;
  // tcp_write_xmit: limited when cwnd held data back, or when the flight fills it.
  const limited = held || inFlight(t) >= cwndSegs(t);
  if (
    !seq.lt(t.snd.una, r.cwndUsageSeq) || limited ||
    (!r.cwndLimited && r.queue.packetsOut > r.maxPacketsOut)
  ) {
    r.cwndLimited = limited;
    r.maxPacketsOut = r.queue.packetsOut;
    r.cwndUsageSeq = t.snd.max;
  }
}

/** The inputs of PRR's send count (RFC 6937 §3), in segments. */
export interface PrrState {
  ssthresh: number;
  inFlight: number;
  priorCwnd: number;
  /** prr_delivered, this ACK's included. */
  delivered: number;
  /** prr_out. */
  out: number;
}

/**
 * tcp_cwnd_reduction's sndcnt: proportional while the flight is above
 * ssthresh, slow-start-like reduction bound below it, and at least one
 * segment (the fast retransmit) before anything was sent.
 */
export function prrSendCount(
  p: PrrState,
  newlyAckedSacked: number,
  unaGrewNoLoss: boolean,
): number {
  const delta = p.ssthresh - p.inFlight;
  let sndcnt: number;
  if (delta < 0) {
    sndcnt = Math.floor((p.ssthresh * p.delivered + p.priorCwnd - 1) / p.priorCwnd) - p.out;
  } else {
    sndcnt = Math.max(p.delivered - p.out, newlyAckedSacked);
    if (unaGrewNoLoss) sndcnt++;
    sndcnt = Math.min(delta, sndcnt);
  }
  return Math.max(sndcnt, p.out ? 0 : 1);
}

/** tcp_cwnd_reduction (RFC 6937): cwnd = what is in flight + PRR's send count. */
export function cwndReduction(
  t: Tcb,
  newlyAckedSacked: number,
  newlyLost: number,
  flag: number,
): void {
  const r = t.snd.recovery;
  if (newlyAckedSacked <= 0 || !r.priorCwnd) return;
  r.prrDelivered += newlyAckedSacked;
  const pif = inFlight(t);
  const sndcnt = prrSendCount(
    {
      ssthresh: Math.ceil(t.snd.ssthresh / t.effMss),
      inFlight: pif,
      priorCwnd: r.priorCwnd,
      delivered: r.prrDelivered,
      out: r.prrOut,
    },
    newlyAckedSacked,
    (flag & SND_UNA_ADVANCED) !== 0 && !newlyLost,
  );
  setCwndSegs(t, pif + sndcnt);
}
