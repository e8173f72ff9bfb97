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
import { lossEdge } from "./loss_edge.ts";
import { CaState } from "./ca_state.ts";
import { cwndValidate, inFlight } from "./recovery_window.ts";
import type { Tcb } from "./tcb.ts";

const { FIN, PSH, ACK } = TcpFlag;

function sending(t: Tcb): boolean {
  const s = t.state;
  return s === "ESTABLISHED" || s === "CLOSE_WAIT" || s === "FIN_WAIT1" || s === "LAST_ACK" ||
    s === "CLOSING";
}

/**
 * RFC 6675 §4 SetPipe(): bytes believed in the network. Unsacked bytes above
 * the loss edge count, and so do lost bytes already retransmitted.
 */
export function pipe(t: Tcb): number {
  const sb = t.scoreboard;
  const edge = lossEdge(t);
  const rxt = seq.min(seq.max(t.highRxt, t.sndUna), edge);
  return sb.uncovered(t.sndUna, rxt) + sb.uncovered(edge, t.sndMax);
}

/** How many more bytes the congestion window lets out. */
function cwndRoom(t: Tcb): number {
  // Linux tcp_cwnd_test: cwnd less tcp_packets_in_flight, in segments.
  if (t.profile.recovery === "linux") return t.cwnd - inFlight(t) * t.effMss;
  if (t.caState === CaState.RECOVERY && t.sackOk) return t.cwnd - pipe(t);
  let cwnd = t.cwnd;
  // RFC 3042 limited transmit: the first two duplicate ACKs may each release one new segment.
  if (t.caState === CaState.DISORDER) cwnd += Math.min(t.dupAcks, 2) * t.effMss;
  return cwnd - t.inflight;
}

/** Sends what the windows, Nagle (RFC 9293 §3.7.4), recovery and the FIN allow. */
export function trySend(t: Tcb): void {
  if (!sending(t)) return;
  const mss = t.effMss;
  if (t.caState === CaState.RECOVERY && t.sackOk && t.profile.recovery === "rfc6675") {
    sackRetransmit(t, mss);
  }
  let sentNew = false, cwndLimited = false;
  for (;;) {
    // Going back after a timeout, skip what the peer has SACKed since (Linux tcp_xmit_retransmit_queue).
    if (t.sackOk && seq.lt(t.sndNxt, t.sndMax) && t.scoreboard.has(t.sndNxt)) {
      const dataEnd = seq.add(t.sendBuf.seq, t.sendBuf.length);
      t.sndNxt = seq.min(t.scoreboard.nextUncovered(t.sndNxt), dataEnd);
    }
    const offset = seq.diff(t.sndNxt, t.sendBuf.seq);
    const avail = t.sendBuf.length - offset;
    if (avail > 0) {
      const rwnd = seq.diff(seq.add(t.sndUna, t.sndWnd), t.sndNxt);
      const room = cwndRoom(t);
      const n = Math.min(avail, mss, rwnd, room);
      if (room <= 0) cwndLimited = true;
      if (n <= 0) {
        if (rwnd <= 0 && t.sndNxt === t.sndUna) t.drive.armPersist(t);
        break;
      }
      // Sender-side silly window avoidance (RFC 9293 §3.8.6.2.1), with Fs = 1/2.
      if (n < mss && n < avail && n < t.maxSndWnd >> 1) {
        if (t.sndNxt === t.sndUna) t.drive.armPersist(t);
        break;
      }
      const rewound = seq.lt(t.sndNxt, t.sndMax);
      if (!rewound) sentNew = true;
      if (n < mss && !rewound) {
        // TCP_CORK holds partial segments until uncorked, or until the probe timer
        // sends them (Linux's 200 ms ceiling: tcp_check_probe_timer, tcp_write_wakeup).
        if (t.opts.cork) {
          if (t.sndNxt === t.sndUna) t.drive.armPersist(t);
          break;
        }
        // Nagle with Minshall's change, as Linux: hold a small segment only
        // while an earlier small one is unacknowledged.
        if (!t.opts.nodelay && seq.gt(t.sndSml, t.sndUna)) break;
      }
      const last = n === avail;
      const fin = last && t.finQueued;
      const flags = ACK | (last ? PSH : 0) | (fin ? FIN : 0);
      const at = t.sndNxt;
      t.send(flags, at, t.sendBuf.read(offset, n));
      if (rewound) t.totalRetrans++;
      else if (!t.rttProbe) t.rttProbe = { seq: seq.add(at, n), at: t.host.clock.now() };
      t.sndNxt = seq.add(at, n + (fin ? 1 : 0));
      if (n < mss) t.sndSml = seq.add(at, n);
      if (fin) t.finSeq = seq.add(at, n);
      if (seq.gt(t.sndNxt, t.sndMax)) t.sndMax = t.sndNxt;
      t.drive.armRto(t);
      continue;
    }
    if (t.finQueued && (t.finSeq === undefined || seq.lt(t.sndNxt, seq.add(t.finSeq, 1)))) {
      const at = t.sndNxt;
      if (seq.lt(at, t.sndMax)) t.totalRetrans++;
      t.send(FIN | ACK, at, EMPTY);
      if (!seq.lt(at, t.sndMax)) {
        sentNew = true;
        t.finAlone = true;
      }
      t.finSeq = at;
      t.sndNxt = seq.add(at, 1);
      if (seq.gt(t.sndNxt, t.sndMax)) t.sndMax = t.sndNxt;
      t.drive.armRto(t);
    }
    break;
  }
  // Linux tcp_write_xmit: new data out, so a tail loss probe may take the RTO's place.
  if (sentNew) t.drive.scheduleLossProbe(t, false);
  if (t.profile.recovery === "linux" && (sentNew || cwndLimited)) cwndValidate(t, cwndLimited);
}

