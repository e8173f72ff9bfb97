/**
 * One TCP connection of the built-in stack: the transmission control block of
 * RFC 9293 §3.3.1, its options, windows and application calls. The rest of a
 * connection lives beside it: segment arrival in `tcb_input.ts`, sending and
 * retransmission in `tcb_output.ts`, timers in `tcb_timers.ts`, congestion
 * control and loss recovery in `congestion.ts`; sockets, demultiplexing and
 * passive resets in `stack.ts`.
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
import { ipHeader, type PacketSpec } from "../wire/packet.ts";
import { seq } from "../wire/seq.ts";
import { TcpFlag } from "../wire/tcp.ts";
import type { TcpOption } from "../wire/tcp_options.ts";
import type { DropReason, RstReason } from "../wire/stack_reasons.ts";
import { CaState } from "./ca_state.ts";
import type { StackProfile } from "./profile.ts";
import { RecoveryState } from "./recovery_state.ts";
import { RecvBuffer } from "./recv_buffer.ts";
import { SackBlocks } from "./sack_blocks.ts";
import { SendBuffer } from "./send_buffer.ts";
import { SeqRanges } from "./seq_ranges.ts";
import type { TcbDriver } from "./tcb_driver.ts";

/** What a connection needs from its stack. */
export interface TcbHost {
  readonly clock: Clock;
  readonly profile: StackProfile;
  /** Sends one segment; an RST with the reason the kernel would give (`enum sk_rst_reason`). */
  emit(spec: PacketSpec, reset?: ResetWhy): void;
  /** Drops the segment being processed, for `reason` (`enum skb_drop_reason`). */
  drop(reason: DropReason): void;
  /** A passive connection reached ESTABLISHED: queue it for accept(). */
  established(t: Tcb): void;
  /** Whether the listener a passive connection came from has a full accept queue. */
  acceptQueueFull(t: Tcb): boolean;
  /** The connection reached CLOSED: free its 4-tuple. */
  removed(t: Tcb): void;
  /** Takes one challenge ACK from the stack-wide budget (RFC 5961 §7); false when spent. */
  challengeAckAllowed(): boolean;
  /** Output, timers, congestion control and TCP_INFO (`tcb_wiring.ts`). */
  readonly driver: TcbDriver<Tcb>;
}

/** Why a connection sends an RST, and its state as the kernel reports it then. */
export interface ResetWhy {
  name: RstReason;
  state?: string;
}

/** The 4-tuple. Addresses are 4 or 16 bytes. */
export interface Tuple {
  localAddr: Uint8Array;
  localPort: number;
  remoteAddr: Uint8Array;
  remotePort: number;
}

const { SYN, RST, ACK, FIN } = TcpFlag;
/** RFC 7323 §3.2: TSopt with two NOPs in front takes 12 bytes. */
const TS_ALIGNED = 12;
/** RFC 9293 §3.7.1: the MSS to assume when the peer sends none (IPv4 536, IPv6 1220). */
export const DEFAULT_MSS_V4 = 536;
export const DEFAULT_MSS_V6 = 1220;
/** RFC 7323 §2.3: shifts above 14 are treated as 14. */
const MAX_WSCALE = 14;
/** 40 bytes of option space: 4 SACK blocks alone, 3 beside a timestamp (RFC 2018 §3). */
const MAX_SACK_BLOCKS = 4;

/** Per-socket options that shape a connection. */
export interface TcbOptions {
  nodelay: boolean;
  /** TCP_CORK: send only full segments until uncorked. */
  cork: boolean;
  linger?: { onoff: boolean; linger: number };
  rcvBuf: number;
  /** SO_RCVBUF was set: the buffer no longer follows tcp_rmem (SOCK_RCVBUF_LOCK). */
  rcvBufLocked?: boolean;
  sndBuf: number;
  /** TCP_MAXSEG: a cap on the MSS we advertise. */
  maxseg?: number;
  keepalive: boolean;
  /** TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT in ms and probes; unset means the profile's. */
  keepIdleMs?: number;
  keepIntvlMs?: number;
  keepCnt?: number;
}

/** A connection. Fields are public to the modules beside it and TCP_INFO; the socket layer uses the methods. */
export class Tcb {
  readonly host: TcbHost;
  readonly tuple: Tuple;
  state: TcpStateName = "CLOSE";
  opts: TcbOptions;
  /** Set when this connection came from a listener (passive open). */
  passive = false;
  /** It came from a SYN cookie's ACK: no request state, so nothing to retry if it cannot be queued. */
  fromCookie = false;
  /** The socket layer dropped its descriptor (close()). */
  orphan = false;
  /** A pending socket error, reported once by the next call (sk_err). */
  error: ErrnoName | undefined;
  /** The last ICMP error while established, reported only if the connection times out (sk_err_soft). */
  softError: ErrnoName | undefined;

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
  /** Path MTU learnt from ICMP (RFC 1191, RFC 8201); 0 until one arrives. */
  pmtu = 0;
  /** Our FIN went out in a segment of its own (Linux: a separate skb, one more packet out). */
  finAlone = false;
  /** The route MTU is locked (a frag-needed below min_pmtu): IPv4 segments go without DF. */
  pmtuLocked = false;
  #activeSynWnd: number | undefined;

