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
  /** cwnd growth for `acked` newly acknowledged data bytes, outside recovery (cong_avoid). */
  grow(t: Tcb, acked: number): void;
}

/** RFC 5681 eq. (4): ssthresh = max(FlightSize / 2, 2 × SMSS). */
export function ssthreshAfterLoss(flight: number, mss: number): number {
  return Math.max(flight >> 1, 2 * mss);
}

/**
 * Reno (RFC 5681 §3.1): slow start below ssthresh, congestion avoidance
 * above. Slow start counts bytes acknowledged, as Linux's tcp_slow_start
 * does (RFC 3465), and what overshoots ssthresh goes to avoidance.
 */
const RENO: CongestionControl = {
  name: "reno",
  ssthresh: (t) => ssthreshAfterLoss(t.flightSize, t.effMss),
  grow(t, acked) {
    let left = acked;
    if (t.cwnd < t.ssthresh) {
      const grown = Math.min(t.cwnd + left, t.ssthresh);
      left -= grown - t.cwnd;
      t.cwnd = grown;
    }
    const mss = t.effMss;
    if (left > 0) t.cwnd += Math.max(1, Math.floor((mss * Math.min(left, mss)) / t.cwnd));
  },
};

/** The controllers a profile may name. */
export const CONGESTION_CONTROLS: Readonly<Record<"reno", CongestionControl>> = Object.freeze({
  reno: RENO,
});
