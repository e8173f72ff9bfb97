/**
 * The receiving half of a connection, as gVisor's `rcv.go` keeps it: the
 * receive sequence space of RFC 9293 §3.3.1, the receive buffer with its
 * out-of-order queue and the SACK blocks to report (RFC 2018), the delayed-ACK
 * state (RFC 9293 §3.8.6.3), and the window it advertises, which never moves
 * its right edge left (RFC 9293 §3.8.6) and avoids silly windows (§3.8.6.2.2).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Receiver } from "./receiver.ts";
 * const rcv = new Receiver(1448, 10);
 * rcv.nxt = 5000;
 * rcv.wndClamp = 65535;
 * rcv.wscale = 7;
 * assert.equal(rcv.space(131072), 65536);
 * assert.equal(rcv.windowField(131072), 512); // 65535 bytes, rounded up to 128-byte units
 * assert.equal(rcv.advEdge, 5000 + 512 * 128);
 * // Half the buffer gone: the edge already promised stays.
 * assert.equal(rcv.windowField(65536), 512);
 * ```
 */
import type { Timer } from "../engine/clock.ts";
import { seq } from "../wire/seq.ts";
import { RecvBuffer } from "./recv_buffer.ts";
import { SackBlocks } from "./sack_blocks.ts";

/** The receiving half of a connection: its sequence space, buffer, ACK state and window. */
export class Receiver {
  // Receive sequence space (RFC 9293 §3.3.1).
  irs = 0;
  nxt = 0;
  /** The right edge we last advertised, so the window never shrinks (RFC 9293 §3.8.6). */
  advEdge = 0;
  /** The most we offer: the initial window (Linux grows it by autotuning, which is not modelled). */
  wndClamp = 0xffff;
  /** Our window shift (RFC 7323 §2.3), 0 unless both sides offered scaling. */
  wscale = 0;
  /** The MSS we expect from the peer, for receiver SWS avoidance. */
  mss: number;

  readonly buf = new RecvBuffer();
  /** Out-of-order blocks to report in our ACKs (RFC 2018). */
  readonly sackBlocks = new SackBlocks();
  /** The peer's FIN was received: reads return 0 once the data is drained. */
  finReceived = false;
  /** shutdown(SHUT_RD): reads return 0 at once. */
  readShut = false;

  // Delayed ACKs (RFC 9293 §3.8.6.3, RFC 5681 §4.2).
  ackTimer: Timer | undefined;
  /** Full-sized segments received since the last ACK. */
  unackedSegs = 0;
  /** ACKs still to send at once, before delaying (Linux's quick-ACK mode). */
  quickAcks: number;

  constructor(mss: number, quickAcks: number) {
    this.mss = mss;
    this.quickAcks = quickAcks;
  }

  /** Receive space in a buffer of `rcvBuf` bytes: half of it (tcp_adv_win_scale = 1), less what is queued. */
  space(rcvBuf: number): number {
    return Math.max(0, (rcvBuf >> 1) - this.buf.readable - this.buf.oooBytes);
  }

  /** What the window would be now, before the never-shrink rule (receiver SWS avoidance, RFC 9293 §3.8.6.2.2). */
  freshWindow(rcvBuf: number): number {
    const w = Math.min(this.space(rcvBuf), this.wndClamp);
    // Offer nothing rather than a sliver: less than a segment (or half the buffer) waits.
    return w < Math.min(this.mss, this.wndClamp >> 1) ? 0 : w;
  }

  /** The window we still promise: from rcv.nxt to the edge last advertised. */
  get promised(): number {
    return Math.max(0, seq.diff(this.advEdge, this.nxt));
  }

  /** The window field for a non-SYN segment, scaled, and never moving the right edge left. */
  windowField(rcvBuf: number): number {
    const unit = 1 << this.wscale;
    let w = this.freshWindow(rcvBuf);
    const promised = seq.diff(this.advEdge, this.nxt);
    if (promised > w) w = promised;
    const field = Math.min(Math.ceil(w / unit), 0xffff);
    this.advEdge = seq.add(this.nxt, field * unit);
    return field;
  }
}
