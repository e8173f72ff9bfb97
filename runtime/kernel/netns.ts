/**
 * A private network namespace, made and owned by this process.
 *
 * How isolation holds:
 * - `PrivateNetns.create()` calls unshare(CLONE_NEWNET) on the main thread
 *   only. That makes a new, empty namespace (just a downed lo). It keeps an fd
 *   to it and moves the thread straight back into the host namespace (setns).
 *   The main thread is in the private namespace only inside `inside(fn)`, a
 *   synchronous function, so no other code of the process can run there.
 * - The namespace has no name: no `ip netns add`, no bind mount under
 *   /run/netns. It lives as long as something holds it: our fd, the sockets
 *   and the TUN device made inside it. When the process ends in any way
 *   (close(), an exception, SIGINT, SIGTERM, even SIGKILL), the kernel closes
 *   those fds and removes the namespace with every interface and route in it.
 *   There is nothing left to clean up.
 * - Configuration runs as `nsenter --net=/proc/<pid>/fd/<fd> ip …`: the
 *   child enters exactly this namespace or fails; it never falls back to
 *   the host's.
 * - Sysctls are written under /proc/sys/net while the thread is inside, and
 *   the kernel resolves /proc/sys/net by the writing thread's namespace. A
 *   host-wide sysctl does not exist in a child namespace, so it cannot be
 *   reached from here.
 *
 * @example
 * ```ts ignore
 * import assert from "node:assert/strict";
 * import { PrivateNetns } from "./netns.ts";
 * const ns = PrivateNetns.create(); // root only
 * ns.writeSysctl("net.ipv4.tcp_timestamps", 0);
 * assert.equal(ns.readSysctl("net.ipv4.tcp_timestamps"), "0");
 * ns.close();
 * ```
 */
import { cString, K, libc, sysError } from "./libc.ts";

const dec = new TextDecoder();

