/**
 * synack's built-in TCP stack: one host with its addresses, connections,
 * listeners and sockets. `input` takes IP datagrams; `output` is called
 * with each datagram the stack sends; `call` makes socket calls. Everything
 * runs on the given clock, so on a `VirtualClock` a run is deterministic
 * (ISNs, timestamp offsets and ephemeral ports come from a seeded generator).
 *
 * Segments that match no connection get the passive reset of RFC 9293
 * §3.10.7.1, as Linux's `tcp_v4_send_reset` sends it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { VirtualClock } from "../engine/clock.ts";
 * import { emitPacket, parsePacket } from "../wire/packet.ts";
 * import { parseLine } from "../wire/line_parse.ts";
 * import { Stack } from "./stack.ts";
 * const out: Uint8Array[] = [];
 * const stack = new Stack({ clock: new VirtualClock(), addresses: ["192.168.0.1"] });
 * stack.output = (b) => out.push(b);
 * stack.input(emitPacket(parseLine("192.0.2.1:40000 > 192.168.0.1:9 . 1:1(0) ack 5000 win 100").packet));
 * const rst = parsePacket(out[0]).transport;
 * assert.equal(rst.kind === "tcp" && [rst.flags, rst.seq].join(), "4,5000");
 * ```
 */
import type { Clock } from "../engine/clock.ts";
import type { CallHandle, SocketApi } from "../engine/target.ts";
import { address } from "../wire/address.ts";
import {
  emitPacket,
  type IpFields,
  ipHeader,
  type PacketSpec,
  parsePacket,
} from "../wire/packet.ts";
import { seq } from "../wire/seq.ts";
import type { SocketCall } from "../wire/socket_call.ts";
import type { TcpOption } from "../wire/tcp_options.ts";
import { segmentLength, type TcpFields, TcpFlag } from "../wire/tcp.ts";
import { profiles, type StackProfile } from "./profile.ts";
import { SocketLayer } from "./socket_layer.ts";
import {
  DEFAULT_MSS_V4,
  DEFAULT_MSS_V6,
  type ResetWhy,
  Tcb,
  type TcbHost,
  type TcbOptions,
  type Tuple,
} from "./tcb.ts";
import type { DropReason } from "../wire/stack_reasons.ts";
import { ReasonBook } from "../engine/reason_book.ts";
import { icmpArrives } from "./icmp_input.ts";
import {
  checkCookie,
  COOKIE_VALID_MS,
  cookieHash,
  cookieMinute,
  decodeTsOptions,
  encodeTsOptions,
  makeCookie,
  MSS_TABLE,
  mssIndex,
} from "./syn_cookies.ts";
import { mulberry32 } from "../engine/mulberry32.ts";
import { TCB_DRIVER } from "./tcb_wiring.ts";
import { segmentArrives, takeWindow, timeWaitReuse } from "./tcb_input.ts";
import type { Listener, StackCounters, StackHost } from "./stack_host.ts";

/** How to build a stack. */
export interface StackOptions {
  clock: Clock;
  /** The host's addresses, IPv4 and/or IPv6. */
  addresses: ReadonlyArray<string | Uint8Array>;
  profile?: StackProfile;
  /** Seed of the generator behind ISNs, timestamp offsets and ephemeral ports. */
  seed?: number;
}

export type { Listener, StackCounters } from "./stack_host.ts";

/** Linux sk_acceptq_is_full: more waiting than the backlog (so backlog 0 still takes one). */
function queueFull(l: Listener): boolean {
  return l.queue.length > l.backlog;
}

const { SYN, RST, ACK } = TcpFlag;

function addrKey(a: Uint8Array): string | number {
  return a.length === 4 ? ((a[0] << 24) | (a[1] << 16) | (a[2] << 8) | a[3]) >>> 0 : a.join(".");
}

