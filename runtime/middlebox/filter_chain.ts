/**
 * Filtering by conntrack state, as netfilter's filter hooks do it: each base
 * chain on a hook (INPUT or FORWARD) looks at a packet's `ct state` and says
 * accept, drop or reject; the first rule that matches decides that chain,
 * else its policy does. A packet goes on only if every chain on the hook
 * accepts it (nftables runs each base chain; a drop in any one is final).
 *
 * The states are conntrack's: `invalid` (no entry would take it), `new` (the
 * entry has seen no reply yet: `IP_CT_NEW`), `established` (it has:
 * `IP_CT_ESTABLISHED`, both ways). `related` never applies to TCP here.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { filterVerdict, type FilterChain } from "./filter_chain.ts";
 * const firewall: FilterChain = {
 *   policy: "drop",
 *   rules: [{ states: ["established", "related"], verdict: "accept" }, { states: ["invalid"], verdict: "reject-tcp-reset" }],
 * };
 * assert.equal(filterVerdict([firewall], "established"), "accept");
 * assert.equal(filterVerdict([firewall], "new"), "drop");
 * assert.equal(filterVerdict([firewall], "invalid"), "reject-tcp-reset");
 * assert.equal(filterVerdict([], "invalid"), "accept");
 * ```
 */

/** A packet's conntrack state, as `ct state` names it. */
export type CtStateName = "invalid" | "new" | "established" | "related" | "untracked";

/** What a rule or a policy does with a packet. */
export type FilterVerdict = "accept" | "drop" | "reject" | "reject-tcp-reset";

/** One rule: `ct state <states> <verdict>`. */
export interface FilterRule {
  states: CtStateName[];
  verdict: FilterVerdict;
}

/** One base chain on a hook. */
export interface FilterChain {
  policy: "accept" | "drop";
  rules: FilterRule[];
}

/** What the chains on one hook decide for a packet in `state`. */
export function filterVerdict(chains: readonly FilterChain[], state: CtStateName): FilterVerdict {
  for (const c of chains) {
    const hit = c.rules.find((r) => r.states.includes(state));
    const v = hit ? hit.verdict : c.policy;
    if (v !== "accept") return v;
  }
  return "accept";
}

const VERDICT_WORDS: Record<Exclude<FilterVerdict, "accept">, string> = {
  drop: "dropped",
  reject: "rejected (ICMP port unreachable)",
  "reject-tcp-reset": "rejected with a TCP reset",
};

/**
 * What a chain did, in words, for the trace.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeVerdict } from "./filter_chain.ts";
 * assert.equal(describeVerdict("drop", "invalid", "input"), "dropped by the input filter (ct state invalid)");
 * ```
 */
export function describeVerdict(
  v: Exclude<FilterVerdict, "accept">,
  state: CtStateName,
  hook: string,
): string {
  return `${VERDICT_WORDS[v]} by the ${hook} filter (ct state ${state})`;
}
