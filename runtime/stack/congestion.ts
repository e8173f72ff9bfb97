/**
 * What an arriving ACK does to the sender (RFC 9293 §3.10.7.4 fifth, RFC
 * 5681): the scoreboard takes its SACK blocks, a new cumulative ACK
 * samples the RTT and grows cwnd (through the profile's congestion control,
 * `congestion_control.ts`), duplicates start and drive loss recovery
 * (`loss_recovery.ts`), and a timeout starts RTO recovery: one-segment
 * window, go-back-N from snd.una, SACK state forgotten (RFC 5681 §3.1, RFC
 * 2018 §8). Limited transmit (RFC 3042) is `CaState.DISORDER` in
 * `tcb_output.ts`. States follow Linux's tcp_ca_state, so TCP_INFO reads
 * the same.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dupAck, newAck } from "./congestion.ts";
 * assert.equal(typeof dupAck, typeof newAck); // driven end to end in tests/stack_congestion_test.ts
 * ```
 */
import { seq } from "../wire/seq.ts";
import type { TcpOption } from "../wire/tcp_options.ts";
import { CaState } from "./ca_state.ts";
import { rfc5681Grow, ssthreshAfterLoss } from "./congestion_control.ts";
import { recoveryOf } from "./loss_recovery.ts";
import type { Tcb } from "./tcb.ts";

/**
 * Takes the SACK blocks of an arriving ACK into the scoreboard and returns
 * how many bytes they newly cover. A D-SACK block (RFC 2883 §4: the first
 * block, below the cumulative ACK or inside the second block) reports a
 * duplicate, not a hole, and is left out.
 */
export function sackArrived(t: Tcb, ack: number, options: readonly TcpOption[]): number {
  if (!t.sackOk) return 0;
  const blocks = sackBlocksOf(options);
  if (!blocks) return 0;
  let first = 0;
  const [s0, e0] = blocks[0];
  if (
    seq.le(e0, ack) ||
    (blocks.length > 1 && seq.ge(s0, blocks[1][0]) && seq.le(e0, blocks[1][1]))
  ) first = 1;
  let added = 0;
  for (let i = first; i < blocks.length; i++) {
    const b = believable(t, ack, blocks[i]);
    if (b) added += t.snd.scoreboard.add(b[0], b[1]);
  }
  return added;
}

/** The SACK option's blocks, or undefined when the segment carries none. */
export function sackBlocksOf(options: readonly TcpOption[]): Array<[number, number]> | undefined {
  let blocks: Array<[number, number]> | undefined;
  for (const o of options) if (o.kind === "sack") blocks = o.blocks;
  return blocks?.length ? blocks : undefined;
}

/** The part of a SACK block that is believable: between the cumulative ACK and what we sent. */
export function believable(
  t: Tcb,
  ack: number,
  [start, end]: [number, number],
): [number, number] | undefined {
  const s = seq.max(start, seq.max(ack, t.snd.una));
  const e = seq.min(end, t.snd.max);
  return seq.lt(s, e) ? [s, e] : undefined;
}

/**
 * What every cumulative ACK does to the sender, whichever recovery runs:
 * the send buffer and snd.una move, the loss probe is answered, the
 * scoreboard trimmed, an RTT sampled, backoff reset. Returns the data bytes
 * newly acknowledged and the RTT sample taken (ms), if any.
 */
export function advanceUna(
  t: Tcb,
  ack: number,
  ts: { val: number; ecr: number } | undefined,
): { dataAcked: number; rtt: number | undefined } {
  const dataAcked = Math.min(Math.max(0, seq.diff(ack, t.snd.buf.seq)), t.snd.buf.length);
  t.snd.buf.consume(dataAcked);
  t.snd.una = ack;
  if (seq.lt(t.snd.nxt, t.snd.una)) t.snd.nxt = t.snd.una;
  // The tail loss probe is answered once the ACK covers it (tcp_process_tlp_ack).
  if (t.snd.tlpHighSeq !== undefined && seq.ge(ack, t.snd.tlpHighSeq)) t.snd.tlpHighSeq = undefined;
  t.snd.scoreboard.trimBelow(ack);
  const now = t.host.clock.now();
  let rtt: number | undefined;
  // RTT: from the echoed timestamp (RFC 7323 §4.1), else from the timed segment (Karn).
  if (t.tsOk && ts && ts.ecr !== 0) {
    rtt = Math.max(0, seq.diff(t.tsVal(), ts.ecr));
    t.snd.rttProbe = undefined;
  } else if (t.snd.rttProbe && seq.ge(ack, t.snd.rttProbe.seq)) {
    rtt = now - t.snd.rttProbe.at;
    t.snd.rttProbe = undefined;
  }
  if (rtt !== undefined) t.snd.rttSample(rtt, t.profile);
  t.snd.retransmits = t.snd.backoff = 0;
  return { dataAcked, rtt };
}

