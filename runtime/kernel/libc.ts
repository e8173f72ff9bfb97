/**
 * The libc calls synack makes on the kernel, through `Deno.dlopen`. Every
 * call is synchronous on the main thread, so `errno` is read right after it
 * on the same thread. The two exceptions, `pollAsync` and `closeAsync`, run on
 * a worker thread (FFI `nonblocking`) because they may wait: a poll for a
 * socket or TUN fd to become ready, or a close that lingers. Their results
 * are counts or 0, so the errno they leave on that thread is not needed.
 *
 * Opening libc needs `--allow-ffi`; `libc()` loads it once, on first use, so
 * importing this module costs nothing on the built-in target.
 *
 * @example
 * ```ts ignore
 * import assert from "node:assert/strict";
 * import { libc } from "./libc.ts";
 * assert.ok(libc().getpid() > 0);
 * ```
 */
import { type ErrnoName, errnoName } from "../wire/socket_call.ts";

/** Flags and numbers from the Linux x86_64 / generic headers. */
export const K = Object.freeze({
  AF_INET: 2,
  AF_INET6: 10,
  AF_PACKET: 17,
  SOCK_STREAM: 1,
  SOCK_DGRAM: 2,
  SOCK_NONBLOCK: 0o4000,
  SOCK_CLOEXEC: 0o2000000,
  O_RDONLY: 0,
  O_WRONLY: 1,
  O_RDWR: 2,
  O_NONBLOCK: 0o4000,
  O_CLOEXEC: 0o2000000,
  CLONE_NEWNET: 0x40000000,
  POLLIN: 0x1,
  POLLOUT: 0x4,
  POLLERR: 0x8,
  POLLHUP: 0x10,
  MSG_NOSIGNAL: 0x4000,
  F_SETFL: 4,
  TUNSETIFF: 0x400454ca,
  IFF_TUN: 0x0001,
  IFF_NO_PI: 0x1000,
  SOL_SOCKET: 1,
  IPPROTO_TCP: 6,
  SIOCGIFINDEX: 0x8933,
});

const SYMBOLS = {
  open: { parameters: ["buffer", "i32", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  closeAsync: { name: "close", parameters: ["i32"], result: "i32", nonblocking: true },
  read: { parameters: ["i32", "buffer", "u64"], result: "i64" },
  write: { parameters: ["i32", "buffer", "u64"], result: "i64" },
  ioctl: { parameters: ["i32", "u64", "buffer"], result: "i32" },
  /** ioctl with an integer argument (TUNSETOFFLOAD). */
  ioctlInt: { name: "ioctl", parameters: ["i32", "u64", "u64"], result: "i32" },
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  listen: { parameters: ["i32", "i32"], result: "i32" },
  accept4: { parameters: ["i32", "pointer", "pointer", "i32"], result: "i32" },
  connect: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  send: { parameters: ["i32", "buffer", "u64", "i32"], result: "i64" },
  recv: { parameters: ["i32", "buffer", "u64", "i32"], result: "i64" },
  sendto: { parameters: ["i32", "buffer", "u64", "i32", "buffer", "u32"], result: "i64" },
  shutdown: { parameters: ["i32", "i32"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  fcntl: { parameters: ["i32", "i32", "i64"], result: "i32" },
  unshare: { parameters: ["i32"], result: "i32" },
  setns: { parameters: ["i32", "i32"], result: "i32" },
  getpid: { parameters: [], result: "i32" },
  gettid: { parameters: [], result: "i32" },
  geteuid: { parameters: [], result: "u32" },
  access: { parameters: ["buffer", "i32"], result: "i32" },
  readlink: { parameters: ["buffer", "buffer", "u64"], result: "i64" },
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32" },
  pollAsync: {
    name: "poll",
    parameters: ["buffer", "u64", "i32"],
    result: "i32",
    nonblocking: true,
  },
  recvmsg: { parameters: ["i32", "buffer", "i32"], result: "i64" },
  sendmsg: { parameters: ["i32", "buffer", "i32"], result: "i64" },
  readv: { parameters: ["i32", "buffer", "i32"], result: "i64" },
  writev: { parameters: ["i32", "buffer", "i32"], result: "i64" },
  epoll_create: { parameters: ["i32"], result: "i32" },
  epoll_ctl: { parameters: ["i32", "i32", "i32", "buffer"], result: "i32" },
  epoll_wait: { parameters: ["i32", "buffer", "i32", "i32"], result: "i32" },
  sendfile: { parameters: ["i32", "i32", "buffer", "u64"], result: "i64" },
  splice: { parameters: ["i32", "buffer", "i32", "buffer", "u64", "u32"], result: "i64" },
  pipe2: { parameters: ["buffer", "i32"], result: "i32" },
  clock_gettime: { parameters: ["i32", "buffer"], result: "i32" },
  if_nametoindex: { parameters: ["buffer"], result: "u32" },
  /** A sleep on a worker thread: a precise wait that timers' 4 ms nesting clamp does not stretch. */
  usleepAsync: { name: "usleep", parameters: ["u32"], result: "i32", nonblocking: true },
  usleep: { parameters: ["u32"], result: "i32" },
  sched_setscheduler: { parameters: ["i32", "i32", "buffer"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
} as const satisfies Deno.ForeignLibraryInterface;

/** The loaded symbols, plus `errno()` for the last synchronous call. */
export type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] & {
  /** errno as the last synchronous call on the main thread left it. */
  errno(): number;
  /** The errno's name (`EAGAIN`), or `E<n>` outside synack's table. */
  errnoName(): ErrnoName | `E${number}`;
};

let loaded: Libc | undefined;

/** libc, opened on first use. Throws a clear error without `--allow-ffi`. */
export function libc(): Libc {
  if (loaded) return loaded;
  let lib: Deno.DynamicLibrary<typeof SYMBOLS>;
  try {
    lib = Deno.dlopen("libc.so.6", SYMBOLS);
  } catch (e) {
    if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
      throw new Error("The kernel target calls libc through FFI: run deno with --allow-ffi");
    }
    throw e;
  }
  const at = new Deno.UnsafePointerView(lib.symbols.__errno_location()!);
  const errno = () => at.getInt32();
  loaded = Object.assign(Object.create(null), lib.symbols, {
    errno,
    errnoName: () => {
      const n = errno();
      return errnoName(n) ?? (`E${n}` as const);
    },
  });
  return loaded!;
}

const enc = new TextEncoder();

/** A NUL-terminated C string. */
export function cString(s: string): Uint8Array {
  const b = new Uint8Array(s.length * 3 + 1);
  const { written } = enc.encodeInto(s, b);
  return b.subarray(0, written + 1);
}

/**
 * Where a symbolic link points, through readlink(2): Deno's own file calls
 * want --allow-all for anything under /proc, and synack reads
 * /proc/<pid>/ns/net to tell namespaces apart. Undefined if it cannot.
 */
export function readLink(path: string): string | undefined {
  const buf = new Uint8Array(256);
  const n = Number(libc().readlink(cString(path), buf, BigInt(buf.length)));
  return n < 0 ? undefined : new TextDecoder().decode(buf.subarray(0, n));
}

/** An error for a failed setup call: `TUNSETIFF failed: EPERM`. */
export function sysError(what: string, c: Libc = libc()): Error {
  return new Error(`${what} failed: ${c.errnoName()}`);
}
