/**
 * The port through which a connection's loss recovery is chosen: one object
 * per algorithm, picked by the profile's `recovery` (Linux's, in
 * `linux_recovery.ts`, or the RFCs', in `rfc_recovery.ts`), so that the
 * input, output, timer and TCP_INFO paths ask it instead of each testing the
 * profile. Generic in the connection type, so this file needs none of them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RECOVERY_ALGORITHMS } from "./tcb_wiring.ts";
 * assert.deepEqual(Object.keys(RECOVERY_ALGORITHMS).sort(), ["linux", "rfc6675"]);
 * assert.equal(RECOVERY_ALGORITHMS.linux.name, "linux");
 * ```
 */
import type { TcpFields } from "../wire/tcp.ts";
import type { StackProfile } from "./profile.ts";

/** TCP_INFO's view of what is outstanding, in segments. */
export interface RecoveryCounters {
  unacked: number;
  sacked: number;
  lost: number;
  retrans: number;
}

/** A loss recovery algorithm, on connection `T`. */
export interface RecoveryAlgorithm<T> {
  readonly name: StackProfile["recovery"];
  /**
   * An acceptable ACK (RFC 9293 §3.10.7.4, fifth check): its SACK blocks,
   * the cumulative ACK and duplicate ACKs, and what recovery makes of them.
   */
  ack(t: T, seg: TcpFields, ts: { val: number; ecr: number } | undefined): void;
  /** The bytes the congestion window lets out now. */
  cwndRoom(t: T): number;
  /** Before new data goes out: the retransmissions recovery owes first. */
  beforeSend(t: T, mss: number): void;
  /** After a send: whether new data went, and whether cwnd held data back. */
  afterSend(t: T, sentNew: boolean, cwndLimited: boolean): void;
  /** A data or FIN segment [start, end) went out. */
  segmentSent(t: T, start: number, end: number): void;
  /** The retransmission timer fired. */
  timeout(t: T): void;
  /** What is outstanding, as TCP_INFO reports it. */
  counters(t: T): RecoveryCounters;
}
