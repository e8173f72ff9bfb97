/**
 * Socket calls on the real kernel, through libc by FFI, answered with the
 * same `SysResult`s as the built-in stack (a value, or -1 with errno).
 *
 * - **Script fds.** The kernel's fd numbers depend on what else the process
 *   has open, so scripts see their own numbers, lowest free from 3, and this
 *   table maps them to the real ones (packetdrill keeps the same map).
 * - **Blocking without blocking the event loop.** Every real socket is
 *   O_NONBLOCK. A call on a socket the script left blocking is tried at once;
 *   if the kernel says it would block (EAGAIN, or EINPROGRESS from connect),
 *   the handle stays open and the call is retried when poll(2) on a worker
 *   thread reports the fd ready, or when the runner asks (`recheck()`). So a
 *   blocking accept() returns when the script's ACK completes the handshake,
 *   and a blocking connect() returns
 *   with SO_ERROR's verdict (`= -1 ECONNREFUSED`). "Would block" is the
 *   kernel's own answer, not a guess from timing.
 * - **Namespaces.** socket() runs with the main thread inside the private
 *   namespace, so the socket belongs to it; the calls on it then act there
 *   whichever thread makes them.
 * - **SIGPIPE.** Writes use send(MSG_NOSIGNAL): a write to a reset
 *   connection returns EPIPE instead of killing the process.
 *
 * @example
 * ```ts ignore
 * // root only: see runtime/kernel/kernel_target.ts for a whole target.
 * const s = new KernelSockets(ns, waiter, clock);
 * assert.deepEqual(s.call({ name: "socket" }).result, { ok: true, value: 3 });
 * ```
 */
import type { Clock } from "../engine/clock.ts";
import type { CallHandle, SocketApi } from "../engine/target.ts";
import { assertNever } from "../wire/assert_never.ts";
import {
  type ErrnoName,
  errnoName,
  formatPollEvents,
  type GetSockOptName,
  type SocketCall,
  type SockOpt,
  type SysResult,
} from "../wire/socket_call.ts";
import type { FdWaiter } from "./fd_waiter.ts";
import { K, type Libc, libc } from "./libc.ts";
import type { PrivateNetns } from "./netns.ts";
import { encodeSockaddr } from "./sockaddr.ts";
import { decodeTcpInfo, TCP_INFO_SIZE } from "./tcp_info_struct.ts";

interface KSock {
  real: number;
  family: 4 | 6;
  /** What the script set with socket(O_NONBLOCK) or fcntl; the real fd is always non-blocking. */
  nonblock: boolean;
  /** SO_LINGER with a non-zero time makes close() wait: it runs on a worker thread. */
  lingers: boolean;
}

/** [level, optname, kind] for each option (asm-generic/socket.h, linux/tcp.h). */
const OPTS: Record<
  Exclude<GetSockOptName, "TCP_INFO">,
  [number, number, "bool" | "int" | "linger"]
> = {
  SO_REUSEADDR: [1, 2, "bool"],
  SO_ERROR: [1, 4, "int"],
  SO_SNDBUF: [1, 7, "int"],
  SO_RCVBUF: [1, 8, "int"],
  SO_KEEPALIVE: [1, 9, "bool"],
  SO_LINGER: [1, 13, "linger"],
  TCP_NODELAY: [6, 1, "bool"],
  TCP_MAXSEG: [6, 2, "int"],
  TCP_CORK: [6, 3, "bool"],
  TCP_KEEPIDLE: [6, 4, "int"],
  TCP_KEEPINTVL: [6, 5, "int"],
  TCP_KEEPCNT: [6, 6, "int"],
};
const TCP_INFO: [number, number] = [6, 11];
const SHUT = { SHUT_RD: 0, SHUT_WR: 1, SHUT_RDWR: 2 } as const;

type Attempt = () => SysResult | "block";

/** A call the kernel said would block, until it returns. */
interface Blocked {
  attempt: Attempt;
  done: (r: SysResult) => void;
  settled: boolean;
}

