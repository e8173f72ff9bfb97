/**
 * SEGMENT ARRIVES (RFC 9293 §3.10.7.3 and §3.10.7.4) for a connection that
 * exists: SYN-SENT and the synchronized states. LISTEN and CLOSED are the
 * stack's, in `stack.ts`. The steps keep the RFC's order: timestamps (RFC
 * 7323), sequence check, RST, SYN, ACK, text, FIN.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { segmentArrives } from "./tcb_input.ts";
 * assert.equal(typeof segmentArrives, "function"); // driven end to end in tests/stack_*_test.ts
 * ```
 */
import type { DropReason, RstReason } from "../wire/stack_reasons.ts";
import { allocBytes } from "../wire/byte_pool.ts";
import { seq } from "../wire/seq.ts";
import { segmentLength, type TcpFields, TcpFlag } from "../wire/tcp.ts";
import type { Tcb } from "./tcb.ts";
import { ackData, ackFin } from "./ack_policy.ts";
import { enterTimeWait } from "./close_states.ts";
import { restartRto, rtoIn, stopPersist, TIMEOUT_MIN_MS } from "./tcb_timers.ts";

const { FIN, SYN, RST, ACK } = TcpFlag;
/** RFC 7323 §5.5: a ts.recent older than 24 days no longer guards PAWS. */
const PAWS_IDLE_MS = 24 * 24 * 3600 * 1000;

/** Processes one segment addressed to `t`. */
export function segmentArrives(t: Tcb, seg: TcpFields): void {
  t.segsIn++;
  t.lastRecv = t.host.clock.now();
  if (seg.payload.length) t.dataSegsIn++;
  const timewait = inTimewaitSock(t);
  if (t.state === "SYN_SENT") synSent(t, seg);
  else if (t.state !== "CLOSE" && t.state !== "LISTEN") synchronized(t, seg);
  // Linux has handed these to a timewait sock: what it consumes is freed as NOT_SPECIFIED
  // (TCP_TW_SUCCESS, TCP_TW_ACK), unless a reason was given first.
  if (timewait) t.host.drop("NOT_SPECIFIED");
  if (t.state !== "CLOSE") t.trySend();
}

/**
 * Whether Linux keeps this connection as a timewait sock: TIME-WAIT, and an
 * orphan's FIN-WAIT-2 whose tcp_fin_timeout fits in TCP_TIMEWAIT_LEN
 * (tcp_rcv_state_process calls tcp_time_wait for it).
 */
function inTimewaitSock(t: Tcb): boolean {
  return t.state === "TIME_WAIT" ||
    (t.state === "FIN_WAIT2" && t.orphan && t.profile.finTimeoutMs <= t.profile.timeWaitMs);
}

/**
 * A SYN for a tuple in TIME-WAIT may open a new connection when it is
 * clearly newer than the old one: a later timestamp, or without timestamps
 * a sequence number past rcv.nxt (RFC 6191 §2, Linux tcp_timewait_state_process).
 * Returns the ISN the new connection uses, snd.nxt + 65537 as Linux picks it,
 * or `undefined` when the SYN must be answered with an ACK instead.
 */
export function timeWaitReuse(t: Tcb, seg: TcpFields): number | undefined {
  const ts = tsOf(seg);
  if (t.tsOk && ts && seq.lt(ts.val, t.tsRecent)) {
    t.host.drop("TCP_RFC7323_TW_PAWS"); // tcp_timewait_state_process
    return undefined;
  }
  const newer = seq.gt(seg.seq, t.rcv.nxt) ||
    (t.tsOk && ts !== undefined && seq.gt(ts.val, t.tsRecent));
  if (!newer) return undefined;
  return seq.add(t.snd.max, 65535 + 2) || 1;
}

function tsOf(seg: TcpFields): { val: number; ecr: number } | undefined {
  for (const o of seg.options) if (o.kind === "ts") return o;
  return undefined;
}

/**
 * A reset answering `seg` from inside a connection, per RFC 9293 §3.10.7.1
 * (seg has ACK here), for `name`; the segment is dropped for the same reason
 * (Linux resets with the drop reason, `sk_rst_convert_drop_reason`).
 */
function resetFor(
  t: Tcb,
  seg: TcpFields,
  name: RstReason & DropReason,
  state: string = t.state,
): void {
  t.host.drop(name);
  t.send(RST, seg.ack, EMPTY, [], { name, state });
}

