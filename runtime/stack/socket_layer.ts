/**
 * The socket API of the built-in stack: file descriptors, and the calls a
 * scenario makes, with the return values and errno codes Linux gives (see
 * the man pages socket(7), tcp(7), accept(2), connect(2), read(2)…).
 *
 * A call that would block (accept with an empty queue, a blocking connect,
 * a read with no data) returns a handle without a result; the result is set
 * when a later segment or timer lets the call complete, as a blocked thread
 * would wake up. Non-blocking sockets (`O_NONBLOCK`) get EAGAIN or
 * EINPROGRESS instead.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { VirtualClock } from "../engine/clock.ts";
 * import { Stack } from "./stack.ts";
 * const s = new Stack({ clock: new VirtualClock(), addresses: ["192.168.0.1"] });
 * assert.deepEqual(s.call({ name: "socket", nonblock: true }).result, { ok: true, value: 3 });
 * assert.deepEqual(s.call({ name: "accept", fd: 3 }).result, { ok: false, errno: "EINVAL" });
 * assert.deepEqual(s.call({ name: "read", fd: 9, count: 1 }).result, { ok: false, errno: "EBADF" });
 * ```
 */
import type { CallHandle } from "../engine/target.ts";
import { address } from "../wire/address.ts";
import { assertNever } from "../wire/assert_never.ts";
import { concatBytes } from "../wire/concat_bytes.ts";
import {
  Errno,
  type ErrnoName,
  formatPollEvents,
  type GetSockOptName,
  PollEvent,
  type SocketCall,
  type SockOpt,
  type SysResult,
  type TcpInfo,
  type TcpStateName,
} from "../wire/socket_call.ts";
import type { Listener, StackHost } from "./stack_host.ts";
import type { Tcb, TcbOptions } from "./tcb.ts";
import { armKeepalive } from "./tcb_timers.ts";

interface Sock {
  fd: number;
  family: 4 | 6;
  nonblock: boolean;
  opts: TcbOptions;
  reuseaddr: boolean;
  bound?: { addr: Uint8Array | undefined; port: number };
  listener?: Listener;
  tcb?: Tcb;
  /** A non-blocking connect() is in progress (Linux SS_CONNECTING): the next connect() reports it. */
  connecting?: boolean;
}

interface Waiter {
  h: CallHandle;
  check: () => SysResult | undefined;
}

type Outcome = SysResult | { wait: () => SysResult | undefined };

const MAX_FDS = 1024;
const ok = (value: Extract<SysResult, { ok: true }>["value"]): SysResult => ({ ok: true, value });
const err = (errno: ErrnoName): SysResult => ({ ok: false, errno });

/** Sockets and blocked calls of one stack. */
export class SocketLayer {
  readonly #stack: StackHost;
  readonly #fds = new Map<number, Sock>();
  #waiters: Waiter[] = [];

  constructor(stack: StackHost) {
    this.#stack = stack;
  }

  /** Starts a call; the handle has its result at once unless the call blocks. */
  call(c: SocketCall): CallHandle {
    const h: CallHandle = {};
    const o = this.#exec(c);
    if ("wait" in o) {
      const now = o.wait();
      if (now) this.#finish(h, now);
      else this.#waiters.push({ h, check: o.wait });
    } else this.#finish(h, o);
    return h;
  }

  /** Re-checks blocked calls after the stack's state changed. */
  kick(): void {
    if (!this.#waiters.length) return;
    const still: Waiter[] = [];
    for (const w of this.#waiters) {
      const r = w.check();
      if (r) this.#finish(w.h, r);
      else still.push(w);
    }
    this.#waiters = still;
  }

  #finish(h: CallHandle, r: SysResult): void {
    h.result = r;
    h.time = this.#stack.clock.now();
  }

