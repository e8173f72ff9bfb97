/**
 * Loss recovery as Linux does it (profile `recovery: "linux"`), one function
 * per kernel function, named after it:
 *
 * - an arriving ACK (`tcp_ack`): SACK tagging, the cumulative ACK, the
 *   recovery state machine (`tcp_fastretrans_alert`), then cwnd
 *   (`tcp_cong_control`) and the retransmissions (`tcp_xmit_recovery`);
 * - loss detection by RACK (RFC 8985 §6, `tcp_recovery.c`) with SACK, by
 *   NewReno's head rule without it (`tcp_newreno_mark_lost`), where each
 *   duplicate ACK counts as a segment that left (`tcp_add_reno_sack`);
 * - cwnd during recovery by Proportional Rate Reduction (RFC 6937,
 *   `tcp_cwnd_reduction`);
 * - undo of a reduction the ACKs prove spurious (RFC 3522 timestamps,
 *   RFC 2883 D-SACK: `tcp_try_undo_recovery`, `_partial`, `_dsack`), and
 *   NewReno holding recovery until data above it is acknowledged.
 *
 * cwnd and PRR are `recovery_window.ts`, undo is `undo.ts`, RACK is
 * `rack.ts`; this file is the ACK path, the state machine and timeouts.
 * Linux counts cwnd in segments; this stack keeps bytes, so cwnd is set to
 * whole segments. The kernel's µs arithmetic is done in ms.
 * `loss_recovery.ts` keeps the RFC 6582/6675 recovery for profiles that ask
 * for it (`recovery: "rfc6675"`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AckFlag } from "./ack_flag.ts";
 * import { linuxAck } from "./linux_recovery.ts";
 * assert.equal(typeof linuxAck, "function"); // driven end to end in tests/stack_sack_test.ts
 * assert.equal(AckFlag.DATA_SACKED, 0x20);
 * ```
 */
import { seq } from "../wire/seq.ts";
import { type TcpFields, TcpFlag } from "../wire/tcp.ts";
import type { TcpOption } from "../wire/tcp_options.ts";
import { AckFlag } from "./ack_flag.ts";
import { CaState } from "./ca_state.ts";
import { advanceUna, believable, sackBlocksOf } from "./congestion.ts";
import {
  anyRetransDone,
  congControl,
  control,
  currentSsthresh,
  cwndReduction,
  cwndSegs,
  cwndValidate,
  endCwndReduction,
  inFlight,
  initCwndReduction,
  sackedOut,
  setCwndSegs,
} from "./recovery_window.ts";
import type { RecoveryAlgorithm } from "./recovery_algorithm.ts";
import { flightCounters } from "./rfc_recovery.ts";
import {
  initUndo,
  tryKeepOpen,
  tryUndoDsack,
  tryUndoLoss,
  tryUndoPartial,
  tryUndoRecovery,
} from "./undo.ts";
import { markLost, rackAdvance, rackDetectLoss } from "./rack.ts";
import { SegMark } from "./rtx_queue.ts";
import type { Tcb } from "./tcb.ts";

const {
  NOT_DUP_SEGMENT,
  DATA_ACKED,
  DATA_SACKED,
  LOST_RETRANS,
  ORIG_SACK_ACKED,
  SND_UNA_ADVANCED,
  DSACKING_ACK,
} = AckFlag;
/** What the ACK asks to be sent: nothing, the lost segments, or new data (F-RTO). */
const Rexmit = Object.freeze({ NONE: 0, LOST: 1, NEW: 2 });
type Rexmit = typeof Rexmit[keyof typeof Rexmit];
const NOT_DUP = NOT_DUP_SEGMENT | DATA_ACKED;
const CA_ALERT = DATA_SACKED | DSACKING_ACK;
/** TCP_TIMEOUT_MIN_US: 2 ms. */
const TIMEOUT_MIN_MS = 2;

// --- The ACK ------------------------------------------------------------------------

/**
 * An acceptable ACK (`tcp_ack` from the SACK tagging to the retransmissions).
 * `notDup`: the segment carried data or a FIN, or changed the window, so it
 * is no duplicate ACK.
 */
