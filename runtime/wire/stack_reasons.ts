/**
 * Why a stack reset or dropped a segment, in the Linux kernel's own words:
 * `enum sk_rst_reason` (include/net/rstreason.h) for the RSTs it sends, and
 * `enum skb_drop_reason` (include/net/dropreason-core.h) for the packets it
 * drops. The kernel reports them through the tracepoints `tcp:tcp_send_reset`
 * and `skb:kfree_skb`; the built-in stack names its own with the same words,
 * so that a differential compares reasons as well as packets.
 *
 * The lists are those of kernel 6.18 (the names the tracepoints print); the
 * DSL accepts only these names, so a typo is an error at the step, not a
 * check that can never hold.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatReason, isDropReason, isRstReason } from "./stack_reasons.ts";
 * assert.ok(isRstReason("TCP_ABORT_ON_LINGER") && isDropReason("TCP_RFC7323_PAWS_ACK"));
 * assert.ok(!isRstReason("TCP_RFC7323_PAWS_ACK"));
 * assert.equal(
 *   formatReason({ source: "kernel", kind: "rst", name: "TCP_ABORT_ON_CLOSE", state: "ESTABLISHED" }),
 *   "kernel: TCP_ABORT_ON_CLOSE in ESTABLISHED",
 * );
 * assert.equal(formatReason({ source: "kernel", kind: "drop", name: "TCP_RFC7323_PAWS_ACK" }), "kernel dropped: TCP_RFC7323_PAWS_ACK");
 * ```
 */

/** `enum sk_rst_reason`, as `tcp:tcp_send_reset` prints it. */
export const RST_REASONS = [
  "NOT_SPECIFIED",
  "NO_SOCKET",
  "TCP_INVALID_ACK_SEQUENCE",
  "TCP_RFC7323_PAWS",
  "TCP_TOO_OLD_ACK",
  "TCP_ACK_UNSENT_DATA",
  "TCP_FLAGS",
  "TCP_OLD_ACK",
  "TCP_ABORT_ON_DATA",
  "TCP_TIMEWAIT_SOCKET",
  "INVALID_SYN",
  "TCP_ABORT_ON_CLOSE",
  "TCP_ABORT_ON_LINGER",
  "TCP_ABORT_ON_MEMORY",
  "TCP_STATE",
  "TCP_KEEPALIVE_TIMEOUT",
  "TCP_DISCONNECT_WITH_DATA",
  "ERROR",
] as const;

/** The TCP and IP part of `enum skb_drop_reason`, as `skb:kfree_skb` prints it. */
export const DROP_REASONS = [
  "NOT_SPECIFIED",
  "NO_SOCKET",
  "SOCKET_CLOSE",
  "SOCKET_FILTER",
  "SOCKET_RCVBUFF",
  "PKT_TOO_SMALL",
  "TCP_CSUM",
  "NETFILTER_DROP",
  "OTHERHOST",
  "IP_CSUM",
  "IP_INHDR",
  "IP_RPFILTER",
  "IP_NOPROTO",
  "PROTO_MEM",
  "TCP_AUTH_HDR",
  "TCP_MD5NOTFOUND",
  "TCP_MD5UNEXPECTED",
  "TCP_MD5FAILURE",
  "SOCKET_BACKLOG",
  "TCP_FLAGS",
  "TCP_ABORT_ON_DATA",
  "TCP_ZEROWINDOW",
  "TCP_OLD_DATA",
  "TCP_OVERWINDOW",
  "TCP_OFOMERGE",
  "TCP_RFC7323_PAWS",
  "TCP_RFC7323_PAWS_ACK",
  "TCP_RFC7323_TW_PAWS",
  "TCP_RFC7323_TSECR",
  "TCP_LISTEN_OVERFLOW",
  "TCP_OLD_SEQUENCE",
  "TCP_INVALID_SEQUENCE",
  "TCP_INVALID_END_SEQUENCE",
  "TCP_INVALID_ACK_SEQUENCE",
  "TCP_RESET",
  "TCP_INVALID_SYN",
  "TCP_CLOSE",
  "TCP_FASTOPEN",
  "TCP_OLD_ACK",
  "TCP_TOO_OLD_ACK",
  "TCP_ACK_UNSENT_DATA",
  "TCP_OFO_QUEUE_PRUNE",
  "TCP_OFO_DROP",
  "IP_OUTNOROUTES",
  "IPV6DISABLED",
  "NOMEM",
  "HDR_TRUNC",
  "IP_INADDRERRORS",
  "IP_INNOROUTES",
  "IP_LOCAL_SOURCE",
  "IP_INVALID_SOURCE",
  "IP_LOCALNET",
  "IP_INVALID_DEST",
  "PKT_TOO_BIG",
  "TCP_MINTTL",
  "QUEUE_PURGE",
] as const;

export type RstReason = typeof RST_REASONS[number];
export type DropReason = typeof DROP_REASONS[number];

/** Whether `name` is a reset reason the kernel prints. */
export function isRstReason(name: string): name is RstReason {
  return (RST_REASONS as readonly string[]).includes(name);
}

/** Whether `name` is a drop reason the kernel prints. */
export function isDropReason(name: string): name is DropReason {
  return (DROP_REASONS as readonly string[]).includes(name);
}

/**
 * Why a stack sent an RST (`kind: "rst"`, on the RST it sent) or dropped a
 * segment (`kind: "drop"`, on the segment it dropped). `source` is who says
 * so: `kernel` (its tracepoints) or `builtin` (the built-in stack). `state`
 * is the socket's TCP state when the stack knows it, without `TCP_`.
 */
export interface PacketReason {
  source: "kernel" | "builtin";
  kind: "rst" | "drop";
  name: string;
  state?: string;
}

/** `kernel: TCP_ABORT_ON_CLOSE in ESTABLISHED`, `kernel dropped: TCP_RFC7323_PAWS_ACK`. */
export function formatReason(r: PacketReason): string {
  return r.kind === "drop"
    ? `${r.source} dropped: ${r.name}`
    : `${r.source}: ${r.name}${r.state ? ` in ${r.state}` : ""}`;
}