  #exec(c: SocketCall): Outcome {
    if (c.name === "socket") return this.#socket(c.family ?? 4, c.nonblock ?? false);
    const s = this.#fds.get(c.fd);
    if (!s) return err("EBADF");
    switch (c.name) {
      case "bind":
        return this.#bind(s, c.addr, c.port);
      case "listen":
        return this.#listen(s, c.backlog);
      case "accept":
        return this.#accept(s);
      case "connect":
        return this.#connect(s, c.addr, c.port);
      case "write":
        return this.#write(s, c.data);
      case "read":
        return this.#read(s, c.count, c.all === true);
      case "shutdown":
        return this.#shutdown(s, c.how);
      case "close":
        return this.#close(s);
      case "setsockopt":
        return this.#setsockopt(s, c.opt);
      case "getsockopt":
        return this.#getsockopt(s, c.opt);
      case "fcntl":
        s.nonblock = c.nonblock;
        return ok(0);
      case "poll":
        return this.#poll(s, c.events, c.timeoutMs);
      default:
        return assertNever(c, "socket call");
    }
  }

  /** What poll() would report for `s` now, as Linux's tcp_poll computes it. */
  #revents(s: Sock): number {
    if (s.listener) return s.listener.queue.length ? PollEvent.POLLIN : 0;
    const t = s.tcb;
    if (!t) return PollEvent.POLLOUT | PollEvent.POLLHUP;
    let m = t.error ? PollEvent.POLLERR : 0;
    const closed = t.state === "CLOSE";
    if (closed || (t.rcv.finReceived && t.snd.finQueued)) m |= PollEvent.POLLHUP;
    if (t.rcv.finReceived || t.rcv.readShut || closed) m |= PollEvent.POLLIN | PollEvent.POLLRDHUP;
    if (t.rcv.buf.readable > 0) m |= PollEvent.POLLIN;
    const synced = t.state !== "SYN_SENT" && t.state !== "SYN_RECV";
    // Writable when connected with room in the send buffer; after shutdown(SHUT_WR) too.
    if (synced && (t.snd.finQueued || closed || t.opts.sndBuf - t.snd.buf.length > 0)) {
      m |= PollEvent.POLLOUT;
    }
    return m;
  }

  #poll(s: Sock, events: number, timeoutMs: number): Outcome {
    const wanted = events | PollEvent.POLLERR | PollEvent.POLLHUP;
    const clock = this.#stack.clock;
    let expired = timeoutMs <= 0;
    if (!expired) {
      clock.setTimer(clock.now() + timeoutMs, () => {
        expired = true;
        this.kick();
      });
    }
    return {
      wait: () => {
        const r = this.#revents(s) & wanted;
        if (r || expired) return ok({ revents: formatPollEvents(r) });
        return undefined;
      },
    };
  }

  #socket(family: 4 | 6, nonblock: boolean): SysResult {
    let fd = 3;
    while (this.#fds.has(fd)) fd++;
    if (fd >= MAX_FDS) return err("EMFILE");
    const p = this.#stack.profile;
    this.#fds.set(fd, {
      fd,
      family,
      nonblock,
      opts: { nodelay: false, cork: false, keepalive: false, rcvBuf: p.rcvBuf, sndBuf: p.sndBuf },
      reuseaddr: false,
    });
    return ok(fd);
  }

  #portTaken(s: Sock, port: number): boolean {
    for (const o of this.#fds.values()) {
      if (o === s || (o.bound?.port !== port && o.tcb?.tuple.localPort !== port)) continue;
      // Linux inet_bind_conflict(): two SO_REUSEADDR sockets share a port unless one listens.
      if (s.reuseaddr && o.reuseaddr && !o.listener) continue;
      return true;
    }
    return !s.reuseaddr && this.#stack.portInUse(port);
  }

  #bind(s: Sock, addr: string | undefined, port: number): SysResult {
    if (s.bound || s.tcb) return err("EINVAL");
    let a: Uint8Array | undefined;
    if (addr !== undefined && addr !== "0.0.0.0" && addr !== "::") {
      if (!address.isValid(addr)) return err("EINVAL");
      a = address.parse(addr);
      if (!this.#stack.owns(a)) return err("EADDRNOTAVAIL");
    }
    if (port === 0) {
      const p = this.#stack.ephemeralPort();
      if (p === undefined) return err("EADDRINUSE");
      port = p;
    } else if (this.#portTaken(s, port)) return err("EADDRINUSE");
    s.bound = { addr: a, port };
    return ok(0);
  }

  #listen(s: Sock, backlog: number | undefined): SysResult {
    if (s.tcb) return err("EINVAL");
    if (!s.bound) {
      const r = this.#bind(s, undefined, 0);
      if (!r.ok) return r;
    }
    // Linux __sys_listen: the backlog is capped at somaxconn; 0 still admits one connection.
    const cap = Math.max(0, Math.min(backlog ?? 128, this.#stack.profile.somaxconn));
    if (s.listener) {
      s.listener.backlog = cap;
      return ok(0);
    }
    const l: Listener = {
      port: s.bound!.port,
      addr: s.bound!.addr,
      backlog: cap,
      queue: [],
      opts: s.opts,
    };
    this.#stack.listeners.set(l.port, l);
    s.listener = l;
    return ok(0);
  }

  #accept(s: Sock): Outcome {
    const l = s.listener;
    if (!l) return err("EINVAL");
    const take = (): SysResult | undefined => {
      const t = l.queue.shift();
      if (!t) return undefined;
      const r = this.#socket(s.family, false);
      if (!r.ok) return r;
      const child = this.#fds.get(Number(r.value))!;
      child.tcb = t;
      child.opts = t.opts;
      child.bound = { addr: t.tuple.localAddr, port: t.tuple.localPort };
      return r;
    };
    if (s.nonblock) return take() ?? err("EAGAIN");
    return { wait: () => (this.#fds.get(s.fd) === s ? take() : err("EBADF")) };
  }

  #connect(s: Sock, addr: string | undefined, port: number): Outcome {
    if (s.listener) return err("EISCONN");
    if (s.tcb) {
      // Linux __inet_stream_connect: after a non-blocking connect, the first call
      // once the handshake ends reports its outcome; later calls say EISCONN.
      const st = s.tcb.state;
      if (st === "SYN_SENT" || st === "SYN_RECV") return err("EALREADY");
      if (!s.connecting) return err("EISCONN");
      s.connecting = false;
      if (st !== "CLOSE") return ok(0);
      const e = s.tcb.error;
      s.tcb.error = undefined;
      return err(e ?? "ECONNABORTED");
    }
    if (addr === undefined || !address.isValid(addr)) return err("EINVAL");
    const ra = address.parse(addr);
    if ((ra.length === 4 ? 4 : 6) !== s.family) return err("EAFNOSUPPORT");
    const la = s.bound?.addr ?? this.#stack.addressFor(ra.length as 4 | 16);
    if (!la) return err("ENETUNREACH");
    const lport = s.bound?.port ?? this.#stack.ephemeralPort();
    if (lport === undefined) return err("EADDRNOTAVAIL");
    const t = this.#stack.openActive(
      { localAddr: la, localPort: lport, remoteAddr: ra, remotePort: port },
      s.opts,
    );
    if (!t) return err("EADDRNOTAVAIL");
    s.tcb = t;
    s.bound ??= { addr: undefined, port: lport };
    if (s.nonblock) {
      s.connecting = true;
      return err("EINPROGRESS");
    }
    return {
      wait: () => {
        if (t.state === "SYN_SENT" || t.state === "SYN_RECV") return undefined;
        if (t.error) {
          const e = t.error;
          t.error = undefined;
          return err(e);
        }
        return t.state === "CLOSE" ? err("ECONNREFUSED") : ok(0);
      },
    };
  }

  #write(s: Sock, data: Uint8Array): Outcome {
    const t = s.tcb;
    if (!t) return err("EPIPE");
    let done = 0;
    const attempt = (): SysResult | undefined => {
      if (t.error) {
        const e = t.error;
        t.error = undefined;
        return err(e);
      }
      const st = t.state;
      if (st === "SYN_SENT" || st === "SYN_RECV") return s.nonblock ? err("EAGAIN") : undefined;
      if ((st !== "ESTABLISHED" && st !== "CLOSE_WAIT") || t.snd.finQueued) {
        return done > 0 ? ok(done) : err("EPIPE");
      }
      done += t.write(data.subarray(done));
      if (done === data.length) return ok(done);
      if (s.nonblock) return done > 0 ? ok(done) : err("EAGAIN");
      return undefined;
    };
    return { wait: attempt };
  }

  #read(s: Sock, count: number, all: boolean): Outcome {
    const t = s.tcb;
    if (!t) return err("ENOTCONN");
    // MSG_WAITALL: what has been read so far, until `count` bytes or the stream ends.
    const parts: Uint8Array[] = [];
    let have = 0;
    const sofar = () => parts.length === 1 ? parts[0] : concatBytes(parts);
    const attempt = (): SysResult | undefined => {
      if (t.rcv.buf.readable > 0 && !t.rcv.readShut) {
        const got = t.rcv.buf.take(count - have);
        t.afterRead();
        if (!all) return ok(got);
        parts.push(got);
        have += got.length;
        if (have >= count) return ok(sofar());
        return s.nonblock ? ok(sofar()) : undefined;
      }
      if (have > 0 && (t.rcv.finReceived || t.error || t.rcv.readShut || t.state === "CLOSE")) {
        return ok(sofar());
      }
      // Linux tcp_recvmsg: a FIN already received (SOCK_DONE) reads as EOF before any error.
      if (t.rcv.finReceived) return ok(new Uint8Array(0));
      if (t.error) {
        const e = t.error;
        t.error = undefined;
        return err(e);
      }
      if (t.rcv.finReceived || t.rcv.readShut || t.state === "CLOSE") return ok(new Uint8Array(0));
      return s.nonblock ? err("EAGAIN") : undefined;
    };
    return { wait: attempt };
  }

  #shutdown(s: Sock, how: "SHUT_RD" | "SHUT_WR" | "SHUT_RDWR"): SysResult {
    const t = s.tcb;
    if (!t || t.state === "SYN_SENT" || t.state === "CLOSE") return err("ENOTCONN");
    if (how !== "SHUT_WR") t.rcv.readShut = true;
    if (how !== "SHUT_RD") t.shutdownWrite();
    return ok(0);
  }

  #close(s: Sock): Outcome {
    this.#fds.delete(s.fd);
    if (s.listener) {
      this.#stack.listeners.delete(s.listener.port);
      // Linux inet_csk_listen_stop: connections never accepted are reset.
      for (const t of s.listener.queue) {
        // inet_csk_listen_stop → tcp_disconnect, which has set CLOSE.
        t.sendActiveReset("TCP_STATE", "CLOSE");
        t.setState("CLOSE");
      }
      for (const t of this.#stack.connections()) {
        if (t.passive && t.state === "SYN_RECV" && t.tuple.localPort === s.listener.port) {
          t.setState("CLOSE");
        }
      }
      s.listener.queue = [];
    }
    const t = s.tcb;
    t?.close();
    const l = s.opts.linger;
    if (!t || !l?.onoff || l.linger <= 0) return ok(0);
    // SO_LINGER {1, n}: close() waits while the FIN is unacknowledged, at most n
    // seconds (Linux sk_stream_wait_close), and returns 0 either way.
    const clock = this.#stack.clock;
    let expired = false;
    clock.setTimer(clock.now() + l.linger * 1000, () => {
      expired = true;
      this.kick();
    });
    const closing = () =>
      t.state === "FIN_WAIT1" || t.state === "CLOSING" || t.state === "LAST_ACK";
    return { wait: () => (expired || !closing() ? ok(0) : undefined) };
  }

  #setsockopt(s: Sock, o: SockOpt): SysResult {
    const p = this.#stack.profile;
    switch (o.name) {
      case "SO_LINGER":
        s.opts.linger = { onoff: o.onoff, linger: o.linger };
        return ok(0);
      case "TCP_NODELAY":
        s.opts.nodelay = o.value;
        s.tcb?.trySend();
        return ok(0);
      case "SO_RCVBUF":
        s.opts.rcvBuf = p.doubleBufOpts ? o.value * 2 : o.value;
        s.opts.rcvBufLocked = true;
        return ok(0);
      case "SO_SNDBUF":
        s.opts.sndBuf = p.doubleBufOpts ? o.value * 2 : o.value;
        return ok(0);
      case "SO_REUSEADDR":
        s.reuseaddr = o.value;
        return ok(0);
      case "SO_KEEPALIVE":
        s.opts.keepalive = o.value;
        if (s.tcb) armKeepalive(s.tcb);
        return ok(0);
      case "TCP_MAXSEG":
        // tcp(7): values outside 88..32767 are EINVAL.
        if (o.value < 88 || o.value > 32767) return err("EINVAL");
        s.opts.maxseg = o.value;
        return ok(0);
      case "TCP_KEEPIDLE":
      case "TCP_KEEPINTVL":
        // tcp(7): 1..32767 seconds (MAX_TCP_KEEPIDLE, MAX_TCP_KEEPINTVL).
        if (!Number.isInteger(o.value) || o.value < 1 || o.value > 32767) return err("EINVAL");
        if (o.name === "TCP_KEEPIDLE") s.opts.keepIdleMs = o.value * 1000;
        else s.opts.keepIntvlMs = o.value * 1000;
        if (s.tcb && s.opts.keepalive) armKeepalive(s.tcb);
        return ok(0);
      case "TCP_KEEPCNT":
        // tcp(7): 1..127 (MAX_TCP_KEEPCNT).
        if (!Number.isInteger(o.value) || o.value < 1 || o.value > 127) return err("EINVAL");
        s.opts.keepCnt = o.value;
        return ok(0);
      case "TCP_CORK":
        s.opts.cork = o.value;
        if (!o.value) s.tcb?.trySend();
        return ok(0);
      default:
        return assertNever(o, "socket option");
    }
  }

  #getsockopt(s: Sock, name: GetSockOptName): SysResult {
    switch (name) {
      case "TCP_INFO":
        return ok(s.tcb ? s.tcb.info() : idleInfo(s.listener ? "LISTEN" : "CLOSE", this.#stack));
      case "SO_ERROR": {
        const e = s.tcb?.error;
        if (s.tcb) s.tcb.error = undefined;
        return ok(e ? Errno[e] : 0);
      }
      case "SO_LINGER":
        return ok({
          name,
          onoff: s.opts.linger?.onoff ?? false,
          linger: s.opts.linger?.linger ?? 0,
        });
      case "TCP_NODELAY":
        return ok({ name, value: s.opts.nodelay });
      case "SO_RCVBUF":
        return ok({ name, value: s.opts.rcvBuf });
      case "SO_SNDBUF":
        return ok({ name, value: s.opts.sndBuf });
      case "SO_REUSEADDR":
        return ok({ name, value: s.reuseaddr });
      case "SO_KEEPALIVE":
        return ok({ name, value: s.opts.keepalive });
      case "TCP_MAXSEG":
        return ok({ name, value: s.tcb?.effMss ?? s.opts.maxseg ?? 536 });
      case "TCP_KEEPIDLE":
        return ok({
          name,
          value: (s.opts.keepIdleMs ?? this.#stack.profile.keepaliveTimeMs) / 1000,
        });
      case "TCP_KEEPINTVL":
        return ok({
          name,
          value: (s.opts.keepIntvlMs ?? this.#stack.profile.keepaliveIntvlMs) / 1000,
        });
      case "TCP_KEEPCNT":
        return ok({ name, value: s.opts.keepCnt ?? this.#stack.profile.keepaliveProbes });
      case "TCP_CORK":
        return ok({ name, value: s.opts.cork });
      default:
        return assertNever(name, "socket option");
    }
  }
}

function idleInfo(state: TcpStateName, stack: StackHost): TcpInfo {
  const p = stack.profile;
  return {
    state,
    caState: 0,
    retransmits: 0,
    probes: 0,
    backoff: 0,
    options: 0,
    sndWscale: 0,
    rcvWscale: 0,
    rto: p.rtoInitMs * 1000,
    sndMss: 536,
    rcvMss: 536,
    unacked: 0,
    sacked: 0,
    lost: 0,
    retrans: 0,
    rtt: 0,
    rttvar: 0,
    sndSsthresh: 0x7fffffff,
    sndCwnd: p.initialCwnd,
    advmss: p.mss,
    totalRetrans: 0,
    segsOut: 0,
    segsIn: 0,
    dataSegsOut: 0,
    dataSegsIn: 0,
  };
}
