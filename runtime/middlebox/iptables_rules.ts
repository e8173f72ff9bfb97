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
 * -A INPUT|FORWARD [-p tcp] -m conntrack --ctstate INVALID[,NEW,ESTABLISHED,RELATED]
 *     -j ACCEPT|DROP|REJECT [--reject-with tcp-reset|icmp-port-unreachable]   (or -m state --state …)
 * -P INPUT|FORWARD ACCEPT|DROP
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
 * assert.deepEqual(r.dnat, [{ match: { port: 1112 }, to: { port: 80 } }]);
 * assert.deepEqual(r.filter.input, [{ policy: "accept", rules: [{ states: ["invalid"], verdict: "drop" }] }]);
 * assert.throws(() => parseIptablesRules(["-A INPUT -p tcp --dport 22 -j DROP"]), /iptables rule not modelled: "-A INPUT -p tcp --dport 22 -j DROP"/);
 * ```
 */
import type { CtStateName, FilterChain, FilterVerdict } from "./filter_chain.ts";
import { type NftRules, noRules } from "./nft_rules.ts";

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
  "--reject-with",
  "-P",
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
  const out = noRules();
  // iptables has one chain per hook in its filter table, made on first use.
  const chains = new Map<string, FilterChain>();
  const chain = (name: "INPUT" | "FORWARD") => {
    let c = chains.get(name);
    if (!c) {
      chains.set(name, c = { policy: "accept", rules: [] });
      out.filter[name === "INPUT" ? "input" : "forward"].push(c);
    }
    return c;
  };
  for (const line of lines) {
    const words = iptablesWords(line);
    // `-P INPUT DROP`: a policy, the one form with two values after its option.
    const pol = /^-P (INPUT|FORWARD) (ACCEPT|DROP)$/.exec(words.join(" "));
    if (pol) {
      chain(pol[1] as "INPUT" | "FORWARD").policy = pol[2] === "DROP" ? "drop" : "accept";
      continue;
    }
    const o = new Map<string, string>();
    let ok = words.length % 2 === 0;
    for (let i = 0; ok && i < words.length; i += 2) {
      if (!VALUED.has(words[i]) || o.has(words[i])) ok = false;
      else o.set(words[i], words[i + 1]);
    }
    const table = o.get("-t") ?? "filter", chainName = o.get("-A"), target = o.get("-j");
    const has = (...k: string[]) => [...o.keys()].every((x) => k.includes(x));
    const port = (v: string | undefined) => (v && /^\d{1,5}$/.test(v) ? Number(v) : undefined);
    if (ok && table === "nat" && chainName === "POSTROUTING" && target === "MASQUERADE") {
      if (o.has("-o") && has("-t", "-A", "-o", "-j")) {
        out.masquerade.push(o.get("-o")!);
        continue;
      }
    }
    const dport = port(o.get("--dport"));
    if (ok && table === "nat" && chainName === "PREROUTING" && o.get("-p") === "tcp" && dport) {
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
    const states = (o.get("-m") === "conntrack" ? o.get("--ctstate") : undefined) ??
      (o.get("-m") === "state" ? o.get("--state") : undefined);
    const list = states?.toLowerCase().split(",") as CtStateName[] | undefined;
    const verdict = verdictOf(target, o.get("--reject-with"));
    if (
      ok && table === "filter" && (chainName === "INPUT" || chainName === "FORWARD") && verdict &&
      list?.every((x) => CT_STATES.has(x)) && (!o.has("-p") || o.get("-p") === "tcp") &&
      has("-t", "-A", "-p", "-m", "--ctstate", "--state", "-j", "--reject-with")
    ) {
      chain(chainName).rules.push({ states: list, verdict });
      continue;
    }
    throw new RangeError(
      `iptables rule not modelled: ${JSON.stringify(line)}; the model acts on MASQUERADE -o in ` +
        `nat POSTROUTING, DNAT and REDIRECT of -p tcp --dport in nat PREROUTING, and ` +
        `-m conntrack --ctstate S -j ACCEPT|DROP|REJECT and -P in INPUT or FORWARD`,
    );
  }
  return out;
}

const CT_STATES = new Set(["invalid", "new", "established", "related", "untracked"]);

/** An iptables target as a filter verdict; REJECT's default answer is ICMP port unreachable. */
function verdictOf(
  target: string | undefined,
  rejectWith: string | undefined,
): FilterVerdict | undefined {
  if (target === "ACCEPT" || target === "DROP") {
    return rejectWith ? undefined : target === "ACCEPT" ? "accept" : "drop";
  }
  if (target !== "REJECT") return undefined;
  if (rejectWith === undefined || rejectWith === "icmp-port-unreachable") return "reject";
  return rejectWith === "tcp-reset" ? "reject-tcp-reset" : undefined;
}
