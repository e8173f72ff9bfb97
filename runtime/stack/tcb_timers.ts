/**
 * A connection's sender timers: retransmission (RFC 6298) with the tail
 * loss probe (RFC 8985 §7), persist (RFC 9293 §3.8.6.1) and keepalive
 * (RFC 1122 §4.2.3.6). Each keeps Linux's timing where Linux and the RFCs
 * allow a choice, and each is one clock timer at most. The delayed ACK is
 * the receiver's (`ack_policy.ts`); TIME-WAIT and FIN-WAIT-2 belong to the
 * close (`close_states.ts`).
 *
 * The retransmission timer re-arms lazily: an ACK moves `rtoAt`, and a timer
 * that fires early just sets itself again. That keeps one timer per
 * connection instead of one per ACK.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { armRto } from "./tcb_timers.ts";
 * assert.equal(typeof armRto, "function"); // driven end to end in tests/stack_*_test.ts
 * ```
 */
import { seq } from "../wire/seq.ts";
import { TcpFlag } from "../wire/tcp.ts";
import { CaState } from "./ca_state.ts";
import type { Tcb } from "./tcb.ts";

const { SYN, ACK } = TcpFlag;

/** Cancels every timer of a connection that reached CLOSED. */
export function cancelAll(t: Tcb): void {
  const c = t.host.clock;
  c.cancel(t.snd.rtoTimer);
  c.cancel(t.rcv.ackTimer);
  c.cancel(t.otherTimer);
  c.cancel(t.snd.persistTimer);
  c.cancel(t.keepaliveTimer);
  t.snd.rtoTimer =
    t.rcv.ackTimer =
    t.otherTimer =
    t.snd.persistTimer =
    t.keepaliveTimer =
      undefined;
}

// --- Retransmission (RFC 6298) ------------------------------------------------------

function outstanding(t: Tcb): boolean {
  return t.snd.max !== t.snd.una;
}

function schedule(t: Tcb): void {
  const c = t.host.clock;
  t.snd.rtoTimer = c.setTimer(t.snd.rtoAt, () => {
    t.snd.rtoTimer = undefined;
    if (!outstanding(t) || t.state === "CLOSE") return;
    if (c.now() < t.snd.rtoAt) schedule(t);
    else fire(t);
  });
}

/** Starts the timer if data is outstanding and it is not running (RFC 6298 §5.1). */
export function armRto(t: Tcb): void {
  if (t.snd.rtoTimer || !outstanding(t)) return;
  t.snd.rtoStart = t.host.clock.now();
  t.snd.rtoAt = t.snd.rtoStart + t.snd.rto;
  t.snd.probeTimer = false;
  schedule(t);
}

/** Linux TCP_TIMEOUT_MIN: 2 jiffies, 2 ms at HZ=1000. */
export const TIMEOUT_MIN_MS = 2;

/**
 * Arms a tail loss probe in place of the RTO when one applies (RFC 8985
 * §7.2, Linux tcp_schedule_loss_probe): SACK on, data in flight, no loss
 * being recovered. The probe is due 2·SRTT after now, plus 200 ms (a delayed
 * ACK's worth) when one segment is in flight or 2 ms when more are, and never
 * after the RTO would fire. `advancingRto`: an ACK is restarting the RTO.
 */
export function scheduleLossProbe(t: Tcb, advancingRto: boolean): boolean {
  const p = t.profile;
  if (!p.tlp || !t.sackOk || !outstanding(t) || t.snd.caState !== CaState.OPEN) return false;
  if (t.state === "SYN_SENT" || t.state === "SYN_RECV") return false;
  const c = t.host.clock;
  const now = c.now();
  const segments = packetsOut(t);
  let timeout = t.snd.rttSeen
    ? 2 * t.snd.srtt + (segments <= 1 ? p.rtoMinMs : TIMEOUT_MIN_MS)
    : p.rtoInitMs;
  const rtoDelta = advancingRto ? t.snd.rto : t.snd.rtoStart + t.snd.rto - now;
  if (rtoDelta > 0) timeout = Math.min(timeout, rtoDelta);
  if (advancingRto) t.snd.rtoStart = now;
  t.snd.probeTimer = true;
  moveTimer(t, now + timeout);
  return true;
}

/** Re-arms the retransmission timer to fire `ms` from now (Linux inet_csk_reset_xmit_timer). */
export function rtoIn(t: Tcb, ms: number): void {
  moveTimer(t, t.host.clock.now() + ms);
}

/**
 * Moves the retransmission timer's deadline to `at`, lazily: a timer already
 * due no later is kept and, when it fires early, schedules itself again, so
 * an ACK or a send costs no timer of its own (the clock's heap stays small).
 */
