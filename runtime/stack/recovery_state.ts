/**
 * What Linux's loss recovery keeps per connection, owned by the sender and
 * changed only by `linux_recovery.ts`: the retransmission queue, the PRR
 * counters (RFC 6937), the undo record (RFC 3522 Eifel, RFC 2883 D-SACK),
 * RACK's most recently delivered segment (RFC 8985 §6) and its reordering
 * timer. Field names follow `struct tcp_sock` so the kernel reads beside it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RecoveryState } from "./recovery_state.ts";
 * const r = new RecoveryState();
 * assert.equal(r.queue.packetsOut, 0);
 * assert.equal(r.undoMarker, undefined);
 * assert.equal(r.minRtt, Infinity);
 * ```
 */
import type { Timer } from "../engine/clock.ts";
import { CubicState } from "./cubic_state.ts";
import { RtxQueue } from "./rtx_queue.ts";

/** RACK's view of the most recently sent segment known delivered (tp->rack). */
export interface RackRecord {
  /** When that segment was sent (ms). */
  sentAt: number;
  /** Its transmission count, to order segments sent at the same instant. */
  order: number;
  /** Its round trip: from when it was sent to the ACK that delivered it (ms). */
  rtt: number;
  /** Set when a delivery moved it; a loss check runs only then. */
  advanced: boolean;
}

/** Loss-recovery state of one connection (the `linux` recovery). */
export class RecoveryState {
  /** Every segment sent and not cumulatively acknowledged. */
  readonly queue = new RtxQueue();
  /** high_seq: snd.nxt when the current recovery or reduction started. */
  highSeq = 0;
  /** prior_cwnd (segments): cwnd as the reduction started, PRR's denominator. */
  priorCwnd = 0;
  /** prior_ssthresh (bytes): what an undo restores; 0 when an undo may not raise it. */
  priorSsthresh = 0;
  /** prr_delivered: segments delivered since recovery started (RFC 6937). */
  prrDelivered = 0;
  /** prr_out: segments sent since recovery started. */
  prrOut = 0;
  /** undo_marker: snd.una when recovery started; undefined once undone or unknowable. */
  undoMarker: number | undefined;
  /** undo_retrans: retransmissions not yet reported as duplicates by D-SACK (−1: none). */
  undoRetrans = -1;
  /** retrans_stamp: the timestamp value of the first retransmission, for Eifel (RFC 3522). */
  retransStamp: number | undefined;
  /** Without SACK: duplicate ACKs counted as segments that left the network (tcp_add_reno_sack). */
  renoSacked = 0;
  /** tp->delivered: segments delivered, by cumulative ACK or SACK. */
  delivered = 0;
  /** dsack_dups: duplicate segments D-SACKs reported. */
  dsackDups = 0;
  /** tp->lost: segments ever marked lost. */
  lost = 0;
  /** The least RTT seen (tcp_min_rtt), ms; a zero sample counts as one jiffy, as Linux's does. */
  minRtt = Infinity;
  /** reord_seen: a SACK showed reordering, so RACK keeps a reordering window even in recovery. */
  reordSeen = false;
  readonly rack: RackRecord = { sentAt: -Infinity, order: 0, rtt: 0, advanced: false };
  /** RACK's reordering timer (ICSK_TIME_REO_TIMEOUT). */
  reoTimer: Timer | undefined;
  /** CUBIC's per-connection state, used when the profile names it. */
  readonly cubic = new CubicState();
  /** snd_cwnd_cnt: segments delivered toward the next cwnd increase in congestion avoidance. */
  cwndCnt = 0;
  /** A tail loss probe is going out (it is not counted as a retransmission in flight). */
  probing = false;
  /** F-RTO (RFC 5682, net.ipv4.tcp_frto): after this timeout, new data may prove it spurious. */
  frto = false;
  /** is_cwnd_limited: cwnd held data back in the current window (tcp_cwnd_validate). */
  cwndLimited = false;
  /** max_packets_out: the most segments in flight in the current window. */
  maxPacketsOut = 0;
  /** cwnd_usage_seq: snd.nxt when the window above began. */
  cwndUsageSeq = 0;
  /** The TSecr of the ACK being processed (rx_opt.rcv_tsecr), for Eifel. */
  ackEcr: number | undefined;
}
