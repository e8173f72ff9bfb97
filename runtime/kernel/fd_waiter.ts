/**
 * Waits for fds to become ready without blocking the event loop: each wait is
 * one poll(2) on an FFI worker thread, over the fd and a shared eventfd.
 * Writing the eventfd (`cancel()`) wakes every wait at once, so a target can
 * be closed while calls are still blocked, and `close()` resolves only after
 * every poll has returned (no FFI call outlives the target).
 *
 * @example
 * ```ts ignore
 * import assert from "node:assert/strict";
 * import { FdWaiter } from "./fd_waiter.ts";
 * const w = new FdWaiter();
 * const pending = w.wait(someFd, 0x1, 5000);
 * w.cancel();
 * assert.equal(await pending, "cancelled");
 * await w.close();
 * ```
 */
import { K, libc, sysError } from "./libc.ts";

/** What a wait ended with: the fd's revents, a timeout, or `cancel()`. */
export type WaitResult = number | "timeout" | "cancelled";

/** poll(2) on worker threads, cancellable as a group. */
export class FdWaiter {
  readonly #event: number;
  readonly #inFlight = new Set<Promise<unknown>>();
  #cancelled = false;

  constructor() {
    const c = libc();
    this.#event = c.eventfd(0, K.O_NONBLOCK | K.O_CLOEXEC);
    if (this.#event < 0) throw sysError("eventfd", c);
  }

  /** True once `cancel()` was called. */
  get cancelled(): boolean {
    return this.#cancelled;
  }

  /**
   * Waits until `fd` has one of `events` (POLLIN, POLLOUT; errors and hang-ups
   * always count), `timeoutMs` passes (Infinity: no limit) or `cancel()`.
   */
  async wait(fd: number, events: number, timeoutMs: number): Promise<WaitResult> {
    if (this.#cancelled) return "cancelled";
    const fds = new Uint8Array(16);
    const v = new DataView(fds.buffer);
    v.setInt32(0, fd, true);
    v.setInt16(4, events, true);
    v.setInt32(8, this.#event, true);
    v.setInt16(12, K.POLLIN, true);
    const ms = Number.isFinite(timeoutMs) ? Math.max(0, Math.ceil(timeoutMs)) : -1;
    const p = libc().pollAsync(fds, 2n, Math.min(ms, 0x7fffffff));
    this.#inFlight.add(p);
    let n: number;
    try {
      n = await p;
    } finally {
      this.#inFlight.delete(p);
    }
    if (this.#cancelled || v.getInt16(14, true) !== 0) return "cancelled";
    if (n === 0) return "timeout";
    // EINTR: nothing is ready yet; the caller's loop asks again.
    if (n < 0) return 0;
    return v.getInt16(6, true);
  }

  /** Runs `close()` of an fd on a worker thread, for a close that may linger. */
  async closeLater(fd: number): Promise<number> {
    const p = libc().closeAsync(fd);
    this.#inFlight.add(p);
    try {
      return await p;
    } finally {
      this.#inFlight.delete(p);
    }
  }

  /** Wakes every wait, now and later, with "cancelled". */
  cancel(): void {
    if (this.#cancelled) return;
    this.#cancelled = true;
    const one = new Uint8Array(8);
    one[0] = 1;
    libc().write(this.#event, one, 8n);
  }

  /** Cancels, waits for every poll to return, and releases the eventfd. */
  async close(): Promise<void> {
    this.cancel();
    while (this.#inFlight.size) await Promise.allSettled([...this.#inFlight]);
    libc().close(this.#event);
  }
}
