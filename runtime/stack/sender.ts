/**
 * The sending half of a connection, as gVisor's `snd.go` keeps it: the send
 * sequence space of RFC 9293 §3.3.1, the send buffer, congestion state (RFC
 * 5681, 6582, 6675) with Linux's recovery state beside it, and the RTT
 * estimate and retransmission timer of RFC 6298. The parts that act on it
 * (`tcb_output.ts`, `tcb_timers.ts`, `congestion.ts`, `linux_recovery.ts`)
 * change its fields; what it can compute alone, it computes here.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Sender } from "./sender.ts";
 * const snd = new Sender(1000, 1448, { initialCwnd: 10, mss: 1448, rtoInitMs: 1000 });
 * assert.equal(snd.una, 1000);
 * assert.equal(snd.cwnd, 14480);
 * snd.nxt = snd.max = 1000 + 2896;
 * assert.equal(snd.inflight, 2896);
 * snd.rttSample(100, { rtoMinMs: 200, rtoMaxMs: 120_000, jiffyMs: 4 });
 * assert.equal(snd.srtt, 100);
 * assert.equal(snd.rto, 300); // srtt + max(4 × rttvar, rto_min): 100 + 200
 * ```
 */
import type { Timer } from "../engine/clock.ts";
import { seq } from "../wire/seq.ts";
import { CaState } from "./ca_state.ts";
import type { StackProfile } from "./profile.ts";
import { RecoveryState } from "./recovery_state.ts";
import { SendBuffer } from "./send_buffer.ts";
import { SeqRanges } from "./seq_ranges.ts";

/** The sending half of a connection: its sequence space, buffer, congestion and RTT state. */
export class Sender {
  // Send sequence space (RFC 9293 §3.3.1).
  iss: number;
  una: number;
  nxt: number;
  /** Highest sequence number sent plus one; `nxt` rewinds below it on timeout. */
  max: number;
  /** End of the last small (sub-MSS) segment sent, for Minshall's Nagle. */
  sml: number;
  wnd = 0;
  /** The largest window the peer has offered (RFC 9293 §3.8.6.2.1, "Fs × max window"). */
  maxWnd = 0;
  wl1 = 0;
  wl2 = 0;
  /** The peer's window shift (RFC 7323 §2.3), 0 unless both sides offered scaling. */
  wscale = 0;
  /** The peer's MSS, as negotiated. */
  mss: number;

  readonly buf: SendBuffer;
  /** What the peer has SACKed above snd.una: the scoreboard of RFC 6675 §3. */
  readonly scoreboard = new SeqRanges();
  /** Linux's loss recovery: the retransmission queue, PRR, undo and RACK (`linux_recovery.ts`). */
  readonly recovery = new RecoveryState();
  /** close()/shutdown(SHUT_WR) asked for a FIN. */
  finQueued = false;
  /** Sequence number of our FIN once sent. */
  finSeq: number | undefined;

  // Congestion control (RFC 5681, 6582, 6675).
  cwnd: number;
  ssthresh = 0x7fffffff;
  caState: number = CaState.OPEN;
  dupAcks = 0;
  /** RFC 6582 `recover` / RFC 6675 RecoveryPoint: snd.max when recovery began. */
  recover = 0;
  /** RFC 6675 HighRxt, as an end: retransmissions in this recovery reached here. */
  highRxt = 0;

  // Retransmission (RFC 6298).
  srtt = 0;
  rttvar = 0;
  /** Whether any RTT sample was taken (a sample may be 0 ms on a virtual clock). */
  rttSeen = false;
  rto: number;
  backoff = 0;
  retransmits = 0;
  totalRetrans = 0;
  /** Karn's algorithm: the one segment being timed, unless retransmitted. */
  rttProbe: { seq: number; at: number } | undefined;
  /** When the retransmission timer is due; the timer itself may be set earlier (it re-arms). */
  rtoAt = 0;
  rtoTimer: Timer | undefined;
  /** When the retransmission timer was last (re)started: an RTO is due rto after it. */
  rtoStart = 0;
  /** The pending retransmission timer is a tail loss probe (RFC 8985 §7), not an RTO. */
  probeTimer = false;
  /** snd.nxt when the last tail loss probe went out, until an ACK covers it (tlp_high_seq). */
  tlpHighSeq: number | undefined;
  /** The zero-window probe timer (RFC 9293 §3.8.6.1). */
  persistTimer: Timer | undefined;

  /** `iss` and the MSS to assume until the peer's SYN says; cwnd and RTO from the profile. */
  constructor(
    iss: number,
    mss: number,
    p: Pick<StackProfile, "initialCwnd" | "mss" | "rtoInitMs">,
  ) {
    this.iss =
      this.una =
      this.nxt =
      this.max =
      this.sml =
        iss >>> 0;
    this.buf = new SendBuffer(seq.add(iss, 1));
    this.mss = mss;
    this.cwnd = p.initialCwnd * p.mss;
    this.rto = p.rtoInitMs;
  }

  /** Bytes sent and not yet acknowledged or rewound. */
  get inflight(): number {
    return seq.diff(this.nxt, this.una);
  }

  /** RFC 5681's FlightSize: everything sent and not yet acknowledged. */
  get flightSize(): number {
    return seq.diff(this.max, this.una);
  }

  /** Whether our FIN is acknowledged. */
  get finAcked(): boolean {
    return this.finSeq !== undefined && seq.gt(this.una, this.finSeq);
  }

  /** A new RTT sample in ms (RFC 6298 §2.2–2.3, with Linux's floor on the variance term). */
  rttSample(r: number, p: Pick<StackProfile, "rtoMinMs" | "rtoMaxMs" | "jiffyMs">): void {
    // tcp_update_rtt_min: a zero sample counts as one jiffy.
    this.recovery.minRtt = Math.min(this.recovery.minRtt, r || p.jiffyMs);
    if (!this.rttSeen) {
      this.rttSeen = true;
      this.srtt = r;
      this.rttvar = r / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - r);
      this.srtt = 0.875 * this.srtt + 0.125 * r;
    }
    this.rto = Math.min(p.rtoMaxMs, this.srtt + Math.max(4 * this.rttvar, p.rtoMinMs));
  }
}
