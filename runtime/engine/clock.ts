/**
 * Clocks for scenario runs. Both count milliseconds from the start of the run.
 *
 * - `VirtualClock`: time moves only when someone waits. Due timers fire
 *   in (time, creation) order, so a run is deterministic and a minute of
 *   protocol time costs microseconds.
 * - `RealClock`: wall time from `performance.now()`, with timers on
 *   `setTimeout`. Packets from a kernel or a remote host arrive on their own
 *   schedule, and timing checks use `timingTolerance`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { VirtualClock } from "./clock.ts";
 * const clock = new VirtualClock();
 * const fired: number[] = [];
 * clock.setTimer(3000, () => fired.push(clock.now()));
 * clock.setTimer(1000, () => fired.push(clock.now()));
 * assert.equal(await clock.waitFor(() => fired.length === 2, 10_000), true);
 * assert.deepEqual(fired, [1000, 3000]);
 * assert.equal(clock.now(), 3000);
 * ```
 */
export interface Clock {
  readonly kind: "virtual" | "real";
  /** Milliseconds since the clock started. */
  now(): number;
  /** Calls `fn` once the clock reaches `at` (ms). */
  setTimer(at: number, fn: () => void): Timer;
  /** Stops a timer; harmless if it already fired. */
  cancel(t: Timer | undefined): void;
  /**
   * Lets time pass, firing due timers, until `ready()` holds or the clock
   * reaches `deadline`. Resolves to `ready()`. A virtual clock with nothing
   * left to fire stops at once; the deadline then still becomes the time.
   */
  waitFor(ready: () => boolean, deadline: number): Promise<boolean>;
  /** Wakes a pending `waitFor` so it checks `ready` again (something arrived). */
  poke(): void;
  /**
   * A real clock: what the machine's load adds to a time measured here, in
   * ms: how late this process has lately been to wake up, or, when more, how
   * long runnable tasks waited for a CPU during the last `windowMs`. Timing
   * checks allow it on top of their tolerance (packetdrill's
   * KSFT_MACHINE_SLOW, measured).
   */
  schedulingDelay?(windowMs?: number): number;
}

/** A timer handle. */
export interface Timer {
  readonly at: number;
  cancelled: boolean;
}

interface VirtualTimer extends Timer {
  readonly order: number;
  readonly fn: () => void;
}

function before(a: VirtualTimer, b: VirtualTimer): boolean {
  return a.at < b.at || (a.at === b.at && a.order < b.order);
}

/** Deterministic time: a binary heap of timers and a cursor. */
export class VirtualClock implements Clock {
  readonly kind = "virtual";
  /**
   * Time never passes this point (a scenario's virtual-time limit): a wait
   * that would go beyond it stops there, and the runner fails the scenario.
   */
  horizon = Infinity;
  #now = 0;
  #order = 0;
  #heap: VirtualTimer[] = [];

  now(): number {
    return this.#now;
  }

