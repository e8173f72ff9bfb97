/**
 * The sending side of a connection: which bytes go out next, under the
 * receiver's window, the congestion window, Nagle and cork, and during loss
 * recovery which holes are retransmitted first (RFC 6675 §4 NextSeg()).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { trySend } from "./tcb_output.ts";
 * assert.equal(typeof trySend, "function"); // driven end to end in tests/stack_*_test.ts
 * ```
 */
import { seq } from "../wire/seq.ts";
import { TcpFlag } from "../wire/tcp.ts";
import type { Tcb } from "./tcb.ts";

const { FIN, PSH, ACK } = TcpFlag;

function sending(t: Tcb): boolean {
  const s = t.state;
  return s === "ESTABLISHED" || s === "CLOSE_WAIT" || s === "FIN_WAIT1" || s === "LAST_ACK" ||
    s === "CLOSING";
}

/** Sends what the windows, Nagle (RFC 9293 §3.7.4), recovery and the FIN allow. */
export function trySend(t: Tcb): void {
  if (!sending(t)) return;
  const mss = t.effMss;
  const recovery = t.drive.recovery(t);
  recovery.beforeSend(t, mss);
  let sentNew = false, cwndLimited = false;
  for (;;) {
    // Going back after a timeout, skip what the peer has SACKed since (Linux tcp_xmit_retransmit_queue).
    if (t.sackOk && seq.lt(t.snd.nxt, t.snd.max) && t.snd.scoreboard.has(t.snd.nxt)) {
      const dataEnd = seq.add(t.snd.buf.seq, t.snd.buf.length);
      t.snd.nxt = seq.min(t.snd.scoreboard.nextUncovered(t.snd.nxt), dataEnd);
    }
    const offset = seq.diff(t.snd.nxt, t.snd.buf.seq);
    const avail = t.snd.buf.length - offset;
    if (avail > 0) {
      const rwnd = seq.diff(seq.add(t.snd.una, t.snd.wnd), t.snd.nxt);
      const room = recovery.cwndRoom(t);
      const n = Math.min(avail, mss, rwnd, room);
      if (room <= 0) cwndLimited = true;
      if (n <= 0) {
        if (rwnd <= 0 && t.snd.nxt === t.snd.una) t.drive.armPersist(t);
        break;
      }
      // Sender-side silly window avoidance (RFC 9293 §3.8.6.2.1), with Fs = 1/2.
      if (n < mss && n < avail && n < t.snd.maxWnd >> 1) {
        if (t.snd.nxt === t.snd.una) t.drive.armPersist(t);
        break;
      }
      const rewound = seq.lt(t.snd.nxt, t.snd.max);
      if (!rewound) sentNew = true;
      if (n < mss && !rewound) {
        // TCP_CORK holds partial segments until uncorked, or until the probe timer
        // sends them (Linux's 200 ms ceiling: tcp_check_probe_timer, tcp_write_wakeup).
        if (t.opts.cork) {
          if (t.snd.nxt === t.snd.una) t.drive.armPersist(t);
          break;
        }
        // Nagle with Minshall's change, as Linux: hold a small segment only
        // while an earlier small one is unacknowledged.
        if (!t.opts.nodelay && seq.gt(t.snd.sml, t.snd.una)) break;
      }
      const last = n === avail;
      const fin = last && t.snd.finQueued;
      const flags = ACK | (last ? PSH : 0) | (fin ? FIN : 0);
      const at = t.snd.nxt;
      t.send(flags, at, t.snd.buf.read(offset, n));
      if (rewound) t.snd.totalRetrans++;
      else if (!t.snd.rttProbe) t.snd.rttProbe = { seq: seq.add(at, n), at: t.host.clock.now() };
      t.snd.nxt = seq.add(at, n + (fin ? 1 : 0));
      if (n < mss) t.snd.sml = seq.add(at, n);
      if (fin) t.snd.finSeq = seq.add(at, n);
      if (seq.gt(t.snd.nxt, t.snd.max)) t.snd.max = t.snd.nxt;
      t.drive.armRto(t);
      continue;
    }
    if (
      t.snd.finQueued && (t.snd.finSeq === undefined || seq.lt(t.snd.nxt, seq.add(t.snd.finSeq, 1)))
    ) {
      const at = t.snd.nxt;
      if (seq.lt(at, t.snd.max)) t.snd.totalRetrans++;
      t.send(FIN | ACK, at, EMPTY);
      if (!seq.lt(at, t.snd.max)) {
        sentNew = true;
        t.finAlone = true;
      }
      t.snd.finSeq = at;
      t.snd.nxt = seq.add(at, 1);
      if (seq.gt(t.snd.nxt, t.snd.max)) t.snd.max = t.snd.nxt;
      t.drive.armRto(t);
    }
    break;
  }
  // Linux tcp_write_xmit: new data out, so a tail loss probe may take the RTO's place.
  if (sentNew) t.drive.scheduleLossProbe(t, false);
  recovery.afterSend(t, sentNew, cwndLimited);
}