/** Everything the cumulative ACK newly covers (RFC 9293 §3.10.7.4, fifth, ESTABLISHED). */
export function newAck(t: Tcb, ack: number, ts: { val: number; ecr: number } | undefined): void {
  const acked = seq.diff(ack, t.snd.una);
  const { dataAcked } = advanceUna(t, ack, ts);
  const mss = t.effMss;
  switch (t.snd.caState) {
    case CaState.RECOVERY:
      if (seq.ge(ack, t.snd.recover)) {
        // RFC 6582 §3.2 step 6 / RFC 6675 §5: recovery ends; deflate to ssthresh.
        t.snd.cwnd = t.snd.ssthresh;
        t.snd.caState = CaState.OPEN;
        t.snd.dupAcks = 0;
      } else {
        // A partial ACK: the next hole is lost too (RFC 6582 §3.2 step 5).
        recoveryOf(t).partial(t, acked);
        if (!seq.gt(t.snd.highRxt, t.snd.una)) {
          const n = t.drive.retransmit(t, t.snd.una, mss);
          t.snd.highRxt = seq.add(t.snd.una, n);
        }
        t.drive.restartRto(t);
        return;
      }
      break;
    case CaState.LOSS:
      if (seq.ge(ack, t.snd.recover)) t.snd.caState = CaState.OPEN;
      break;
    default:
      t.snd.caState = CaState.OPEN;
      t.snd.dupAcks = 0;
  }
  // A SYN or FIN alone grows nothing.
  if (dataAcked > 0 && t.snd.caState !== CaState.RECOVERY) rfc5681Grow(t, dataAcked);
  t.drive.restartRto(t);
}

/** A duplicate ACK (RFC 5681 §2, or one that SACKs new data, RFC 6675 §2). */
export function dupAck(t: Tcb): void {
  switch (t.snd.caState) {
    case CaState.RECOVERY:
      recoveryOf(t).duplicate(t);
      return;
    case CaState.LOSS:
      return;
    default:
      t.snd.dupAcks++;
      if (recoveryOf(t).starts(t)) enterRecovery(t);
      else t.snd.caState = CaState.DISORDER;
  }
}

/** Fast retransmit (RFC 5681 §3.2 steps 2–3, RFC 6675 §5 step 4). */
function enterRecovery(t: Tcb): void {
  const mss = t.effMss;
  t.snd.recover = t.snd.max;
  t.snd.ssthresh = rfcSsthresh(t);
  t.snd.caState = CaState.RECOVERY;
  t.snd.cwnd = recoveryOf(t).entryCwnd(t);
  const n = t.drive.retransmit(t, t.snd.una, mss);
  t.snd.highRxt = seq.add(t.snd.una, n);
}

/** The retransmission timer expired on data (RFC 5681 §3.1, RFC 6298 §5.4). */
export function onRetransmitTimeout(t: Tcb): void {
  const mss = t.effMss;
  // RFC 5681 §3.1: a segment already retransmitted by the timer leaves ssthresh alone.
  if (t.snd.caState !== CaState.LOSS || t.snd.retransmits <= 1) {
    t.snd.ssthresh = rfcSsthresh(t);
  }
  t.snd.cwnd = mss;
  t.snd.caState = CaState.LOSS;
  t.snd.recover = t.snd.max;
  t.snd.dupAcks = 0;
  t.snd.scoreboard.clear();
  t.snd.highRxt = t.snd.una;
  t.drive.rewind(t);
}

/** RFC 5681 eq. (4), from the flight: the RFC recovery's ssthresh. */
const rfcSsthresh = (t: Tcb): number => ssthreshAfterLoss(t.snd.flightSize, t.effMss);
