/**
 * Timing checks of `expect(…).within()/.after()` and of timed calls: how much
 * slack a gap gets (the scenario's tolerance, plus this machine's measured
 * scheduling delay on a real clock), and the one-line verdict when a packet or
 * a call's return comes at the wrong time.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { VirtualClock } from "./clock.ts";
 * import { TimingCheck } from "./timing_check.ts";
 * const t = new TimingCheck(new VirtualClock(), () => ({ minMs: 4, fraction: 0.125 }));
 * assert.equal(t.problem({ kind: "after", ms: 200 }, 210), undefined);
 * assert.equal(
 *   t.problem({ kind: "after", ms: 200 }, 300),
 *   "timing: want 0.200 s ± 0.025 s after the previous step, got 0.300 s",
 * );
 * ```
 */
import type { Timing } from "../../dsl/steps.ts";
import { type Clock, timingTolerance, type Tolerance } from "./clock.ts";

/** The most that measured CPU wait may add to a short gap's slack (a long one: half the gap). */
const LOAD_CAP_MS = 25;

const sec = (ms: number) => `${(ms / 1000).toFixed(3)} s`;

/** Decides whether a gap between two events meets a step's timing. */
export class TimingCheck {
  readonly #clock: Clock;
  readonly #tolerance: () => Tolerance;

  /** `tolerance` is asked each time: a scenario's options may set it after the target's. */
  constructor(clock: Clock, tolerance: () => Tolerance) {
    this.#clock = clock;
    this.#tolerance = tolerance;
  }

  /** The tolerance itself, for a gap of `ms`. */
  tolerance(ms: number): number {
    return timingTolerance(ms, this.#tolerance());
  }

  /**
   * The slack for a gap of `ms`, and how much of it the machine's measured
   * load added over the last `window` ms (the gap as it is so far).
   */
  slack(ms: number, window = 0): { slack: number; load: number } {
    // How late this process woke counts whole. CPU wait over the gap counts up to half the gap
    // (at least 25 ms): a wait still ends, and a stack that is late by a whole step (an RTO
    // doubled) is still told apart from one on time on a busy machine.
    const woke = this.#clock.schedulingDelay?.() ?? 0;
    const waited = this.#clock.schedulingDelay?.(window) ?? 0;
    const load = Math.max(woke, Math.min(waited, Math.max(ms / 2, LOAD_CAP_MS)));
    return { slack: this.tolerance(ms) + load, load };
  }

  /**
   * The last moment an event due `timing` after `since` may come, as far as
   * is known now: on a loaded machine it moves later as the load is measured,
   * so a wait that reaches it asks again.
   */
  deadline(timing: Timing, since: number): number {
    const window = Math.max(0, this.#clock.now() - since);
    return since + timing.ms + this.slack(timing.ms, window).slack;
  }

  /** Why a gap of `gap` ms does not meet `timing`, in one line; undefined when it does. */
  problem(timing: Timing, gap: number): string | undefined {
    const { slack, load } = this.slack(timing.ms, gap);
    const ok = timing.kind === "within"
      ? gap <= timing.ms + slack
      : Math.abs(gap - timing.ms) <= slack;
    if (ok) return undefined;
    const want = timing.kind === "within"
      ? `at most ${sec(timing.ms)} (+${sec(slack)})`
      : `${sec(timing.ms)} ± ${sec(slack)}`;
    const measured = load
      ? `, of which ${sec(load)} is this machine's measured load (scheduling delay, CPU wait)`
      : "";
    return `timing: want ${want} after the previous step${measured}, got ${sec(gap)}`;
  }
}
