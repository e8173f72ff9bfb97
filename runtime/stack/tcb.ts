/**
 * One TCP connection of the built-in stack: the transmission control block of
 * RFC 9293 §3.3.1, its output path and its timers. Segment arrival is in
 * `tcb_input.ts`; sockets, demultiplexing and passive resets in `stack.ts`.
 *
 * State names are Linux's (`SYN_RECV`, `FIN_WAIT1`, …) so TCP_INFO and the
 * kernel target read the same. Sequence numbers are absolute; all comparison
 * goes through `seq`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { VirtualClock } from "../engine/clock.ts";
 * import { Stack } from "./stack.ts";
 * const clock = new VirtualClock();
 * const a = new Stack({ clock, addresses: ["10.0.0.1"], seed: 1 });
 * const b = new Stack({ clock, addresses: ["10.0.0.2"], seed: 2 });
 * a.output = (bytes) => b.input(bytes);
 * b.output = (bytes) => a.input(bytes);
 * const l = b.call({ name: "socket" }).result!;
 * b.call({ name: "bind", fd: l.ok ? Number(l.value) : -1, port: 80 });
 * b.call({ name: "listen", fd: 3 });
 * a.call({ name: "socket" });
 * const c = a.call({ name: "connect", fd: 3, addr: "10.0.0.2", port: 80 });
 * clock.runUntil(() => c.result !== undefined, 10_000);
 * assert.deepEqual(c.result, { ok: true, value: 0 });
 * assert.equal(a.connections()[0].state, "ESTABLISHED");
 * ```
 */
import type { Clock, Timer } from "../engine/clock.ts";
import type { ErrnoName, TcpInfo, TcpStateName } from "../wire/socket_call.ts";
import { TcpiOpt } from "../wire/socket_call.ts";
import type { PacketSpec } from "../wire/packet.ts";
import { ipv4Header } from "../wire/ipv4.ts";
import { seq } from "../wire/seq.ts";
import { TcpFlag } from "../wire/tcp.ts";
import type { TcpOption } from "../wire/tcp_options.ts";
import type { StackProfile } from "./profile.ts";
import { RecvBuffer } from "./recv_buffer.ts";
import { SendBuffer } from "./send_buffer.ts";

/** What a connection needs from its stack. */
export interface TcbHost {
  readonly clock: Clock;
  readonly profile: StackProfile;
  /** Sends one segment. */
  emit(spec: PacketSpec): void;
  /** A passive connection reached ESTABLISHED: queue it for accept(). */
  established(t: Tcb): void;
  /** The connection reached CLOSED: free its 4-tuple. */
  removed(t: Tcb): void;
}

/** The 4-tuple. Addresses are 4 or 16 bytes. */
export interface Tuple {
  localAddr: Uint8Array;
  localPort: number;
  remoteAddr: Uint8Array;
  remotePort: number;
}

const { FIN, SYN, RST, PSH, ACK } = TcpFlag;
/** RFC 7323 §3.2: TSopt with two NOPs in front takes 12 bytes. */
const TS_ALIGNED = 12;
/** RFC 9293 §3.7.1: the MSS to assume when the peer sends none (IPv4 536, IPv6 1220). */
const DEFAULT_MSS_V4 = 536;
const DEFAULT_MSS_V6 = 1220;
/** RFC 7323 §2.3: shifts above 14 are treated as 14. */
const MAX_WSCALE = 14;

/** Per-socket options that shape a connection. */
export interface TcbOptions {
  nodelay: boolean;
  linger?: { onoff: boolean; linger: number };
  rcvBuf: number;
  sndBuf: number;
  /** TCP_MAXSEG: a cap on the MSS we advertise. */
  maxseg?: number;
}

/** A connection. Fields are public to `tcb_input.ts` and TCP_INFO; the socket layer uses the methods. */
export class Tcb {
  readonly host: TcbHost;
  readonly tuple: Tuple;
  state: TcpStateName = "CLOSE";
  opts: TcbOptions;
  /** Set when this connection came from a listener (passive open). */
  passive = false;
  /** The socket layer dropped its descriptor (close()). */
  orphan = false;
  /** A pending socket error, reported once by the next call (sk_err). */
  error: ErrnoName | undefined;

