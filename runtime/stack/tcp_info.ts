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
import { type TcpInfo, TcpiOpt } from "../wire/socket_call.ts";
import type { Tcb } from "./tcb.ts";

/** The TCP_INFO view of `t`. */
export function tcpInfo(t: Tcb): TcpInfo {
  const us = (ms: number) => Math.round(ms * 1000);
  const mss = Math.max(1, t.effMss);
  const c = t.drive.recovery(t).counters(t);
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
    unacked: c.unacked,
    sacked: c.sacked,
    lost: c.lost,
    retrans: c.retrans,
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
