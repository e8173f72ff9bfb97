/**
 * packetdrill's clock rules (`run.c`: `verify_time`,
 * `adjust_relative_event_times`): how a relative time is anchored, and
 * whether something happened on time.
 *
 * - The tolerance is max(`--tolerance_usecs`, `--tolerance_percent` of the
 *   gap since the previous event's script time): 4 ms and 12.5 % by default.
 * - A relative time counts from when the previous event was done, except
 *   that back-to-back inbound packets count from the previous one's script
 *   time, so that processing overheads do not add up.
 * - `*` is never late; a range `a~b` passes anywhere in [a − tol, b + tol].
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { verifyTime } from "./pkt_timing.ts";
 * const tol = { toleranceUsecs: 4000, tolerancePercent: 12.5 };
 * assert.equal(verifyTime(tol, { kind: "point", usecs: 100_000 }, 103_000, 0, "outbound packet"), undefined);
 * assert.equal(verifyTime(tol, { kind: "point", usecs: 100_000 }, 105_000, 90_000, "outbound packet"),
 *   "timing error: expected outbound packet at 0.100000 sec but happened at 0.105000 sec; tolerance 0.004000 sec");
 * // 12.5 % of a 1 s gap is 125 ms.
 * assert.equal(verifyTime(tol, { kind: "point", usecs: 1_000_000 }, 1_100_000, 0, "outbound packet"), undefined);
 * ```
 */

/** Where an event was expected, in script microseconds (anchors already added). */
export type Expected =
  | { kind: "point"; usecs: number }
  | { kind: "range"; usecs: number; endUsecs: number; relative?: { offset: number } | undefined }
  | { kind: "any" };

/** Microseconds as seconds with six decimals, as packetdrill prints times. */
export const seconds = (u: number): string => (u / 1e6).toFixed(6);

/** packetdrill's verdict on an event's time; undefined when on time. */
export function verifyTime(
  tol: { toleranceUsecs: number; tolerancePercent: number },
  want: Expected,
  actualUsecs: number,
  lastEventUsecs: number | undefined,
  description: string,
): string | undefined {
  if (want.kind === "any") return undefined;
  let tolerance = tol.toleranceUsecs;
  if (lastEventUsecs !== undefined) {
    const dynamic = Math.trunc((tol.tolerancePercent / 100) * (want.usecs - lastEventUsecs));
    if (dynamic > tolerance) tolerance = dynamic;
  }
  if (want.kind === "range") {
    if (actualUsecs >= want.usecs - tolerance && actualUsecs <= want.endUsecs + tolerance) {
      return undefined;
    }
    if (want.relative) {
      const o = want.relative.offset;
      return `timing error: expected ${description} in relative time range +${
        seconds(want.usecs - o)
      }~+${seconds(want.endUsecs - o)} sec but happened at ${actualUsecs - o >= 0 ? "+" : ""}${
        seconds(actualUsecs - o)
      } sec`;
    }
    return `timing error: expected ${description} in time range ${seconds(want.usecs)}~${
      seconds(want.endUsecs)
    } sec but happened at ${seconds(actualUsecs)} sec`;
  }
  if (actualUsecs < want.usecs - tolerance || actualUsecs > want.usecs + tolerance) {
    return `timing error: expected ${description} at ${seconds(want.usecs)} sec but happened at ${
      seconds(actualUsecs)
    } sec; tolerance ${seconds(tolerance)} sec`;
  }
  return undefined;
}