function synSent(t: Tcb, seg: TcpFields): void {
  const f = seg.flags;
  if (f & ACK) {
    if (seq.le(seg.ack, t.snd.iss) || seq.gt(seg.ack, t.snd.max)) {
      // Linux: "Previous FIN/ACK or RST/ACK might be ignored": before any retransmission,
      // try the SYN again almost at once (TCP_TIMEOUT_MIN, 2 jiffies).
      if (t.snd.retransmits === 0) rtoIn(t, TIMEOUT_MIN_MS);
      if (!(f & RST)) resetFor(t, seg, "TCP_INVALID_ACK_SEQUENCE");
      else t.host.drop("TCP_INVALID_ACK_SEQUENCE");
      return;
    }
  }
  if (f & RST) {
    // Only a reset that acknowledges our SYN counts (RFC 9293 §3.10.7.3); the profile picks the errno.
    if (f & ACK) t.abort(t.profile.synSentRst === "linux" ? "ECONNREFUSED" : "ECONNRESET");
    else t.host.drop("TCP_RESET");
    return;
  }
  if (!(f & SYN)) return t.host.drop("TCP_FLAGS");
  t.rcv.irs = seg.seq;
  t.rcv.nxt = t.rcv.advEdge = seq.add(seg.seq, 1);
  t.negotiate(seg.options, true);
  t.rcv.mss = Math.min(536, t.effMss);
  takeWindow(t, seg, true);
  if (f & ACK) {
    t.snd.una = seg.ack;
    if (t.snd.retransmits === 0 && t.snd.rttProbe) {
      t.snd.rttSample(t.host.clock.now() - t.snd.rttProbe.at, t.profile);
    }
    t.snd.rttProbe = undefined;
    t.snd.retransmits = t.snd.backoff = 0;
    restartRto(t);
    t.setState("ESTABLISHED");
    t.sendAck();
    return;
  }
  // Simultaneous open (RFC 9293 §3.5, figure 8).
  t.setState("SYN_RECV");
  t.sendSynAck();
}

/**
 * The peer's SYN again while we are in SYN-RECEIVED. Without ACK it is a
 * retransmission (our SYN-ACK was lost): Linux sends the SYN-ACK again. With
 * an ACK of our SYN it is the other half of a simultaneous open (RFC 9293
 * §3.5 figure 8), which Linux lets through as the ACK that establishes.
 */
function synRecvSyn(t: Tcb, seg: TcpFields): void {
  if (!(seg.flags & ACK)) {
    // The request sock answers and the SYN goes unremarked (NOT_SPECIFIED).
    if (t.passive) t.host.drop("NOT_SPECIFIED");
    t.send(SYN | ACK, t.snd.iss, EMPTY, t.synOptions(true));
    return;
  }
  if (t.passive || seg.ack !== t.snd.max) {
    t.sendOowAck(true);
    return;
  }
  t.snd.una = seg.ack;
  takeWindow(t, seg, true);
  t.snd.retransmits = t.snd.backoff = 0;
  restartRto(t);
  t.setState("ESTABLISHED");
  // Linux then sees the SYN's sequence number again, below rcv.nxt: a duplicate,
  // ACKed at once with a D-SACK for it (tcp_data_queue, tcp_dsack_set).
  t.host.drop("TCP_OLD_DATA");
  dsack(t, seg.seq, seq.add(seg.seq, 1));
  t.sendAck();
}

/**
 * Why a segment that fails PAWS is dropped, or undefined for a disordered
 * ACK that Linux takes anyway (`tcp_disordered_ack_check`): a pure duplicate
 * ACK at rcv.nxt that would not move the send window, whose timestamp is at
 * most 1.2 RTO (`tcp_tsval_replay`, in TS ticks of 1 ms) behind ts.recent.
 * A pure ACK below rcv.nxt is an old one: TCP_RFC7323_PAWS_ACK.
 */
