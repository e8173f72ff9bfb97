/**
 * Loss recovery after duplicate ACKs (fast retransmit and fast recovery):
 * when it starts, what cwnd is as it starts, and how duplicate and partial
 * ACKs move cwnd inside it. Which one runs follows the handshake: NewReno
 * (RFC 6582) without SACK, RFC 6675's scoreboard with it, as in Linux.
 * The ACK processing that drives them is `congestion.ts`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { NEWRENO, RFC6675 } from "./loss_recovery.ts";
 * assert.equal(NEWRENO.name, "newreno");
 * assert.equal(RFC6675.name, "sack");
 * ```
 */
import { seq } from "../wire/seq.ts";
import { lossEdge } from "./loss_edge.ts";
import type { Tcb } from "./tcb.ts";

/** One way of recovering. */
export interface LossRecovery {
  readonly name: string;
  /** Whether this duplicate ACK starts recovery (RFC 6582 §3.2 step 2, RFC 6675 §5 step 4). */
  starts(t: Tcb): boolean;
  /** cwnd as recovery starts, once ssthresh is set. */
  entryCwnd(t: Tcb): number;
  /** A duplicate ACK while recovering. */
  duplicate(t: Tcb): void;
  /** An ACK below the recovery point that covers `acked` bytes. */
  partial(t: Tcb, acked: number): void;
}

/** RFC 6582: three duplicates start it; each inflates cwnd by a segment, a partial ACK deflates it. */
export const NEWRENO: LossRecovery = {
  name: "newreno",
  starts: (t) => t.snd.dupAcks >= t.profile.dupThresh,
  entryCwnd: (t) => t.snd.ssthresh + t.profile.dupThresh * t.effMss,
  duplicate(t) {
    t.snd.cwnd += t.effMss; // §3.2 step 4
  },
  partial(t, acked) {
    const mss = t.effMss; // §3.2 step 5: deflate by what was acknowledged, add back a segment
    t.snd.cwnd = Math.max(mss, t.snd.cwnd - acked + (acked >= mss ? mss : 0));
  },
};

/** RFC 6675: DupThresh duplicates, or a lost byte on the scoreboard; cwnd is ssthresh, pipe counts. */
export const RFC6675: LossRecovery = {
  name: "sack",
  starts: (t) => t.snd.dupAcks >= t.profile.dupThresh || seq.gt(lossEdge(t), t.snd.una),
  entryCwnd: (t) => t.snd.ssthresh,
  duplicate() {},
  partial() {},
};

/** The recovery a connection runs: RFC 6675 once SACK was negotiated, NewReno otherwise. */
export const recoveryOf = (t: Tcb): LossRecovery => t.sackOk ? RFC6675 : NEWRENO;
