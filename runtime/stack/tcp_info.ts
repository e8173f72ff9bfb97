/**
 * TCP_INFO for a connection of the built-in stack, filled the way Linux's
 * tcp_get_info fills it where the stack has the state: times are in
 * microseconds; with Linux's recovery the segment counters are its
 * retransmission queue's (packets_out, sacked_out, lost_out, retrans_out);
 * with the RFC recovery they are bytes over the current MSS, lost as RFC
 * 6675's IsLost() says, everything outstanding after a timeout.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { VirtualClock } from "../engine/clock.ts";
 * import { Stack } from "./stack.ts";
 * const s = new Stack({ clock: new VirtualClock(), addresses: ["10.0.0.1"] });
 * s.call({ name: "socket" });
 * s.call({ name: "connect", fd: 3, addr: "10.0.0.2", port: 80 });
 * const info = s.connections()[0].info();
 * assert.equal(info.state, "SYN_SENT");
 * assert.equal(info.unacked, 1);
 * ```
 */
import { seq } from "../wire/seq.ts";
import { type TcpInfo, TcpiOpt } from "../wire/socket_call.ts";
import { lossEdge } from "./loss_edge.ts";
import { CaState } from "./ca_state.ts";
import { sackedOut } from "./recovery_window.ts";
import type { Tcb } from "./tcb.ts";

/** The TCP_INFO view of `t`. */
export function tcpInfo(t: Tcb): TcpInfo {
  const us = (ms: number) => Math.round(ms * 1000);
  const mss = Math.max(1, t.effMss);
  const segs = (bytes: number) => Math.ceil(bytes / mss);
  // After a timeout Linux marks everything outstanding lost (tcp_enter_loss).
  // Linux's recovery keeps Linux's counters; its queue holds data and FINs, not the SYN.
  const linux = t.profile.recovery === "linux" && t.state !== "SYN_SENT" && t.state !== "SYN_RECV";
  const q = t.snd.recovery.queue;
  const lost = linux
    ? q.lostOut
    : t.snd.caState === CaState.LOSS
    ? segs(t.snd.flightSize)
    : t.snd.caState === CaState.RECOVERY
    ? segs(lostBytes(t))
    : 0;
  return {
    // Linux hands TIME-WAIT to a timewait sock and closes the full socket: an fd sees CLOSE.
    state: t.state === "TIME_WAIT" ? "CLOSE" : t.state,
    caState: t.snd.caState,
    retransmits: t.snd.retransmits,
    probes: t.probesOut,
    backoff: t.snd.backoff,
    options: (t.tsOk ? TcpiOpt.TIMESTAMPS : 0) | (t.sackOk ? TcpiOpt.SACK : 0) |
      (t.wscaleOk ? TcpiOpt.WSCALE : 0),
    sndWscale: t.snd.wscale,
    rcvWscale: t.rcv.wscale,
    rto: us(t.snd.rto),
    sndMss: t.effMss,
    rcvMss: t.rcv.mss,
    unacked: linux ? q.packetsOut : segs(t.snd.flightSize),
    sacked: linux ? sackedOut(t) : segs(t.snd.scoreboard.bytes),
    lost,
    retrans: linux ? q.retransOut : t.snd.caState === CaState.OPEN ? 0 : segs(retransBytes(t)),
    rtt: us(t.snd.srtt),
    rttvar: us(t.snd.rttvar),
    sndSsthresh: t.snd.ssthresh >= 0x7fffffff ? 0x7fffffff : Math.ceil(t.snd.ssthresh / mss),
    sndCwnd: Math.max(1, Math.round(t.snd.cwnd / mss)),
    // Linux takes the aligned TS option off tp->advmss once timestamps are on.
    advmss: t.advMss - (t.tsOk ? 12 : 0),
    totalRetrans: t.snd.totalRetrans,
    segsOut: t.segsOut,
    segsIn: t.segsIn,
    dataSegsOut: t.dataSegsOut,
    dataSegsIn: t.dataSegsIn,
  };
}

/** Unsacked bytes RFC 6675's IsLost() calls lost: everything below the loss edge. */
function lostBytes(t: Tcb): number {
  return t.snd.scoreboard.uncovered(t.snd.una, lossEdge(t));
}

/** Bytes retransmitted in the current recovery or loss episode and not yet acknowledged. */
function retransBytes(t: Tcb): number {
  if (t.snd.caState === CaState.LOSS) return Math.max(0, seq.diff(t.snd.nxt, t.snd.una));
  return t.snd.scoreboard.uncovered(t.snd.una, seq.max(t.snd.una, t.snd.highRxt));
}