export function linuxAck(
  t: Tcb,
  ack: number,
  options: readonly TcpOption[],
  ts: { val: number; ecr: number } | undefined,
  notDup: boolean,
): void {
  const r = t.snd.recovery;
  const priorPackets = r.queue.packetsOut;
  const priorDelivered = r.delivered, priorLost = r.lost;
  let flag = notDup ? NOT_DUP_SEGMENT : 0;
  r.ackEcr = ts?.ecr;
  const sackRtt = t.sackOk ? sacktag(t, ack, options) : undefined;
  if (sackRtt) flag |= sackRtt.flag;
  if (seq.gt(ack, t.snd.una)) flag |= cleanRtxQueue(t, ack, ts);
  else if (sackRtt?.rtt !== undefined) t.snd.rttSample(sackRtt.rtt, t.profile); // tcp_ack_update_rtt's sack_rtt_us
  if (!priorPackets) return; // nothing was outstanding: no recovery to drive
  let rexmit: Rexmit = Rexmit.NONE;
  if (!(flag & NOT_DUP) || flag & CA_ALERT || t.snd.caState !== CaState.OPEN) {
    const dupack = flag & (SND_UNA_ADVANCED | NOT_DUP | DSACKING_ACK) ? 0 : 1;
    rexmit = fastretransAlert(t, dupack, flag);
  }
  congControl(t, r.delivered - priorDelivered, r.lost - priorLost, flag);
  xmitRecovery(t, rexmit);
}

/** tcp_xmit_recovery: F-RTO's new data first, else (or then) the lost segments. */
function xmitRecovery(t: Tcb, rexmit: Rexmit): void {
  if (rexmit === Rexmit.NONE) return;
  if (rexmit === Rexmit.NEW) {
    t.drive.trySend(t);
    if (seq.gt(t.snd.max, t.snd.recovery.highSeq)) return;
    t.snd.recovery.frto = false;
  }
  xmitRetransmitQueue(t);
}

/**
 * The SACK blocks of an ACK (tcp_sacktag_write_queue); returns FLAG bits,
 * and the RTT of the earliest-sent segment newly SACKed that was never
 * retransmitted (sack_rtt_us).
 */
function sacktag(
  t: Tcb,
  ack: number,
  options: readonly TcpOption[],
): { flag: number; rtt: number | undefined } | undefined {
  const blocks = sackBlocksOf(options);
  if (!blocks) return undefined;
  let firstSent = Infinity;
  const r = t.snd.recovery;
  let flag = 0, first = 0;
  const [s0, e0] = blocks[0];
  // RFC 2883 §4 (tcp_check_dsack): a first block starting below the ACK, or inside the second.
  if (
    seq.lt(s0, ack) ||
    (blocks.length > 1 && !seq.gt(e0, blocks[1][1]) && !seq.lt(s0, blocks[1][0]))
  ) {
    first = 1;
    flag |= checkDsack(t, s0, e0);
  }
  const now = t.host.clock.now();
  const highest = highestSacked(t);
  for (let i = first; i < blocks.length; i++) {
    const b = believable(t, ack, blocks[i]);
    if (!b) continue;
    const [s, e] = b;
    t.snd.scoreboard.add(s, e);
    for (const was of r.queue.sack(s, e)) {
      flag |= DATA_SACKED;
      r.delivered++;
      // tcp_sacktag_one: a never-retransmitted segment SACKed below one SACKed before was reordered.
      if (!(was.marks & (SegMark.RETRANS | SegMark.EVER_RETRANS))) {
        if (seq.lt(was.end, highest)) r.reordSeen = true;
        if (!seq.gt(was.end, r.highSeq)) flag |= ORIG_SACK_ACKED;
        firstSent = Math.min(firstSent, was.sentAt);
      }
      rackAdvance(t, was, now);
    }
  }
  return { flag, rtt: firstSent === Infinity ? undefined : now - firstSent };
}

/** The end of the highest SACKed segment, or snd.una. */
function highestSacked(t: Tcb): number {
  const sb = t.snd.scoreboard;
  return sb.count ? sb.end(sb.count - 1) : t.snd.una;
}

/**
 * tcp_dsack_seen and tcp_check_dsack: a D-SACK reports a duplicate, which
 * counts as delivered, unless more duplicates were reported than segments
 * retransmitted (then it is dubious and ignored). One for data
 * retransmitted in this episode says the retransmission was not needed;
 * when every one is so reported, the reduction is undone (tcp_try_undo_dsack).
 * Returns DSACKING_ACK, or 0 for a dubious one.
 */
