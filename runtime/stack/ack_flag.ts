/**
 * What an arriving ACK did, as Linux's tcp_ack records it in FLAG_* bits:
 * the loss-recovery state machine (`linux_recovery.ts`) and cwnd
 * (`recovery_window.ts`) both read them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AckFlag } from "./ack_flag.ts";
 * assert.equal(AckFlag.SND_UNA_ADVANCED, 0x400);
 * ```
 */
/** What an ACK did, as tcp_ack's FLAG_* bits. */
export const AckFlag = Object.freeze({
  /** The segment carried data or a FIN (FLAG_DATA), or moved the window (FLAG_WIN_UPDATE). */
  NOT_DUP_SEGMENT: 0x01,
  /** New data acknowledged (FLAG_DATA_ACKED). */
  DATA_ACKED: 0x04,
  /** New data SACKed (FLAG_DATA_SACKED). */
  DATA_SACKED: 0x20,
  /** A retransmission was found lost again (FLAG_LOST_RETRANS). */
  LOST_RETRANS: 0x80,
  /** Data sent once, never retransmitted, below high_seq was (S)ACKed (FLAG_ORIG_SACK_ACKED). */
  ORIG_SACK_ACKED: 0x200,
  /** snd.una advanced (FLAG_SND_UNA_ADVANCED). */
  SND_UNA_ADVANCED: 0x400,
  /** A D-SACK arrived (FLAG_DSACKING_ACK). */
  DSACKING_ACK: 0x800,
});
