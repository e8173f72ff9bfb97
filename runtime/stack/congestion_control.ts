/**
 * Congestion control as Linux plugs it in (`struct tcp_congestion_ops`):
 * where ssthresh goes after a loss, and how cwnd grows on ACKs outside
 * recovery. The profile names one (`congestionControl`, or the sysctl
 * net.ipv4.tcp_congestion_control): Linux's Reno, or CUBIC (RFC 9438,
 * `cubic.ts`). Both count in segments, as Linux does.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CONGESTION_CONTROLS, ssthreshAfterLoss } from "./congestion_control.ts";
 * // RFC 5681 eq. (4): half the flight, at least two segments.
 * assert.equal(ssthreshAfterLoss(20_000, 1000), 10_000);
 * assert.equal(ssthreshAfterLoss(1000, 1000), 2000);
 * assert.equal(CONGESTION_CONTROLS.reno.name, "reno");
 * ```
 */
import { cubicAcked, cubicSsthresh, cubicUpdate, hystartReset, jiffies } from "./cubic.ts";
import type { Tcb } from "./tcb.ts";

/** One congestion controller. */
export interface CongestionControl {
  /** As `net.ipv4.tcp_congestion_control` names it. */
  readonly name: string;
  /** ssthresh after a loss (tcp_congestion_ops.ssthresh). */
  ssthresh(t: Tcb): number;
  /** cwnd growth for `acked` segments newly delivered, outside recovery (cong_avoid). */
  grow(t: Tcb, acked: number): void;
  /** An RTT sample in µs as an ACK delivers data (pkts_acked). */
  acked?(t: Tcb, rttUs: number): void;
  /** The connection entered CaState.LOSS, a timeout (set_state). */
  onLoss?(t: Tcb): void;
}

/** RFC 5681 eq. (4): ssthresh = max(FlightSize / 2, 2 × SMSS). */
export function ssthreshAfterLoss(flight: number, mss: number): number {
  return Math.max(flight >> 1, 2 * mss);
}

/**
 * RFC 5681 §3.1 growth in bytes, for the RFC recovery: slow start below
 * ssthresh counting bytes acknowledged (RFC 3465), and what overshoots
 * ssthresh goes to congestion avoidance, SMSS·SMSS/cwnd per ACK.
 */
export function rfc5681Grow(t: Tcb, acked: number): void {
  let left = acked;
  if (t.snd.cwnd < t.snd.ssthresh) {
    const grown = Math.min(t.snd.cwnd + left, t.snd.ssthresh);
    left -= grown - t.snd.cwnd;
    t.snd.cwnd = grown;
  }
  const mss = t.effMss;
  if (left > 0) t.snd.cwnd += Math.max(1, Math.floor((mss * Math.min(left, mss)) / t.snd.cwnd));
}

/**
 * Linux's Reno (tcp_cong.c), in whole segments: ssthresh half of cwnd
 * (tcp_reno_ssthresh; RFC 5681 says half the flight), slow start by
 * segments delivered up to ssthresh (tcp_slow_start), then one segment per
 * cwnd's worth delivered, the remainder kept in snd_cwnd_cnt
 * (tcp_cong_avoid_ai).
 */
const RENO: CongestionControl = {
  name: "reno",
  ssthresh: (t) => Math.max(segs(t.snd.cwnd, t) >> 1, 2) * t.effMss,
  grow(t, acked) {
    const left = slowStart(t, acked);
    if (left > 0) congAvoidAi(t, segs(t.snd.cwnd, t), left);
  },
};

/** CUBIC (RFC 9438), as `cubic.ts` computes it. */
const CUBIC: CongestionControl = {
  name: "cubic",
  ssthresh: (t) => cubicSsthresh(t.snd.recovery.cubic, segs(t.snd.cwnd, t)) * t.effMss,
  grow(t, acked) {
    const left = slowStart(t, acked);
    if (left <= 0) return;
    const ca = t.snd.recovery.cubic;
    cubicUpdate(ca, segs(t.snd.cwnd, t), left, jiffies(t), 1000 / t.profile.jiffyMs);
    congAvoidAi(t, ca.cnt, left);
  },
  acked(t, rttUs) {
    const ca = t.snd.recovery.cubic;
    if (!ca.roundStart) hystartReset(t, ca);
    cubicAcked(t, ca, rttUs);
  },
  onLoss(t) {
    t.snd.recovery.cubic.reset();
    hystartReset(t, t.snd.recovery.cubic);
  },
};

/** tcp_slow_start: cwnd grows by the segments delivered, up to ssthresh; returns what is left. */
function slowStart(t: Tcb, acked: number): number {
  const cwnd = segs(t.snd.cwnd, t);
  const ssthresh = t.snd.ssthresh >= 0x7fffffff ? Infinity : segs(t.snd.ssthresh, t);
  if (cwnd >= ssthresh) return acked;
  const grown = Math.min(cwnd + acked, ssthresh);
  t.snd.cwnd = grown * t.effMss;
  return acked - (grown - cwnd);
}

/**
 * tcp_cong_avoid_ai: one segment more for every `w` delivered, the rest
 * kept in snd_cwnd_cnt.
 */
function congAvoidAi(t: Tcb, w: number, acked: number): void {
  const r = t.snd.recovery;
  let cwnd = segs(t.snd.cwnd, t);
  if (r.cwndCnt >= w) {
    r.cwndCnt = 0;
    cwnd++;
  }
  r.cwndCnt += acked;
  if (r.cwndCnt >= w) {
    const delta = Math.floor(r.cwndCnt / w);
    r.cwndCnt -= delta * w;
    cwnd += delta;
  }
  t.snd.cwnd = cwnd * t.effMss;
}

/** Bytes as whole segments of the connection's MSS. */
const segs = (bytes: number, t: Tcb): number => Math.max(1, Math.floor(bytes / t.effMss));

/** The controllers a profile may name. */
export const CONGESTION_CONTROLS: Readonly<Record<"reno" | "cubic", CongestionControl>> = Object
  .freeze({ reno: RENO, cubic: CUBIC });