function moveTimer(t: Tcb, at: number): void {
  t.snd.rtoAt = at;
  if (t.snd.rtoTimer && !t.snd.rtoTimer.cancelled && t.snd.rtoTimer.at <= at) return;
  t.host.clock.cancel(t.snd.rtoTimer);
  schedule(t);
}

/** Restarts the timer after new data is acknowledged (§5.3), or stops it when all is (§5.2). */
export function restartRto(t: Tcb): void {
  const c = t.host.clock;
  if (!outstanding(t)) {
    c.cancel(t.snd.rtoTimer);
    t.snd.rtoTimer = undefined;
    t.snd.probeTimer = false;
    return;
  }
  // Linux tcp_set_xmit_timer: a loss probe if one applies, else the RTO.
  if (scheduleLossProbe(t, true)) return;
  t.snd.probeTimer = false;
  t.snd.rtoStart = c.now();
  moveTimer(t, t.snd.rtoStart + t.snd.rto);
}

function fire(t: Tcb): void {
  if (t.snd.probeTimer) {
    lossProbe(t);
    return;
  }
  const p = t.profile;
  // Linux counts the linear SYN timeouts on top of tcp_syn_retries (tcp_write_timeout).
  const limit = t.state === "SYN_SENT"
    ? p.synRetries + p.synLinearTimeouts
    : t.state === "SYN_RECV"
    ? p.synAckRetries
    : p.dataRetries;
  if (t.snd.retransmits >= limit) {
    // Linux gives up without a reset; an embryonic passive connection just vanishes.
    t.abort(t.state === "SYN_RECV" && t.passive ? undefined : t.softError ?? "ETIMEDOUT");
    return;
  }
  t.snd.retransmits++;
  t.snd.rttProbe = undefined;
  t.snd.tlpHighSeq = undefined;
  if (t.state === "SYN_SENT" && t.snd.retransmits <= p.synLinearTimeouts) {
    // Linux tcp_syn_linear_timeouts: the first SYN retransmissions keep a 1 s timeout.
    t.snd.backoff = 0;
  } else {
    t.snd.backoff++;
    // RFC 6298 §5.5: back off the timer; §5.7 cap by the profile's maximum.
    t.snd.rto = Math.min(t.snd.rto * 2, p.rtoMaxMs);
  }
  if (t.state === "SYN_SENT") {
    t.snd.totalRetrans++;
    t.send(SYN, t.snd.iss, EMPTY, t.synOptions(false));
  } else if (t.state === "SYN_RECV") {
    t.snd.totalRetrans++;
    t.send(SYN | ACK, t.snd.iss, EMPTY, t.synOptions(true));
  } else {
    t.drive.recovery(t).timeout(t);
    t.drive.trySend(t);
  }
  armRto(t);
}

/** Segments in flight as Linux counts them (packets_out): a FIN sent alone is one more. */
function packetsOut(t: Tcb): number {
  const finOut = t.snd.finSeq !== undefined && seq.gt(t.snd.max, t.snd.finSeq);
  const data = t.snd.flightSize - (finOut ? 1 : 0);
  return Math.ceil(data / Math.max(1, t.effMss)) + (finOut && t.finAlone ? 1 : 0);
}

/**
 * The probe itself (RFC 8985 §7.3, Linux tcp_send_loss_probe): one new
 * segment if the window allows, else the last segment sent again; then the
 * RTO, from now. One probe at a time: while one is unanswered the timer
 * just becomes the RTO.
 */
function lossProbe(t: Tcb): void {
  t.snd.probeTimer = false;
  if (t.state === "CLOSE" || !outstanding(t)) return;
  const c = t.host.clock;
  // Duplicate ACKs since have started loss recovery: Linux's ACK processing would
  // have put the RTO back in the probe's place.
  if (t.snd.tlpHighSeq === undefined && t.snd.caState === CaState.OPEN) {
    if (!t.drive.sendNewSegment(t)) {
      // The last segment sent: a FIN that went alone, else the last data segment's worth.
      const mss = t.effMss;
      const finOut = t.snd.finSeq !== undefined && seq.gt(t.snd.max, t.snd.finSeq);
      const dataEnd = seq.min(seq.add(t.snd.buf.seq, t.snd.buf.length), t.snd.max);
      const dataOut = Math.max(0, seq.diff(dataEnd, t.snd.una));
      const tail = finOut && t.finAlone ? 0 : dataOut % mss || Math.min(mss, dataOut);
      t.snd.recovery.probing = true;
      t.drive.retransmit(t, seq.add(dataEnd, -tail), mss);
      t.snd.recovery.probing = false;
    }
    t.snd.tlpHighSeq = t.snd.max;
    t.snd.rtoStart = c.now();
  }
  moveTimer(t, Math.max(c.now(), t.snd.rtoStart + t.snd.rto));
}