function checkDsack(t: Tcb, start: number, end: number): number {
  const r = t.snd.recovery, mss = Math.max(1, t.effMss);
  const len = seq.diff(end, start);
  if (len <= 0 || len > t.snd.maxWnd) return 0;
  const dups = len > mss ? Math.ceil(len / mss) : 1;
  r.dsackDups += dups;
  if (r.dsackDups > t.snd.totalRetrans) return 0;
  r.delivered += dups;
  if (r.undoMarker !== undefined && r.undoRetrans > 0 && seq.gt(end, r.undoMarker)) {
    r.undoRetrans = Math.max(0, r.undoRetrans - dups);
  }
  return DSACKING_ACK;
}

/** The cumulative ACK (tcp_clean_rtx_queue); returns FLAG bits. */
function cleanRtxQueue(t: Tcb, ack: number, ts: { val: number; ecr: number } | undefined): number {
  const r = t.snd.recovery;
  const now = t.host.clock.now();
  let flag = SND_UNA_ADVANCED, pkts = 0;
  for (const was of r.queue.acked(ack)) {
    pkts++;
    const orig = !(was.marks & (SegMark.SACKED | SegMark.RETRANS | SegMark.EVER_RETRANS));
    if (orig && !seq.gt(was.end, r.highSeq)) flag |= ORIG_SACK_ACKED;
    if (was.marks & SegMark.SACKED || !t.sackOk) continue;
    r.delivered++;
    rackAdvance(t, was, now);
  }
  if (pkts) flag |= DATA_ACKED;
  if (!t.sackOk) removeRenoSacks(t, pkts);
  const { rtt } = advanceUna(t, ack, ts);
  if (rtt !== undefined && flag & DATA_ACKED) control(t).acked?.(t, rtt * 1000);
  t.drive.restartRto(t);
  return flag;
}

// --- The state machine (tcp_fastretrans_alert) -------------------------------------

/** What to send once the ACK is processed (tcp_fastretrans_alert's *rexmit). */
function fastretransAlert(t: Tcb, dupack: number, flag: number): Rexmit {
  const r = t.snd.recovery;
  // D. Exit conditions: recovery ends once high_seq is acknowledged.
  if (t.snd.caState === CaState.OPEN) r.retransStamp = undefined;
  else if (t.snd.caState === CaState.RECOVERY && !seq.lt(t.snd.una, r.highSeq)) {
    if (!t.sackOk) r.renoSacked = 0;
    if (tryUndoRecovery(t)) return Rexmit.NONE;
    endCwndReduction(t);
  }
  // E. Process the state.
  let rexmit: Rexmit = Rexmit.NONE;
  switch (t.snd.caState) {
    case CaState.RECOVERY:
      if (!(flag & SND_UNA_ADVANCED)) {
        if (!t.sackOk) addRenoSack(t, dupack);
      } else if (tryUndoPartial(t)) return Rexmit.NONE;
      if (tryUndoDsack(t)) tryToOpen(t);
      identifyPacketLoss(t, flag);
      if (t.snd.caState !== CaState.RECOVERY) {
        if (!timeToRecover(t)) return Rexmit.NONE;
        enterRecovery(t);
      }
      return Rexmit.LOST;
    case CaState.LOSS:
      rexmit = processLoss(t, flag, dupack);
      // Unless cwnd was undone or retransmissions were lost, the timeout's recovery goes on.
      if (!(identifyPacketLoss(t, flag) & LOST_RETRANS) && stateOf(t) !== CaState.OPEN) {
        return rexmit;
      }
  }
  if (!t.sackOk) {
    if (flag & SND_UNA_ADVANCED) r.renoSacked = 0;
    addRenoSack(t, dupack);
  }
  if (t.snd.caState <= CaState.DISORDER) tryUndoDsack(t);
  identifyPacketLoss(t, flag);
  if (!timeToRecover(t)) {
    tryToOpen(t);
    return rexmit;
  }
  enterRecovery(t);
  return Rexmit.LOST;
}

// --- Timeouts (tcp_enter_loss, tcp_process_loss, RFC 5682 F-RTO) --------------------