function pawsDrop(t: Tcb, seg: TcpFields, tsVal: number): DropReason | undefined {
  const f = seg.flags;
  if (!t.profile.disorderedAcks) return "TCP_RFC7323_PAWS";
  if (!(f & ACK) || seg.payload.length > 0 || f & (SYN | FIN)) return "TCP_RFC7323_PAWS";
  if (seg.seq !== t.rcv.nxt) {
    return seq.lt(seg.seq, t.rcv.nxt) ? "TCP_RFC7323_PAWS_ACK" : "TCP_RFC7323_PAWS";
  }
  if (seg.ack !== t.snd.una) return "TCP_RFC7323_PAWS";
  const win = seg.window << t.snd.wscale;
  const mayUpdate = seq.gt(seg.ack, t.snd.una) || seq.gt(seg.seq, t.snd.wl1) ||
    (seg.seq === t.snd.wl1 && (win > t.snd.wnd || win === 0));
  if (mayUpdate) return "TCP_RFC7323_PAWS";
  if (seq.diff(t.tsRecent, tsVal) > (t.snd.rto * 1200) / 1000) return "TCP_RFC7323_PAWS";
  return undefined;
}

/**
 * Why Linux drops a segment that fails the sequence check (`tcp_sequence`,
 * then `tcp_data_queue`): wholly beyond the window, data wholly received
 * before, an old pure segment, or data into a closed window.
 */
function unacceptable(t: Tcb, seg: TcpFields, len: number): DropReason {
  const wnd = Math.max(0, seq.diff(t.rcv.advEdge, t.rcv.nxt));
  if (len > 0 && wnd === 0 && seg.seq === t.rcv.nxt) {
    // tcp_sequence takes a segment past the window only while nothing waits to be read.
    return t.rcv.buf.readable > 0 ? "TCP_INVALID_END_SEQUENCE" : "TCP_ZEROWINDOW";
  }
  if (seq.gt(seg.seq, t.rcv.nxt)) return "TCP_INVALID_SEQUENCE";
  if (len > 0 && seq.le(seq.add(seg.seq, len), t.rcv.nxt)) return "TCP_OLD_DATA";
  return "TCP_OLD_SEQUENCE";
}

function acceptable(t: Tcb, seg: TcpFields, segLen: number): boolean {
  const wnd = Math.max(0, seq.diff(t.rcv.advEdge, t.rcv.nxt));
  if (segLen === 0) {
    return wnd === 0 ? seg.seq === t.rcv.nxt : seq.inWindow(seg.seq, t.rcv.nxt, wnd);
  }
  if (wnd === 0) return false;
  return seq.inWindow(seg.seq, t.rcv.nxt, wnd) ||
    seq.inWindow(seq.add(seg.seq, segLen - 1), t.rcv.nxt, wnd);
}

/**
 * A segment for a synchronized connection (RFC 9293 §3.10.7.4, and
 * SYN-RECEIVED): one function per step, in the RFC's order; each step that
 * consumes the segment returns true.
 */
function synchronized(t: Tcb, seg: TcpFields): void {
  const f = seg.flags;
  const ts = tsOf(seg);
  // Linux tcp_timewait_state_process: any segment with an ACK (not a reset) restarts TIME-WAIT.
  if (t.state === "TIME_WAIT" && f & ACK && !(f & RST)) enterTimeWait(t);
  if (timestampCheck(t, seg, ts)) return;
  if (timeWaitFin(t, seg)) return;
  if (t.state === "SYN_RECV" && f & SYN && !(f & RST) && seg.seq === t.rcv.irs) {
    synRecvSyn(t, seg);
    return;
  }
  if (sequenceCheck(t, seg)) return;
  rememberTimestamp(t, seg, ts);
  if (f & RST) return resetCheck(t, seg);
  if (f & SYN) return synCheck(t);
  if (ackCheck(t, seg, ts)) return;
  segmentText(t, seg);
}

/**
 * RFC 7323 §3.2: a non-RST segment without TSopt once timestamps are on
 * SHOULD be dropped (Linux takes it; the kernel's nearest word is
 * NOT_SPECIFIED). §5.3, PAWS: an old timestamp means drop, and an ACK unless
 * it is a reset.
 */
function timestampCheck(t: Tcb, seg: TcpFields, ts: { val: number } | undefined): boolean {
  const f = seg.flags;
  if (!t.tsOk || f & RST) return false;
  if (!ts) {
    if (t.profile.acceptMissingTs) return false;
    t.host.drop("NOT_SPECIFIED");
    return true;
  }
  if (!seq.lt(ts.val, t.tsRecent) || t.host.clock.now() >= PAWS_IDLE_MS) return false;
  if (f & SYN) {
    // tcp_validate_incoming: a SYN that fails PAWS is challenged.
    t.host.drop("TCP_INVALID_SYN");
    invalidAck(t, seg);
    return true;
  }
  const why = pawsDrop(t, seg, ts.val);
  if (!why) return false;
  t.host.drop(why);
  // Old ACKs are common: Linux drops them without a word.
  if (why !== "TCP_RFC7323_PAWS_ACK") invalidAck(t, seg);
  return true;
}

