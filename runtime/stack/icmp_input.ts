/**
 * ICMP errors about our own segments (RFC 5927, RFC 1122 §4.2.3.9):
 * - "fragmentation needed" (RFC 1191) and "packet too big" (RFC 8201) lower
 *   the path MTU, and so the MSS, and resend what no longer fits;
 * - destination unreachable and its relatives end a connect() in progress
 *   with Linux's errno, and are otherwise kept as a soft error that a
 *   later timeout reports instead of ETIMEDOUT (Linux tcp_v4_err and
 *   tcp_v6_err with IP_RECVERR off).
 *
 * The quoted segment must carry a sequence number we sent and is not yet
 * acknowledged (RFC 5927 §4.1), which stops blind ICMP attacks.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { icmpErrno } from "./icmp_input.ts";
 * assert.deepEqual(icmpErrno("icmpv4", 3, 3), { errno: "ECONNREFUSED", fatal: true });
 * assert.deepEqual(icmpErrno("icmpv6", 1, 4), { errno: "ECONNREFUSED", fatal: true });
 * assert.equal(icmpErrno("icmpv4", 5, 0), undefined); // a redirect is no error
 * ```
 */
import type { IcmpFields } from "../wire/icmp.ts";
import { seq } from "../wire/seq.ts";
import type { ErrnoName } from "../wire/socket_call.ts";
import type { StackHost } from "./stack_host.ts";
import { rewind } from "./tcb_output.ts";

/** Linux net/ipv4/icmp.c icmp_err_convert[], by destination-unreachable code. */
const V4_UNREACH: ReadonlyArray<readonly [ErrnoName, boolean]> = [
  ["ENETUNREACH", false],
  ["EHOSTUNREACH", false],
  ["ENOPROTOOPT", true],
  ["ECONNREFUSED", true],
  ["EMSGSIZE", false],
  ["EOPNOTSUPP", false],
  ["ENETUNREACH", true],
  ["EHOSTDOWN", true],
  ["ENONET", true],
  ["ENETUNREACH", true],
  ["EHOSTUNREACH", true],
  ["ENETUNREACH", false],
  ["EHOSTUNREACH", false],
  ["EHOSTUNREACH", true],
  ["EHOSTUNREACH", true],
  ["EHOSTUNREACH", true],
];

/** Linux net/ipv6/icmp.c tab_unreach[], by destination-unreachable code. */
const V6_UNREACH: ReadonlyArray<readonly [ErrnoName, boolean]> = [
  ["ENETUNREACH", false],
  ["EACCES", true],
  ["EHOSTUNREACH", false],
  ["EHOSTUNREACH", false],
  ["ECONNREFUSED", true],
  ["EACCES", true],
  ["EACCES", true],
];

/** The errno an ICMP error means for TCP, and whether Linux counts it as fatal. */
export function icmpErrno(
  kind: "icmpv4" | "icmpv6",
  type: number,
  code: number,
): { errno: ErrnoName; fatal: boolean } | undefined {
  const pick = (e: readonly [ErrnoName, boolean] | undefined) =>
    e ? { errno: e[0], fatal: e[1] } : undefined;
  if (kind === "icmpv4") {
    if (type === 3) return pick(V4_UNREACH[code]);
    if (type === 11) return { errno: "EHOSTUNREACH", fatal: false };
    if (type === 12) return { errno: "EPROTO", fatal: true };
    return undefined;
  }
  if (type === 1) return pick(V6_UNREACH[code]);
  if (type === 3) return { errno: "EHOSTUNREACH", fatal: false };
  if (type === 4) return { errno: "EPROTO", fatal: true };
  return undefined;
}

/** Handles an ICMP message addressed to this host. */
export function icmpArrives(stack: StackHost, m: IcmpFields): void {
  const q = m.quoted;
  const ignore = () => void stack.counters.icmpIgnored++;
  if (
    !q || q.protocol !== 6 || !q.src || !q.dst || q.srcPort === undefined ||
    q.dstPort === undefined || q.seq === undefined
  ) return ignore();
  const t = stack.connectionFor(q.src, q.srcPort, q.dst, q.dstPort);
  if (!t || t.state === "TIME_WAIT") return ignore();
  if (seq.lt(q.seq, t.snd.una) || seq.gt(q.seq, t.snd.max)) return ignore();
  const v4 = m.kind === "icmpv4";
  const tooBig = v4 ? m.type === 3 && m.code === 4 : m.type === 2;
  if (tooBig) {
    if (m.mtu === undefined) return ignore();
    // RFC 1191 §3 / RFC 8201 §4: never below the protocol's floor.
    const mtu = Math.max(m.mtu, v4 ? stack.profile.minPmtu : 1280);
    // Linux __ip_rt_update_pmtu: below min_pmtu the route MTU is locked, and a
    // locked MTU means IPv4 segments go without DF from then on.
    if (v4 && m.mtu < stack.profile.minPmtu) t.pmtuLocked = true;
    const hdr = v4 ? 40 : 60;
    const current = t.pmtu || t.snd.mss + hdr;
    if (mtu >= current) return;
    t.pmtu = mtu;
    // Linux tcp_simple_retransmit: resend the unacknowledged data in segments that fit.
    if (t.state !== "SYN_SENT" && t.state !== "SYN_RECV" && t.snd.nxt !== t.snd.una) {
      rewind(t);
      t.trySend();
    }
    return;
  }
  const e = icmpErrno(m.kind, m.type, m.code);
  if (!e) return ignore();
  if (t.state === "SYN_SENT" || (t.state === "SYN_RECV" && !t.passive)) {
    t.abort(e.errno);
    return;
  }
  if (t.state === "SYN_RECV") {
    // A request that was never accepted goes quietly on a fatal error (Linux tcp_req_err).
    if (e.fatal && q.seq === t.snd.iss) t.abort(undefined);
    return;
  }
  t.softError = e.errno;
}