  setTimer(at: number, fn: () => void): Timer {
    const t: VirtualTimer = {
      at: Math.max(at, this.#now),
      order: this.#order++,
      fn,
      cancelled: false,
    };
    const h = this.#heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
    return t;
  }

  cancel(t: Timer | undefined): void {
    if (t) t.cancelled = true;
  }

  /** When the next live timer is due, or undefined when none is left. */
  nextAt(): number | undefined {
    this.#dropCancelled();
    return this.#heap[0]?.at;
  }

  /** Moves time to `t`, firing every timer due on the way. */
  advanceTo(t: number): void {
    t = Math.min(t, this.horizon);
    for (;;) {
      const at = this.nextAt();
      if (at === undefined || at > t) break;
      this.#fireNext();
    }
    if (t > this.#now) this.#now = t;
  }

  waitFor(ready: () => boolean, deadline: number): Promise<boolean> {
    return Promise.resolve(this.runUntil(ready, deadline));
  }

  /** The synchronous core of `waitFor`. */
  runUntil(ready: () => boolean, deadline: number): boolean {
    deadline = Math.min(deadline, this.horizon);
    for (;;) {
      if (ready()) return true;
      const at = this.nextAt();
      if (at === undefined || at > deadline) {
        if (Number.isFinite(deadline) && deadline > this.#now) this.#now = deadline;
        return ready();
      }
      this.#fireNext();
    }
  }

  poke(): void {}

  #dropCancelled(): void {
    while (this.#heap.length && this.#heap[0].cancelled) this.#pop();
  }

  #fireNext(): void {
    const t = this.#pop();
    if (t.at > this.#now) this.#now = t.at;
    t.cancelled = true;
    t.fn();
  }

  #pop(): VirtualTimer {
    const h = this.#heap;
    const top = h[0];
    const last = h.pop()!;
    if (h.length) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < h.length && before(h[l], h[m])) m = l;
        if (r < h.length && before(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}

/** How often the scheduling probe wakes, and how far back its maximum looks, in ms. */
const PROBE_MS = 10;
const PROBE_WINDOW_MS = 2000;
/** The probe samples CPU pressure every this many wake-ups (100 ms), and keeps 60 s of it. */
const PSI_EVERY = 10;
const PSI_KEEP_MS = 60_000;

/**
 * The kernel's CPU pressure (PSI, `/proc/pressure/cpu`): the total time, in
 * µs since boot, during which some runnable task waited for a CPU.
 * Undefined where the kernel has no PSI or the file cannot be read.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cpuStallMicros } from "./clock.ts";
 * const v = cpuStallMicros();
 * assert.ok(v === undefined || (Number.isInteger(v) && v >= 0));
 * ```
 */
export function cpuStallMicros(): number | undefined {
  try {
    const m = /^some .*\btotal=(\d+)/m.exec(Deno.readTextFileSync("/proc/pressure/cpu"));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Due-now timers run back to back before one waits for the event loop's next turn. */
const SOON_BURST = 10_000;

/**
 * Wall-clock time. A probe timer wakes every 10 ms and notes how late it
 * woke: on a busy machine the event loop runs late, and so does every time
 * this process stamps on a packet or a call.
 */
export class RealClock implements Clock {
  readonly kind = "real";
  readonly #start = performance.now();
  readonly #timers = new Set<Timer & { id?: ReturnType<typeof setTimeout> }>();
  #wake: (() => void) | undefined;
  #stopped = false;
  /** Due-now timers run as microtasks since the event loop last turned. */
  #soon = 0;
  /** Recent lateness samples: [when, how late], oldest first. */
  readonly #late: [number, number][] = [];
  #probe: ReturnType<typeof setInterval> | undefined;

  /** CPU pressure samples: [when, total stall in µs], oldest first (empty without PSI). */
  readonly #stall: [number, number][] = [];

  constructor() {
    let due = performance.now() + PROBE_MS;
    let tick = 0;
    this.#sampleStall(due - PROBE_MS);
    this.#probe = setInterval(() => {
      const now = performance.now();
      this.#note(now, Math.max(0, now - due));
      due = now + PROBE_MS;
      if (++tick % PSI_EVERY === 0) this.#sampleStall(now);
    }, PROBE_MS);
  }

  #sampleStall(now: number): void {
    const v = cpuStallMicros();
    if (v === undefined) return;
    const q = this.#stall;
    q.push([now, v]);
    while (q.length > 2 && q[1][0] < now - PSI_KEEP_MS) q.shift();
  }

  /**
   * How long, in ms, some task waited for a CPU since `windowMs` ago (from
   * the last sample at or before then, so never less than the truth).
   */
  #stallDuring(windowMs: number): number {
    const q = this.#stall;
    if (!q.length) return 0;
    const now = performance.now();
    const since = now - windowMs;
    let i = q.length - 1;
    while (i > 0 && q[i][0] > since) i--;
    const total = cpuStallMicros() ?? q[q.length - 1][1];
    return Math.max(0, (total - q[i][1]) / 1000);
  }

  #note(now: number, late: number): void {
    const q = this.#late;
    if (late >= 1) q.push([now, late]);
    while (q.length && q[0][0] < now - PROBE_WINDOW_MS) q.shift();
  }

  /**
   * The most this process woke late in the last 2 s, or, when more, how long
   * tasks waited for a CPU during the last `windowMs`; in ms, 0 when idle.
   */
  schedulingDelay(windowMs = 0): number {
    this.#note(performance.now(), 0);
    let max = 0;
    for (const [, late] of this.#late) max = Math.max(max, late);
    if (windowMs > 0) max = Math.max(max, this.#stallDuring(windowMs));
    return Math.round(max);
  }

  now(): number {
    return performance.now() - this.#start;
  }

  setTimer(at: number, fn: () => void): Timer {
    const t: Timer & { id?: ReturnType<typeof setTimeout> } = { at, cancelled: false };
    if (this.#stopped) {
      t.cancelled = true;
      return t;
    }
    this.#timers.add(t);
    const fire = () => {
      this.#timers.delete(t);
      if (t.cancelled) return;
      t.cancelled = true;
      fn();
      this.poke();
    };
    const wait = at - this.now();
    // Due now: run once the current code is done, without a timer. A chain of zero-delay
    // timers is clamped to 4 ms a step (HTML timers), which would pace a live peer stack.
    // A long chain still yields to the event loop now and then (I/O, the watchdog).
    if (wait <= 0 && this.#soon < SOON_BURST) {
      if (this.#soon++ === 0) setTimeout(() => (this.#soon = 0), 0);
      queueMicrotask(fire);
    } else t.id = setTimeout(fire, Math.max(0, wait));
    return t;
  }

  cancel(t: (Timer & { id?: ReturnType<typeof setTimeout> }) | undefined): void {
    if (!t || t.cancelled) return;
    t.cancelled = true;
    clearTimeout(t.id);
    this.#timers.delete(t);
  }

  /**
   * Cancels every timer and refuses new ones: when a run ends, nothing on
   * this clock (a peer stack's retransmission, say) fires into a closed target.
   */
  stop(): void {
    this.#stopped = true;
    clearInterval(this.#probe);
    for (const t of [...this.#timers]) this.cancel(t);
    this.poke();
  }

  async waitFor(ready: () => boolean, deadline: number): Promise<boolean> {
    for (;;) {
      // A stopped clock's run is over: nothing it waits for will come.
      if (ready() || this.#stopped) return ready();
      const left = deadline - this.now();
      if (left <= 0) return ready();
      await new Promise<void>((resolve) => {
        const id = Number.isFinite(left) ? setTimeout(resolve, left) : undefined;
        this.#wake = () => {
          clearTimeout(id);
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }

  poke(): void {
    this.#wake?.();
  }
}

/** How far a real event may stray from its scripted time. */
export interface Tolerance {
  /** The floor, in ms. packetdrill: 4 ms. */
  minMs: number;
  /** The share of the gap since the previous event. packetdrill: 12.5 %. */
  fraction: number;
}

/** packetdrill's rule: max(4 ms, 12.5 % of the gap since the previous event). */
export const DEFAULT_TOLERANCE: Tolerance = Object.freeze({ minMs: 4, fraction: 0.125 });

/**
 * Timing tolerance on a real kernel: packetdrill's 12.5 % is the most the
 * kernel's timer wheel alone may add to a long timer (it rounds expiry up
 * to the wheel level's granularity, 1/8 of its range), so scheduling and
 * injection latency need room beyond it.
 */
export const REAL_STACK_TOLERANCE: Tolerance = Object.freeze({ minMs: 10, fraction: 0.2 });

/**
 * The allowed error, in ms, for an event scripted `gapMs` after the previous one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { timingTolerance } from "./clock.ts";
 * assert.equal(timingTolerance(0), 4);
 * assert.equal(timingTolerance(1000), 125);
 * assert.equal(timingTolerance(1000, { minMs: 10, fraction: 0 }), 10);
 * ```
 */
export function timingTolerance(gapMs: number, tol: Tolerance = DEFAULT_TOLERANCE): number {
  return Math.max(tol.minMs, tol.fraction * Math.abs(gapMs));
}
