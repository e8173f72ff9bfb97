/**
 * Checks a `conntrack()` step against a host's table: each `has` pattern
 * matches some entry, no `lacks` pattern matches any, and the entry count
 * and INVALID counter are as wanted. A host name in a pattern stands for any
 * of its addresses. Problems come back as lines; none means it holds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { conntrack } from "../../dsl/conntrack_steps.ts";
 * import { conntrackProblems } from "./conntrack_check.ts";
 * const view = {
 *   entries: [{
 *     state: "ESTABLISHED",
 *     orig: { src: "10.1.0.1", sport: 40000, dst: "10.2.0.1", dport: 80 },
 *     reply: { src: "10.2.0.1", sport: 80, dst: "10.2.0.2", dport: 40000 },
 *   }],
 *   invalid: 1,
 * };
 * const hosts = (h: string) => h === "server" ? ["10.2.0.1"] : [];
 * const ok = conntrack("r").has({ state: "ESTABLISHED", orig: "10.1.0.1:* > server:80" }).invalid(1).step;
 * assert.deepEqual(conntrackProblems(ok, view, hosts), []);
 * const bad = conntrack("r").has({ state: "TIME_WAIT" }).count(2).invalid(0).step;
 * assert.deepEqual(conntrackProblems(bad, view, hosts), [
 *   "conntrack.has: want an entry TIME_WAIT, got [ESTABLISHED orig 10.1.0.1:40000 > 10.2.0.1:80 reply 10.2.0.1:80 > 10.2.0.2:40000]",
 *   "conntrack.count: want 2, got 1",
 *   "conntrack.invalid: want 0, got 1",
 * ]);
 * ```
 */
import { describeEntryPattern } from "../../dsl/conntrack_steps.ts";
import { describeValue, matches } from "../../dsl/matcher.ts";
import type { ConntrackStep, EndsPattern, EntryPattern } from "../../dsl/steps.ts";
import { address } from "../wire/address.ts";
import type { ConntrackView, CtEnds } from "./target.ts";

type Entry = ConntrackView["entries"][number];

/** Addresses compared as bytes, so that IPv6 written either way matches. */
function sameAddress(a: string, b: string): boolean {
  return address.isValid(a) && address.isValid(b)
    ? address.equal(address.parse(a), address.parse(b))
    : a === b;
}

function addrMatches(want: string, got: string, hosts: (name: string) => string[]): boolean {
  if (want === "*") return true;
  if (address.isValid(want)) return sameAddress(want, got);
  return hosts(want).some((a) => sameAddress(a, got));
}

function endsMatch(p: EndsPattern, e: CtEnds, hosts: (name: string) => string[]): boolean {
  return addrMatches(p.src, e.src, hosts) && addrMatches(p.dst, e.dst, hosts) &&
    (p.sport === "*" || p.sport === e.sport) && (p.dport === "*" || p.dport === e.dport);
}

function entryMatches(p: EntryPattern, e: Entry, hosts: (name: string) => string[]): boolean {
  return (p.state === undefined || p.state === e.state) &&
    (p.orig === undefined || endsMatch(p.orig, e.orig, hosts)) &&
    (p.reply === undefined || endsMatch(p.reply, e.reply, hosts));
}

const endsText = (e: CtEnds) => {
  const a = (x: string) => x.includes(":") ? `[${x}]` : x;
  return `${a(e.src)}:${e.sport} > ${a(e.dst)}:${e.dport}`;
};

/**
 * An entry as one line, as `conntrack -L` would show it, shortened.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatCtEntry } from "./conntrack_check.ts";
 * const e = { state: "SYN_SENT", orig: { src: "10.1.0.1", sport: 1, dst: "10.2.0.1", dport: 80 }, reply: { src: "10.2.0.1", sport: 80, dst: "10.1.0.1", dport: 1 } };
 * assert.equal(formatCtEntry(e), "SYN_SENT orig 10.1.0.1:1 > 10.2.0.1:80 reply 10.2.0.1:80 > 10.1.0.1:1");
 * ```
 */
export function formatCtEntry(e: Entry): string {
  return `${e.state} orig ${endsText(e.orig)} reply ${endsText(e.reply)}`;
}

/** What does not hold, one line each. */
export function conntrackProblems(
  s: ConntrackStep,
  view: ConntrackView,
  hosts: (name: string) => string[],
): string[] {
  const out: string[] = [];
  const table = () =>
    view.entries.length ? `[${view.entries.map(formatCtEntry).join("; ")}]` : "an empty table";
  for (const p of s.has) {
    if (!view.entries.some((e) => entryMatches(p, e, hosts))) {
      out.push(`conntrack.has: want an entry ${describeEntryPattern(p)}, got ${table()}`);
    }
  }
  for (const p of s.lacks) {
    const e = view.entries.find((e) => entryMatches(p, e, hosts));
    if (e) {
      out.push(
        `conntrack.lacks: want no entry ${describeEntryPattern(p)}, got ${formatCtEntry(e)}`,
      );
    }
  }
  if (s.count !== undefined && !matches(s.count, view.entries.length)) {
    out.push(`conntrack.count: want ${describeValue(s.count)}, got ${view.entries.length}`);
  }
  if (s.invalid !== undefined && !matches(s.invalid, view.invalid)) {
    out.push(`conntrack.invalid: want ${describeValue(s.invalid)}, got ${view.invalid}`);
  }
  return out;
}
