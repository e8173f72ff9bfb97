/**
 * CUBIC congestion control (RFC 9438) as Linux's tcp_cubic.c computes it,
 * in its integer arithmetic: cwnd follows W(t) = C·(t − K)³ + W_max with
 * C = 0.4 and β = 717/1024, at most one update per jiffy; fast convergence
 * lowers W_max when a loss comes before the last one's plateau; a
 * Reno-friendly estimate bounds it from below; HyStart ends slow start
 * early on an ACK train or a rising delay. Not modelled: the restart of the
 * epoch after an idle period (CA_EVENT_TX_START).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cubicK, cubicRoot } from "./cubic.ts";
 * assert.equal(cubicRoot(27n), 3);
 * // W_max 100 cut to 70: K = ∛(30 / 0.4) s = 4.22 s, in 1/1024 s (the kernel's root: 4.21 s).
 * assert.ok(Math.abs(cubicK(100, 70) / 1024 - Math.cbrt(30 / 0.4)) < 0.01);
 * ```
 */
import { seq } from "../wire/seq.ts";
import type { CubicState } from "./cubic_state.ts";
import type { Tcb } from "./tcb.ts";

/** beta: the multiplicative decrease, over BICTCP_BETA_SCALE. */
const BETA = 717;
const BETA_SCALE = 1024;
/** bic_scale · 10: C = 0.4 scaled for 1/1024 s units. */
const CUBE_RTT_SCALE = 41 * 10;
/** beta_scale: the Reno-friendly region's slope (8·(1024 + β) / 3 / (1024 − β)). */
const FRIENDLY_SCALE = Math.floor(Math.floor((8 * (BETA_SCALE + BETA)) / 3) / (BETA_SCALE - BETA));
/** cube_factor: 2^(10 + 3·10) / (bic_scale · 10). */
const CUBE_FACTOR = (1n << 40n) / BigInt(CUBE_RTT_SCALE);
const HYSTART_LOW_WINDOW = 16;
const HYSTART_ACK_DELTA_US = 2000;
const HYSTART_MIN_SAMPLES = 8;
/** TUN's GSO size (GSO_LEGACY_MAX_SIZE), which bounds HyStart's allowance for ACK delay. */
const GSO_MAX_SIZE = 65536;

const V = [
  0,
  54,
  54,
  54,
  118,
  118,
  118,
  118,
  123,
  129,
  134,
  138,
  143,
  147,
  151,
  156,
  157,
  161,
  164,
  168,
  170,
  173,
  176,
  179,
  181,
  185,
  187,
  190,
  192,
  194,
  197,
  199,
  200,
  202,
  204,
  206,
  209,
  211,
  213,
  215,
  217,
  219,
  221,
  222,
  224,
  225,
  227,
  229,
  231,
  232,
  234,
  236,
  237,
  239,
  240,
  242,
  244,
  245,
  246,
  248,
  250,
  251,
  252,
  254,
];

/** cubic_root: the kernel's integer cube root (a table guess, one Newton–Raphson step). */
export function cubicRoot(a: bigint): number {
  const b0 = a === 0n ? 0 : a.toString(2).length; // fls64
  if (b0 < 7) return (V[Number(a)] + 35) >> 6;
  const b = ((b0 * 84) >> 8) - 1;
  const shift = Number(a >> BigInt(b * 3));
  let x = (((V[shift] + 10) << b) >>> 0) >>> 6;
  x = 2 * x + Number(a / (BigInt(x) * BigInt(x - 1)));
  return (x * 341) >> 10;
}

/** bic_K: 1/1024 s from a reduction to the plateau, from W_max and cwnd (segments). */
export function cubicK(lastMax: number, cwnd: number): number {
  return cubicRoot(CUBE_FACTOR * BigInt(lastMax - cwnd));
}

/** cubictcp_recalc_ssthresh: ssthresh β·cwnd; W_max remembered, lowered by fast convergence. */
export function cubicSsthresh(ca: CubicState, cwnd: number): number {
  ca.epochStart = 0;
  ca.lastMaxCwnd = cwnd < ca.lastMaxCwnd
    ? Math.floor((cwnd * (BETA_SCALE + BETA)) / (2 * BETA_SCALE))
    : cwnd;
  return Math.max(Math.floor((cwnd * BETA) / BETA_SCALE), 2);
}

/**
 * bictcp_update: how many segments delivered grow cwnd by one (`cnt`), from
 * the cubic function at now + delay_min and the Reno-friendly estimate.
 */