/**
 * Retransmits one segment starting at `at`, without moving snd.nxt: up to
 * `max` bytes, stopping before SACKed data, with the FIN if it comes next.
 * Returns the sequence space it covered.
 */
export function retransmit(t: Tcb, at: number, max: number): number {
  const stop = t.scoreboard.nextStart(at);
  let end = seq.min(t.sndMax, seq.add(at, max));
  if (stop !== undefined) end = seq.min(end, stop);
  const dataEnd = seq.add(t.sendBuf.seq, t.sendBuf.length);
  const n = Math.max(0, seq.diff(seq.min(end, dataEnd), at));
  const fin = t.finSeq !== undefined && seq.add(at, n) === t.finSeq && seq.gt(end, t.finSeq);
  if (n === 0 && !fin) return 0;
  const last = seq.add(at, n) === dataEnd;
  const flags = ACK | (fin ? FIN : 0) | (n && last ? PSH : 0);
  const payload = n ? t.sendBuf.read(seq.diff(at, t.sendBuf.seq), n) : EMPTY;
  t.send(flags, at, payload);
  t.totalRetrans++;
  // Karn: no RTT sample from anything sent twice.
  if (t.rttProbe && seq.gt(t.rttProbe.seq, at)) t.rttProbe = undefined;
  t.drive.armRto(t);
  return n + (fin ? 1 : 0);
}

/** RFC 6675 §5 step (C): while pipe leaves room, retransmit lost holes, lowest first (NextSeg rule 1). */
function sackRetransmit(t: Tcb, mss: number): void {
  for (;;) {
    if (t.cwnd - pipe(t) < mss) return;
    const edge = lossEdge(t);
    const at = t.scoreboard.nextUncovered(seq.max(t.highRxt, t.sndUna));
    if (!seq.lt(at, edge)) return;
    const n = retransmit(t, at, mss);
    if (n === 0) return;
    t.highRxt = seq.add(at, n);
  }
}

/**
 * Goes back to snd.una so what is unacknowledged is sent again, the FIN too
 * if it was not acknowledged (after a timeout, or when the MSS shrank).
 */
export function rewind(t: Tcb): void {
  t.sndNxt = t.sndUna;
  if (t.finSeq !== undefined && seq.le(t.sndUna, t.finSeq)) t.finSeq = undefined;
}

/**
 * A probe that makes the peer answer with its window: an ACK one byte
 * behind snd.una, as Linux's tcp_xmit_probe_skb sends for zero-window
 * probes and keepalives alike (RFC 9293 §3.8.6.1, RFC 1122 §4.2.3.6).
 */
export function sendProbe(t: Tcb): void {
  // Linux tcp_write_wakeup: new data when the window has room for any (corked
  // or silly-window-held bytes), else an ACK one byte behind snd.una.
  if (!sendNewSegment(t)) t.send(ACK, seq.add(t.sndUna, -1), EMPTY);
}

/**
 * Sends one segment of new data, whatever cwnd, Nagle and cork say, if the
 * peer's window has room for any of it. Returns whether it did.
 */
export function sendNewSegment(t: Tcb): boolean {
  if (seq.lt(t.sndNxt, t.sndMax)) return false;
  const offset = seq.diff(t.sndNxt, t.sendBuf.seq);
  const avail = t.sendBuf.length - offset;
  const rwnd = seq.diff(seq.add(t.sndUna, t.sndWnd), t.sndNxt);
  if (avail <= 0 || rwnd <= 0) return false;
  const n = Math.min(avail, t.effMss, rwnd);
  const at = t.sndNxt;
  const fin = n === avail && t.finQueued;
  t.send(ACK | PSH | (fin ? FIN : 0), at, t.sendBuf.read(offset, n));
  t.rttProbe ??= { seq: seq.add(at, n), at: t.host.clock.now() };
  t.sndNxt = seq.add(at, n + (fin ? 1 : 0));
  if (fin) t.finSeq = seq.add(at, n);
  if (n < t.effMss) t.sndSml = seq.add(at, n);
  if (seq.gt(t.sndNxt, t.sndMax)) t.sndMax = t.sndNxt;
  t.drive.armRto(t);
  return true;
}

const EMPTY = new Uint8Array(0);
