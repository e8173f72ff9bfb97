/**
 * The built-in stack's parts plugged into the port its connections drive
 * (`tcb_driver.ts`): output, timers, loss recovery (by the profile's
 * `recovery`) and TCP_INFO. The one module that imports them all, so that
 * none of them imports another through the connection.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TCB_DRIVER } from "./tcb_wiring.ts";
 * assert.equal(Object.keys(TCB_DRIVER).length, 14);
 * assert.equal(typeof TCB_DRIVER.recovery, "function");
 * ```
 */
import { startFinWait2 } from "./close_states.ts";
import { LINUX_RECOVERY } from "./linux_recovery.ts";
import type { RecoveryAlgorithm } from "./recovery_algorithm.ts";
import { RFC_RECOVERY } from "./rfc_recovery.ts";
import type { StackProfile } from "./profile.ts";
import type { Tcb } from "./tcb.ts";
import type { TcbDriver } from "./tcb_driver.ts";
import { retransmit, rewind, sendNewSegment, sendProbe, trySend } from "./tcb_output.ts";
import {
  armKeepalive,
  armPersist,
  armRto,
  cancelAll,
  restartRto,
  scheduleLossProbe,
} from "./tcb_timers.ts";
import { tcpInfo } from "./tcp_info.ts";

/** The loss recovery algorithms, by the profile's `recovery`. */
export const RECOVERY_ALGORITHMS: Readonly<
  Record<StackProfile["recovery"], RecoveryAlgorithm<Tcb>>
> = Object.freeze({ linux: LINUX_RECOVERY, rfc6675: RFC_RECOVERY });

/** The parts, as every built-in connection uses them. */
export const TCB_DRIVER: TcbDriver<Tcb> = Object.freeze({
  trySend,
  retransmit,
  rewind,
  sendNewSegment,
  sendProbe,
  // Read at each use: a scenario may change the profile while a connection lives.
  recovery: (t: Tcb) => RECOVERY_ALGORITHMS[t.profile.recovery],
  armRto,
  restartRto,
  armPersist,
  scheduleLossProbe,
  armKeepalive,
  startFinWait2,
  cancelAll,
  tcpInfo,
});