  // Send sequence space (RFC 9293 §3.3.1).
  iss = 0;
  sndUna = 0;
  sndNxt = 0;
  /** Highest sequence number sent plus one; `sndNxt` rewinds below it on timeout. */
  sndMax = 0;
  /** End of the last small (sub-MSS) segment sent, for Minshall's Nagle. */
  sndSml = 0;
  sndWnd = 0;
  /** The largest window the peer has offered (RFC 9293 §3.8.6.2.1, "Fs × max window"). */
  maxSndWnd = 0;
  sndWl1 = 0;
  sndWl2 = 0;
  // Receive sequence space.
  irs = 0;
  rcvNxt = 0;
  /** The right edge we last advertised, so the window never shrinks (RFC 9293 §3.8.6). */
  rcvAdvEdge = 0;
  /** The most we offer: the initial window (Linux grows it by autotuning, which is not modelled). */
  rcvWndClamp = 0xffff;

  // Negotiated options.
  sndMss: number;
  rcvMss: number;
  sndWscale = 0;
  rcvWscale = 0;
  wscaleOk = false;
  tsOk = false;
  sackOk = false;
  tsRecent = 0;
  tsOffset: number;
  /** Options the peer put on its SYN, kept so SYN-ACK retransmissions repeat them. */
  peerSynOptions: readonly TcpOption[] = [];

  readonly sendBuf: SendBuffer;
  readonly recvBuf = new RecvBuffer();
  /** close()/shutdown(SHUT_WR) asked for a FIN. */
  finQueued = false;
  /** Sequence number of our FIN once sent. */
  finSeq: number | undefined;
  /** The peer's FIN was received: reads return 0 once the data is drained. */
  finReceived = false;
  readShut = false;

  // Congestion control (RFC 5681) and retransmission (RFC 6298).
  cwnd: number;
  ssthresh = 0x7fffffff;
  srtt = 0;
  rttvar = 0;
  rto: number;
  backoff = 0;
  retransmits = 0;
  totalRetrans = 0;
  /** Karn's algorithm: the one segment being timed, unless retransmitted. */
  rttProbe: { seq: number; at: number } | undefined;
  rtoTimer: Timer | undefined;
  // Delayed ACKs (RFC 9293 §3.8.6.3, RFC 5681 §4.2).
  ackTimer: Timer | undefined;
  unackedSegs = 0;
  quickAcks: number;
  otherTimer: Timer | undefined;
  // Counters for TCP_INFO.
  segsOut = 0;
  segsIn = 0;
  dataSegsOut = 0;
  dataSegsIn = 0;

  constructor(host: TcbHost, tuple: Tuple, opts: TcbOptions, iss: number, tsOffset: number) {
    this.host = host;
    this.tuple = tuple;
    this.opts = opts;
    const p = host.profile;
    this.iss =
      this.sndUna =
      this.sndNxt =
      this.sndMax =
      this.sndSml =
        iss >>> 0;
    this.sendBuf = new SendBuffer(seq.add(iss, 1));
    this.tsOffset = tsOffset >>> 0;
    const v6 = tuple.localAddr.length === 16;
    this.sndMss = v6 ? DEFAULT_MSS_V6 : DEFAULT_MSS_V4;
    this.rcvMss = this.sndMss;
    this.cwnd = p.initialCwnd * p.mss;
    this.rto = p.rtoInitMs;
    this.quickAcks = p.quickAcks;
  }

  get profile(): StackProfile {
    return this.host.profile;
  }

  /** The local MSS we advertise: the profile's, less 20 more bytes of IPv6 header. */
  get advMss(): number {
    const mss = this.tuple.localAddr.length === 16 ? this.profile.mss - 20 : this.profile.mss;
    return this.opts.maxseg ? Math.min(mss, this.opts.maxseg) : mss;
  }

  /** Payload bytes per segment once options are counted. */
  get effMss(): number {
    return this.sndMss - (this.tsOk ? TS_ALIGNED : 0);
  }

  /** The timestamp clock: ms since the run started plus a random offset (RFC 7323 §5.4). */
  tsVal(): number {
    return (this.tsOffset + Math.floor(this.host.clock.now())) >>> 0;
  }

  /** Bytes in flight. */
  get inflight(): number {
    return seq.diff(this.sndNxt, this.sndUna);
  }

