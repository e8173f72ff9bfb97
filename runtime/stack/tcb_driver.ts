/**
 * What a connection's state machine and its parts call on each other: send,
 * retransmit, arm and stop timers, react to a timeout, report TCP_INFO. The
 * connection (`tcb.ts`) and the parts (`tcb_output.ts`, `tcb_timers.ts`,
 * `congestion.ts`) call through this port instead of importing each other,
 * so imports point one way; `tcb_wiring.ts` plugs the parts in. Generic in
 * the connection type, so that this file needs none of them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { TcbDriver } from "./tcb_driver.ts";
 * import { TCB_DRIVER } from "./tcb_wiring.ts";
 * const d: TcbDriver<unknown> = TCB_DRIVER as TcbDriver<unknown>;
 * assert.equal(typeof d.trySend, "function");
 * ```
 */
import type { TcpInfo } from "../wire/socket_call.ts";
import type { RecoveryAlgorithm } from "./recovery_algorithm.ts";

/** The operations, each on connection `T`. */
export interface TcbDriver<T> {
  /** Sends what the windows, Nagle, recovery and the FIN allow. */
  trySend(t: T): void;
  /** Retransmits up to `max` bytes from `at`; returns the bytes sent. */
  retransmit(t: T, at: number, max: number): number;
  /** Goes back to snd.una after a timeout. */
  rewind(t: T): void;
  /** Sends one new segment if the windows allow (a loss probe); whether one went. */
  sendNewSegment(t: T): boolean;
  /** A zero-window or keepalive probe. */
  sendProbe(t: T): void;
  /** The connection's loss recovery, as its profile chooses it. */
  recovery(t: T): RecoveryAlgorithm<T>;
  armRto(t: T): void;
  restartRto(t: T): void;
  armPersist(t: T): void;
  /** A tail loss probe in place of the RTO when one applies; whether it was armed. */
  scheduleLossProbe(t: T, advancingRto: boolean): boolean;
  armKeepalive(t: T): void;
  startFinWait2(t: T): void;
  cancelAll(t: T): void;
  tcpInfo(t: T): TcpInfo;
}