/** The built-in stack. */
export class Stack implements SocketApi, TcbHost, StackHost {
  readonly clock: Clock;
  profile: StackProfile;
  readonly addresses: readonly Uint8Array[];
  /** Called with every datagram the stack sends. */
  output: (bytes: Uint8Array) => void = () => {};
  readonly counters: StackCounters = {
    malformed: 0,
    badChecksum: 0,
    notOurs: 0,
    passiveResets: 0,
    listenDrops: 0,
    challengeAcksSkipped: 0,
    icmpIgnored: 0,
  };
  readonly random: () => number;
  /** RFC 5961 §7: the challenge-ACK budget of the current second. */
  #challenge = { second: -1, left: 0 };
  /** Draws each second's challenge-ACK budget (its own, so ISNs stay as they were). */
  readonly #challengeDraw: () => number;
  readonly #conns = new Map<string, Tcb>();
  readonly listeners = new Map<number, Listener>();
  readonly #sockets: SocketLayer;
  /** Why it reset or dropped what it did, by datagram, in the kernel's words. */
  readonly reasons = new ReasonBook();
  /** The datagram being taken in now: what `drop()` is about. */
  #inbound: Uint8Array | undefined;
  readonly driver = TCB_DRIVER;
  /** The key of SYN cookies and of their connections' timestamp offsets. */
  readonly #cookieSecret: number;

  constructor(o: StackOptions) {
    this.clock = o.clock;
    this.profile = o.profile ?? profiles.linux;
    this.addresses = o.addresses.map((a) => typeof a === "string" ? address.parse(a) : a);
    this.random = mulberry32(o.seed ?? 0x5eed);
    // Its own draw, so that the ISNs of every run stay as they were before cookies.
    this.#cookieSecret = mulberry32((o.seed ?? 0x5eed) ^ 0x5ec7e7)();
    this.#challengeDraw = mulberry32((o.seed ?? 0x5eed) ^ 0xc4a11e);
    this.#sockets = new SocketLayer(this);
  }

  /** Makes a socket call; blocking calls return once the connection allows. */
  call(c: SocketCall): CallHandle {
    return this.#sockets.call(c);
  }

