/**
 * packetdrill's system calls on the real kernel, through libc by FFI
 * (packetdrill's `run_system_call.c` has one handler per call, as here).
 *
 * - **fds.** Scripts name their own fd numbers (`socket(...) = 3`); the table
 *   maps them to the real ones, which depend on what the process has open.
 * - **Blocking.** Every real fd is O_NONBLOCK; a call on an fd the script
 *   left blocking that would block waits for poll(2) on a worker thread and
 *   tries again, so the event loop keeps reading packets. `fcntl(F_GETFL)`
 *   answers with the script's view of O_NONBLOCK.
 * - **Arguments.** `...` is filled in as packetdrill fills it: the script's
 *   addresses for bind/connect/sendto, zeroed buffers of the given length for
 *   writes, fresh buffers for reads (received data is not compared).
 * - **Outputs.** What a call writes back (msg_flags and cmsgs of recvmsg,
 *   epoll events, poll revents, getsockopt and ioctl values) is compared
 *   with the script after the return value matched.
 *
 * @example
 * ```ts ignore
 * // root only: see runtime/pkt/pkt_runner.ts for a whole run.
 * const out = await calls.run({ name: "socket", args: [...], result: { kind: "int", value: 3 } });
 * ```
 */
import type { PktExpr, PktSyscall } from "../../dsl/pkt/pkt_ast.ts";
import type { FdWaiter } from "../kernel/fd_waiter.ts";
import { cString, K, type Libc, libc } from "../kernel/libc.ts";
import type { PrivateNetns } from "../kernel/netns.ts";
import type { PktConfig } from "./pkt_config.ts";
import type { Arena } from "./pkt_memory.ts";
import {
  compareEpoll,
  compareStruct,
  encodeSockaddr,
  epollEvent,
  int32,
  iovecs,
  LINGER,
  msghdr,
  pollNames,
  sockoptBytes,
  writeBuffer,
} from "./pkt_structs.ts";
import { nowUsecs } from "./pkt_netdev.ts";
import { describe, fieldsOf, numberOf, PktCallError } from "./pkt_values.ts";

/** One script fd. */
export interface PktFd {
  real: number;
  kind: "socket" | "epoll" | "pipe" | "file";
  /** O_NONBLOCK as the script set it; the real fd is always non-blocking. */
  nonblock: boolean;
  family?: number;
  /** SOCK_DGRAM: a UDP socket, whose packets are `udp (N)` lines. */
  dgram?: boolean;
  lingers?: boolean;
}

/** What a call did: its return value or errno, and a check of what it wrote back. */
export interface CallOutcome {
  ret: number;
  errno?: number | undefined;
  /** Run once the return value matched; a mismatch text, or undefined. */
  check?: (() => string | undefined) | undefined;
  /** When the call returned (CLOCK_REALTIME µs). */
  doneUsecs?: number | undefined;
}

/** What the runner learns from calls, to follow connections as packetdrill does. */
export interface CallHooks {
  socket(scriptFd: number, fd: PktFd): void;
  bind(scriptFd: number, port: number): void;
  listen(scriptFd: number): void;
  connect(scriptFd: number): void;
  accept(listenFd: number, scriptFd: number): void;
  close(scriptFd: number): void;
}

const MSG_NOSIGNAL = 0x4000;
const MSG_ERRQUEUE = 0x2000;
const MSG_FASTOPEN = 0x20000000;
const EAGAIN = 11;
const EINPROGRESS = 115;

type Attempt = () => CallOutcome | "block";

interface Pending {
  attempt: Attempt;
  resolve: (o: CallOutcome) => void;
  done: boolean;
}

function stamp(o: CallOutcome): CallOutcome {
  o.doneUsecs ??= nowUsecs();
  return o;
}

/** The calls of one run. */
export class PktCalls {
  readonly fds = new Map<number, PktFd>();
  readonly #c: Libc = libc();

  constructor(
    readonly config: PktConfig,
    readonly ns: PrivateNetns,
    readonly waiter: FdWaiter,
    readonly arena: Arena,
    readonly hooks: CallHooks,
  ) {}

