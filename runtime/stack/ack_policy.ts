/**
 * When the receiver ACKs (RFC 5681 §4.2, RFC 9293 §3.8.6.3, Linux's
 * __tcp_ack_snd_check): at once in quick-ACK mode and for every second full
 * segment, after the delayed-ACK timer otherwise, and for the FIN that ends
 * ESTABLISHED as Linux's pingpong mode has it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ackData } from "./ack_policy.ts";
 * assert.equal(typeof ackData, "function"); // driven end to end in tests/stack_flow_control_test.ts
 * ```
 */
import type { Tcb } from "./tcb.ts";

/** Schedules or sends the ACK for in-order data: every second full segment at once, else after the delay. */
export function ackData(t: Tcb, fullSized: boolean): void {
  if (t.rcv.quickAcks > 0) {
    t.rcv.quickAcks--;
    t.sendAck();
    return;
  }
  if (fullSized) t.rcv.unackedSegs++;
  if (t.rcv.unackedSegs >= 2) {
    t.sendAck();
    return;
  }
  delayAck(t, t.profile.delayedAckMs);
}

/** Sends an ACK `ms` from now, unless one is already due or goes out with a segment before. */
function delayAck(t: Tcb, ms: number): void {
  if (t.rcv.ackTimer) return;
  const c = t.host.clock;
  t.rcv.ackTimer = c.setTimer(c.now() + ms, () => {
    t.rcv.ackTimer = undefined;
    if (t.state !== "CLOSE") t.sendAck();
  });
}

/**
 * The ACK of a FIN that ends ESTABLISHED (Linux tcp_fin, __tcp_ack_snd_check):
 * the socket is in pingpong mode now, so there is no quick ACK; the
 * delayed-ACK timer sends it after ato, 40 ms once data has arrived, one
 * tick before (ato is still 0), unless more than one full segment waits to
 * be acknowledged. A FIN that fills a hole is ACKed at once, as the hole is.
 */
export function ackFin(t: Tcb, fullSized: boolean, now: boolean): void {
  if (fullSized) t.rcv.unackedSegs++;
  if (now || !t.profile.finPingpong || t.rcv.unackedSegs >= 2) {
    t.sendAck();
    return;
  }
  delayAck(t, t.dataSegsIn > 0 ? t.profile.delayedAckMs : t.profile.jiffyMs);
}