/**
 * tcp_enter_loss, on a retransmission timeout: ssthresh from congestion
 * control (once per episode), undo armed, everything outstanding lost but
 * the SACKed and the just sent, cwnd one more than what is still in flight,
 * and the head retransmitted (tcp_retransmit_timer).
 */
export function enterLoss(t: Tcb): void {
  const r = t.snd.recovery;
  const newRecovery = t.snd.caState < CaState.RECOVERY;
  // t.snd.retransmits already counts this timeout: Linux increments icsk_retransmits after.
  const first = t.snd.retransmits - 1 === 0;
  if (
    t.snd.caState <= CaState.DISORDER || !seq.gt(r.highSeq, t.snd.una) ||
    (t.snd.caState === CaState.LOSS && first)
  ) {
    r.priorSsthresh = currentSsthresh(t);
    r.priorCwnd = cwndSegs(t);
    t.snd.ssthresh = control(t).ssthresh(t);
    initUndo(t);
  }
  timeoutMarkLost(t);
  setCwndSegs(t, inFlight(t) + 1);
  if (t.snd.caState !== CaState.LOSS) control(t).onLoss?.(t);
  t.snd.caState = CaState.LOSS;
  r.highSeq = t.snd.recover = t.snd.max;
  t.snd.tlpHighSeq = undefined;
  r.frto = newRecovery || !first;
  t.host.clock.cancel(r.reoTimer);
  r.reoTimer = undefined;
  if (r.queue.packetsOut) {
    const head = r.queue.at(0);
    t.drive.retransmit(t, head.start, seq.diff(head.end, head.start));
  }
}

/**
 * tcp_timeout_mark_lost: a SACKed head means the receiver reneged, so its
 * SACKs are forgotten; otherwise what is SACKed stays, and segments sent
 * within RACK's RTT are not yet called lost.
 */
function timeoutMarkLost(t: Tcb): void {
  const r = t.snd.recovery, q = r.queue;
  if (!q.packetsOut) return;
  const reneged = (q.at(0).marks & SegMark.SACKED) !== 0;
  if (reneged) {
    q.forgetSacks();
    t.snd.scoreboard.clear();
  } else if (!t.sackOk) r.renoSacked = 0;
  const now = t.host.clock.now();
  for (let i = 0; i < q.packetsOut; i++) {
    const s = q.at(i);
    if (!reneged && i > 0 && r.rack.rtt - (now - s.sentAt) > 0) continue;
    markLost(t, s);
  }
}

/**
 * tcp_process_loss: an ACK after a timeout. It may prove the timeout
 * spurious (Eifel, or F-RTO when never-retransmitted data is acknowledged);
 * F-RTO first sends new data to see; otherwise lost segments go again.
 */
function processLoss(t: Tcb, flag: number, dupack: number): Rexmit {
  const r = t.snd.recovery;
  const recovered = !seq.lt(t.snd.una, r.highSeq);
  if (flag & SND_UNA_ADVANCED && tryUndoLoss(t, false)) return Rexmit.NONE;
  if (r.frto) {
    // RFC 5682 §3.1 step 3.b: never-retransmitted data arrived, so not everything was lost.
    if (flag & ORIG_SACK_ACKED && tryUndoLoss(t, true)) return Rexmit.NONE;
    if (seq.gt(t.snd.max, r.highSeq)) {
      if (flag & DATA_SACKED || dupack) r.frto = false; // step 3.a: the loss was real
    } else if (flag & SND_UNA_ADVANCED && !recovered) {
      r.highSeq = t.snd.max;
      // Step 2.b: send new data, if there is any and the window takes it.
      if (unsentData(t) && seq.gt(seq.add(t.snd.una, t.snd.wnd), t.snd.max)) return Rexmit.NEW;
      r.frto = false;
    }
  }
  if (recovered) {
    tryUndoRecovery(t);
    return Rexmit.NONE;
  }
  if (!t.sackOk) {
    if (seq.gt(t.snd.max, r.highSeq) && dupack) addRenoSack(t, dupack);
    else if (flag & SND_UNA_ADVANCED) r.renoSacked = 0;
  }
  return Rexmit.LOST;
}

