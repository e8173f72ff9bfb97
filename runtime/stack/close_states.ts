/**
 * The ends of a connection that wait on a clock: TIME-WAIT (RFC 9293
 * §3.10.7.4; Linux: 60 s) and an orphan's FIN-WAIT-2 (tcp_fin_timeout).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { enterTimeWait } from "./close_states.ts";
 * assert.equal(typeof enterTimeWait, "function"); // driven end to end in tests/stack_close_test.ts
 * ```
 */
import type { Tcb } from "./tcb.ts";
import { cancelAll } from "./tcb_timers.ts";

/** Enters TIME-WAIT and starts its timer (RFC 9293 §3.10.7.4; Linux: 60 s). */
export function enterTimeWait(t: Tcb): void {
  t.state = "TIME_WAIT";
  cancelAll(t);
  const c = t.host.clock;
  t.otherTimer = c.setTimer(c.now() + t.profile.timeWaitMs, () => {
    t.otherTimer = undefined;
    t.setState("CLOSE");
  });
}

/**
 * An orphaned connection (closed by the application) waits in FIN-WAIT-2 for
 * the peer's FIN at most tcp_fin_timeout, then vanishes without a reset
 * (Linux tcp_close / tcp_time_wait with TCP_FIN_WAIT2). One that only did
 * shutdown(SHUT_WR) waits for ever, as RFC 9293 has it.
 */
export function startFinWait2(t: Tcb): void {
  if (t.state !== "FIN_WAIT2" || t.otherTimer) return;
  const c = t.host.clock;
  t.otherTimer = c.setTimer(c.now() + t.profile.finTimeoutMs, () => {
    t.otherTimer = undefined;
    if (t.state === "FIN_WAIT2") t.setState("CLOSE");
  });
}
