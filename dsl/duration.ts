/**
 * Durations as people write them in scenarios: `"200ms"`, `"1s"`, `"1.5s"`,
 * `"2min"`, `"24h"`, `"500us"`, or a number of milliseconds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDuration } from "./duration.ts";
 * assert.equal(parseDuration("200ms"), 200);
 * assert.equal(parseDuration("1.5s"), 1500);
 * assert.equal(parseDuration(40), 40);
 * assert.equal(parseDuration("24h"), 86_400_000);
 * assert.throws(() => parseDuration("fast"), /want a duration such as "200ms" or "1s", got "fast"/);
 * ```
 */

/** A duration: milliseconds, or text with a unit. */
export type Duration = number | string;

const UNITS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, min: 60_000, h: 3_600_000 };

/**
 * Milliseconds in `d`; throws a `RangeError` naming what was expected.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDuration } from "./duration.ts";
 * assert.equal(parseDuration("2min"), 120_000);
 * ```
 */
export function parseDuration(d: Duration): number {
  if (typeof d === "number") {
    if (Number.isFinite(d) && d >= 0) return d;
  } else {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(us|ms|s|min|h)\s*$/.exec(d);
    if (m) return Number(m[1]) * UNITS[m[2]];
  }
  throw new RangeError(
    `want a duration such as "200ms" or "1s", got ${JSON.stringify(d)}`,
  );
}
