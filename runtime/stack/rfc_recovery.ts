/**
 * Loss recovery as the RFCs state it (profile `recovery: "rfc6675"`): RFC
 * 6582 NewReno without SACK, RFC 6675's scoreboard and pipe with it, RFC 3042
 * limited transmit, and RFC 5681's go-back-N after a timeout. The ACK
 * processing is `congestion.ts`; the per-ACK rules of each variant are
 * `loss_recovery.ts`. This file plugs them into the `RecoveryAlgorithm` port.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RFC_RECOVERY } from "./rfc_recovery.ts";
 * assert.equal(RFC_RECOVERY.name, "rfc6675");
 * ```
 */
import { seq } from "../wire/seq.ts";
import { type TcpFields, TcpFlag } from "../wire/tcp.ts";
import { CaState } from "./ca_state.ts";
import { dupAck, newAck, onRetransmitTimeout, sackArrived } from "./congestion.ts";
import { lossEdge } from "./loss_edge.ts";
import type { RecoveryAlgorithm, RecoveryCounters } from "./recovery_algorithm.ts";
import type { Tcb } from "./tcb.ts";

const { SYN, FIN } = TcpFlag;

/**
 * RFC 6675 §4 SetPipe(): bytes believed in the network. Unsacked bytes above
 * the loss edge count, and so do lost bytes already retransmitted.
 */
export function pipe(t: Tcb): number {
  const sb = t.snd.scoreboard;
  const edge = lossEdge(t);
  const rxt = seq.min(seq.max(t.snd.highRxt, t.snd.una), edge);
  return sb.uncovered(t.snd.una, rxt) + sb.uncovered(edge, t.snd.max);
}

/** RFC 9293 §3.10.7.4 with RFC 5681 §2's duplicate ACK: SACK first, then new data or a duplicate. */
function ack(t: Tcb, seg: TcpFields, ts: { val: number; ecr: number } | undefined): void {
  const sacked = sackArrived(t, seg.ack, seg.options);
  if (seq.gt(seg.ack, t.snd.una)) newAck(t, seg.ack, ts);
  else if (
    seg.ack === t.snd.una && t.snd.max !== t.snd.una && seg.payload.length === 0 &&
    !(seg.flags & (SYN | FIN)) && (seg.window << t.snd.wscale === t.snd.wnd || sacked > 0)
  ) dupAck(t);
}

/** cwnd less pipe in SACK recovery; with RFC 3042's two extra segments while duplicates come. */
function cwndRoom(t: Tcb): number {
  if (t.snd.caState === CaState.RECOVERY && t.sackOk) return t.snd.cwnd - pipe(t);
  let cwnd = t.snd.cwnd;
  // RFC 3042 limited transmit: the first two duplicate ACKs may each release one new segment.
  if (t.snd.caState === CaState.DISORDER) cwnd += Math.min(t.snd.dupAcks, 2) * t.effMss;
  return cwnd - t.snd.inflight;
}

/** RFC 6675 §5 step (C): while pipe leaves room, retransmit lost holes, lowest first (NextSeg rule 1). */
function sackRetransmit(t: Tcb, mss: number): void {
  if (t.snd.caState !== CaState.RECOVERY || !t.sackOk) return;
  for (;;) {
    if (t.snd.cwnd - pipe(t) < mss) return;
    const edge = lossEdge(t);
    const at = t.snd.scoreboard.nextUncovered(seq.max(t.snd.highRxt, t.snd.una));
    if (!seq.lt(at, edge)) return;
    const n = t.drive.retransmit(t, at, mss);
    if (n === 0) return;
    t.snd.highRxt = seq.add(at, n);
  }
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

/**
 * TCP_INFO's counters from the flight and the scoreboard. (Linux's recovery
 * uses them too before its queue holds anything: in SYN_SENT and SYN_RECV.)
 */
export function flightCounters(t: Tcb): RecoveryCounters {
  const segs = (bytes: number) => Math.ceil(bytes / Math.max(1, t.effMss));
  const ca = t.snd.caState;
  return {
    unacked: segs(t.snd.flightSize),
    sacked: segs(t.snd.scoreboard.bytes),
    // After a timeout everything outstanding counts lost (as Linux's tcp_enter_loss marks it).
    lost: ca === CaState.LOSS
      ? segs(t.snd.flightSize)
      : ca === CaState.RECOVERY
      ? segs(lostBytes(t))
      : 0,
    retrans: ca === CaState.OPEN ? 0 : segs(retransBytes(t)),
  };
}

/** The RFCs' loss recovery, behind the port. */
export const RFC_RECOVERY: RecoveryAlgorithm<Tcb> = Object.freeze({
  name: "rfc6675" as const,
  ack,
  cwndRoom,
  beforeSend: sackRetransmit,
  afterSend: () => {},
  // The scoreboard is built from the ACKs; nothing is kept per segment sent.
  segmentSent: () => {},
  timeout: onRetransmitTimeout,
  counters: flightCounters,
});
