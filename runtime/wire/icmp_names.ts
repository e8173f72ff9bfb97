/**
 * Names for ICMP types and codes in the line syntax, packetdrill style
 * (`icmp unreachable frag_needed mtu 1400`). Unnamed values print as `typeN`
 * and `codeN`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { icmpNames } from "./icmp_names.ts";
 * assert.equal(icmpNames.type("icmpv4", 3), "unreachable");
 * assert.equal(icmpNames.code("icmpv4", 3, 4), "frag_needed");
 * assert.equal(icmpNames.typeValue("icmpv6", "packet_too_big"), 2);
 * assert.equal(icmpNames.codeValue("icmpv4", 3, "code9"), 9);
 * ```
 */
export const icmpNames = {
  type(kind: Family, type: number): string {
    return TYPES[kind][type] ?? `type${type}`;
  },
  /** The code name, or `undefined` when the type names no codes and the code is 0. */
  code(kind: Family, type: number, code: number): string | undefined {
    const names = CODES[kind][type];
    if (names) return names[code] ?? `code${code}`;
    return code === 0 ? undefined : `code${code}`;
  },
  typeValue(kind: Family, name: string): number | undefined {
    const m = /^type(\d+)$/.exec(name);
    if (m) return Number(m[1]) <= 255 ? Number(m[1]) : undefined;
    const hit = Object.entries(TYPES[kind]).find(([, n]) => n === name);
    return hit ? Number(hit[0]) : undefined;
  },
  codeValue(kind: Family, type: number, name: string): number | undefined {
    const m = /^code(\d+)$/.exec(name);
    if (m) return Number(m[1]) <= 255 ? Number(m[1]) : undefined;
    const names = CODES[kind][type];
    if (!names) return undefined;
    const hit = Object.entries(names).find(([, n]) => n === name);
    return hit ? Number(hit[0]) : undefined;
  },
  /** True when the type's rest-of-header is an echo identifier and sequence. */
  isEcho(kind: Family, type: number): boolean {
    return kind === "icmpv4" ? type === 0 || type === 8 : type === 128 || type === 129;
  },
  /** True when the type/code carries a next-hop MTU. */
  hasMtu(kind: Family, type: number, code: number): boolean {
    return kind === "icmpv4" ? type === 3 && code === 4 : type === 2;
  },
} as const;

type Family = "icmpv4" | "icmpv6";

const TYPES: Record<Family, Record<number, string>> = {
  icmpv4: {
    0: "echo_reply",
    3: "unreachable",
    4: "source_quench",
    5: "redirect",
    8: "echo_request",
    11: "time_exceeded",
    12: "parameter_problem",
  },
  icmpv6: {
    1: "unreachable",
    2: "packet_too_big",
    3: "time_exceeded",
    4: "parameter_problem",
    128: "echo_request",
    129: "echo_reply",
  },
};

// RFC 792, RFC 1812 §5.2.7.1 (codes 9-15); RFC 4443 §3.1, §3.3.
const CODES: Record<Family, Record<number, Record<number, string>>> = {
  icmpv4: {
    3: {
      0: "net_unreachable",
      1: "host_unreachable",
      2: "protocol_unreachable",
      3: "port_unreachable",
      4: "frag_needed",
      5: "source_route_failed",
      9: "net_prohibited",
      10: "host_prohibited",
      13: "filter_prohibited",
    },
    11: { 0: "ttl_exceeded", 1: "reassembly_exceeded" },
  },
  icmpv6: {
    1: {
      0: "no_route",
      1: "admin_prohibited",
      2: "beyond_scope",
      3: "address_unreachable",
      4: "port_unreachable",
      5: "source_policy",
      6: "reject_route",
    },
    3: { 0: "hop_limit_exceeded", 1: "reassembly_exceeded" },
  },
};
