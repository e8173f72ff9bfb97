/**
 * The built-in stack's parts plugged into the port its connections drive
 * (`tcb_driver.ts`): output, timers, congestion control and TCP_INFO. The
 * one module that imports them all, so that none of them imports another
 * through the connection.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TCB_DRIVER } from "./tcb_wiring.ts";
 * assert.equal(Object.keys(TCB_DRIVER).length, 15);
 * ```
 */
import { startFinWait2 } from "./close_states.ts";
import { onRetransmitTimeout } from "./congestion.ts";
import { enterLoss, segmentSent } from "./linux_recovery.ts";
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

/** The parts, as every built-in connection uses them. */
export const TCB_DRIVER: TcbDriver<Tcb> = Object.freeze({
  trySend,
  retransmit,
  rewind,
  sendNewSegment,
  sendProbe,
  segmentSent,
  // A profile's recovery decides what a timeout does: Linux's tcp_enter_loss, or RFC 5681 go-back-N.
  onRetransmitTimeout: (t: Tcb) =>
    t.profile.recovery === "linux" ? enterLoss(t) : onRetransmitTimeout(t),
  armRto,
  restartRto,
  armPersist,
  scheduleLossProbe,
  armKeepalive,
  startFinWait2,
  cancelAll,
  tcpInfo,
});