/** Whether data (or a FIN) waits that was never sent. */
function unsentData(t: Tcb): boolean {
  const dataEnd = seq.add(t.snd.buf.seq, t.snd.buf.length);
  return seq.gt(dataEnd, t.snd.max) || (t.snd.finQueued && t.snd.finSeq === undefined);
}

/** The state, read afresh where a call may have changed it. */
const stateOf = (t: Tcb): number => t.snd.caState;

/** tcp_time_to_recover with RACK on: only a segment marked lost starts recovery. */
function timeToRecover(t: Tcb): boolean {
  return t.snd.recovery.queue.lostOut > 0;
}

/** tcp_identify_packet_loss; returns LOST_RETRANS when a retransmission was lost again. */
function identifyPacketLoss(t: Tcb, flag: number): number {
  const q = t.snd.recovery.queue;
  if (!q.packetsOut) return 0;
  if (!t.sackOk) {
    newrenoMarkLost(t, (flag & SND_UNA_ADVANCED) !== 0);
    return 0;
  }
  const priorRetrans = q.retransOut;
  rackMarkLost(t);
  return q.retransOut < priorRetrans ? LOST_RETRANS : 0;
}

/**
 * tcp_newreno_mark_lost: without SACK, the head is lost once as many
 * duplicate ACKs came as the reordering degree, and in recovery at each
 * partial ACK.
 */
function newrenoMarkLost(t: Tcb, unaAdvanced: boolean): void {
  const r = t.snd.recovery;
  const recovering = t.snd.caState === CaState.RECOVERY;
  if ((!recovering && r.renoSacked >= t.profile.dupThresh) || (recovering && unaAdvanced)) {
    const head = r.queue.at(0);
    if (!(head.marks & SegMark.LOST)) markLost(t, head);
  }
}

/** tcp_enter_recovery: ssthresh from congestion control, PRR starts, undo is armed. */
function enterRecovery(t: Tcb): void {
  const r = t.snd.recovery;
  r.priorSsthresh = 0;
  initUndo(t);
  if (t.snd.caState !== CaState.RECOVERY) {
    r.priorSsthresh = currentSsthresh(t);
    initCwndReduction(t);
  }
  t.snd.caState = CaState.RECOVERY;
  t.snd.recover = t.snd.max;
}

/** tcp_try_to_open. */
function tryToOpen(t: Tcb): void {
  if (!anyRetransDone(t)) t.snd.recovery.retransStamp = undefined;
  tryKeepOpen(t);
}

// --- Undo (RFC 3522, RFC 2883) -------------------------------------------------------

// --- Reno's duplicate-ACK count -------------------------------------------------------

/** tcp_add_reno_sack: each duplicate ACK stands for a segment that left the network. */
function addRenoSack(t: Tcb, dupacks: number): void {
  if (!dupacks) return;
  const r = t.snd.recovery;
  const prior = r.renoSacked;
  r.renoSacked += dupacks;
  // tcp_limit_reno_sacked: leave room for the holes.
  const holes = Math.min(Math.max(r.queue.lostOut, 1), r.queue.packetsOut);
  if (r.renoSacked + holes > r.queue.packetsOut) r.renoSacked = r.queue.packetsOut - holes;
  if (r.renoSacked > prior) r.delivered += r.renoSacked - prior;
}

/** tcp_remove_reno_sacks: one acknowledged segment filled the hole; the rest ate duplicates. */
function removeRenoSacks(t: Tcb, acked: number): void {
  if (acked <= 0) return;
  const r = t.snd.recovery;
  r.delivered += Math.max(acked - r.renoSacked, 1);
  r.renoSacked = acked - 1 >= r.renoSacked ? 0 : r.renoSacked - (acked - 1);
}

/** tcp_rack_mark_lost: check for losses when RACK advanced; arm the reordering timer if one may be due. */
function rackMarkLost(t: Tcb): void {
  const r = t.snd.recovery;
  if (!r.rack.advanced) return;
  r.rack.advanced = false;
  const wait = rackDetectLoss(t);
  if (wait > 0) {
    // usecs_to_jiffies(timeout + TCP_TIMEOUT_MIN_US), whole jiffies.
    const j = t.profile.jiffyMs;
    armReoTimer(t, Math.ceil((wait + TIMEOUT_MIN_MS) / j) * j);
  }
}

