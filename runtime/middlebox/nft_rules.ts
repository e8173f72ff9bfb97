/**
 * The part of an nftables ruleset (`nft -f` text) that the conntrack + NAT
 * model acts on: masquerade by output device, destination NAT of an address
 * and port (or a port, to this host: `redirect`), and dropping
 * `ct state invalid` on input or forward. The same text configures a kernel host's
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
 * assert.deepEqual(r, { masquerade: ["sy2"], dnat: [], dropInvalid: ["input"] });
 * assert.throws(() => parseNftRules(`table ip t { chain c { type filter hook input priority 0; tcp dport 22 drop } }`), /not modelled: "tcp dport 22 drop"/);
 * ```
 */

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
  /** `ip daddr A tcp dport P dnat to B:Q` in prerouting. */
  dnat: Dnat[];
  /** Hooks where `ct state invalid drop` stands: `input`, `forward`. */
  dropInvalid: ("input" | "forward")[];
}

/** Parses the ruleset; a `RangeError` names the first rule the model does not act on. */
export function parseNftRules(text: string): NftRules {
  const out: NftRules = { masquerade: [], dnat: [], dropInvalid: [] };
  let hook: string | undefined;
  // Statements: what stands between braces, semicolons and line ends.
  for (const raw of text.replace(/#[^\n]*/g, "").split(/[{};\n]/)) {
    const st = raw.trim().replace(/\s+/g, " ");
    if (!st || /^(table|chain) /.test(st) || /^policy accept$/.test(st)) continue;
    const h = /^type (?:nat|filter) hook (\w+) priority [\w-]+$/.exec(st);
    if (h) {
      hook = h[1];
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
        match: { addr: r[1], port: Number(r[2]) },
        to: { port: Number(r[3]) },
      });
      continue;
    }
    const d = /^ct state invalid (?:counter )?drop$/.exec(st);
    if (d && (hook === "input" || hook === "forward")) {
      out.dropInvalid.push(hook);
      continue;
    }
    throw new RangeError(
      `nft rule not modelled: ${JSON.stringify(st)}${hook ? ` (hook ${hook})` : ""}; the model ` +
        `acts on 'oifname "…" masquerade' in postrouting, 'ip daddr A tcp dport P dnat to B:Q' ` +
        `and 'tcp dport P redirect to :Q' in prerouting, and 'ct state invalid drop' in input or ` +
        `forward`,
    );
  }
  return out;
}
