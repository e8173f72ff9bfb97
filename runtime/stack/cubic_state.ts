/**
 * What CUBIC keeps per connection (Linux `struct bictcp`, tcp_cubic.c):
 * the cubic function's epoch, origin and K, the Reno-friendly estimate, and
 * HyStart's round. Times are in jiffies or µs as the kernel keeps them;
 * windows in segments. Changed only by `cubic.ts`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CubicState } from "./cubic_state.ts";
 * const s = new CubicState();
 * assert.equal(s.epochStart, 0);
 * assert.equal(s.curRtt, Infinity);
 * ```
 */
export class CubicState {
  /** cnt: cwnd grows by one segment after this many segments delivered. */
  cnt = 0;
  /** last_max_cwnd: W_max, cwnd before the last reduction. */
  lastMaxCwnd = 0;
  /** last_cwnd and last_time: the cwnd and jiffy of the last update. */
  lastCwnd = 0;
  lastTime = 0;
  /** bic_origin_point: the cubic function's plateau. */
  originPoint = 0;
  /** bic_K: time from the epoch's start to the plateau, in 1/1024 s. */
  k = 0;
  /** delay_min: the least RTT seen, µs (0: none yet). */
  delayMin = 0;
  /** epoch_start: the jiffy the current epoch began (0: none). */
  epochStart = 0;
  /** ack_cnt: segments delivered since the epoch began, for the Reno-friendly estimate. */
  ackCnt = 0;
  /** tcp_cwnd: what Reno's cwnd would be. */
  tcpCwnd = 0;
  /** HyStart: samples in this round, whether slow start's exit was found. */
  sampleCnt = 0;
  found = false;
  /** HyStart's round: when it began (µs), the snd.nxt that ends it, the last ACK of a train (µs). */
  roundStart = 0;
  endSeq = 0;
  lastAck = 0;
  /** curr_rtt: the least RTT of this round, µs. */
  curRtt = Infinity;

  /** bictcp_reset: everything but the HyStart round. */
  reset(): void {
    this.cnt =
      this.lastMaxCwnd =
      this.lastCwnd =
      this.lastTime =
        0;
    this.originPoint =
      this.k =
      this.delayMin =
      this.epochStart =
        0;
    this.ackCnt = this.tcpCwnd = 0;
    this.found = false;
  }
}