// --- Persist (RFC 9293 §3.8.6.1) ------------------------------------------------------

/**
 * Starts probing a zero window: the first probe after one RTO, then with
 * the RTO doubled each time (Linux tcp_probe0_when), capped at the maximum.
 */
export function armPersist(t: Tcb): void {
  if (t.snd.persistTimer || t.snd.rtoTimer) return;
  const c = t.host.clock;
  const base = Math.max(t.snd.rto, t.profile.rtoMinMs);
  const when = Math.min(base * 2 ** t.snd.backoff, t.profile.rtoMaxMs);
  t.snd.persistTimer = c.setTimer(c.now() + when, () => {
    t.snd.persistTimer = undefined;
    onPersist(t);
  });
}

/** The window opened or data went out: stop probing. */
export function stopPersist(t: Tcb): void {
  if (!t.snd.persistTimer) return;
  t.host.clock.cancel(t.snd.persistTimer);
  t.snd.persistTimer = undefined;
  t.snd.backoff = 0;
  t.probesOut = 0;
}

function onPersist(t: Tcb): void {
  if (t.state === "CLOSE" || outstanding(t)) return;
  const pending = t.snd.buf.length > 0 || (t.snd.finQueued && t.snd.finSeq === undefined);
  if (!pending) {
    t.snd.backoff = t.probesOut = 0;
    return;
  }
  // Linux tcp_probe_timer: unanswered probes count toward tcp_retries2.
  if (t.probesOut >= t.profile.dataRetries) {
    t.abort(t.softError ?? "ETIMEDOUT");
    return;
  }
  if (probe(t)) return;
  t.probesOut++;
  if (t.snd.backoff < t.profile.dataRetries) t.snd.backoff++;
  armPersist(t);
}

/**
 * Sends a probe (Linux tcp_write_wakeup). When it carried new data, the
 * retransmission timer takes over (tcp_send_probe0) and this returns true.
 */
function probe(t: Tcb): boolean {
  t.drive.sendProbe(t);
  if (!outstanding(t)) return false;
  t.snd.backoff = t.probesOut = 0;
  return true;
}

// --- Keepalive (RFC 1122 §4.2.3.6) ----------------------------------------------------

const idleOf = (t: Tcb) => t.opts.keepIdleMs ?? t.profile.keepaliveTimeMs;
const intvlOf = (t: Tcb) => t.opts.keepIntvlMs ?? t.profile.keepaliveIntvlMs;
const cntOf = (t: Tcb) => t.opts.keepCnt ?? t.profile.keepaliveProbes;

/** (Re)starts the keepalive timer one idle period from now, if SO_KEEPALIVE is on. */
export function armKeepalive(t: Tcb): void {
  const c = t.host.clock;
  c.cancel(t.keepaliveTimer);
  t.keepaliveTimer = undefined;
  if (!t.opts.keepalive || t.state === "CLOSE" || t.state === "SYN_SENT") return;
  keepaliveAt(t, c.now() + idleOf(t));
}

function keepaliveAt(t: Tcb, at: number): void {
  t.keepaliveTimer = t.host.clock.setTimer(at, () => {
    t.keepaliveTimer = undefined;
    onKeepalive(t);
  });
}

/** Linux tcp_keepalive_timer: probe after `idle` of silence, every `intvl`, reset after `cnt`. */
function onKeepalive(t: Tcb): void {
  const s = t.state;
  if (!t.opts.keepalive || s === "CLOSE" || s === "SYN_SENT" || s === "TIME_WAIT") return;
  const now = t.host.clock.now();
  // A connection with data in flight is alive by the retransmission timer's account.
  if (outstanding(t) || t.snd.buf.length > 0) {
    keepaliveAt(t, now + idleOf(t));
    return;
  }
  const elapsed = now - t.lastRecv;
  if (elapsed < idleOf(t)) {
    keepaliveAt(t, t.lastRecv + idleOf(t));
    return;
  }
  if (t.probesOut >= cntOf(t)) {
    t.sendActiveReset("TCP_KEEPALIVE_TIMEOUT");
    t.abort(t.softError ?? "ETIMEDOUT");
    return;
  }
  if (probe(t)) return;
  t.probesOut++;
  keepaliveAt(t, now + intvlOf(t));
}

const EMPTY = new Uint8Array(0);
