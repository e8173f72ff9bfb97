/**
 * The part of an nftables ruleset (`nft -f` text) that the conntrack + NAT
 * model acts on: masquerade by output device, destination NAT of an address
 * and port (or a port, to this host: `redirect`), and filter chains on input
 * or forward that accept, drop or reject by `ct state`, with their policy. The same text configures a kernel host's
 * real netfilter; a rule the model does not know is refused with the rule
 * itself, so a scenario never runs against rules it silently ignored.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseNftRules } from "./nft_rules.ts";
 * const r = parseNftRules(`table ip nat {
 *   chain post { type nat hook postrouting priority srcnat; policy accept; oifname "sy2" masquerade }
 * }
 * table inet filter {
 *   chain input { type filter hook input priority filter; policy accept; ct state invalid counter drop }
 * }`);
 * assert.deepEqual(r.masquerade, ["sy2"]);
 * assert.deepEqual(r.filter.input, [{ policy: "accept", rules: [{ states: ["invalid"], verdict: "drop" }] }]);
 * const fw = parseNftRules(`table inet fw { chain in { type filter hook input priority 0; policy drop;
 *   ct state { established, related } accept
 *   ct state invalid reject with tcp reset } }`);
 * assert.deepEqual(fw.filter.input[0], {
 *   policy: "drop",
 *   rules: [{ states: ["established", "related"], verdict: "accept" }, { states: ["invalid"], verdict: "reject-tcp-reset" }],
 * });
 * assert.throws(() => parseNftRules(`table ip t { chain c { type filter hook input priority 0; tcp dport 22 drop } }`), /not modelled: "tcp dport 22 drop"/);
 * ```
 */

import type { CtStateName, FilterChain, FilterRule, FilterVerdict } from "./filter_chain.ts";

/**
 * A destination NAT rule: new connections to `match` go to `to`. Without a
 * match address, any destination; without a `to` address, the address of
 * the device the segment came in on (`redirect`, iptables' REDIRECT).
 */
export interface Dnat {
  match: { addr?: string; port: number };
  to: { addr?: string; port: number };
}

/** What the model does. */
export interface NftRules {
  /** Output devices whose new connections take the host's address (`oifname "syN" masquerade`). */
  masquerade: string[];
  /** `ip daddr A tcp dport P dnat to B:Q` and `tcp dport P redirect to :Q` in prerouting. */
  dnat: Dnat[];
  /** The filter chains on each hook, in the order written. */
  filter: { input: FilterChain[]; forward: FilterChain[] };
}

/**
 * No rules at all.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { noRules } from "./nft_rules.ts";
 * assert.deepEqual(noRules().filter, { input: [], forward: [] });
 * ```
 */
export function noRules(): NftRules {
  return { masquerade: [], dnat: [], filter: { input: [], forward: [] } };
}

const STATES = new Set(["invalid", "new", "established", "related", "untracked"]);

/** `ct state a,b verdict` (sets already flattened to `a,b`), or undefined. */
function ctRule(st: string): FilterRule | undefined {
  // The model filters TCP only: a rule may say so (`reject with tcp reset` needs it).
  const m = new RegExp(
    "^(?:(?:meta l4proto|ip protocol) tcp )?ct state ([a-z, ]+?) (?:counter )?" +
      "(accept|drop|reject with tcp reset|reject)$",
  ).exec(st);
  if (!m) return undefined;
  const states = m[1].split(/[, ]+/).filter(Boolean);
  if (!states.every((x) => STATES.has(x))) return undefined;
  const verdict = m[2] === "reject with tcp reset" ? "reject-tcp-reset" : m[2];
  return { states: states as CtStateName[], verdict: verdict as FilterVerdict };
}

/** Parses the ruleset; a `RangeError` names the first rule the model does not act on. */
export function parseNftRules(text: string): NftRules {
  const out = noRules();
  let hook: string | undefined;
  let chain: FilterChain | undefined;
  // Anonymous sets (`{ established, related }`) as plain lists, so that braces mean blocks.
  const flat = text.replace(/#[^\n]*/g, "").replace(/ct state \{([^}]*)\}/g, "ct state $1");
  // Statements: what stands between braces, semicolons and line ends.
  for (const raw of flat.split(/[{};\n]/)) {
    const st = raw.trim().replace(/\s+/g, " ");
    if (!st || /^(table|chain) /.test(st)) continue;
    const h = /^type (nat|filter) hook (\w+) priority [\w-]+$/.exec(st);
    if (h) {
      hook = h[2];
      chain = undefined;
      if (h[1] === "filter" && (hook === "input" || hook === "forward")) {
        chain = { policy: "accept", rules: [] };
        out.filter[hook].push(chain);
      }
      continue;
    }
    const p = /^policy (accept|drop)$/.exec(st);
    if (p && (chain || p[1] === "accept")) {
      if (chain) chain.policy = p[1] as "accept" | "drop";
      continue;
    }
    const m = /^oifname "([\w.-]+)" masquerade$/.exec(st);
    if (m && hook === "postrouting") {
      out.masquerade.push(m[1]);
      continue;
    }
    const n = /^ip daddr ([\d.]+) tcp dport (\d+) (?:counter )?dnat (?:ip )?to ([\d.]+):(\d+)$/
      .exec(st);
    if (n && hook === "prerouting") {
      out.dnat.push({
        match: { addr: n[1], port: Number(n[2]) },
        to: { addr: n[3], port: Number(n[4]) },
      });
      continue;
    }
    const r = /^(?:ip daddr ([\d.]+) )?tcp dport (\d+) (?:counter )?redirect to :(\d+)$/.exec(st);
    if (r && hook === "prerouting") {
      out.dnat.push({
        match: { ...(r[1] && { addr: r[1] }), port: Number(r[2]) },
        to: { port: Number(r[3]) },
      });
      continue;
    }
    const c = ctRule(st);
    if (c && chain) {
      chain.rules.push(c);
      continue;
    }
    throw new RangeError(
      `nft rule not modelled: ${JSON.stringify(st)}${hook ? ` (hook ${hook})` : ""}; the model ` +
        `acts on 'oifname "…" masquerade' in postrouting, 'ip daddr A tcp dport P dnat to B:Q' ` +
        `and 'tcp dport P redirect to :Q' in prerouting, and 'ct state S accept|drop|reject' and ` +
        `policies in filter chains on input or forward`,
    );
  }
  return out;
}
