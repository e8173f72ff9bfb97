/**
 * SYN cookies as Linux makes and checks them (net/ipv4/syncookies.c,
 * net/ipv6/syncookies.c): when more requests wait than the listen backlog
 * (or always, with `tcp_syncookies = 2`), the SYN-ACK's sequence number
 * carries the connection, and the listener keeps nothing.
 *
 * ```text
 *   cookie = H(tuple, 0) + peer ISN + (minute << 24) + ((H(tuple, minute) + mss index) mod 2^24)
 * ```
 *
 * An ACK is taken when `ack − 1` decodes, with the ACK's own `seq − 1` as
 * the peer's ISN, to a minute at most one before now (MAX_SYNCOOKIE_AGE 2)
 * and an index into the MSS table, and only within two minutes of the
 * listener's last overflow (tcp_synq_no_recent_overflow). The options a
 * cookie cannot hold ride in the low 6 bits of the SYN-ACK's TSval, which the
 * ACK echoes (cookie_init_timestamp): the peer's window scale (15: none),
 * SACK (bit 4) and ECN (bit 5). Without timestamps they are lost: the SYN-ACK
 * offers MSS only.
 *
 * H is a keyed hash of the stack's own secret: Linux's is siphash with a
 * boot-time key, so the bits differ, and what a cookie accepts does not.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkCookie, decodeTsOptions, encodeTsOptions, makeCookie, mssIndex } from "./syn_cookies.ts";
 * const tuple = { localAddr: new Uint8Array([192, 168, 0, 1]), localPort: 8080,
 *   remoteAddr: new Uint8Array([192, 0, 2, 1]), remotePort: 40002 };
 * const secret = 0x1234abcd;
 * const c = makeCookie(secret, tuple, 7, mssIndex(1460, 4), 0);
 * assert.equal(checkCookie(secret, tuple, 7, c, 0), 3); // 1460, the table's last
 * assert.equal(checkCookie(secret, tuple, 7, c, 1), 3); // a minute later
 * assert.equal(checkCookie(secret, tuple, 7, c, 2), undefined); // too old
 * // The ISN is added, not hashed: one more reads as the next index down, as in Linux.
 * assert.equal(checkCookie(secret, tuple, 8, c, 0), 2);
 * assert.equal(checkCookie(secret, tuple, 15, c, 0), undefined);
 * const ts = encodeTsOptions(100_000, 7, true);
 * assert.ok(ts <= 100_000 && 100_000 - ts < 64);
 * assert.deepEqual(decodeTsOptions(ts), { wscale: 7, sack: true });
 * ```
 */
import type { Tuple } from "./tcb.ts";

/** The low 24 bits hash and index; the top 8 the minute (COOKIEBITS). */
const COOKIE_BITS = 24;
const COOKIE_MASK = (1 << COOKIE_BITS) - 1;
/** A cookie is good in its minute and the next (MAX_SYNCOOKIE_AGE). */
const MAX_AGE = 2;
/** Cookies are checked within two minutes of the last overflow (TCP_SYNCOOKIE_VALID). */
export const COOKIE_VALID_MS = 2 * 60 * 1000;

/** The MSS a cookie can say (msstab): the largest at most the peer's is chosen. */
export const MSS_TABLE: Readonly<Record<4 | 16, readonly number[]>> = {
  4: [536, 1300, 1440, 1460],
  16: [1280 - 60, 1480 - 60, 1500 - 60, 9000 - 60],
};

/** The cookie minute at `ms` (tcp_cookie_time: jiffies / (60 HZ)). */
export const cookieMinute = (ms: number): number => Math.floor(ms / 60_000);

/** The index of the largest table MSS at most `mss`; 0 below them all. */
export function mssIndex(mss: number, family: 4 | 16): number {
  const table = MSS_TABLE[family];
  let i = table.length - 1;
  while (i > 0 && mss < table[i]) i--;
  return i;
}

/** A keyed 32-bit hash of the tuple, a count and a round (FNV-1a, then a final mix). */
export function cookieHash(secret: number, t: Tuple, count: number, round: number): number {
  let h = (0x811c9dc5 ^ secret) >>> 0;
  const eat = (byte: number) => {
    h = Math.imul(h ^ (byte & 0xff), 0x01000193) >>> 0;
  };
  for (const b of t.remoteAddr) eat(b);
  for (const b of t.localAddr) eat(b);
  for (const v of [t.remotePort >> 8, t.remotePort, t.localPort >> 8, t.localPort]) eat(v);
  for (const v of [count >>> 24, count >>> 16, count >>> 8, count, round]) eat(v);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  return h >>> 0;
}

/** The ISN of a cookie SYN-ACK (secure_tcp_syn_cookie). */
export function makeCookie(
  secret: number,
  t: Tuple,
  peerIsn: number,
  index: number,
  minute: number,
): number {
  return (cookieHash(secret, t, 0, 0) + peerIsn + ((minute << COOKIE_BITS) >>> 0) +
    ((cookieHash(secret, t, minute, 1) + index) & COOKIE_MASK)) >>> 0;
}

/** The MSS index a cookie holds, or undefined when it is not ours, too old, or not an index. */
export function checkCookie(
  secret: number,
  t: Tuple,
  peerIsn: number,
  cookie: number,
  minute: number,
): number | undefined {
  const c = (cookie - cookieHash(secret, t, 0, 0) - peerIsn) >>> 0;
  const diff = (minute - (c >>> COOKIE_BITS)) & (0xffffffff >>> COOKIE_BITS);
  if (diff >= MAX_AGE) return undefined;
  const index = (c - cookieHash(secret, t, minute - diff, 1)) & COOKIE_MASK;
  return index < MSS_TABLE[4].length ? index : undefined;
}

const TS_BITS = 6;
const WSCALE_MASK = 0xf;
const TS_SACK = 1 << 4;

/** A SYN-ACK's TSval at `tsNow` with the peer's options in its low bits (cookie_init_timestamp). */
export function encodeTsOptions(tsNow: number, wscale: number | undefined, sack: boolean): number {
  const options = (wscale ?? WSCALE_MASK) | (sack ? TS_SACK : 0);
  let ts = ((tsNow >>> TS_BITS) << TS_BITS) >>> 0 | options;
  if (ts > tsNow) ts -= 1 << TS_BITS;
  return ts >>> 0;
}

/** The options an echoed TSval carries (cookie_timestamp_decode). */
export function decodeTsOptions(tsEcr: number): { wscale: number | undefined; sack: boolean } {
  const ws = tsEcr & WSCALE_MASK;
  return { wscale: ws === WSCALE_MASK ? undefined : ws, sack: (tsEcr & TS_SACK) !== 0 };
}
