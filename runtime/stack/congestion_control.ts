/**
 * Congestion control as Linux plugs it in (`struct tcp_congestion_ops`):
 * where ssthresh goes after a loss, and how cwnd grows on ACKs outside
 * recovery. The profile names one (`congestionControl`); Reno (RFC 5681)
 * is the one the built-in stack has. CUBIC (RFC 9438) is not modelled yet.
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
import type { Tcb } from "./tcb.ts";

/** One congestion controller. */
export interface CongestionControl {
  /** As `net.ipv4.tcp_congestion_control` names it. */
  readonly name: string;
  /** ssthresh after a loss (tcp_congestion_ops.ssthresh). */
  ssthresh(t: Tcb): number;
  /** cwnd growth for `acked` segments newly delivered, outside recovery (cong_avoid). */
  grow(t: Tcb, acked: number): void;
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
  if (t.cwnd < t.ssthresh) {
    const grown = Math.min(t.cwnd + left, t.ssthresh);
    left -= grown - t.cwnd;
    t.cwnd = grown;
  }
  const mss = t.effMss;
  if (left > 0) t.cwnd += Math.max(1, Math.floor((mss * Math.min(left, mss)) / t.cwnd));
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
  ssthresh: (t) => Math.max(segs(t.cwnd, t) >> 1, 2) * t.effMss,
  grow(t, acked) {
    const mss = t.effMss, r = t.recovery;
    let cwnd = segs(t.cwnd, t), left = acked;
    const ssthresh = t.ssthresh >= 0x7fffffff ? Infinity : segs(t.ssthresh, t);
    if (cwnd < ssthresh) {
      const grown = Math.min(cwnd + left, ssthresh);
      left -= grown - cwnd;
      cwnd = grown;
    }
    if (left > 0) {
      if (r.cwndCnt >= cwnd) {
        r.cwndCnt = 0;
        cwnd++;
      }
      r.cwndCnt += left;
      if (r.cwndCnt >= cwnd) {
        const delta = Math.floor(r.cwndCnt / cwnd);
        r.cwndCnt -= delta * cwnd;
        cwnd += delta;
      }
    }
    t.cwnd = cwnd * mss;
  },
};

/** Bytes as whole segments of the connection's MSS. */
const segs = (bytes: number, t: Tcb): number => Math.max(1, Math.floor(bytes / t.effMss));

/** The controllers a profile may name. */
export const CONGESTION_CONTROLS: Readonly<Record<"reno", CongestionControl>> = Object.freeze({
  reno: RENO,
});