  /** Runs `call`; waits while it blocks, as a blocking call would. */
  run(call: PktSyscall): Promise<CallOutcome> {
    const handler = HANDLERS[call.name];
    if (!handler) {
      throw new PktCallError(
        UNSUPPORTED[call.name] ?? `${call.name}: not a system call packetdrill scripts can make`,
      );
    }
    return Promise.resolve(handler(this, call));
  }

  /** The real fd behind script fd `e` (-1 for an unknown one, so the kernel says EBADF). */
  real(e: PktExpr, what = "fd"): number {
    return this.fds.get(numberOf(e, what))?.real ?? -1;
  }

  /** Script fd for a real one. */
  scriptFdOf(real: number): number | undefined {
    for (const [s, f] of this.fds) if (f.real === real) return s;
    return undefined;
  }

  /** A result from a libc return value and errno. */
  result(ret: number | bigint): CallOutcome {
    const n = Number(ret);
    return n < 0 ? { ret: -1, errno: this.#c.errno() } : { ret: n };
  }

  readonly #pending = new Set<Pending>();

  /**
   * Tries `attempt`; if it would block on an fd the script left blocking,
   * tries again whenever poll(2) says the fd is ready, or `recheck()` asks.
   * The outcome carries when it returned.
   */
  blocking(fd: PktFd | undefined, events: number, attempt: Attempt): Promise<CallOutcome> {
    const first = attempt();
    if (first !== "block") return Promise.resolve(stamp(first));
    if (!fd || fd.nonblock) return Promise.resolve(stamp({ ret: -1, errno: EAGAIN }));
    return new Promise((resolve) => {
      const p: Pending = { attempt, resolve, done: false };
      this.#pending.add(p);
      void (async () => {
        while (!p.done) {
          const w = await this.waiter.wait(fd.real, events, Infinity);
          if (p.done) return;
          if (w === "cancelled") return this.#finish(p, { ret: -1, errno: 4 });
          this.#try(p);
        }
      })();
    });
  }

  /**
   * Tries every blocked call once, now. An injected packet is processed by
   * the kernel inside the write to tun0, so a call it unblocks returns here,
   * at that moment, as it would on packetdrill's syscall thread.
   */
  recheck(): void {
    for (const p of this.#pending) this.#try(p);
  }

  #try(p: Pending): void {
    const r = p.attempt();
    if (r !== "block") this.#finish(p, r);
  }

  #finish(p: Pending, out: CallOutcome): void {
    if (p.done) return;
    p.done = true;
    this.#pending.delete(p);
    p.resolve(stamp(out));
  }

  /** `...` or a sockaddr struct for the script's remote or local end. */
  sockaddr(e: PktExpr | undefined, end: "local" | "remote", family: number): Uint8Array {
    const c = this.config;
    if (!e || e.kind === "ellipsis") {
      const ip = end === "local" ? c.localIp : c.remoteIp;
      const port = end === "local" ? c.bindPort : c.connectPort;
      return encodeSockaddr(family, c.ipVersion === "ipv4-mapped-ipv6" ? `::ffff:${ip}` : ip, port);
    }
    const f = fieldsOf(e, "sockaddr");
    const fam = numberOf(
      f.get("sa_family")?.value ?? f.get("sin6_family")?.value ?? { kind: "int", value: family },
      "sa_family",
    );
    const port = numberOf(
      f.get("sin_port")?.value ?? f.get("sin6_port")?.value ?? { kind: "int", value: 0 },
      "sin_port",
    );
    const addr = f.get("sin_addr")?.value ?? f.get("sin6_addr")?.value;
    let ip = fam === K.AF_INET6 ? "::" : "0.0.0.0";
    if (addr?.kind === "call" && addr.args[0]?.kind === "string") ip = addr.args[0].value;
    return encodeSockaddr(fam, ip, port);
  }
}

type Handler = (k: PktCalls, call: PktSyscall) => CallOutcome | Promise<CallOutcome>;