export function cubicUpdate(
  ca: CubicState,
  cwnd: number,
  acked: number,
  now: number,
  hz: number,
): void {
  ca.ackCnt += acked;
  if (ca.lastCwnd === cwnd && now - ca.lastTime <= Math.floor(hz / 32)) return;
  // The cubic function is evaluated at most once per jiffy.
  if (!(ca.epochStart && now === ca.lastTime)) {
    ca.lastCwnd = cwnd;
    ca.lastTime = now;
    if (ca.epochStart === 0) {
      ca.epochStart = now;
      ca.ackCnt = acked;
      ca.tcpCwnd = cwnd;
      if (ca.lastMaxCwnd <= cwnd) {
        ca.k = 0;
        ca.originPoint = cwnd;
      } else {
        ca.k = cubicK(ca.lastMaxCwnd, cwnd);
        ca.originPoint = ca.lastMaxCwnd;
      }
    }
    const usToJiffies = Math.ceil((ca.delayMin * hz) / 1e6);
    const t = Math.floor(((now - ca.epochStart + usToJiffies) * 1024) / hz);
    const offs = t < ca.k ? ca.k - t : t - ca.k;
    const delta = Number((BigInt(CUBE_RTT_SCALE) * BigInt(offs) ** 3n) >> 40n);
    const target = t < ca.k ? ca.originPoint - delta : ca.originPoint + delta;
    ca.cnt = target > cwnd ? Math.floor(cwnd / (target - cwnd)) : 100 * cwnd;
    // The first epoch, with no W_max yet, grows at least 5 % per round trip.
    if (ca.lastMaxCwnd === 0 && ca.cnt > 20) ca.cnt = 20;
  }
  // Never slower than Reno would be (tcp_friendliness).
  const step = (cwnd * FRIENDLY_SCALE) >> 3;
  while (ca.ackCnt > step) {
    ca.ackCnt -= step;
    ca.tcpCwnd++;
  }
  if (ca.tcpCwnd > cwnd) ca.cnt = Math.min(ca.cnt, Math.floor(cwnd / (ca.tcpCwnd - cwnd)));
  ca.cnt = Math.max(ca.cnt, 2);
}

/** bictcp_hystart_reset: a new round of HyStart, ending at snd.nxt. */
export function hystartReset(t: Tcb, ca: CubicState): void {
  ca.roundStart = ca.lastAck = usNow(t);
  ca.endSeq = t.snd.max;
  ca.curRtt = Infinity;
  ca.sampleCnt = 0;
}

/**
 * cubictcp_acked: an RTT sample (µs) updates delay_min and drives HyStart
 * in slow start; samples within a second of a reduction are ignored.
 */
export function cubicAcked(t: Tcb, ca: CubicState, rttUs: number): void {
  const hz = 1000 / t.profile.jiffyMs;
  if (ca.epochStart && jiffies(t) - ca.epochStart < hz) return;
  const delay = Math.max(1, Math.round(rttUs));
  if (ca.delayMin === 0 || ca.delayMin > delay) ca.delayMin = delay;
  if (!ca.found && t.snd.cwnd < t.snd.ssthresh) hystartUpdate(t, ca, delay);
}

/** hystart_update: slow start ends where ACKs stop coming as a train, or the delay rises. */
function hystartUpdate(t: Tcb, ca: CubicState, delay: number): void {
  if (seq.gt(t.snd.una, ca.endSeq)) hystartReset(t, ca);
  const mss = t.effMss;
  const cwnd = Math.floor(t.snd.cwnd / mss);
  if (cwnd < HYSTART_LOW_WINDOW) return;
  const now = usNow(t);
  if (now - ca.lastAck <= HYSTART_ACK_DELTA_US) {
    ca.lastAck = now;
    // Without pacing (SK_PACING_NONE) the train need only last half the threshold.
    const threshold = (ca.delayMin + ackDelay(t, cwnd)) / 2;
    if (now - ca.roundStart > threshold) {
      ca.found = true;
      t.snd.ssthresh = cwnd * mss;
    }
  }
  ca.curRtt = Math.min(ca.curRtt, delay);
  if (ca.sampleCnt < HYSTART_MIN_SAMPLES) ca.sampleCnt++;
  else if (ca.curRtt > ca.delayMin + Math.min(16000, Math.max(4000, ca.delayMin >> 3))) {
    ca.found = true;
    t.snd.ssthresh = cwnd * mss;
  }
}

/**
 * hystart_ack_delay: how late a delayed or stretched ACK may be, from the
 * pacing rate Linux computes even when not pacing (tcp_update_pacing_rate:
 * 200 % of cwnd per srtt in slow start), at most 1 ms.
 */
function ackDelay(t: Tcb, cwnd: number): number {
  if (!t.snd.srtt) return 0;
  const rate = (t.effMss * cwnd * 2) / (t.snd.srtt / 1000); // bytes per second
  return Math.min(1000, (GSO_MAX_SIZE * 4 * 1e6) / rate);
}

/** tcp_jiffies32, never 0 (an epoch of 0 means none, as jiffies start far from 0). */
export const jiffies = (t: Tcb): number => Math.floor(t.host.clock.now() / t.profile.jiffyMs) + 1;
const usNow = (t: Tcb): number => Math.round(t.host.clock.now() * 1000);