/**
 * Retransmits one segment starting at `at`, without moving snd.nxt: up to
 * `max` bytes, stopping before SACKed data, with the FIN if it comes next.
 * Returns the sequence space it covered.
 */
export function retransmit(t: Tcb, at: number, max: number): number {
  const stop = t.snd.scoreboard.nextStart(at);
  let end = seq.min(t.snd.max, seq.add(at, max));
  if (stop !== undefined) end = seq.min(end, stop);
  const dataEnd = seq.add(t.snd.buf.seq, t.snd.buf.length);
  const n = Math.max(0, seq.diff(seq.min(end, dataEnd), at));
  const fin = t.snd.finSeq !== undefined && seq.add(at, n) === t.snd.finSeq &&
    seq.gt(end, t.snd.finSeq);
  if (n === 0 && !fin) return 0;
  const last = seq.add(at, n) === dataEnd;
  const flags = ACK | (fin ? FIN : 0) | (n && last ? PSH : 0);
  const payload = n ? t.snd.buf.read(seq.diff(at, t.snd.buf.seq), n) : EMPTY;
  t.send(flags, at, payload);
  t.snd.totalRetrans++;
  // Karn: no RTT sample from anything sent twice.
  if (t.snd.rttProbe && seq.gt(t.snd.rttProbe.seq, at)) t.snd.rttProbe = undefined;
  t.drive.armRto(t);
  return n + (fin ? 1 : 0);
}

/**
 * Goes back to snd.una so what is unacknowledged is sent again, the FIN too
 * if it was not acknowledged (after a timeout, or when the MSS shrank).
 */
export function rewind(t: Tcb): void {
  t.snd.nxt = t.snd.una;
  if (t.snd.finSeq !== undefined && seq.le(t.snd.una, t.snd.finSeq)) t.snd.finSeq = undefined;
}

/**
 * A probe that makes the peer answer with its window: an ACK one byte
 * behind snd.una, as Linux's tcp_xmit_probe_skb sends for zero-window
 * probes and keepalives alike (RFC 9293 §3.8.6.1, RFC 1122 §4.2.3.6).
 */
export function sendProbe(t: Tcb): void {
  // Linux tcp_write_wakeup: new data when the window has room for any (corked
  // or silly-window-held bytes), else an ACK one byte behind snd.una.
  if (!sendNewSegment(t)) t.send(ACK, seq.add(t.snd.una, -1), EMPTY);
}

/**
 * Sends one segment of new data, whatever cwnd, Nagle and cork say, if the
 * peer's window has room for any of it. Returns whether it did.
 */
export function sendNewSegment(t: Tcb): boolean {
  if (seq.lt(t.snd.nxt, t.snd.max)) return false;
  const offset = seq.diff(t.snd.nxt, t.snd.buf.seq);
  const avail = t.snd.buf.length - offset;
  const rwnd = seq.diff(seq.add(t.snd.una, t.snd.wnd), t.snd.nxt);
  if (avail <= 0 || rwnd <= 0) return false;
  const n = Math.min(avail, t.effMss, rwnd);
  const at = t.snd.nxt;
  const fin = n === avail && t.snd.finQueued;
  t.send(ACK | PSH | (fin ? FIN : 0), at, t.snd.buf.read(offset, n));
  t.snd.rttProbe ??= { seq: seq.add(at, n), at: t.host.clock.now() };
  t.snd.nxt = seq.add(at, n + (fin ? 1 : 0));
  if (fin) t.snd.finSeq = seq.add(at, n);
  if (n < t.effMss) t.snd.sml = seq.add(at, n);
  if (seq.gt(t.snd.nxt, t.snd.max)) t.snd.max = t.snd.nxt;
  t.drive.armRto(t);
  return true;
}

const EMPTY = new Uint8Array(0);