  readonly sendBuf: SendBuffer;
  readonly recvBuf = new RecvBuffer();
  /** Out-of-order blocks to report in our ACKs (RFC 2018). */
  readonly sackBlocks = new SackBlocks();
  /** What the peer has SACKed above snd.una: the scoreboard of RFC 6675 §3. */
  readonly scoreboard = new SeqRanges();
  /** Linux's loss recovery: the retransmission queue, PRR, undo and RACK (`linux_recovery.ts`). */
  readonly recovery = new RecoveryState();
  /** close()/shutdown(SHUT_WR) asked for a FIN. */
  finQueued = false;
  /** Sequence number of our FIN once sent. */
  finSeq: number | undefined;
  /** The peer's FIN was received: reads return 0 once the data is drained. */
  finReceived = false;
  readShut = false;

  // Congestion control (RFC 5681, 6582, 6675) and retransmission (RFC 6298).
  cwnd: number;
  ssthresh = 0x7fffffff;
  caState: number = CaState.OPEN;
  dupAcks = 0;
  /** RFC 6582 `recover` / RFC 6675 RecoveryPoint: snd.max when recovery began. */
  recover = 0;
  /** RFC 6675 HighRxt, as an end: retransmissions in this recovery reached here. */
  highRxt = 0;
  srtt = 0;
  rttvar = 0;
  /** Whether any RTT sample was taken (a sample may be 0 ms on a virtual clock). */
  rttSeen = false;
  rto: number;
  backoff = 0;
  retransmits = 0;
  totalRetrans = 0;
  /** Karn's algorithm: the one segment being timed, unless retransmitted. */
  rttProbe: { seq: number; at: number } | undefined;
  /** When the retransmission timer is due; the timer itself may be set earlier (it re-arms). */
  rtoAt = 0;
  rtoTimer: Timer | undefined;
  /** When the retransmission timer was last (re)started: an RTO is due rto after it. */
  rtoStart = 0;
  /** The pending retransmission timer is a tail loss probe (RFC 8985 §7), not an RTO. */
  probeTimer = false;
  /** snd.nxt when the last tail loss probe went out, until an ACK covers it (tlp_high_seq). */
  tlpHighSeq: number | undefined;
  persistTimer: Timer | undefined;
  keepaliveTimer: Timer | undefined;
  /** Zero-window or keepalive probes sent and not answered (icsk_probes_out). */
  probesOut = 0;
  /** When a segment last arrived, for keepalive. */
  lastRecv = 0;
  /** When we last answered an invalid segment (tcp_invalid_ratelimit). */
  lastOowAck = -Infinity;
  // Delayed ACKs (RFC 9293 §3.8.6.3, RFC 5681 §4.2).
  ackTimer: Timer | undefined;
  unackedSegs = 0;
  quickAcks: number;
  /** TIME-WAIT or FIN-WAIT-2 lifetime. */
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
    this.lastRecv = host.clock.now();
  }

  get profile(): StackProfile {
    return this.host.profile;
  }

  /** Output, timers and congestion control, which the parts also reach each other through. */
  get drive(): TcbDriver<Tcb> {
    return this.host.driver;
  }

  get v6(): boolean {
    return this.tuple.localAddr.length === 16;
  }

  /** The local MSS we advertise: the profile's, less 20 more bytes of IPv6 header. */
  get advMss(): number {
    const mss = this.v6 ? this.profile.mss - 20 : this.profile.mss;
    return this.opts.maxseg ? Math.min(mss, this.opts.maxseg) : mss;
  }

  /** Payload bytes per segment once options are counted, and the path MTU. */
  get effMss(): number {
    const mss = this.pmtu ? Math.min(this.sndMss, this.pmtu - (this.v6 ? 60 : 40)) : this.sndMss;
    return mss - (this.tsOk ? TS_ALIGNED : 0);
  }

  /** The timestamp clock: ms since the run started plus a random offset (RFC 7323 §5.4). */
  tsVal(): number {
    return (this.tsOffset + Math.floor(this.host.clock.now())) >>> 0;
  }

  /** Bytes sent and not yet acknowledged or rewound. */
  get inflight(): number {
    return seq.diff(this.sndNxt, this.sndUna);
  }

  /** RFC 5681's FlightSize: everything sent and not yet acknowledged. */
  get flightSize(): number {
    return seq.diff(this.sndMax, this.sndUna);
  }

  // --- State ---------------------------------------------------------------

  setState(s: TcpStateName): void {
    const was = this.state;
    this.state = s;
    if (s === "ESTABLISHED") {
      if (was === "SYN_RECV" && this.passive) this.host.established(this);
      this.drive.armKeepalive(this);
    }
    if (s === "FIN_WAIT2" && this.orphan) this.drive.startFinWait2(this);
    if (s === "CLOSE") this.#teardown();
  }

  /** Aborts with a socket error (RST received, retries exhausted). */
  abort(err: ErrnoName | undefined): void {
    if (err) this.error = err;
    this.setState("CLOSE");
  }

  #teardown(): void {
    this.drive.cancelAll(this);
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
    let mss: number | undefined;
    for (const o of options) {
      if (o.kind === "mss") mss = o.value;
      else if (o.kind === "wscale") ws = o.shift;
      else if (o.kind === "ts") ts = o;
      else if (o.kind === "sackOk") sack = true;
    }
    // RFC 9293 §3.7.1: no MSS option means 536 (IPv4) or 1220 (IPv6); Linux floors a tiny one at 48.
    if (mss !== undefined) this.sndMss = Math.max(48, Math.min(mss, this.advMss));
    else this.sndMss = Math.min(this.sndMss, this.advMss);
    this.wscaleOk = ws !== undefined && p.windowScaling && weOffered;
    this.sndWscale = this.wscaleOk ? Math.min(ws!, MAX_WSCALE) : 0;
    this.rcvWscale = this.wscaleOk ? this.ourWscale() : 0;
    this.tsOk = ts !== undefined && p.timestamps && weOffered;
    if (this.tsOk) this.tsRecent = ts!.val;
    this.sackOk = sack && p.sack && weOffered;
    this.rcvMss = this.sndMss;
  }

  // --- Windows -----------------------------------------------------------------

  /**
   * The shift we offer, as Linux's tcp_select_initial_window picks it: the
   * profile's (from tcp_rmem[2]), or less when SO_RCVBUF locked the buffer and
   * so clamps the window to its full space.
   */
  ourWscale(): number {
    const p = this.profile;
    if (!this.opts.rcvBufLocked) return p.wscale;
    const full = this.opts.rcvBuf >> 1;
    return Math.max(0, Math.min(p.wscale, Math.floor(Math.log2(Math.max(1, full))) - 15));
  }

  /** Receive space: half the buffer (tcp_adv_win_scale = 1), less what is queued. */
  space(): number {
    return Math.max(0, (this.opts.rcvBuf >> 1) - this.recvBuf.readable - this.recvBuf.oooBytes);
  }

  /** The window on a SYN or SYN-ACK: never scaled (RFC 7323 §2.2), rounded down to whole segments. */
  synWindow(): number {
    // An active open keeps the window its SYN offered, sized before timestamps were
    // known (Linux tcp_connect_init); a simultaneous open's SYN-ACK repeats it.
    if (!this.passive && this.#activeSynWnd !== undefined) return this.#activeSynWnd;
    const m = this.advMss - (this.tsOk ? TS_ALIGNED : 0);
    const w = Math.min(this.space(), 65535);
    this.rcvWndClamp = Math.floor(w / m) * m;
    if (!this.passive) this.#activeSynWnd = this.rcvWndClamp;
    return this.rcvWndClamp;
  }

  /** What the window would be now, before the never-shrink rule (receiver SWS avoidance, RFC 9293 §3.8.6.2.2). */
  freshWindow(): number {
    const w = Math.min(this.space(), this.rcvWndClamp);
    // Offer nothing rather than a sliver: less than a segment (or half the buffer) waits.
    return w < Math.min(this.rcvMss, this.rcvWndClamp >> 1) ? 0 : w;
  }

  /** The window field for a non-SYN segment, scaled, and never moving the right edge left. */
  windowField(): number {
    const unit = 1 << this.rcvWscale;
    let w = this.freshWindow();
    const promised = seq.diff(this.rcvAdvEdge, this.rcvNxt);
    if (promised > w) w = promised;
    const field = Math.min(Math.ceil(w / unit), 0xffff);
    this.rcvAdvEdge = seq.add(this.rcvNxt, field * unit);
    return field;
  }

  // --- Output ---------------------------------------------------------------------

  /** Sends one segment from this connection. */
  send(
    flags: number,
    seqNo: number,
    payload: Uint8Array,
    options?: TcpOption[],
    reset?: ResetWhy,
  ): void {
    const syn = (flags & SYN) !== 0;
    let opts = options;
    if (!opts) {
      opts = this.tsOk ? [{ kind: "nop" }, { kind: "nop" }, this.#tsOption()] : [];
      if (this.sackOk && flags & ACK && !(flags & RST) && !this.sackBlocks.empty) {
        const blocks = this.sackBlocks.take(MAX_SACK_BLOCKS - (this.tsOk ? 1 : 0));
        opts.push({ kind: "nop" }, { kind: "nop" }, { kind: "sack", blocks });
      }
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
    if (
      (payload.length || flags & FIN) && !(flags & (SYN | RST)) && this.profile.recovery === "linux"
    ) {
      this.drive.segmentSent(this, seqNo, seq.add(seqNo, payload.length + (flags & FIN ? 1 : 0)));
    }
    this.host.emit({
      ip: ipHeader(t.localAddr, t.remoteAddr, !this.pmtuLocked),
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
    }, reset);
  }

  #tsOption(): TcpOption {
    return { kind: "ts", val: this.tsVal(), ecr: this.tsRecent };
  }

  /** A bare ACK of everything received. */
  sendAck(): void {
    this.send(ACK, this.sndMax, EMPTY);
  }

  /**
   * An ACK answering an invalid segment (out of window, PAWS, RFC 5961
   * challenges), at most one per `invalidRateLimitMs` (Linux tcp_oow_rate_limited).
   * Challenge ACKs also draw on the stack-wide budget of RFC 5961 §7.
   */
  sendOowAck(challenge = false): void {
    const now = this.host.clock.now();
    if (now - this.lastOowAck < this.profile.invalidRateLimitMs) return;
    if (challenge && !this.host.challengeAckAllowed()) return;
    this.lastOowAck = now;
    this.sendAck();
  }

  /**
   * An active reset (Linux tcp_send_active_reset): RST+ACK at snd.nxt, for
   * `name`; `state` is what the kernel's tracepoint shows (it has often
   * moved to CLOSE by then).
   */
  sendActiveReset(name: RstReason, state: string = this.state): void {
    this.send(RST | ACK, this.sndMax, EMPTY, undefined, { name, state });
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
    this.drive.armRto(this);
  }

  /** Whether our FIN is acknowledged. */
  get finAcked(): boolean {
    return this.finSeq !== undefined && seq.gt(this.sndUna, this.finSeq);
  }

  /** Sends what the windows, Nagle, recovery and the FIN allow (`tcb_output.ts`). */
  trySend(): void {
    this.drive.trySend(this);
  }

  /** A new RTT sample in ms (RFC 6298 §2.2–2.3, with Linux's floor on the variance term). */
  rttSample(r: number): void {
    // tcp_update_rtt_min: a zero sample counts as one jiffy.
    this.recovery.minRtt = Math.min(this.recovery.minRtt, r || this.profile.jiffyMs);
    if (!this.rttSeen) {
      this.rttSeen = true;
      this.srtt = r;
      this.rttvar = r / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - r);
      this.srtt = 0.875 * this.srtt + 0.125 * r;
    }
    const p = this.profile;
    this.rto = Math.min(p.rtoMaxMs, this.srtt + Math.max(4 * this.rttvar, p.rtoMinMs));
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

  /**
   * The application read: if that opened the window enough, tell the peer
   * (Linux tcp_cleanup_rbuf: when the new window is at least twice what is
   * still advertised, RFC 9293 §3.8.6.2.2).
   */
  afterRead(): void {
    const s = this.state;
    if (s !== "ESTABLISHED" && s !== "FIN_WAIT1" && s !== "FIN_WAIT2") return;
    const now = Math.max(0, seq.diff(this.rcvAdvEdge, this.rcvNxt));
    if (2 * now > this.rcvWndClamp) return;
    const fresh = this.freshWindow();
    if (fresh > 0 && fresh >= 2 * now) this.sendAck();
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
      // tcp_close checks unread data first; linger 0 resets through tcp_disconnect.
      const why = unread ? "TCP_ABORT_ON_CLOSE" : "TCP_STATE";
      if (s !== "SYN_RECV" || !this.passive) this.sendActiveReset(why, "CLOSE");
      this.setState("CLOSE");
      return;
    }
    if (s === "FIN_WAIT2") this.drive.startFinWait2(this);
    this.shutdownWrite();
  }

  /** The TCP_INFO view of this connection (Linux tcp_get_info, in `tcp_info.ts`). */
  info(): TcpInfo {
    return this.drive.tcpInfo(this);
  }
}

const EMPTY = new Uint8Array(0);