  /** Every connection, listeners excluded. */
  connections(): Tcb[] {
    return [...this.#conns.values()];
  }

  /** Whether `a` is one of this host's addresses. */
  owns(a: Uint8Array): boolean {
    return this.addresses.some((x) => address.equal(x, a));
  }

  /** The first address of a family, for connect() from an unbound socket. */
  addressFor(family: 4 | 16): Uint8Array | undefined {
    return this.addresses.find((a) => a.length === family);
  }

  // --- TcbHost -------------------------------------------------------------------

  emit(spec: PacketSpec, reset?: ResetWhy): void {
    const bytes = emitPacket(spec);
    if (reset) this.reasons.reset(bytes, reset.name, reset.state);
    this.output(bytes);
  }

  drop(reason: DropReason): void {
    if (this.#inbound) this.reasons.drop(this.#inbound, reason);
  }

  established(t: Tcb): void {
    const l = this.listeners.get(t.tuple.localPort);
    if (l) l.queue.push(t);
    this.#sockets.kick();
  }

  acceptQueueFull(t: Tcb): boolean {
    const l = this.listeners.get(t.tuple.localPort);
    return l !== undefined && queueFull(l);
  }

  /**
   * Linux's tcp_challenge_ack_allowed: each second (jiffies / HZ; here the
   * run's own seconds) draws a budget at random in [⌈limit/2⌉, limit +
   * ⌈limit/2⌉ − 1], so an attacker cannot count on the limit (CVE-2016-5696).
   * INT_MAX means no limit.
   */
  challengeAckAllowed(): boolean {
    const limit = this.profile.challengeAckLimit;
    if (limit === 0x7fffffff) return true;
    const second = Math.floor(this.clock.now() / 1000);
    const c = this.#challenge;
    if (c.second !== second) {
      c.second = second;
      const half = (limit + 1) >> 1;
      // limit 0 wraps the kernel's u32 range to [0, 2^32 − 1].
      c.left = limit === 0 ? this.#challengeDraw() : half + (this.#challengeDraw() % limit);
    }
    if (c.left <= 0) {
      this.counters.challengeAcksSkipped++;
      return false;
    }
    c.left--;
    return true;
  }

  removed(t: Tcb): void {
    const k = this.#key(
      t.tuple.localAddr,
      t.tuple.localPort,
      t.tuple.remoteAddr,
      t.tuple.remotePort,
    );
    if (this.#conns.get(k) === t) this.#conns.delete(k);
    this.#sockets.kick();
  }

  // --- Connections ------------------------------------------------------------------

  #key(la: Uint8Array, lp: number, ra: Uint8Array, rp: number): string {
    return `${lp}|${rp}|${addrKey(ra)}|${addrKey(la)}`;
  }

  /** Opens an active connection (connect()). */
  openActive(tuple: Tuple, opts: TcbOptions): Tcb | undefined {
    const k = this.#key(tuple.localAddr, tuple.localPort, tuple.remoteAddr, tuple.remotePort);
    if (this.#conns.has(k)) return undefined;
    const t = new Tcb(this, tuple, opts, this.random(), this.random());
    this.#conns.set(k, t);
    t.setState("SYN_SENT");
    t.rcv.wscale = this.profile.windowScaling ? t.ourWscale() : 0;
    t.sendSyn();
    return t;
  }

  /** Whether any connection uses local port `port`. */
  portInUse(port: number): boolean {
    for (const t of this.#conns.values()) if (t.tuple.localPort === port) return true;
    return this.listeners.has(port);
  }

  /** A free ephemeral port (Linux ip_local_port_range 32768..60999). */
  ephemeralPort(): number | undefined {
    for (let i = 0; i < 64; i++) {
      const p = 32768 + (this.random() % (60999 - 32768 + 1));
      if (!this.portInUse(p)) return p;
    }
    for (let p = 32768; p <= 60999; p++) if (!this.portInUse(p)) return p;
    return undefined;
  }

  // --- Input ----------------------------------------------------------------------------

  /** Takes one IP datagram from the wire. */
  input(bytes: Uint8Array): void {
    // What it answers may come straight back in (a peer stack on the same clock).
    const outer = this.#inbound;
    this.#inbound = bytes;
    try {
      this.#input(bytes);
    } finally {
      this.#inbound = outer;
    }
  }

  #input(bytes: Uint8Array): void {
    let ip: IpFields;
    let seg: TcpFields;
    try {
      const p = parsePacket(bytes);
      if (p.transport.kind === "icmpv4" || p.transport.kind === "icmpv6") {
        if (this.owns(p.ip.dst) && p.transport.checksumOk !== false) {
          icmpArrives(this, p.transport);
          this.#sockets.kick();
        } else this.counters.notOurs++;
        return;
      }
      if (p.transport.kind !== "tcp") {
        this.counters.notOurs++;
        return;
      }
      ip = p.ip;
      seg = p.transport;
    } catch {
      this.counters.malformed++;
      return;
    }
    if (!this.owns(ip.dst)) {
      this.counters.notOurs++;
      return;
    }
    if (seg.checksumOk === false) {
      this.counters.badChecksum++;
      this.drop("TCP_CSUM");
      return;
    }
    let t = this.#conns.get(this.#key(ip.dst, seg.dstPort, ip.src, seg.srcPort));
    let isn: number | undefined;
    if (t?.state === "TIME_WAIT" && (seg.flags & (SYN | ACK | RST)) === SYN) {
      isn = timeWaitReuse(t, seg);
      if (isn === undefined) t.sendOowAck();
      else {
        t.setState("CLOSE");
        t = undefined;
      }
      if (t) return;
    }
    if (t) segmentArrives(t, seg);
    else {
      const l = this.listeners.get(seg.dstPort);
      if (l && (!l.addr || address.equal(l.addr, ip.dst))) this.#listenInput(l, ip, seg, isn);
      else this.#passiveReset(ip, seg);
    }
    this.#sockets.kick();
  }

  /** The connection an ICMP error's quoted segment belongs to (we sent it, so we are its source). */
  connectionFor(
    local: Uint8Array,
    lport: number,
    remote: Uint8Array,
    rport: number,
  ): Tcb | undefined {
    return this.#conns.get(this.#key(local, lport, remote, rport));
  }

  /** RFC 9293 §3.10.7.2, LISTEN. `isn` is set when a SYN reuses a TIME-WAIT tuple. */
  #listenInput(l: Listener, ip: IpFields, seg: TcpFields, isn?: number): void {
    const f = seg.flags;
    if (f & RST) return this.drop("TCP_RESET");
    if (f & ACK) {
      if (!(f & SYN) && this.#cookieAck(l, ip, seg)) return;
      // tcp_rcv_state_process in LISTEN: an ACK is refused as TCP_FLAGS, reset by the listener.
      this.#passiveReset(ip, seg, { name: "TCP_FLAGS", state: "LISTEN" });
      return;
    }
    if (!(f & SYN)) return this.drop("TCP_FLAGS");
    // tcp_conn_request: more requests than the backlog (or tcp_syncookies = 2) is a cookie,
    // or a drop without cookies; then a full accept queue drops either.
    const cookies = this.profile.synCookies;
    const cookie = isn === undefined && (cookies === 2 || this.#pendingRequests(l) > l.backlog);
    if (cookie && !cookies) {
      this.counters.listenDrops++;
      return;
    }
    if (queueFull(l)) {
      // Linux drops a SYN while the accept queue is full; the client will retry. It counts
      // ListenOverflows but consumes the SYN: the kernel gives no drop reason.
      this.counters.listenDrops++;
      return;
    }
    const tuple = {
      localAddr: ip.dst,
      localPort: seg.dstPort,
      remoteAddr: ip.src,
      remotePort: seg.srcPort,
    };
    if (cookie) return this.#cookieSynAck(l, seg, tuple);
    const t = new Tcb(this, tuple, { ...l.opts }, isn ?? this.random(), this.random());
    t.passive = true;
    t.segsIn++;
    t.rcv.irs = seg.seq;
    t.rcv.nxt = seq.add(seg.seq, 1);
    t.negotiate(seg.options, true);
    t.peerSynOptions = seg.options;
    takeWindow(t, seg, true);
    this.#conns.set(this.#key(ip.dst, seg.dstPort, ip.src, seg.srcPort), t);
    t.setState("SYN_RECV");
    t.sendSynAck();
  }

  /** Requests waiting for their handshake's ACK: Linux's request sock queue. */
  #pendingRequests(l: Listener): number {
    let n = 0;
    for (const t of this.#conns.values()) {
      if (t.passive && t.state === "SYN_RECV" && t.tuple.localPort === l.port) n++;
    }
    return n;
  }

  /** Linux's per-tuple timestamp offset (secure_tcp_ts_off): the cookie's SYN-ACK and its child agree. */
  #cookieTsOffset(tuple: Tuple): number {
    return cookieHash(this.#cookieSecret, tuple, 0, 2);
  }

  /**
   * A SYN-ACK whose sequence number is a SYN cookie (`syn_cookies.ts`),
   * and nothing kept. Without the peer's timestamps it offers MSS only.
   */
  #cookieSynAck(l: Listener, seg: TcpFields, tuple: Tuple): void {
    const family = tuple.localAddr.length as 4 | 16;
    const mssOpt = seg.options.find((o) => o.kind === "mss");
    const peerMss = mssOpt?.kind === "mss"
      ? mssOpt.value
      : family === 4
      ? DEFAULT_MSS_V4
      : DEFAULT_MSS_V6;
    const now = this.clock.now();
    const iss = makeCookie(
      this.#cookieSecret,
      tuple,
      seg.seq,
      mssIndex(peerMss, family),
      cookieMinute(now),
    );
    const t = new Tcb(this, tuple, { ...l.opts }, iss, this.#cookieTsOffset(tuple));
    t.passive = true;
    t.rcv.irs = seg.seq;
    t.rcv.nxt = seq.add(seg.seq, 1);
    const ts = seg.options.some((o) => o.kind === "ts");
    t.negotiate(ts ? seg.options : seg.options.filter((o) => o.kind === "mss"), true);
    const options = t.synOptions(true).map((o) =>
      o.kind === "ts"
        ? { ...o, val: encodeTsOptions(o.val, t.wscaleOk ? t.snd.wscale : undefined, t.sackOk) }
        : o
    );
    t.send(SYN | ACK, iss, new Uint8Array(0), options);
    l.lastOverflow = now;
  }

  /**
   * An ACK to a listener that may answer a cookie (cookie_v4_check): taken
   * only within two minutes of an overflow, when the cookie decodes and the
   * echoed timestamp's options are ones this stack has on. The connection
   * then starts in SYN-RECEIVED as if its SYN-ACK had gone out, and the ACK
   * completes it; a full accept queue drops it, and nothing remains.
   */
  #cookieAck(l: Listener, ip: IpFields, seg: TcpFields): boolean {
    const p = this.profile;
    const now = this.clock.now();
    if (!p.synCookies || l.lastOverflow === undefined) return false;
    if (now - l.lastOverflow > COOKIE_VALID_MS) return false;
    const tuple = {
      localAddr: ip.dst,
      localPort: seg.dstPort,
      remoteAddr: ip.src,
      remotePort: seg.srcPort,
    };
    const iss = seq.add(seg.ack, -1);
    const irs = seq.add(seg.seq, -1);
    const index = checkCookie(this.#cookieSecret, tuple, irs, iss, cookieMinute(now));
    if (index === undefined) return false;
    const synOptions: TcpOption[] = [
      { kind: "mss", value: MSS_TABLE[tuple.localAddr.length as 4 | 16][index] },
    ];
    const ts = seg.options.find((o) => o.kind === "ts");
    if (ts?.kind === "ts") {
      const d = decodeTsOptions(ts.ecr);
      if (!p.timestamps || (d.sack && !p.sack) || (d.wscale !== undefined && !p.windowScaling)) {
        return false;
      }
      synOptions.push({ kind: "ts", val: ts.val, ecr: 0 });
      if (d.sack) synOptions.push({ kind: "sackOk" });
      if (d.wscale !== undefined) synOptions.push({ kind: "wscale", shift: d.wscale });
    }
    const t = new Tcb(this, tuple, { ...l.opts }, iss, this.#cookieTsOffset(tuple));
    t.passive = true;
    t.fromCookie = true;
    t.rcv.irs = irs;
    t.rcv.nxt = seg.seq;
    t.negotiate(synOptions, true);
    t.peerSynOptions = synOptions;
    t.snd.nxt = t.snd.max = seg.ack;
    t.snd.wl1 = irs;
    this.#conns.set(this.#key(ip.dst, seg.dstPort, ip.src, seg.srcPort), t);
    t.setState("SYN_RECV");
    segmentArrives(t, seg);
    return true;
  }

  /**
   * RFC 9293 §3.10.7.1 for a segment no connection owns: with ACK, the reset
   * takes its sequence number from the ACK field; without, it is sequence 0
   * with ACK set and acknowledges everything the segment occupied.
   */
  #passiveReset(
    ip: IpFields,
    seg: TcpFields,
    why: ResetWhy = { name: "NO_SOCKET" },
  ): void {
    const f = seg.flags;
    this.drop(why.name === "NO_SOCKET" ? "NO_SOCKET" : "TCP_FLAGS");
    if (f & RST) return;
    this.counters.passiveResets++;
    const hasAck = (f & ACK) !== 0;
    this.emit({
      ip: ipHeader(ip.dst, ip.src),
      transport: {
        kind: "tcp",
        srcPort: seg.dstPort,
        dstPort: seg.srcPort,
        seq: hasAck ? seg.ack : 0,
        ack: hasAck ? 0 : seq.add(seg.seq, segmentLength(seg)),
        flags: hasAck ? RST : RST | ACK,
        window: 0,
        urgent: 0,
        options: [],
        payload: new Uint8Array(0),
      },
    }, why);
  }
}
