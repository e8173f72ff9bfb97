/**
 * How long a scenario may run. Two limits, because two things can run away:
 *
 * - **real time**, always: a promise in the scenario's code that never
 *   settles, a busy loop, a step that waits on a real stack for hours. The
 *   watchdog is a timer on the event loop, so it fires whatever the run is
 *   waiting on (a busy loop in the scenario's own process is ended by the
 *   scenario host, which owns that process: `runtime/host`).
 * - **virtual time**, on the virtual clock: a loop of `wait()`s that would
 *   go on for ever costs no real time worth noticing, so it is stopped when
 *   the clock reaches the limit.
 *
 * Defaults: 60 s of real time on the virtual clock (a built-in scenario takes
 * milliseconds), 10 min on a real clock (a kernel scenario runs at protocol
 * speed: a TIME-WAIT lasts 60 s), and 24 h of virtual time.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { scenarioLimits, Watchdog } from "./scenario_limits.ts";
 * assert.deepEqual(scenarioLimits({}, "virtual"), { wallMs: 60_000, virtualMs: 86_400_000 });
 * assert.deepEqual(scenarioLimits({ timeout: "2s" }, "real").wallMs, 2000);
 * assert.equal(scenarioLimits({ timeout: "2s" }, "real", { timeoutMs: 500 }).wallMs, 500);
 * const dog = new Watchdog(10, () => new Error("too slow"));
 * await assert.rejects(dog.race(new Promise(() => {})), /too slow/);
 * assert.equal(await new Watchdog(1000, () => new Error("x")).race(Promise.resolve(7)), 7);
 * ```
 */
import type { ScenarioOptions } from "../../dsl/scenario_def.ts";
import { parseDuration } from "../../dsl/duration.ts";

/** The two limits of one run, in ms. */
export interface Limits {
  /** Real time for the whole scenario. */
  wallMs: number;
  /** Virtual time, on the virtual clock. */
  virtualMs: number;
}

/** Limits set for a whole run (`synack run --timeout`), over each scenario's own. */
export interface LimitOverride {
  timeoutMs?: number;
  virtualTimeoutMs?: number;
}

/** The defaults, by the kind of clock the target runs. */
export const DEFAULT_LIMITS = Object.freeze({
  virtualClockWallMs: 60_000,
  realClockWallMs: 600_000,
  virtualMs: 86_400_000,
});

/** The limits for a scenario with options `o` on a clock of `kind`. */
export function scenarioLimits(
  o: Pick<ScenarioOptions, "timeout" | "virtualTimeout">,
  kind: "virtual" | "real",
  override: LimitOverride = {},
): Limits {
  const wallDefault = kind === "virtual"
    ? DEFAULT_LIMITS.virtualClockWallMs
    : DEFAULT_LIMITS.realClockWallMs;
  return {
    wallMs: override.timeoutMs ??
      (o.timeout === undefined ? wallDefault : parseDuration(o.timeout)),
    virtualMs: override.virtualTimeoutMs ??
      (o.virtualTimeout === undefined ? DEFAULT_LIMITS.virtualMs : parseDuration(o.virtualTimeout)),
  };
}

/** A real-time limit on a promise: `race()` rejects with `expired()` when time is up. */
export class Watchdog {
  readonly #ms: number;
  readonly #expired: () => Error;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(ms: number, expired: () => Error) {
    this.#ms = ms;
    this.#expired = expired;
  }

  /** `work`, or the watchdog's error if it is not settled within the limit. */
  race<T>(work: Promise<T>): Promise<T> {
    // Work abandoned at the limit may still fail later; that is no longer news.
    work.catch(() => {});
    // An open-ended run (a REPL session) has no limit; setTimeout would read Infinity as 0.
    if (!Number.isFinite(this.#ms)) return work;
    const limit = new Promise<never>((_, reject) => {
      this.#timer = setTimeout(() => reject(this.#expired()), this.#ms);
    });
    return Promise.race([work, limit]).finally(() => clearTimeout(this.#timer));
  }
}