const UNSUPPORTED: Record<string, string> = {
  cap_set: "cap_set: capabilities are not changed by synack (it runs the stack as the user it is)",
  psp_rx_assoc: "psp_rx_assoc: PSP is not supported",
  psp_tx_assoc: "psp_tx_assoc: PSP is not supported",
};

function arg(call: PktSyscall, i: number): PktExpr {
  const a = call.args[i];
  if (!a) {
    throw new PktCallError(
      `${call.name}: want at least ${i + 1} arguments, got ${call.args.length}`,
    );
  }
  return a;
}

const HANDLERS: Record<string, Handler> = {
  socket(k, call) {
    const domainArg = arg(call, 0);
    const v6 = k.config.ipVersion !== "ipv4";
    const domain = domainArg.kind === "ellipsis"
      ? (v6 ? K.AF_INET6 : K.AF_INET)
      : numberOf(domainArg, "domain");
    const type = numberOf(arg(call, 1), "type");
    const proto = numberOf(arg(call, 2), "protocol");
    const real = k.ns.inside(() =>
      libc().socket(domain, type | K.SOCK_NONBLOCK | K.SOCK_CLOEXEC, proto)
    );
    const out = k.result(real);
    if (out.ret >= 0) {
      const scriptFd = numberOf(call.result, "the fd socket() returns");
      const fd: PktFd = {
        real,
        kind: "socket",
        nonblock: (type & K.SOCK_NONBLOCK) !== 0,
        family: domain,
        dgram: (type & 0xf) === K.SOCK_DGRAM,
      };
      k.fds.set(scriptFd, fd);
      k.hooks.socket(scriptFd, fd);
      out.ret = scriptFd;
    }
    return out;
  },
  bind(k, call) {
    const s = numberOf(arg(call, 0), "fd");
    const fd = k.fds.get(s);
    const sa = k.sockaddr(call.args[1], "local", fd?.family ?? K.AF_INET);
    const out = k.result(libc().bind(fd?.real ?? -1, sa, sa.length));
    if (out.ret === 0) k.hooks.bind(s, (sa[2] << 8) | sa[3]);
    return out;
  },
  listen(k, call) {
    const s = numberOf(arg(call, 0), "fd");
    const out = k.result(
      libc().listen(k.fds.get(s)?.real ?? -1, numberOf(arg(call, 1), "backlog")),
    );
    if (out.ret === 0) k.hooks.listen(s);
    return out;
  },
  accept(k, call) {
    const ls = numberOf(arg(call, 0), "fd");
    const fd = k.fds.get(ls);
    return k.blocking(fd, K.POLLIN, () => {
      const r = libc().accept4(fd?.real ?? -1, null, null, K.SOCK_NONBLOCK | K.SOCK_CLOEXEC);
      const out = k.result(r);
      if (out.errno === EAGAIN) return "block";
      if (out.ret >= 0) {
        const scriptFd = numberOf(call.result, "the fd accept() returns");
        k.fds.set(scriptFd, { real: r, kind: "socket", nonblock: false, family: fd?.family });
        k.hooks.accept(ls, scriptFd);
        out.ret = scriptFd;
      }
      return out;
    });
  },
  connect(k, call) {
    const s = numberOf(arg(call, 0), "fd");
    const fd = k.fds.get(s);
    const sa = k.sockaddr(call.args[1], "remote", fd?.family ?? K.AF_INET);
    k.hooks.connect(s);
    const first = k.result(libc().connect(fd?.real ?? -1, sa, sa.length));
    if (first.errno !== EINPROGRESS || !fd || fd.nonblock) return stamp(first);
    // A blocking connect returns when the handshake ends, with SO_ERROR's verdict.
    const pfd = new Uint8Array(8);
    const pv = new DataView(pfd.buffer);
    return k.blocking(fd, K.POLLOUT, () => {
      pv.setInt32(0, fd.real, true);
      pv.setInt16(4, K.POLLOUT, true);
      pv.setInt16(6, 0, true);
      if (libc().poll(pfd, 1n, 0) <= 0) return "block";
      const err = sockoptBytes(fd.real, 1, 4, /* SO_ERROR */ 4);
      const e = err ? int32(err) : 0;
      return e ? { ret: -1, errno: e } : { ret: 0 };
    });
  },
  read: (k, call) => readLike(k, call, (fd, b) => libc().read(fd, b, BigInt(b.length))),
  // recvfrom's address arguments are packetdrill's `...`: the peer is known.
  recv: (k, call) => readLike(k, call, recvInto(call)),
  recvfrom: (k, call) => readLike(k, call, recvInto(call)),
  write: (k, call) => writeLike(k, call, 0),
  send: (k, call) => writeLike(k, call, numberOf(arg(call, 3), "flags")),
  sendto(k, call) {
    const flags = numberOf(arg(call, 3), "flags");
    const s = numberOf(arg(call, 0), "fd");
    const fd = k.fds.get(s);
    if (fd?.dgram) {
      // A datagram goes where its address says: `...` is the script's remote end.
      const sa = k.sockaddr(call.args[4], "remote", fd.family ?? K.AF_INET);
      const len = numberOf(arg(call, 2), "length");
      const b = writeBuffer(k.arena, arg(call, 1), len);
      return k.result(libc().sendto(fd.real, b, BigInt(len), flags | MSG_NOSIGNAL, sa, sa.length));
    }
    if (!(flags & MSG_FASTOPEN)) return writeLike(k, call, flags);
    // MSG_FASTOPEN: sendto() connects, with the data in the SYN when there is a cookie.
    const sa = k.sockaddr(call.args[4], "remote", fd?.family ?? K.AF_INET);
    k.hooks.connect(s);
    const len = numberOf(arg(call, 2), "length");
    const b = writeBuffer(k.arena, arg(call, 1), len);
    return k.result(
      libc().sendto(fd?.real ?? -1, b, BigInt(len), flags | MSG_NOSIGNAL, sa, sa.length),
    );
  },
  sendmsg(k, call) {
    const fd = k.fds.get(numberOf(arg(call, 0), "fd"));
    const flags = numberOf(arg(call, 2), "flags");
    const msg = msghdr(k.arena, arg(call, 1), "write");
    return k.blocking(fd, K.POLLOUT, () => {
      const out = k.result(libc().sendmsg(fd?.real ?? -1, msg.bytes, flags | MSG_NOSIGNAL));
      return out.errno === EAGAIN ? "block" : out;
    });
  },
  recvmsg(k, call) {
    const fd = k.fds.get(numberOf(arg(call, 0), "fd"));
    const flags = numberOf(arg(call, 2), "flags");
    const msg = msghdr(k.arena, arg(call, 1), "read");
    return k.blocking(flags & MSG_ERRQUEUE ? undefined : fd, K.POLLIN, () => {
      const out = k.result(libc().recvmsg(fd?.real ?? -1, msg.bytes, flags));
      if (out.errno === EAGAIN && !(flags & MSG_ERRQUEUE) && fd && !fd.nonblock) return "block";
      out.check = () => msg.check();
      return out;
    });
  },
  readv(k, call) {
    const fd = k.fds.get(numberOf(arg(call, 0), "fd"));
    const iov = iovecs(k.arena, arg(call, 1), numberOf(arg(call, 2), "iovcnt"));
    return k.blocking(fd, K.POLLIN, () => {
      const out = k.result(libc().readv(fd?.real ?? -1, iov, numberOf(arg(call, 2), "iovcnt")));
      return out.errno === EAGAIN ? "block" : out;
    });
  },
  writev(k, call) {
    const fd = k.fds.get(numberOf(arg(call, 0), "fd"));
    const iov = iovecs(k.arena, arg(call, 1), numberOf(arg(call, 2), "iovcnt"));
    return k.blocking(fd, K.POLLOUT, () => {
      const out = k.result(libc().writev(fd?.real ?? -1, iov, numberOf(arg(call, 2), "iovcnt")));
      return out.errno === EAGAIN ? "block" : out;
    });
  },
  async close(k, call) {
    const s = numberOf(arg(call, 0), "fd");
    const fd = k.fds.get(s);
    k.fds.delete(s);
    k.hooks.close(s);
    if (!fd) return { ret: -1, errno: 9 };
    if (fd.lingers) return k.result(await k.waiter.closeLater(fd.real));
    return k.result(libc().close(fd.real));
  },
  shutdown(k, call) {
    return k.result(libc().shutdown(k.real(arg(call, 0)), numberOf(arg(call, 1), "how")));
  },
  fcntl(k, call) {
    const fd = k.fds.get(numberOf(arg(call, 0), "fd"));
    const cmd = numberOf(arg(call, 1), "cmd");
    if (!fd) return { ret: -1, errno: 9 };
    if (cmd === 3 /* F_GETFL */) {
      const r = libc().fcntl(fd.real, 3, 0n);
      if (r < 0) return k.result(r);
      return { ret: (r & ~K.O_NONBLOCK) | (fd.nonblock ? K.O_NONBLOCK : 0) };
    }
    if (cmd === 4 /* F_SETFL */) {
      const flags = numberOf(arg(call, 2), "flags");
      const r = libc().fcntl(fd.real, 4, BigInt(flags | K.O_NONBLOCK));
      if (r === 0) fd.nonblock = (flags & K.O_NONBLOCK) !== 0;
      return k.result(r);
    }
    return k.result(
      libc().fcntl(fd.real, cmd, BigInt(call.args[2] ? numberOf(call.args[2], "arg") : 0)),
    );
  },
  setsockopt(k, call) {
    const fd = k.fds.get(numberOf(arg(call, 0), "fd"));
    const level = numberOf(arg(call, 1), "level");
    const name = numberOf(arg(call, 2), "optname");
    const val = optionValue(k, arg(call, 3), name);
    const len = call.args[4] && call.args[4].kind !== "ellipsis"
      ? numberOf(call.args[4], "optlen")
      : val.length;
    if (fd && level === 1 && name === 13) fd.lingers = val[0] !== 0 && int32(val.subarray(4)) > 0;
    return k.result(libc().setsockopt(fd?.real ?? -1, level, name, val, len));
  },
  getsockopt(k, call) {
    const real = k.real(arg(call, 0));
    const level = numberOf(arg(call, 1), "level");
    const name = numberOf(arg(call, 2), "optname");
    const want = arg(call, 3);
    const buf = k.arena.alloc(256);
    const len = new Uint8Array(4);
    new DataView(len.buffer).setUint32(0, 256, true);
    const out = k.result(libc().getsockopt(real, level, name, buf, len));
    out.check = () => {
      const got = new DataView(len.buffer).getUint32(0, true);
      const wantLen = call.args[4];
      if (wantLen && wantLen.kind === "array" && numberOf(wantLen, "optlen") !== got) {
        return `optlen: want ${numberOf(wantLen, "optlen")}, got ${got}`;
      }
      if (want.kind === "array" && want.items.length === 1 && want.items[0].kind !== "ellipsis") {
        const w = numberOf(want, "optval");
        const g = got >= 4 ? int32(buf) : buf[0];
        if (w !== g) return `optval: want ${w}, got ${g}`;
      }
      if (want.kind === "string") {
        const g = new TextDecoder().decode(buf.subarray(0, got)).replace(/\0.*$/s, "");
        if (g !== want.value) {
          return `optval: want ${JSON.stringify(want.value)}, got ${JSON.stringify(g)}`;
        }
      }
      if (want.kind === "struct") {
        return compareStruct(want, buf, name === 13 ? LINGER : {}, "optval");
      }
      return undefined;
    };
    return out;
  },
  ioctl(k, call) {
    const real = k.real(arg(call, 0));
    const req = numberOf(arg(call, 1), "request");
    const buf = new Uint8Array(new ArrayBuffer(64));
    const out = k.result(libc().ioctl(real, BigInt(req), buf));
    const want = call.args[2];
    out.check = () => {
      if (!want || want.kind === "ellipsis") return undefined;
      const w = numberOf(want, "ioctl value");
      const g = int32(buf);
      return w === g ? undefined : `ioctl value: want ${w}, got ${g}`;
    };
    return out;
  },
  epoll_create(k, call) {
    const r = libc().epoll_create(Math.max(1, numberOf(arg(call, 0), "size")));
    const out = k.result(r);
    if (out.ret >= 0) {
      libc().fcntl(r, 4, BigInt(K.O_NONBLOCK));
      const s = numberOf(call.result, "the fd epoll_create() returns");
      k.fds.set(s, { real: r, kind: "epoll", nonblock: false });
      out.ret = s;
    }
    return out;
  },
  epoll_ctl(k, call) {
    const epfd = k.real(arg(call, 0));
    const op = numberOf(arg(call, 1), "op");
    const target = k.real(arg(call, 2));
    const ev = epollEvent(arg(call, 3));
    return k.result(libc().epoll_ctl(epfd, op, target, ev));
  },
  epoll_wait(k, call) {
    const ep = k.fds.get(numberOf(arg(call, 0), "epfd"));
    const max = numberOf(arg(call, 2), "maxevents");
    const timeout = numberOf(arg(call, 3), "timeout");
    const buf = new Uint8Array(new ArrayBuffer(12 * Math.max(1, max)));
    const attempt = () => k.result(libc().epoll_wait(ep?.real ?? -1, buf, max, 0));
    const check = (out: CallOutcome) => {
      out.check = () => compareEpoll(arg(call, 1), buf, out.ret);
      return out;
    };
    const first = attempt();
    if (first.ret !== 0 || timeout === 0 || !ep) return check(first);
    return k.waiter.wait(ep.real, K.POLLIN, timeout < 0 ? Infinity : timeout).then(() =>
      check(attempt())
    );
  },
  async poll(k, call) {
    const list = arg(call, 0);
    if (list.kind !== "array") {
      throw new PktCallError(`poll: want [{fd=…, events=…}], got ${describe(list)}`);
    }
    const n = list.items.length;
    const fds = new Uint8Array(new ArrayBuffer(8 * Math.max(1, n)));
    const v = new DataView(fds.buffer);
    list.items.forEach((it, i) => {
      const f = fieldsOf(it, "pollfd");
      v.setInt32(i * 8, k.real(f.get("fd")?.value ?? { kind: "int", value: -1 }), true);
      v.setInt16(
        i * 8 + 4,
        numberOf(f.get("events")?.value ?? { kind: "int", value: 0 }, "events"),
        true,
      );
    });
    const timeout = numberOf(arg(call, 2), "timeout");
    const r = timeout === 0
      ? libc().poll(fds, BigInt(n), 0)
      : await libc().pollAsync(fds, BigInt(n), timeout);
    const out = k.result(r);
    out.check = () => {
      for (let i = 0; i < n; i++) {
        const want = fieldsOf(list.items[i], "pollfd").get("revents")?.value;
        if (!want || want.kind === "ellipsis") continue;
        const w = numberOf(want, "revents");
        const g = v.getInt16(i * 8 + 6, true) & 0xffff;
        if (w !== g) return `revents of pollfd ${i}: want ${pollNames(w)}, got ${pollNames(g)}`;
      }
      return undefined;
    };
    return out;
  },
  sendfile(k, call) {
    const fd = k.fds.get(numberOf(arg(call, 0), "out_fd"));
    const inFd = k.real(arg(call, 1));
    const count = numberOf(arg(call, 3), "count");
    const off = call.args[2] && call.args[2].kind === "array"
      ? new BigInt64Array([BigInt(numberOf(call.args[2], "offset"))])
      : null;
    return k.blocking(fd, K.POLLOUT, () => {
      const out = k.result(
        libc().sendfile(
          fd?.real ?? -1,
          inFd,
          off ? new Uint8Array(off.buffer) : null,
          BigInt(count),
        ),
      );
      return out.errno === EAGAIN ? "block" : out;
    });
  },
  splice(k, call) {
    const a = k.real(arg(call, 0));
    const b = k.real(arg(call, 2));
    return k.result(
      libc().splice(
        a,
        null,
        b,
        null,
        BigInt(numberOf(arg(call, 4), "len")),
        numberOf(arg(call, 5), "flags"),
      ),
    );
  },
  pipe(k, call) {
    const want = arg(call, 0);
    const b = new Uint8Array(8);
    const out = k.result(libc().pipe2(b, K.O_NONBLOCK | K.O_CLOEXEC));
    if (out.ret === 0 && want.kind === "array" && want.items.length === 2) {
      const v = new DataView(b.buffer);
      want.items.forEach((it, i) =>
        k.fds.set(numberOf(it, "pipe fd"), {
          real: v.getInt32(i * 4, true),
          kind: "pipe",
          nonblock: false,
        })
      );
    }
    return out;
  },
  open(k, call) {
    const path = arg(call, 0);
    if (path.kind !== "string") {
      throw new PktCallError(`open: want a "path", got ${describe(path)}`);
    }
    const r = libc().open(
      cString(path.value),
      numberOf(arg(call, 1), "flags") | K.O_CLOEXEC,
      call.args[2] ? numberOf(call.args[2], "mode") : 0o644,
    );
    const out = k.result(r);
    if (out.ret >= 0) {
      const s = numberOf(call.result, "the fd open() returns");
      k.fds.set(s, { real: r, kind: "file", nonblock: false });
      out.ret = s;
    }
    return out;
  },
};