const ok = (value: Extract<SysResult, { ok: true }>["value"]): SysResult => ({ ok: true, value });
// An errno outside synack's table is still reported, as E<number>, rather than hidden.
const fail = (errno: ErrnoName | `E${number}`): SysResult => ({
  ok: false,
  errno: errno as ErrnoName,
});

/** The kernel's sockets in one private namespace, with script-side fd numbers. */
export class KernelSockets implements SocketApi {
  readonly #ns: PrivateNetns;
  readonly #waiter: FdWaiter;
  readonly #clock: Clock;
  readonly #c: Libc;
  readonly #fds = new Map<number, KSock>();
  readonly #waits = new Set<Promise<void>>();
  readonly #blocked = new Set<Blocked>();

  constructor(ns: PrivateNetns, waiter: FdWaiter, clock: Clock) {
    this.#ns = ns;
    this.#waiter = waiter;
    this.#clock = clock;
    this.#c = libc();
  }

  call(c: SocketCall): CallHandle {
    const h: CallHandle = {};
    const done = (r: SysResult) => {
      h.result = r;
      h.time = this.#clock.now();
    };
    if (c.name === "socket") {
      done(this.#socket(c.family ?? 4, c.nonblock ?? false));
      return h;
    }
    const s = this.#fds.get(c.fd);
    if (!s) {
      done(fail("EBADF"));
      return h;
    }
    if (c.name === "close" && s.lingers) {
      // SO_LINGER {1, n}: close() waits until the data is acknowledged or n seconds pass.
      this.#fds.delete(c.fd);
      this.#track(
        this.#waiter.closeLater(s.real).then((r) => {
          done(r === 0 ? ok(0) : fail("EINTR"));
          this.#clock.poke();
        }),
      );
      return h;
    }
    if (c.name === "poll") {
      const now = this.#revents(s.real, c.events);
      if (now || c.timeoutMs <= 0) {
        done(ok({ revents: formatPollEvents(now) }));
        return h;
      }
      this.#track(
        this.#waiter.wait(s.real, c.events, c.timeoutMs).then((w) => {
          const r = typeof w === "number" ? w & (c.events | K.POLLERR | K.POLLHUP) : 0;
          done(w === "cancelled" ? fail("EINTR") : ok({ revents: formatPollEvents(r) }));
          this.#clock.poke();
        }),
      );
      return h;
    }
    const attempt = this.#attempt(c, s);
    const first = attempt();
    if (first !== "block") {
      done(first);
      return h;
    }
    const events = c.name === "accept" || c.name === "read" ? K.POLLIN : K.POLLOUT;
    const b: Blocked = { attempt, done, settled: false };
    this.#blocked.add(b);
    this.#track(this.#retry(s, events, b));
    return h;
  }

  #track(p: Promise<void>): void {
    this.#waits.add(p);
    void p.finally(() => this.#waits.delete(p));
  }

  #settle(b: Blocked, r: SysResult): void {
    if (b.settled) return;
    b.settled = true;
    this.#blocked.delete(b);
    b.done(r);
    this.#clock.poke();
  }

  /**
   * Tries every blocked call once, now: a packet the script injected may
   * already have unblocked one, and it returns before the next step runs, as
   * it would on a real thread (the runner calls this before each step).
   */
  recheck(): void {
    for (const b of this.#blocked) {
      const r = b.attempt();
      if (r !== "block") this.#settle(b, r);
    }
  }

  async #retry(s: KSock, events: number, b: Blocked): Promise<void> {
    while (!b.settled) {
      const w = await this.#waiter.wait(s.real, events, Infinity);
      if (b.settled) return;
      // The target is closing: the call is interrupted, as a signal would interrupt it.
      if (w === "cancelled") return this.#settle(b, fail("EINTR"));
      const r = b.attempt();
      if (r !== "block") this.#settle(b, r);
    }
  }

  #errno(): ErrnoName | `E${number}` {
    return this.#c.errnoName();
  }

  #socket(family: 4 | 6, nonblock: boolean): SysResult {
    const c = this.#c;
    const type = K.SOCK_STREAM | K.SOCK_NONBLOCK | K.SOCK_CLOEXEC;
    let e: ErrnoName | `E${number}` = "EBADF";
    const real = this.#ns.inside(() => {
      const fd = c.socket(family === 4 ? K.AF_INET : K.AF_INET6, type, 0);
      if (fd < 0) e = this.#errno();
      return fd;
    });
    if (real < 0) return fail(e);
    return ok(this.#adopt(real, family, nonblock));
  }

  #adopt(real: number, family: 4 | 6, nonblock: boolean): number {
    let fd = 3;
    while (this.#fds.has(fd)) fd++;
    this.#fds.set(fd, { real, family, nonblock, lingers: false });
    return fd;
  }

  /** One try of a call; "block" when the kernel says it would block and the script's socket blocks. */
  #attempt(c: Exclude<SocketCall, { name: "socket" }>, s: KSock): Attempt {
    const k = this.#c;
    const zero = (r: number): SysResult => (r === 0 ? ok(0) : fail(this.#errno()));
    switch (c.name) {
      case "bind":
      case "connect": {
        let sa: Uint8Array;
        try {
          sa = encodeSockaddr(s.family, c.addr, c.port);
        } catch {
          return () => fail("EAFNOSUPPORT");
        }
        if (c.name === "bind") return () => zero(k.bind(s.real, sa, sa.length));
        let started = false;
        return () => {
          if (!started) {
            started = true;
            if (k.connect(s.real, sa, sa.length) === 0) return ok(0);
            const e = this.#errno();
            return e === "EINPROGRESS" && !s.nonblock ? "block" : fail(e);
          }
          // Still connecting until the socket is writable (or failed); SO_ERROR says how it ended.
          return this.#ready(s.real, K.POLLOUT) ? this.#soError(s) : "block";
        };
      }
      case "listen":
        return () => zero(k.listen(s.real, c.backlog ?? 128));
      case "accept":
        return () => {
          const fd = k.accept4(s.real, null, null, K.SOCK_NONBLOCK | K.SOCK_CLOEXEC);
          if (fd >= 0) return ok(this.#adopt(fd, s.family, false));
          const e = this.#errno();
          return e === "EAGAIN" && !s.nonblock ? "block" : fail(e);
        };
      case "write": {
        let sent = 0;
        return () => {
          while (sent < c.data.length) {
            const rest = c.data.subarray(sent);
            const n = Number(k.send(s.real, rest, BigInt(rest.length), K.MSG_NOSIGNAL));
            if (n >= 0) {
              sent += n;
              continue;
            }
            const e = this.#errno();
            if (e !== "EAGAIN") return sent ? ok(sent) : fail(e);
            // A non-blocking write returns what fit; a blocking one waits to write it all.
            if (s.nonblock) return sent ? ok(sent) : fail(e);
            return "block";
          }
          return ok(sent);
        };
      }
      case "read": {
        const buf = new Uint8Array(c.count);
        let got = 0;
        return () => {
          // Each attempt takes what is there; MSG_WAITALL's wait is ours, between attempts.
          for (;;) {
            const rest = buf.subarray(got);
            const n = Number(k.recv(s.real, rest, BigInt(rest.length), 0));
            if (n > 0) {
              got += n;
              if (c.all && got < c.count) continue;
              return ok(buf.slice(0, got));
            }
            if (n === 0) return ok(buf.slice(0, got));
            const e = this.#errno();
            if (e !== "EAGAIN") return got ? ok(buf.slice(0, got)) : fail(e);
            if (s.nonblock) return got ? ok(buf.slice(0, got)) : fail(e);
            return "block";
          }
        };
      }
      case "shutdown":
        return () => zero(k.shutdown(s.real, SHUT[c.how]));
      case "close":
        return () => {
          this.#fds.delete(c.fd);
          return zero(k.close(s.real));
        };
      case "setsockopt":
        return () => this.#setsockopt(s, c.opt);
      case "getsockopt":
        return () => this.#getsockopt(s, c.opt);
      case "fcntl":
        return () => {
          s.nonblock = c.nonblock;
          return ok(0);
        };
      case "poll":
        // The wait, if any, is the caller's: see call().
        return () => ok({ revents: formatPollEvents(this.#revents(s.real, c.events)) });
      default:
        return assertNever(c, "socket call");
    }
  }

  /** Whether `fd` has `events` (or an error or hang-up) right now, without waiting. */
  #ready(fd: number, events: number): boolean {
    return this.#revents(fd, events) !== 0;
  }

  /** poll(2) on `fd` with no wait: the revents. */
  #revents(fd: number, events: number): number {
    const p = new Uint8Array(8);
    const v = new DataView(p.buffer);
    v.setInt32(0, fd, true);
    v.setInt16(4, events, true);
    return this.#c.poll(p, 1n, 0) > 0 ? v.getUint16(6, true) : 0;
  }

  #soError(s: KSock): SysResult {
    const v = new Uint8Array(4);
    const len = new Uint8Array(4);
    new DataView(len.buffer).setUint32(0, 4, true);
    if (this.#c.getsockopt(s.real, 1, 4, v, len) !== 0) return fail(this.#errno());
    const e = new DataView(v.buffer).getInt32(0, true);
    if (e === 0) return ok(0);
    // Reading SO_ERROR cleared it; report it as connect() would have.
    return fail(errnoName(e) ?? `E${e}`);
  }

  #setsockopt(s: KSock, o: SockOpt): SysResult {
    const [level, name, kind] = OPTS[o.name];
    const b = new Uint8Array(kind === "linger" ? 8 : 4);
    const v = new DataView(b.buffer);
    if (o.name === "SO_LINGER") {
      v.setInt32(0, o.onoff ? 1 : 0, true);
      v.setInt32(4, o.linger, true);
    } else v.setInt32(0, Number(o.value), true);
    if (this.#c.setsockopt(s.real, level, name, b, b.length) !== 0) return fail(this.#errno());
    if (o.name === "SO_LINGER") s.lingers = o.onoff && o.linger > 0;
    return ok(0);
  }

  #getsockopt(s: KSock, name: GetSockOptName): SysResult {
    const [level, opt] = name === "TCP_INFO" ? TCP_INFO : OPTS[name];
    const b = new Uint8Array(name === "TCP_INFO" ? TCP_INFO_SIZE : 8);
    const len = new Uint8Array(4);
    new DataView(len.buffer).setUint32(0, b.length, true);
    if (this.#c.getsockopt(s.real, level, opt, b, len) !== 0) return fail(this.#errno());
    const got = new DataView(len.buffer).getUint32(0, true);
    if (name === "TCP_INFO") return ok(decodeTcpInfo(b.subarray(0, got)));
    const v = new DataView(b.buffer);
    const n = v.getInt32(0, true);
    switch (name) {
      case "SO_ERROR":
        return ok(n);
      case "SO_LINGER":
        return ok({ name, onoff: n !== 0, linger: v.getInt32(4, true) });
      case "SO_REUSEADDR":
      case "SO_KEEPALIVE":
      case "TCP_NODELAY":
      case "TCP_CORK":
        return ok({ name, value: n !== 0 });
      case "SO_RCVBUF":
      case "SO_SNDBUF":
      case "TCP_MAXSEG":
      case "TCP_KEEPIDLE":
      case "TCP_KEEPINTVL":
      case "TCP_KEEPCNT":
        return ok({ name, value: n });
      default:
        return assertNever(name, "socket option");
    }
  }

  /**
   * Ends every blocked call (they return EINTR), waits for them, and closes
   * every socket still open. Call after `FdWaiter.cancel()`.
   */
  async close(): Promise<void> {
    for (const s of this.#fds.values()) {
      if (s.lingers) {
        // A lingering close must not hold the teardown: abort instead (linger 0).
        const b = new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0]);
        this.#c.setsockopt(s.real, 1, 13, b, 8);
      }
      this.#c.close(s.real);
    }
    this.#fds.clear();
    while (this.#waits.size) await Promise.allSettled([...this.#waits]);
  }
}
