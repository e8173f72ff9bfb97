/**
 * The error a target throws when it cannot run on this machine or in this
 * process (not root, no /dev/net/tun, no --allow-ffi). The CLI prints its
 * message and exits 2; tests turn the same reason into a visible skip.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TargetUnavailable } from "./target_unavailable.ts";
 * const e = new TargetUnavailable("kernel", "it needs root");
 * assert.equal(e.message, "The kernel target cannot run here: it needs root");
 * ```
 */
export class TargetUnavailable extends Error {
  readonly reason: string;
  constructor(target: string, reason: string) {
    super(`The ${target} target cannot run here: ${reason}`);
    this.name = "TargetUnavailable";
    this.reason = reason;
  }
}