/** recv(fd, buf, len, flags) with the call's flags (its 4th argument). */
function recvInto(call: PktSyscall): (fd: number, b: Uint8Array) => number | bigint {
  const flags = numberOf(call.args[3] ?? { kind: "int", value: 0 }, "flags");
  return (fd, b) => libc().recv(fd, b, BigInt(b.length), flags);
}

function readLike(
  k: PktCalls,
  call: PktSyscall,
  read: (fd: number, b: Uint8Array) => number | bigint,
) {
  const fd = k.fds.get(numberOf(arg(call, 0), "fd"));
  const b = k.arena.alloc(numberOf(arg(call, 2), "count"));
  return k.blocking(fd, K.POLLIN, () => {
    const out = k.result(read(fd?.real ?? -1, b));
    return out.errno === EAGAIN ? "block" : out;
  });
}

/** write/send: a blocking socket takes everything before returning, as the kernel's would. */
function writeLike(k: PktCalls, call: PktSyscall, flags: number) {
  const fd = k.fds.get(numberOf(arg(call, 0), "fd"));
  const len = numberOf(arg(call, 2), "count");
  const b = writeBuffer(k.arena, arg(call, 1), len);
  let done = 0;
  return k.blocking(fd, K.POLLOUT, () => {
    const sock = fd?.kind === "socket";
    const n = Number(
      sock
        ? libc().send(fd!.real, b.subarray(done), BigInt(len - done), flags | MSG_NOSIGNAL)
        : libc().write(fd?.real ?? -1, b.subarray(done), BigInt(len - done)),
    );
    if (n < 0) {
      const out = k.result(n);
      if (out.errno === EAGAIN && done > 0 && fd?.nonblock) return { ret: done };
      if (out.errno === EAGAIN) return "block";
      return done > 0 ? { ret: done } : out;
    }
    done += n;
    if (done < len && fd && !fd.nonblock && len > 0) return "block";
    return { ret: done };
  });
}

/** An `optval`: `[N]` an int, `{onoff=…, linger=…}`, `"text"`, or a number. */
function optionValue(k: PktCalls, e: PktExpr, name: number): Uint8Array {
  if (e.kind === "string") return new TextEncoder().encode(e.value);
  if (e.kind === "struct") {
    const f = fieldsOf(e, "optval");
    if (name === 13) {
      const b = new Uint8Array(8);
      const v = new DataView(b.buffer);
      v.setInt32(0, numberOf(f.get("onoff")?.value ?? { kind: "int", value: 0 }, "onoff"), true);
      v.setInt32(4, numberOf(f.get("linger")?.value ?? { kind: "int", value: 0 }, "linger"), true);
      return b;
    }
    throw new PktCallError(`setsockopt: the struct ${describe(e)} is not one synack can pass yet`);
  }
  const b = k.arena.alloc(4);
  new DataView(b.buffer, b.byteOffset, 4).setInt32(0, numberOf(e, "optval"), true);
  return b;
}
