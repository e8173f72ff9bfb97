/**
 * Socket calls as data: what a scenario asks the stack under test to do, and
 * what came back. The built-in stack, and later the kernel through FFI,
 * answer the same `SocketCall`s with the same `SysResult`s, so one scenario
 * runs against both. Results follow the libc convention that packetdrill
 * checks: a value, or -1 with an errno name (`connect(3, ...) = -1 ECONNREFUSED`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatCall, Errno } from "./socket_call.ts";
 * assert.equal(Errno.ECONNREFUSED, 111);
 * assert.equal(
 *   formatCall({ name: "connect", fd: 3, port: 8080 }, { ok: false, errno: "ECONNREFUSED" }),
 *   "connect(3, :8080) = -1 ECONNREFUSED",
 * );
 * assert.equal(formatCall({ name: "write", fd: 4, data: new Uint8Array(5) }, { ok: true, value: 5 }), "write(4, 5 bytes) = 5");
 * ```
 */
import { assertNever } from "./assert_never.ts";

/** Linux errno numbers (asm-generic/errno-base.h, errno.h) for the names synack uses. */
export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  EIO: 5,
  ENXIO: 6,
  E2BIG: 7,
  ENOEXEC: 8,
  EBADF: 9,
  ECHILD: 10,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  ENFILE: 23,
  EMFILE: 24,
  ENOTTY: 25,
  EFBIG: 27,
  ENOSPC: 28,
  ESPIPE: 29,
  EROFS: 30,
  EPIPE: 32,
  ERANGE: 34,
  ENOSYS: 38,
  ENONET: 64,
  EPROTO: 71,
  EOVERFLOW: 75,
  ENOTSOCK: 88,
  EDESTADDRREQ: 89,
  EMSGSIZE: 90,
  EPROTOTYPE: 91,
  ENOPROTOOPT: 92,
  EPROTONOSUPPORT: 93,
  ESOCKTNOSUPPORT: 94,
  EOPNOTSUPP: 95,
  EPFNOSUPPORT: 96,
  EAFNOSUPPORT: 97,
  EADDRINUSE: 98,
  EADDRNOTAVAIL: 99,
  ENETDOWN: 100,
  ENETUNREACH: 101,
  ENETRESET: 102,
  ECONNABORTED: 103,
  ECONNRESET: 104,
  ENOBUFS: 105,
  EISCONN: 106,
  ENOTCONN: 107,
  ESHUTDOWN: 108,
  ETOOMANYREFS: 109,
  ETIMEDOUT: 110,
  ECONNREFUSED: 111,
  EHOSTDOWN: 112,
  EHOSTUNREACH: 113,
  EALREADY: 114,
  EINPROGRESS: 115,
} as const;

/** An errno name that synack knows. */
export type ErrnoName = keyof typeof Errno;

/**
 * The name of errno `n`, for results that come from the kernel; undefined
 * for a number outside the table.
 */
export function errnoName(n: number): ErrnoName | undefined {
  return ERRNO_NAMES.get(n);
}

const ERRNO_NAMES = new Map<number, ErrnoName>(
  Object.entries(Errno).map(([k, v]) => [v, k as ErrnoName]),
);

/** True when `name` is an errno synack knows. */
export function isErrnoName(name: string): name is ErrnoName {
  return Object.hasOwn(Errno, name);
}

/** TCP states with Linux's numbering (include/net/tcp_states.h), as TCP_INFO reports them. */
export const TcpState = {
  ESTABLISHED: 1,
  SYN_SENT: 2,
  SYN_RECV: 3,
  FIN_WAIT1: 4,
  FIN_WAIT2: 5,
  TIME_WAIT: 6,
  CLOSE: 7,
  CLOSE_WAIT: 8,
  LAST_ACK: 9,
  LISTEN: 10,
  CLOSING: 11,
} as const;

/** A TCP state name, Linux spelling. */
export type TcpStateName = keyof typeof TcpState;

/**
 * The TCP_INFO fields synack fills (struct tcp_info in linux/tcp.h). Times are
 * in microseconds and sizes in bytes or segments, as Linux reports them.
 */
export interface TcpInfo {
  state: TcpStateName;
  caState: number;
  retransmits: number;
  backoff: number;
  /** Unanswered zero-window or keepalive probes (tcpi_probes). */
  probes: number;
  options: number;
  sndWscale: number;
  rcvWscale: number;
  rto: number;
  sndMss: number;
  rcvMss: number;
  unacked: number;
  /** Segments the peer has SACKed (tcpi_sacked). */
  sacked: number;
  lost: number;
  retrans: number;
  rtt: number;
  rttvar: number;
  sndSsthresh: number;
  sndCwnd: number;
  advmss: number;
  totalRetrans: number;
  segsOut: number;
  segsIn: number;
  dataSegsOut: number;
  dataSegsIn: number;
}

/** TCPI_OPT_* bits of `TcpInfo.options`. */
export const TcpiOpt = { TIMESTAMPS: 1, SACK: 2, WSCALE: 4, ECN: 8 } as const;

/** poll(2) event bits (asm-generic/poll.h), in the order synack prints them. */
export const PollEvent = {
  POLLIN: 0x1,
  POLLPRI: 0x2,
  POLLOUT: 0x4,
  POLLERR: 0x8,
  POLLHUP: 0x10,
  POLLRDHUP: 0x2000,
} as const;

/** A poll event name. */
export type PollEventName = keyof typeof PollEvent;