/** A retransmitted FIN in TIME-WAIT: our last ACK was lost. ACK again and restart the 2MSL wait. */
function timeWaitFin(t: Tcb, seg: TcpFields): boolean {
  if (t.state !== "TIME_WAIT" || !(seg.flags & FIN)) return false;
  if (seq.add(seg.seq, seg.payload.length + 1) !== t.rcv.nxt) return false;
  t.sendAck();
  enterTimeWait(t);
  return true;
}

/** First: the sequence number. An unacceptable segment is dropped, and ACKed unless a reset. */
function sequenceCheck(t: Tcb, seg: TcpFields): boolean {
  const len = seg.payload.length;
  if (acceptable(t, seg, segmentLength(seg))) return false;
  t.host.drop(unacceptable(t, seg, len));
  if (seg.flags & RST) return true;
  // RFC 2883: data wholly below rcv.nxt is a duplicate; report it with a D-SACK.
  const end = seq.add(seg.seq, len);
  if (len > 0 && seq.le(end, t.rcv.nxt)) dsack(t, seg.seq, end);
  invalidAck(t, seg);
  return true;
}

/**
 * RFC 7323 §4.3: remember the timestamp of a segment that covers rcv.nxt
 * (never backwards: a disordered ACK Linux took keeps the newer one,
 * tcp_replace_ts_recent).
 */
function rememberTimestamp(t: Tcb, seg: TcpFields, ts: { val: number } | undefined): void {
  if (t.tsOk && ts && seq.le(seg.seq, t.rcv.nxt) && !seq.lt(ts.val, t.tsRecent)) {
    t.tsRecent = ts.val;
  }
}

/** Second: RST. RFC 5961 §3.2 resets only on an exact match; in-window otherwise gets a challenge ACK. */
function resetCheck(t: Tcb, seg: TcpFields): void {
  if (t.profile.challengeAcks && seg.seq !== t.rcv.nxt) {
    t.host.drop("TCP_RESET");
    t.sendOowAck(true);
    return;
  }
  rstArrives(t);
}

/** Fourth: a SYN in a synchronized state: a challenge ACK (RFC 5961 §4.2), or a reset without it. */
function synCheck(t: Tcb): void {
  t.host.drop("TCP_INVALID_SYN");
  if (t.profile.challengeAcks) {
    t.sendOowAck(true);
    return;
  }
  t.sendActiveReset("INVALID_SYN"); // RFC 9293 §3.10.7.4 fourth (without RFC 5961)
  t.abort("ECONNRESET");
}

/** Fifth: the ACK field. True when the segment goes no further. */
function ackCheck(t: Tcb, seg: TcpFields, ts: { val: number; ecr: number } | undefined): boolean {
  const f = seg.flags;
  if (!(f & ACK)) {
    t.host.drop("TCP_FLAGS");
    return true;
  }
  if (t.state === "SYN_RECV" && synRecvAck(t, seg)) return true;
  if (seq.gt(seg.ack, t.snd.max)) {
    t.host.drop("TCP_ACK_UNSENT_DATA");
    invalidAck(t, seg); // RFC 9293: an ACK for something not yet sent
    return true;
  }
  // RFC 5961 §5.2: an ACK older than snd.una − MAX.SND.WND is a blind injection; challenge it.
  if (seq.lt(seg.ack, seq.add(t.snd.una, -t.snd.maxWnd))) {
    t.host.drop("TCP_TOO_OLD_ACK");
    t.sendOowAck(true);
    return true;
  }
  t.probesOut = 0;
  t.drive.recovery(t).ack(t, seg, ts);
  updateWindow(t, seg);
  return finAcked(t);
}

/**
 * The ACK that completes a passive open (or a simultaneous one). True when
 * it does not: a bad ACK is reset; a full accept queue drops it.
 */
