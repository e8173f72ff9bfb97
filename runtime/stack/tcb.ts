/**
 * One TCP connection of the built-in stack: the transmission control block of
 * RFC 9293 §3.3.1. Its two halves own their state, as gVisor's `snd.go` and
 * `rcv.go` do: the `Sender` (`t.snd`: send sequence space, send buffer,
 * congestion and RTT state) and the `Receiver` (`t.rcv`: receive sequence
 * space, receive buffer, delayed ACKs, the advertised window). The `Tcb` keeps
 * what belongs to the whole connection: its state, the negotiated options, the
 * connection timers and the application calls. The rest lives beside it:
 * segment arrival in `tcb_input.ts`, sending and retransmission in
 * `tcb_output.ts`, timers in `tcb_timers.ts`, congestion control in
 * `congestion_control.ts`, loss recovery in `loss_recovery.ts` (RFC) and
 * `linux_recovery.ts` (Linux); sockets, demultiplexing and passive resets in
 * `stack.ts`.
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
import type { StackProfile } from "./profile.ts";
import { Receiver } from "./receiver.ts";
import { Sender } from "./sender.ts";
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

  /** The sending half: sequence space, buffer, congestion and RTT state (`sender.ts`). */
  readonly snd: Sender;
  /** The receiving half: sequence space, buffer, ACK state and window (`receiver.ts`). */
  readonly rcv: Receiver;

  // Negotiated options.
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

  keepaliveTimer: Timer | undefined;
  /** Zero-window or keepalive probes sent and not answered (icsk_probes_out). */
  probesOut = 0;
  /** When a segment last arrived, for keepalive. */
  lastRecv = 0;
  /** When we last answered an invalid segment (tcp_invalid_ratelimit). */
  lastOowAck = -Infinity;
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
    const mss = tuple.localAddr.length === 16 ? DEFAULT_MSS_V6 : DEFAULT_MSS_V4;
    this.snd = new Sender(iss, mss, p);
    this.rcv = new Receiver(mss, p.quickAcks);
    this.tsOffset = tsOffset >>> 0;
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
    const mss = this.pmtu ? Math.min(this.snd.mss, this.pmtu - (this.v6 ? 60 : 40)) : this.snd.mss;
    return mss - (this.tsOk ? TS_ALIGNED : 0);
  }

  /** The timestamp clock: ms since the run started plus a random offset (RFC 7323 §5.4). */
  tsVal(): number {
    return (this.tsOffset + Math.floor(this.host.clock.now())) >>> 0;
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
    this.snd.buf.clear();
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
    if (ws) out.push({ kind: "nop" }, { kind: "wscale", shift: this.rcv.wscale });
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
    if (mss !== undefined) this.snd.mss = Math.max(48, Math.min(mss, this.advMss));
    else this.snd.mss = Math.min(this.snd.mss, this.advMss);
    this.wscaleOk = ws !== undefined && p.windowScaling && weOffered;
    this.snd.wscale = this.wscaleOk ? Math.min(ws!, MAX_WSCALE) : 0;
    this.rcv.wscale = this.wscaleOk ? this.ourWscale() : 0;
    this.tsOk = ts !== undefined && p.timestamps && weOffered;
    if (this.tsOk) this.tsRecent = ts!.val;
    this.sackOk = sack && p.sack && weOffered;
    this.rcv.mss = this.snd.mss;
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
    return this.rcv.space(this.opts.rcvBuf);
  }

  /** The window on a SYN or SYN-ACK: never scaled (RFC 7323 §2.2), rounded down to whole segments. */
  synWindow(): number {
    // An active open keeps the window its SYN offered, sized before timestamps were
    // known (Linux tcp_connect_init); a simultaneous open's SYN-ACK repeats it.
    if (!this.passive && this.#activeSynWnd !== undefined) return this.#activeSynWnd;
    const m = this.advMss - (this.tsOk ? TS_ALIGNED : 0);
    const w = Math.min(this.space(), 65535);
    this.rcv.wndClamp = Math.floor(w / m) * m;
    if (!this.passive) this.#activeSynWnd = this.rcv.wndClamp;
    return this.rcv.wndClamp;
  }

  /** What the window would be now, before the never-shrink rule (`Receiver.freshWindow`). */
  freshWindow(): number {
    return this.rcv.freshWindow(this.opts.rcvBuf);
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
      if (this.sackOk && flags & ACK && !(flags & RST) && !this.rcv.sackBlocks.empty) {
        const blocks = this.rcv.sackBlocks.take(MAX_SACK_BLOCKS - (this.tsOk ? 1 : 0));
        opts.push({ kind: "nop" }, { kind: "nop" }, { kind: "sack", blocks });
      }
    }
    if (flags & ACK) {
      this.host.clock.cancel(this.rcv.ackTimer);
      this.rcv.ackTimer = undefined;
      this.rcv.unackedSegs = 0;
    }
    // A reset without ACK answers a segment, not the connection: window 0, as Linux's tcp_v4_send_reset.
    const window = flags & RST && !(flags & ACK)
      ? 0
      : syn
      ? this.synWindow()
      : this.rcv.windowField(this.opts.rcvBuf);
    if (syn) this.rcv.advEdge = seq.add(this.rcv.nxt, window);
    const t = this.tuple;
    this.segsOut++;
    if (payload.length) this.dataSegsOut++;
    if ((payload.length || flags & FIN) && !(flags & (SYN | RST))) {
      const end = seq.add(seqNo, payload.length + (flags & FIN ? 1 : 0));
      this.drive.recovery(this).segmentSent(this, seqNo, end);
    }
    this.host.emit({
      ip: ipHeader(t.localAddr, t.remoteAddr, !this.pmtuLocked),
      transport: {
        kind: "tcp",
        srcPort: t.localPort,
        dstPort: t.remotePort,
        seq: seqNo >>> 0,
        ack: flags & ACK ? this.rcv.nxt : 0,
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
    this.send(ACK, this.snd.max, EMPTY);
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
    this.send(RST | ACK, this.snd.max, EMPTY, undefined, { name, state });
  }

  /** Sends our SYN (active open). */
  sendSyn(): void {
    // State first: the segment may be answered before send() returns.
    this.#synSent();
    this.send(SYN, this.snd.iss, EMPTY, this.synOptions(false));
  }

  /** Sends our SYN-ACK (passive open). */
  sendSynAck(): void {
    this.#synSent();
    this.send(SYN | ACK, this.snd.iss, EMPTY, this.synOptions(true));
  }

  #synSent(): void {
    this.snd.nxt = this.snd.max = seq.add(this.snd.iss, 1);
    this.snd.rttProbe = { seq: this.snd.nxt, at: this.host.clock.now() };
    this.drive.armRto(this);
  }

  /** Sends what the windows, Nagle, recovery and the FIN allow (`tcb_output.ts`). */
  trySend(): void {
    this.drive.trySend(this);
  }

  // --- Application calls ---------------------------------------------------------------

  /** Queues data for sending; returns how many bytes fit in the send buffer. */
  write(data: Uint8Array): number {
    const room = Math.max(0, this.opts.sndBuf - this.snd.buf.length);
    const n = Math.min(room, data.length);
    if (n > 0) {
      this.snd.buf.push(n === data.length ? data : data.subarray(0, n));
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
    const now = Math.max(0, seq.diff(this.rcv.advEdge, this.rcv.nxt));
    if (2 * now > this.rcv.wndClamp) return;
    const fresh = this.freshWindow();
    if (fresh > 0 && fresh >= 2 * now) this.sendAck();
  }

  /** shutdown(SHUT_WR): queue a FIN (RFC 9293 §3.10.4). */
  shutdownWrite(): void {
    if (this.snd.finQueued) return;
    if (this.state === "ESTABLISHED" || this.state === "SYN_RECV") this.setState("FIN_WAIT1");
    else if (this.state === "CLOSE_WAIT") this.setState("LAST_ACK");
    else return;
    this.snd.finQueued = true;
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
    const unread = this.rcv.buf.readable > 0 || this.rcv.buf.oooBytes > 0;
    const lingerZero = this.opts.linger?.onoff === true && this.opts.linger.linger === 0;
    if (unread || lingerZero) {
      this.rcv.buf.clear();
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