/** `POLLIN|POLLOUT` for a mask, in PollEvent order; `0` for none. */
export function formatPollEvents(mask: number): string {
  const names = (Object.keys(PollEvent) as PollEventName[]).filter((k) => mask & PollEvent[k]);
  return names.length ? names.join("|") : "0";
}

/** The mask `POLLIN|POLLOUT` names; throws a `RangeError` naming what is wrong. */
export function parsePollEvents(text: string): number {
  if (text.trim() === "0") return 0;
  let mask = 0;
  for (const part of text.split("|").map((p) => p.trim())) {
    if (!Object.hasOwn(PollEvent, part)) {
      throw new RangeError(
        `want poll events such as POLLIN|POLLOUT (${Object.keys(PollEvent).join(", ")}), got ${
          JSON.stringify(part)
        }`,
      );
    }
    mask |= PollEvent[part as PollEventName];
  }
  return mask;
}

/** What poll() reports for one fd: its revents, as names. */
export interface PollResult {
  revents: string;
}

/** Socket options synack can set. */
export type SockOpt =
  | { name: "SO_LINGER"; onoff: boolean; linger: number }
  | { name: "TCP_NODELAY"; value: boolean }
  | { name: "SO_RCVBUF"; value: number }
  | { name: "SO_SNDBUF"; value: number }
  | { name: "SO_REUSEADDR"; value: boolean }
  | { name: "SO_KEEPALIVE"; value: boolean }
  | { name: "TCP_MAXSEG"; value: number }
  | { name: "TCP_KEEPIDLE"; value: number }
  | { name: "TCP_KEEPINTVL"; value: number }
  | { name: "TCP_KEEPCNT"; value: number }
  | { name: "TCP_CORK"; value: boolean };

/** Names accepted by `getsockopt`. */
export type GetSockOptName = SockOpt["name"] | "TCP_INFO" | "SO_ERROR";

/** One call on the stack under test. `fd` numbers are the stack's own. */
export type SocketCall =
  | { name: "socket"; family?: 4 | 6; nonblock?: boolean }
  | { name: "bind"; fd: number; addr?: string; port: number }
  | { name: "listen"; fd: number; backlog?: number }
  | { name: "accept"; fd: number }
  | { name: "connect"; fd: number; addr?: string; port: number }
  | { name: "write"; fd: number; data: Uint8Array }
  /** `all`: MSG_WAITALL, block until `count` bytes, end of stream or an error (recv(2)). */
  | { name: "read"; fd: number; count: number; all?: boolean }
  | { name: "shutdown"; fd: number; how: "SHUT_RD" | "SHUT_WR" | "SHUT_RDWR" }
  | { name: "close"; fd: number }
  | { name: "setsockopt"; fd: number; opt: SockOpt }
  | { name: "getsockopt"; fd: number; opt: GetSockOptName }
  | { name: "fcntl"; fd: number; nonblock: boolean }
  | { name: "poll"; fd: number; events: number; timeoutMs: number };

/** The name of a socket call. */
export type SocketCallName = SocketCall["name"];

/** What a call returned: a value (an fd, a byte count, bytes read, an option value) or an errno. */
export type SysResult =
  | { ok: true; value: number | Uint8Array | TcpInfo | SockOpt | PollResult }
  | { ok: false; errno: ErrnoName };

function arg(v: unknown): string {
  if (v instanceof Uint8Array) return `${v.length} bytes`;
  if (typeof v === "object" && v !== null) {
    return `{${Object.entries(v).map(([k, x]) => `${k}: ${arg(x)}`).join(", ")}}`;
  }
  return String(v);
}

/** The arguments of `c` in packetdrill order, as text. */
export function formatCallArgs(c: SocketCall): string {
  switch (c.name) {
    case "socket":
      return [
        c.family === 6 ? "AF_INET6" : "AF_INET",
        "SOCK_STREAM",
        c.nonblock ? "O_NONBLOCK" : "",
      ]
        .filter(Boolean).join(", ");
    case "bind":
    case "connect":
      return `${c.fd}, ${c.addr ?? ""}:${c.port}`;
    case "listen":
      return c.backlog === undefined ? `${c.fd}` : `${c.fd}, ${c.backlog}`;
    case "accept":
    case "close":
      return `${c.fd}`;
    case "write":
      return `${c.fd}, ${arg(c.data)}`;
    case "read":
      return `${c.fd}, ${c.count}${c.all ? ", MSG_WAITALL" : ""}`;
    case "shutdown":
      return `${c.fd}, ${c.how}`;
    case "setsockopt":
      return `${c.fd}, ${c.opt.name}, ${arg(Object.fromEntries(Object.entries(c.opt).slice(1)))}`;
    case "getsockopt":
      return `${c.fd}, ${c.opt}`;
    case "fcntl":
      return `${c.fd}, F_SETFL, ${c.nonblock ? "O_NONBLOCK" : "0"}`;
    case "poll":
      return `{fd=${c.fd}, events=${formatPollEvents(c.events)}}, ${c.timeoutMs}`;
    default:
      return assertNever(c, "socket call");
  }
}

/** Formats a result the libc way: `= 3`, `= -1 EAGAIN`, `= 5 bytes`. */
export function formatResult(r: SysResult): string {
  if (!r.ok) return `-1 ${r.errno}`;
  return arg(r.value);
}

/** `name(args) = result`, or just `name(args)` when no result is given. */
export function formatCall(c: SocketCall, r?: SysResult): string {
  const head = `${c.name}(${formatCallArgs(c)})`;
  return r ? `${head} = ${formatResult(r)}` : head;
}