function synRecvAck(t: Tcb, seg: TcpFields): boolean {
  if (!seq.gt(seg.ack, t.snd.una) || seq.gt(seg.ack, t.snd.max)) {
    // A request sock hands a bad ACK back to its listener (tcp_check_req), which refuses it
    // as TCP_FLAGS; a simultaneous open's socket refuses it as TCP_OLD_ACK.
    if (t.passive) resetFor(t, seg, "TCP_FLAGS", "LISTEN");
    else resetFor(t, seg, "TCP_OLD_ACK");
    return true;
  }
  if (t.passive && t.host.acceptQueueFull(t)) {
    // Linux tcp_check_req with a full accept queue: drop the ACK and let the SYN-ACK timer
    // try again, or, with tcp_abort_on_overflow, the request sock resets the peer
    // (embryonic_reset: INVALID_SYN, in the listener's name).
    t.host.drop("TCP_LISTEN_OVERFLOW");
    if (t.fromCookie) {
      // A cookie's child that cannot be queued is freed: no SYN-ACK to repeat, no reset.
      t.abort(undefined);
    } else if (t.profile.abortOnOverflow) {
      t.send(RST, seg.ack, EMPTY, [], { name: "INVALID_SYN", state: "LISTEN" });
      t.abort(undefined);
    }
    return true;
  }
  takeWindow(t, seg, true);
  t.rcv.mss = Math.min(536, t.effMss);
  // Linux's SYN-ACKs go out from the request sock; the child socket's
  // tcpi_segs_out starts at 0 (its segs_in counts the SYN and this ACK).
  if (t.passive) t.segsOut = 0;
  t.setState("ESTABLISHED");
  return false;
}

/**
 * SND.WND ← SEG.WND, SND.WL1 ← SEG.SEQ, SND.WL2 ← SEG.ACK (RFC 9293
 * §3.10.7.3 and §3.10.7.4 fifth). The window of a SYN is never scaled
 * (RFC 7323 §2.2). `first`: the connection's first window, which is also
 * the largest seen so far.
 */
export function takeWindow(t: Tcb, seg: TcpFields, first: boolean): void {
  t.snd.wnd = seg.flags & SYN ? seg.window : seg.window << t.snd.wscale;
  t.snd.maxWnd = first ? t.snd.wnd : Math.max(t.snd.maxWnd, t.snd.wnd);
  t.snd.wl1 = seg.seq;
  t.snd.wl2 = seg.ack;
}

/** RFC 9293 §3.10.7.4 fifth: the window moves only with a segment newer than the last that set it. */
function updateWindow(t: Tcb, seg: TcpFields): void {
  if (!seq.le(t.snd.una, seg.ack)) return;
  if (!(seq.lt(t.snd.wl1, seg.seq) || (t.snd.wl1 === seg.seq && seq.le(t.snd.wl2, seg.ack)))) {
    return;
  }
  takeWindow(t, seg, false);
  // The window opened: stop probing it (Linux tcp_ack_probe).
  if (t.snd.persistTimer && seq.gt(seq.add(t.snd.una, t.snd.wnd), t.snd.nxt)) stopPersist(t);
}

/** What our FIN's acknowledgment does to FIN-WAIT-1, CLOSING and LAST-ACK; true once CLOSED. */
function finAcked(t: Tcb): boolean {
  if (!t.snd.finAcked) return false;
  switch (t.state) {
    case "FIN_WAIT1":
      t.setState("FIN_WAIT2");
      return false;
    case "CLOSING":
      enterTimeWait(t);
      return false;
    case "LAST_ACK":
      t.setState("CLOSE");
      return true;
    default:
      return false;
  }
}

/** Seventh: the segment's text, and its FIN (eighth). */
function segmentText(t: Tcb, seg: TcpFields): void {
  const len = seg.payload.length;
  let fin = (seg.flags & FIN) !== 0;
  if (len === 0 && !fin) return;
  const s = t.state;
  if (s !== "ESTABLISHED" && s !== "FIN_WAIT1" && s !== "FIN_WAIT2") return;
  if (t.orphan && len > 0 && seq.gt(seq.add(seg.seq, len), t.rcv.nxt)) {
    // New data for a socket the application closed: Linux resets (TCPAbortOnData), after
    // tcp_reset has set CLOSE.
    resetFor(t, seg, "TCP_ABORT_ON_DATA", "CLOSE");
    t.abort(undefined);
    return;
  }
  let start = seg.seq;
  let data = seg.payload;
  if (seq.lt(start, t.rcv.nxt)) {
    const dup = Math.min(data.length, seq.diff(t.rcv.nxt, start));
    if (dup > 0) dsack(t, start, seq.add(start, dup));
    data = data.subarray(dup);
    start = t.rcv.nxt;
  }
  const room = seq.diff(t.rcv.advEdge, start);
  if (data.length > room) {
    data = data.subarray(0, Math.max(0, room));
    fin = false; // the FIN lies beyond the window
  }
  if (len >= t.rcv.mss) t.rcv.mss = Math.min(len, t.advMss);
  if (start !== t.rcv.nxt) return outOfOrder(t, start, data, fin);
  const gap = t.rcv.buf.oooBytes > 0;
  t.rcv.nxt = t.rcv.buf.append(t.rcv.nxt, copy(data));
  if (gap) {
    const d = t.rcv.buf.drain(t.rcv.nxt);
    t.rcv.nxt = d.next;
    fin ||= d.fin;
    t.rcv.sackBlocks.advance(t.rcv.nxt);
  }
  if (fin) finArrives(t, len >= t.rcv.mss, gap);
  else if (gap) t.sendAck(); // filling a hole is ACKed at once
  else if (data.length) ackData(t, len >= t.rcv.mss);
  else if (len > 0) t.sendAck(); // all of it was a duplicate: ACK at once, with its D-SACK
}

