/**
 * Which sent bytes count as lost: RFC 6675 §4 IsLost() over the SACK
 * scoreboard. Output (what to retransmit), congestion control (pipe) and
 * TCP_INFO (tcpi_lost) all ask it, so it sits apart from each.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lossEdge } from "./loss_edge.ts";
 * assert.equal(typeof lossEdge, "function"); // driven end to end in tests/stack_sack_test.ts
 * ```
 */
import { seq } from "../wire/seq.ts";
import type { Tcb } from "./tcb.ts";

/**
 * RFC 6675 §4 IsLost(): a byte is lost once DupThresh discontiguous SACKed
 * blocks, or more than (DupThresh − 1) × SMSS SACKed bytes, lie above it.
 * Both only shrink as the byte moves up, so the lost bytes are the unsacked
 * ones below one edge, which this returns (snd.una when nothing is lost).
 */
export function lossEdge(t: Tcb): number {
  const sb = t.snd.scoreboard;
  const thresh = t.profile.dupThresh;
  const bytes = (thresh - 1) * t.effMss;
  let above = 0;
  for (let i = sb.count - 1; i >= 0; i--) {
    above += seq.diff(sb.end(i), sb.start(i));
    if (above > bytes || sb.count - i >= thresh) return seq.max(sb.start(i), t.snd.una);
  }
  return t.snd.una;
}