function armReoTimer(t: Tcb, ms: number): void {
  const r = t.snd.recovery, c = t.host.clock;
  c.cancel(r.reoTimer);
  r.reoTimer = c.setTimer(c.now() + ms, () => {
    r.reoTimer = undefined;
    if (t.state !== "CLOSE") rackReoTimeout(t);
  });
}

/** tcp_rack_reo_timeout: losses now due start recovery and are retransmitted. */
function rackReoTimeout(t: Tcb): void {
  const r = t.snd.recovery;
  const priorInFlight = inFlight(t), priorLost = r.lost;
  rackDetectLoss(t);
  if (priorInFlight === inFlight(t)) return;
  if (t.snd.caState !== CaState.RECOVERY && t.snd.caState !== CaState.LOSS) {
    enterRecovery(t);
    cwndReduction(t, 1, r.lost - priorLost, 0);
  }
  xmitRetransmitQueue(t);
}

// --- cwnd and sending --------------------------------------------------------------------

/**
 * tcp_xmit_retransmit_queue: lost segments, lowest first, while cwnd
 * leaves room and some lost segment is not yet retransmitted.
 */
export function xmitRetransmitQueue(t: Tcb): void {
  const q = t.snd.recovery.queue;
  for (let i = 0; i < q.packetsOut; i++) {
    if (cwndSegs(t) - inFlight(t) <= 0 || q.retransOut >= q.lostOut) return;
    const s = q.at(i);
    if (!(s.marks & SegMark.LOST) || s.marks & (SegMark.SACKED | SegMark.RETRANS)) continue;
    if (t.drive.retransmit(t, s.start, seq.diff(s.end, s.start)) === 0) return;
  }
}

/**
 * Records a segment as it goes out (called for every data or FIN segment):
 * new ones join the queue, retransmissions mark what they cover, start the
 * Eifel clock and count toward D-SACK undo; in recovery each counts for PRR.
 */
export function segmentSent(t: Tcb, start: number, end: number): void {
  const r = t.snd.recovery, q = r.queue;
  const now = t.host.clock.now();
  const top = q.end ?? start;
  if (seq.lt(start, top)) {
    // A loss probe goes out through __tcp_retransmit_skb: marked ever retransmitted, nothing more.
    const added = q.retransmitted(start, seq.min(end, top), now, r.probing);
    if (!r.probing) {
      r.retransStamp ??= t.tsVal();
      r.undoRetrans = Math.max(r.undoRetrans, 0) + added;
    }
  }
  if (seq.gt(end, top)) q.sent(seq.max(start, top), end, now);
  if (t.snd.caState === CaState.RECOVERY) r.prrOut++;
}

/** Linux's loss recovery, behind the port (`recovery_algorithm.ts`). */
export const LINUX_RECOVERY: RecoveryAlgorithm<Tcb> = Object.freeze({
  name: "linux" as const,
  ack(t: Tcb, seg: TcpFields, ts: { val: number; ecr: number } | undefined): void {
    // tcp_ack's FLAG_NOT_DUP: data, a SYN or FIN, or a window update is no duplicate ACK.
    const notDup = seg.payload.length > 0 || (seg.flags & (TcpFlag.SYN | TcpFlag.FIN)) !== 0 ||
      seg.window << t.snd.wscale !== t.snd.wnd;
    linuxAck(t, seg.ack, seg.options, ts, notDup);
  },
  // tcp_cwnd_test: cwnd less tcp_packets_in_flight, in segments.
  cwndRoom: (t: Tcb) => t.snd.cwnd - inFlight(t) * t.effMss,
  // Retransmissions go out from the ACK path (tcp_xmit_recovery), not before new data.
  beforeSend: () => {},
  afterSend(t: Tcb, sentNew: boolean, cwndLimited: boolean): void {
    if (sentNew || cwndLimited) cwndValidate(t, cwndLimited);
  },
  segmentSent,
  timeout: enterLoss,
  counters(t: Tcb) {
    // The queue holds data and FINs, not the SYN: before it is established the flight says.
    if (t.state === "SYN_SENT" || t.state === "SYN_RECV") return flightCounters(t);
    const q = t.snd.recovery.queue;
    return { unacked: q.packetsOut, sacked: sackedOut(t), lost: q.lostOut, retrans: q.retransOut };
  },
});
