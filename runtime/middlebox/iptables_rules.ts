/**
 * iptables rules as the seeds write them (`iptables -A INPUT -m conntrack
 * --ctstate INVALID -j DROP`), for a kernel host: each line is run as
 * `iptables <line>` in the host's namespace (Debian's iptables writes
 * nftables rules), and the model reads the same lines into the rules it
 * acts on, as it reads `nft` text. The forms it knows:
 *
 * ```text
 * -t nat -A POSTROUTING -o sy2 -j MASQUERADE
 * -t nat -A PREROUTING [-d A] -p tcp --dport P -j DNAT --to-destination B:Q
 * -t nat -A PREROUTING [-d A] -p tcp --dport P -j REDIRECT --to-ports Q
 * -A INPUT|FORWARD -m conntrack --ctstate INVALID -j DROP     (or -m state --state INVALID)
 * ```
 *
 * Anything else is refused with the line itself.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseIptablesRules } from "./iptables_rules.ts";
 * const r = parseIptablesRules([
 *   "-t nat -A PREROUTING -p tcp --dport 1112 -j REDIRECT --to-ports 80",
 *   "-A INPUT -m conntrack --ctstate INVALID -j DROP",
 * ]);
 * assert.deepEqual(r, { masquerade: [], dnat: [{ match: { port: 1112 }, to: { port: 80 } }], dropInvalid: ["input"] });
 * assert.throws(() => parseIptablesRules(["-A INPUT -p tcp --dport 22 -j DROP"]), /iptables rule not modelled: "-A INPUT -p tcp --dport 22 -j DROP"/);
 * ```
 */
import type { NftRules } from "./nft_rules.ts";

/** Options that take a value, as iptables spells them. */
const VALUED = new Set([
  "-t",
  "-A",
  "-o",
  "-d",
  "-p",
  "-m",
  "-j",
  "--dport",
  "--ctstate",
  "--state",
  "--to-destination",
  "--to-ports",
]);

/**
 * A rule line as words, checked for what `iptables` would read differently
 * from a plain split (quotes, shell syntax).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { iptablesWords } from "./iptables_rules.ts";
 * assert.deepEqual(iptablesWords(" -A INPUT  -j DROP "), ["-A", "INPUT", "-j", "DROP"]);
 * assert.throws(() => iptablesWords("-A INPUT -j DROP; reboot"), /want iptables options/);
 * ```
 */
export function iptablesWords(line: string): string[] {
  if (!/^[\w\s.:,/-]*$/.test(line)) {
    throw new RangeError(
      `iptables: want iptables options (letters, digits, - . : , /), got ${JSON.stringify(line)}`,
    );
  }
  return line.trim().split(/\s+/).filter(Boolean);
}

/** Reads the lines; a `RangeError` names the first the model does not act on. */
export function parseIptablesRules(lines: readonly string[]): NftRules {
  const out: NftRules = { masquerade: [], dnat: [], dropInvalid: [] };
  for (const line of lines) {
    const words = iptablesWords(line);
    const o = new Map<string, string>();
    let ok = words.length % 2 === 0;
    for (let i = 0; ok && i < words.length; i += 2) {
      if (!VALUED.has(words[i]) || o.has(words[i])) ok = false;
      else o.set(words[i], words[i + 1]);
    }
    const table = o.get("-t") ?? "filter", chain = o.get("-A"), target = o.get("-j");
    const has = (...k: string[]) => [...o.keys()].every((x) => k.includes(x));
    const port = (v: string | undefined) => (v && /^\d{1,5}$/.test(v) ? Number(v) : undefined);
    if (ok && table === "nat" && chain === "POSTROUTING" && target === "MASQUERADE") {
      if (o.has("-o") && has("-t", "-A", "-o", "-j")) {
        out.masquerade.push(o.get("-o")!);
        continue;
      }
    }
    const dport = port(o.get("--dport"));
    if (ok && table === "nat" && chain === "PREROUTING" && o.get("-p") === "tcp" && dport) {
      const addr = o.get("-d");
      const to = /^([\d.]+):(\d{1,5})$/.exec(o.get("--to-destination") ?? "");
      if (
        target === "DNAT" && to && has("-t", "-A", "-d", "-p", "--dport", "-j", "--to-destination")
      ) {
        out.dnat.push({ match: { addr, port: dport }, to: { addr: to[1], port: Number(to[2]) } });
        continue;
      }
      const toPort = port(o.get("--to-ports"));
      if (
        target === "REDIRECT" && toPort &&
        has("-t", "-A", "-d", "-p", "--dport", "-j", "--to-ports")
      ) {
        out.dnat.push({ match: { ...(addr && { addr }), port: dport }, to: { port: toPort } });
        continue;
      }
    }
    const invalid = (o.get("-m") === "conntrack" && o.get("--ctstate") === "INVALID") ||
      (o.get("-m") === "state" && o.get("--state") === "INVALID");
    if (
      ok && table === "filter" && (chain === "INPUT" || chain === "FORWARD") && target === "DROP" &&
      invalid && has("-t", "-A", "-m", "--ctstate", "--state", "-j")
    ) {
      out.dropInvalid.push(chain === "INPUT" ? "input" : "forward");
      continue;
    }
    throw new RangeError(
      `iptables rule not modelled: ${JSON.stringify(line)}; the model acts on MASQUERADE -o in ` +
        `nat POSTROUTING, DNAT and REDIRECT of -p tcp --dport in nat PREROUTING, and ` +
        `-m conntrack --ctstate INVALID -j DROP in INPUT or FORWARD`,
    );
  }
  return out;
}