  // --- State ---------------------------------------------------------------

  setState(s: TcpStateName): void {
    const was = this.state;
    this.state = s;
    if (s === "ESTABLISHED" && was === "SYN_RECV" && this.passive) this.host.established(this);
    if (s === "CLOSE") this.#teardown();
  }

  /** Aborts with a socket error (RST received, retries exhausted). */
  abort(err: ErrnoName | undefined): void {
    if (err) this.error = err;
    this.setState("CLOSE");
  }

  #teardown(): void {
    const c = this.host.clock;
    c.cancel(this.rtoTimer);
    c.cancel(this.ackTimer);
    c.cancel(this.otherTimer);
    this.rtoTimer = this.ackTimer = this.otherTimer = undefined;
    this.sendBuf.clear();
    this.host.removed(this);
  }

  // --- Options ---------------------------------------------------------------

  /** Our SYN or SYN-ACK options, laid out as Linux does (tcp_options_write). */
  synOptions(synAck: boolean): TcpOption[] {
    const p = this.profile;
    const out: TcpOption[] = [{ kind: "mss", value: this.advMss }];
    const ts = synAck ? this.tsOk : p.timestamps;
    const sack = synAck ? this.sackOk : p.sack;
    const ws = synAck ? this.wscaleOk : p.windowScaling;
    const tsOpt: TcpOption = { kind: "ts", val: this.tsVal(), ecr: synAck ? this.tsRecent : 0 };
    if (ts && sack) out.push({ kind: "sackOk" }, tsOpt);
    else if (ts) out.push({ kind: "nop" }, { kind: "nop" }, tsOpt);
    else if (sack) out.push({ kind: "nop" }, { kind: "nop" }, { kind: "sackOk" });
    if (ws) out.push({ kind: "nop" }, { kind: "wscale", shift: this.rcvWscale });
    return out;
  }

  /** Takes the peer's SYN options (RFC 9293 §3.7.1, RFC 7323 §2.2 and §3.2, RFC 2018 §2). */
  negotiate(options: readonly TcpOption[], weOffered: boolean): void {
    const p = this.profile;
    let ws: number | undefined;
    let ts: { val: number } | undefined;
    let sack = false;
    for (const o of options) {
      if (o.kind === "mss") this.sndMss = Math.min(o.value, this.advMss);
      else if (o.kind === "wscale") ws = o.shift;
      else if (o.kind === "ts") ts = o;
      else if (o.kind === "sackOk") sack = true;
    }
    const mssSeen = options.some((o) => o.kind === "mss");
    if (!mssSeen) this.sndMss = Math.min(this.sndMss, this.advMss);
    this.wscaleOk = ws !== undefined && p.windowScaling && weOffered;
    this.sndWscale = this.wscaleOk ? Math.min(ws!, MAX_WSCALE) : 0;
    this.rcvWscale = this.wscaleOk ? p.wscale : 0;
    this.tsOk = ts !== undefined && p.timestamps && weOffered;
    if (this.tsOk) this.tsRecent = ts!.val;
    this.sackOk = sack && p.sack && weOffered;
    this.rcvMss = this.sndMss;
  }

  // --- Windows -----------------------------------------------------------------

  /** Receive space: half the buffer (tcp_adv_win_scale = 1), less what is queued. */
  #space(): number {
    return Math.max(0, (this.opts.rcvBuf >> 1) - this.recvBuf.readable - this.recvBuf.oooBytes);
  }

  /** The window on a SYN or SYN-ACK: never scaled (RFC 7323 §2.2), rounded down to whole segments. */
  synWindow(): number {
    const m = this.advMss - (this.tsOk ? TS_ALIGNED : 0);
    const w = Math.min(this.#space(), 65535);
    this.rcvWndClamp = Math.floor(w / m) * m;
    return this.rcvWndClamp;
  }

  /** The window field for a non-SYN segment, scaled, and never moving the right edge left. */
  windowField(): number {
    const unit = 1 << this.rcvWscale;
    let w = Math.min(this.#space(), this.rcvWndClamp);
    const promised = seq.diff(this.rcvAdvEdge, this.rcvNxt);
    if (promised > w) w = promised;
    const field = Math.min(Math.ceil(w / unit), 0xffff);
    this.rcvAdvEdge = seq.add(this.rcvNxt, field * unit);
    return field;
  }

  // --- Output ---------------------------------------------------------------------

  /** Sends one segment from this connection. */
  send(flags: number, seqNo: number, payload: Uint8Array, options?: TcpOption[]): void {
    const syn = (flags & SYN) !== 0;
    let opts = options;
    if (!opts) {
      opts = this.tsOk ? [{ kind: "nop" }, { kind: "nop" }, this.#tsOption()] : [];
    }
    if (flags & ACK) {
      this.host.clock.cancel(this.ackTimer);
      this.ackTimer = undefined;
      this.unackedSegs = 0;
    }
    // A reset without ACK answers a segment, not the connection: window 0, as Linux's tcp_v4_send_reset.
    const window = flags & RST && !(flags & ACK) ? 0 : syn ? this.synWindow() : this.windowField();
    if (syn) this.rcvAdvEdge = seq.add(this.rcvNxt, window);
    const t = this.tuple;
    this.segsOut++;
    if (payload.length) this.dataSegsOut++;
    this.host.emit({
      ip: ipHeader(t.localAddr, t.remoteAddr),
      transport: {
        kind: "tcp",
        srcPort: t.localPort,
        dstPort: t.remotePort,
        seq: seqNo >>> 0,
        ack: flags & ACK ? this.rcvNxt : 0,
        flags,
        window,
        urgent: 0,
        options: opts,
        payload,
      },
    });
  }

  #tsOption(): TcpOption {
    return { kind: "ts", val: this.tsVal(), ecr: this.tsRecent };
  }

  /** A bare ACK of everything received. */
  sendAck(): void {
    this.send(ACK, this.sndMax, EMPTY);
  }

  /** An active reset (Linux tcp_send_active_reset): RST+ACK at snd.nxt. */
  sendActiveReset(): void {
    this.send(RST | ACK, this.sndMax, EMPTY);
  }

  /** Sends our SYN (active open). */
  sendSyn(): void {
    // State first: the segment may be answered before send() returns.
    this.#synSent();
    this.send(SYN, this.iss, EMPTY, this.synOptions(false));
  }

  /** Sends our SYN-ACK (passive open). */
  sendSynAck(): void {
    this.#synSent();
    this.send(SYN | ACK, this.iss, EMPTY, this.synOptions(true));
  }

  #synSent(): void {
    this.sndNxt = this.sndMax = seq.add(this.iss, 1);
    this.rttProbe = { seq: this.sndNxt, at: this.host.clock.now() };
    this.#armRto();
  }

  /** Whether our FIN is acknowledged. */
  get finAcked(): boolean {
    return this.finSeq !== undefined && seq.gt(this.sndUna, this.finSeq);
  }

  /** Sends what the windows, Nagle (RFC 9293 §3.7.4) and the FIN allow. */
  trySend(): void {
    const s = this.state;
    if (
      s !== "ESTABLISHED" && s !== "CLOSE_WAIT" && s !== "FIN_WAIT1" && s !== "LAST_ACK" &&
      s !== "CLOSING"
    ) return;
    const mss = this.effMss;
    for (;;) {
      const offset = seq.diff(this.sndNxt, this.sendBuf.seq);
      const avail = this.sendBuf.length - offset;
      if (avail > 0) {
        const room = Math.min(this.sndWnd, this.cwnd) - this.inflight;
        const n = Math.min(avail, mss, room);
        if (n <= 0) break;
        // Sender-side silly window avoidance (RFC 9293 §3.8.6.2.1), with Fs = 1/2.
        if (n < mss && n < avail && n < this.maxSndWnd >> 1) break;
        // Nagle (RFC 9293 §3.7.4) with Minshall's change, as Linux: hold a small segment
        // only while an earlier small one is unacknowledged.
        if (
          n < mss && !this.opts.nodelay && seq.gt(this.sndSml, this.sndUna) &&
          this.sndNxt === this.sndMax
        ) break;
        const last = n === avail;
        const fin = last && this.finQueued;
        const flags = ACK | (last ? PSH : 0) | (fin ? FIN : 0);
        const at = this.sndNxt;
        const retx = seq.lt(at, this.sndMax);
        this.send(flags, at, this.sendBuf.read(offset, n));
        if (retx) this.totalRetrans++;
        else if (!this.rttProbe) this.rttProbe = { seq: seq.add(at, n), at: this.host.clock.now() };
        this.sndNxt = seq.add(at, n + (fin ? 1 : 0));
        if (n < mss) this.sndSml = seq.add(at, n);
        if (fin) this.finSeq = seq.add(at, n);
        if (seq.gt(this.sndNxt, this.sndMax)) this.sndMax = this.sndNxt;
        this.#armRto();
        continue;
      }
      if (
        this.finQueued &&
        (this.finSeq === undefined || seq.lt(this.sndNxt, seq.add(this.finSeq, 1)))
      ) {
        const at = this.sndNxt;
        if (seq.lt(at, this.sndMax)) this.totalRetrans++;
        this.send(FIN | ACK, at, EMPTY);
        this.finSeq = at;
        this.sndNxt = seq.add(at, 1);
        if (seq.gt(this.sndNxt, this.sndMax)) this.sndMax = this.sndNxt;
        this.#armRto();
      }
      break;
    }
  }

  // --- Timers ------------------------------------------------------------------------

  #armRto(): void {
    if (this.rtoTimer || this.sndNxt === this.sndUna) return;
    this.rtoTimer = this.host.clock.setTimer(this.host.clock.now() + this.rto, () => this.#onRto());
  }

  /** Restarts the retransmission timer after new data is acknowledged (RFC 6298 §5.3). */
  restartRto(): void {
    this.host.clock.cancel(this.rtoTimer);
    this.rtoTimer = undefined;
    this.#armRto();
  }

  #onRto(): void {
    this.rtoTimer = undefined;
    const p = this.profile;
    const limit = this.state === "SYN_SENT"
      ? p.synRetries
      : this.state === "SYN_RECV"
      ? p.synAckRetries
      : p.dataRetries;
    if (this.retransmits >= limit) {
      // Linux gives up without a reset; an embryonic passive connection just vanishes.
      this.abort(this.state === "SYN_RECV" && this.passive ? undefined : "ETIMEDOUT");
      return;
    }
    this.retransmits++;
    this.backoff++;
    this.rttProbe = undefined;
    // RFC 6298 §5.5: back off the timer; §5.7 cap by the profile's maximum.
    this.rto = Math.min(this.rto * 2, p.rtoMaxMs);
    if (this.state === "SYN_SENT") {
      this.totalRetrans++;
      this.send(SYN, this.iss, EMPTY, this.synOptions(false));
    } else if (this.state === "SYN_RECV") {
      this.totalRetrans++;
      this.send(SYN | ACK, this.iss, EMPTY, this.synOptions(true));
    } else {
      // RFC 5681 §3.1 eq. (4): halve ssthresh, restart from one segment, go back to snd.una.
      this.ssthresh = Math.max(this.inflight >> 1, 2 * this.effMss);
      this.cwnd = this.effMss;
      this.sndNxt = this.sndUna;
      if (this.finSeq !== undefined && seq.le(this.sndUna, this.finSeq)) this.finSeq = undefined;
      this.trySend();
    }
    this.#armRto();
  }

  /** A new RTT sample in ms (RFC 6298 §2.2–2.3, with Linux's floor on the variance term). */
  rttSample(r: number): void {
    if (this.srtt === 0) {
      this.srtt = r;
      this.rttvar = r / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - r);
      this.srtt = 0.875 * this.srtt + 0.125 * r;
    }
    const p = this.profile;
    this.rto = Math.min(p.rtoMaxMs, this.srtt + Math.max(4 * this.rttvar, p.rtoMinMs));
  }

  /** Schedules or sends the ACK for in-order data (delayed ACKs, RFC 5681 §4.2). */
  ackData(fullSized: boolean): void {
    if (this.quickAcks > 0) {
      this.quickAcks--;
      this.sendAck();
      return;
    }
    if (fullSized) this.unackedSegs++;
    if (this.unackedSegs >= 2) {
      this.sendAck();
      return;
    }
    if (!this.ackTimer) {
      const c = this.host.clock;
      this.ackTimer = c.setTimer(c.now() + this.profile.delayedAckMs, () => {
        this.ackTimer = undefined;
        if (this.state !== "CLOSE") this.sendAck();
      });
    }
  }

  /** Enters TIME-WAIT and starts its timer (RFC 9293 §3.10.7.4; Linux: 60 s). */
  enterTimeWait(): void {
    this.state = "TIME_WAIT";
    const c = this.host.clock;
    c.cancel(this.rtoTimer);
    c.cancel(this.ackTimer);
    c.cancel(this.otherTimer);
    this.rtoTimer = this.ackTimer = undefined;
    this.otherTimer = c.setTimer(c.now() + this.profile.timeWaitMs, () => {
      this.otherTimer = undefined;
      this.setState("CLOSE");
    });
  }

  // --- Application calls ---------------------------------------------------------------

  /** Queues data for sending; returns how many bytes fit in the send buffer. */
  write(data: Uint8Array): number {
    const room = Math.max(0, this.opts.sndBuf - this.sendBuf.length);
    const n = Math.min(room, data.length);
    if (n > 0) {
      this.sendBuf.push(n === data.length ? data : data.subarray(0, n));
      this.trySend();
    }
    return n;
  }

  /** shutdown(SHUT_WR): queue a FIN (RFC 9293 §3.10.4). */
  shutdownWrite(): void {
    if (this.finQueued) return;
    if (this.state === "ESTABLISHED" || this.state === "SYN_RECV") this.setState("FIN_WAIT1");
    else if (this.state === "CLOSE_WAIT") this.setState("LAST_ACK");
    else return;
    this.finQueued = true;
    this.trySend();
  }

  /**
   * close(): Linux tcp_close. Unread data or SO_LINGER {on, 0} reset the
   * connection (an active RST with ACK); otherwise a FIN follows the data.
   */
  close(): void {
    this.orphan = true;
    const s = this.state;
    if (s === "CLOSE" || s === "TIME_WAIT") return;
    if (s === "SYN_SENT") {
      this.setState("CLOSE");
      return;
    }
    const unread = this.recvBuf.readable > 0 || this.recvBuf.oooBytes > 0;
    const lingerZero = this.opts.linger?.onoff === true && this.opts.linger.linger === 0;
    if (unread || lingerZero) {
      this.recvBuf.clear();
      if (s !== "SYN_RECV" || !this.passive) this.sendActiveReset();
      this.setState("CLOSE");
      return;
    }
    this.shutdownWrite();
  }

  /** The TCP_INFO view of this connection. */
  info(): TcpInfo {
    const us = (ms: number) => Math.round(ms * 1000);
    return {
      state: this.state,
      caState: this.backoff > 0 ? 4 : 0,
      retransmits: this.retransmits,
      backoff: this.backoff,
      options: (this.tsOk ? TcpiOpt.TIMESTAMPS : 0) | (this.sackOk ? TcpiOpt.SACK : 0) |
        (this.wscaleOk ? TcpiOpt.WSCALE : 0),
      sndWscale: this.sndWscale,
      rcvWscale: this.rcvWscale,
      rto: us(this.rto),
      sndMss: this.effMss,
      rcvMss: this.rcvMss,
      unacked: Math.ceil(this.inflight / Math.max(1, this.effMss)),
      lost: 0,
      retrans: this.backoff > 0 ? 1 : 0,
      rtt: us(this.srtt),
      rttvar: us(this.rttvar),
      sndSsthresh: Math.min(this.ssthresh, 0x7fffffff) === 0x7fffffff
        ? 0x7fffffff
        : Math.ceil(this.ssthresh / this.effMss),
      sndCwnd: Math.max(1, Math.round(this.cwnd / this.effMss)),
      advmss: this.advMss,
      totalRetrans: this.totalRetrans,
      segsOut: this.segsOut,
      segsIn: this.segsIn,
      dataSegsOut: this.dataSegsOut,
      dataSegsIn: this.dataSegsIn,
    };
  }
}

const EMPTY = new Uint8Array(0);

/** The IP header of our segments: TTL 64, DF set (Linux does path MTU discovery, RFC 1191). */
export function ipHeader(src: Uint8Array, dst: Uint8Array): PacketSpec["ip"] {
  if (src.length === 4) return { ...ipv4Header(src, dst), df: true };
  return {
    kind: "ipv6",
    version: 6,
    trafficClass: 0,
    flowLabel: 0,
    hopLimit: 64,
    src,
    dst,
    extensions: [],
  };
}