/** Data (or a FIN) above rcv.nxt: queued, reported in SACK blocks, ACKed at once (RFC 5681 §4.2). */
function outOfOrder(t: Tcb, start: number, data: Uint8Array, fin: boolean): void {
  if (data.length || fin) {
    const end = seq.add(start, data.length);
    if (t.rcv.buf.holds(start, end)) {
      // tcp_data_queue_ofo: wholly inside a segment already queued.
      t.host.drop("TCP_OFOMERGE");
      dsack(t, start, end);
    } else t.rcv.buf.store(start, copy(data), fin);
    if (data.length) t.rcv.sackBlocks.received(start, end);
  }
  t.sendAck();
}

/** RFC 2883: the next ACK reports `[s, e)` as received twice. */
function dsack(t: Tcb, s: number, e: number): void {
  if (t.sackOk && t.profile.dsack) t.rcv.sackBlocks.duplicate(s, e);
}

/**
 * The ACK that answers an invalid segment (RFC 9293 §3.10.7.4, first). Pure
 * ACKs and SYNs can loop between two stacks, so those answers are rate
 * limited; data segments are always answered (Linux tcp_oow_rate_limited).
 */
function invalidAck(t: Tcb, seg: TcpFields): void {
  if (seg.payload.length > 0 && !(seg.flags & SYN)) t.sendAck();
  else t.sendOowAck();
}

function copy(data: Uint8Array): Uint8Array {
  if (!data.length) return EMPTY;
  const out = allocBytes(data.length);
  out.set(data);
  return out;
}

function rstArrives(t: Tcb): void {
  switch (t.state) {
    case "SYN_RECV":
      // A passive open goes quietly (the request sock frees the RST, NOT_SPECIFIED); an
      // active (simultaneous) one is refused.
      if (t.passive) t.host.drop("NOT_SPECIFIED");
      t.abort(t.passive ? undefined : "ECONNREFUSED");
      return;
    case "ESTABLISHED":
    case "FIN_WAIT1":
    case "FIN_WAIT2":
    case "CLOSE_WAIT":
      t.rcv.buf.clear();
      // Linux tcp_reset: the peer already closed its half in CLOSE-WAIT, so EPIPE.
      t.abort(t.state === "CLOSE_WAIT" ? "EPIPE" : "ECONNRESET");
      return;
    default:
      t.abort(undefined);
  }
}

/**
 * The peer's FIN, in order (RFC 9293 §3.10.7.4, eighth; Linux tcp_fin).
 * `fullSized`: it came with a full segment; `now`: it filled a hole.
 */
function finArrives(t: Tcb, fullSized: boolean, now: boolean): void {
  t.rcv.nxt = seq.add(t.rcv.nxt, 1);
  t.rcv.finReceived = true;
  switch (t.state) {
    case "SYN_RECV":
    case "ESTABLISHED":
      t.setState("CLOSE_WAIT");
      ackFin(t, fullSized, now);
      return;
    case "FIN_WAIT1":
      // A simultaneous close: ACK at once, CLOSING until our FIN is acknowledged.
      t.sendAck();
      if (t.snd.finAcked) enterTimeWait(t);
      else t.setState("CLOSING");
      return;
    case "FIN_WAIT2":
      t.sendAck();
      enterTimeWait(t);
      return;
    default:
      t.sendAck();
  }
}

const EMPTY = new Uint8Array(0);