/** Sysctl names synack may write: network ones, which are per namespace. */
const SYSCTL_NAME = /^net\.[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+$/;

/** One private network namespace and the way back to the host's. */
export class PrivateNetns {
  readonly #host: number;
  readonly fd: number;
  #closed = false;

  private constructor(host: number, fd: number) {
    this.#host = host;
    this.fd = fd;
  }

  /** Makes a new, empty network namespace. Needs CAP_SYS_ADMIN (root). */
  static create(): PrivateNetns {
    const c = libc();
    const flags = K.O_RDONLY | K.O_CLOEXEC;
    const host = c.open(cString("/proc/thread-self/ns/net"), flags, 0);
    if (host < 0) throw sysError("open(/proc/thread-self/ns/net)", c);
    if (c.unshare(K.CLONE_NEWNET) !== 0) {
      const e = sysError("unshare(CLONE_NEWNET)", c);
      c.close(host);
      throw e;
    }
    const fd = c.open(cString("/proc/thread-self/ns/net"), flags, 0);
    const openErr = fd < 0 ? sysError("open(private ns)", c) : undefined;
    if (c.setns(host, K.CLONE_NEWNET) !== 0) {
      // The main thread cannot get home: nothing else may run in this process.
      const e = sysError("setns(host namespace)", c);
      console.error(`synack: ${e.message}; exiting rather than run inside the private namespace`);
      Deno.exit(70);
    }
    if (openErr) {
      c.close(host);
      throw openErr;
    }
    return new PrivateNetns(host, fd);
  }

  /** The namespace as a path any process of ours can enter (`nsenter --net=`). */
  get path(): string {
    return `/proc/${Deno.pid}/fd/${this.fd}`;
  }

  /**
   * Runs `fn` with the main thread inside the namespace: sockets, TUN devices
   * and /proc/sys/net opened there belong to it. `fn` must be synchronous.
   */
  inside<T>(fn: () => T): T {
    if (this.#closed) throw new Error("This network namespace is closed");
    const c = libc();
    if (c.setns(this.fd, K.CLONE_NEWNET) !== 0) throw sysError("setns(private namespace)", c);
    try {
      const r = fn();
      if (r instanceof Promise) throw new TypeError("inside() takes a synchronous function");
      return r;
    } finally {
      if (c.setns(this.#host, K.CLONE_NEWNET) !== 0) {
        console.error(`synack: ${sysError("setns(host namespace)", c).message}; exiting`);
        Deno.exit(70);
      }
    }
  }

  /** Runs a command inside the namespace; rejects with its stderr when it fails. */
  async exec(args: readonly string[], stdin?: string): Promise<string> {
    const cmd = new Deno.Command("nsenter", {
      args: [`--net=${this.path}`, "--", ...args],
      stdin: stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
    });
    const child = cmd.spawn();
    if (stdin !== undefined) {
      const w = child.stdin.getWriter();
      await w.write(new TextEncoder().encode(stdin));
      await w.close();
    }
    const out = await child.output();
    if (!out.success) {
      throw new Error(
        `${args.join(" ")} (inside the private namespace) failed: ${dec.decode(out.stderr).trim()}`,
      );
    }
    return dec.decode(out.stdout);
  }

  /**
   * Sets a network sysctl inside this namespace (`net.ipv4.tcp_timestamps`).
   * Throws a `RangeError` for a name outside net.*, one the namespace does
   * not have (host-wide ones), or a value the kernel rejects.
   */
  writeSysctl(name: string, value: number | string): void {
    const path = sysctlPath(name);
    const c = libc();
    this.inside(() => {
      const fd = c.open(cString(path), K.O_WRONLY | K.O_CLOEXEC, 0);
      if (fd < 0) {
        const e = c.errnoName();
        throw new RangeError(
          e === "ENOENT"
            ? `sysctl ${name} does not exist inside a network namespace (unknown or host-wide); ` +
              `synack never changes the host's`
            : e === "EACCES" || e === "EPERM"
            ? `sysctl ${name} is host-wide (read-only inside a network namespace); ` +
              `synack never changes the host's`
            : `sysctl ${name} cannot be opened: ${e}`,
        );
      }
      const text = new TextEncoder().encode(`${value}\n`);
      const n = Number(c.write(fd, text, BigInt(text.length)));
      const e = n < 0 ? c.errnoName() : undefined;
      c.close(fd);
      if (e) {
        throw new RangeError(`sysctl ${name}: the kernel rejected ${JSON.stringify(value)} (${e})`);
      }
    });
  }

  /** Reads a network sysctl inside this namespace, trimmed. */
  readSysctl(name: string): string {
    const path = sysctlPath(name);
    const c = libc();
    return this.inside(() => {
      const fd = c.open(cString(path), K.O_RDONLY | K.O_CLOEXEC, 0);
      if (fd < 0) throw new RangeError(`sysctl ${name} cannot be read: ${c.errnoName()}`);
      const buf = new Uint8Array(4096);
      const n = Number(c.read(fd, buf, BigInt(buf.length)));
      c.close(fd);
      if (n < 0) throw new RangeError(`sysctl ${name} cannot be read`);
      return dec.decode(buf.subarray(0, n)).trim();
    });
  }

  /**
   * Reads one of this namespace's /proc/net files (`ipv6_route`), through
   * libc: Deno refuses /proc/self and /proc/thread-self without --allow-all.
   */
  readNetFile(name: string): string {
    if (!/^[a-z0-9_]+$/.test(name)) throw new RangeError(`not a /proc/net file: ${name}`);
    const c = libc();
    return this.inside(() => {
      const fd = c.open(cString(`/proc/thread-self/net/${name}`), K.O_RDONLY | K.O_CLOEXEC, 0);
      if (fd < 0) throw new RangeError(`/proc/net/${name} cannot be read: ${c.errnoName()}`);
      const parts: string[] = [];
      const buf = new Uint8Array(16384);
      for (;;) {
        const n = Number(c.read(fd, buf, BigInt(buf.length)));
        if (n <= 0) break;
        parts.push(dec.decode(buf.subarray(0, n)));
      }
      c.close(fd);
      return parts.join("");
    });
  }

  /** Drops our hold on the namespace; the kernel removes it once its sockets are closed too. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const c = libc();
    c.close(this.fd);
    c.close(this.#host);
  }
}

/** `/proc/sys/net/ipv4/tcp_timestamps` for `net.ipv4.tcp_timestamps`. */
export function sysctlPath(name: string): string {
  if (!SYSCTL_NAME.test(name)) {
    throw new RangeError(
      `sysctl ${JSON.stringify(name)}: want a network sysctl such as net.ipv4.tcp_timestamps ` +
        `(only net.* is private to a namespace)`,
    );
  }
  return `/proc/sys/${name.replaceAll(".", "/")}`;
}
