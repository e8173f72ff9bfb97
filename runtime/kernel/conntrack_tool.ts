/**
 * A kernel namespace's conntrack table, read with Debian's `conntrack` tool
 * run inside it (netlink is per namespace, so it sees that namespace's
 * entries only): `conntrack -L -p tcp` for the entries, `conntrack -S` for
 * the per-CPU counters, of which `invalid` is summed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConntrackList, parseConntrackStats } from "./conntrack_tool.ts";
 * const list = "tcp      6 431999 ESTABLISHED src=10.1.0.1 dst=10.1.0.2 sport=12345 dport=80 " +
 *   "src=10.1.0.2 dst=10.1.0.1 sport=80 dport=12345 [ASSURED] mark=0 use=1\n";
 * assert.deepEqual(parseConntrackList(list), [{
 *   state: "ESTABLISHED",
 *   orig: { src: "10.1.0.1", sport: 12345, dst: "10.1.0.2", dport: 80 },
 *   reply: { src: "10.1.0.2", sport: 80, dst: "10.1.0.1", dport: 12345 },
 * }]);
 * assert.equal(parseConntrackStats("cpu=0 found=0 invalid=2 insert=0\ncpu=1 found=0 invalid=1 insert=0\n"), 3);
 * ```
 */
import type { ConntrackView, CtEnds } from "../engine/target.ts";
import type { PrivateNetns } from "./netns.ts";

const ENDS = /src=(\S+) dst=(\S+) sport=(\d+) dport=(\d+)/g;

/** The TCP entries of `conntrack -L -p tcp` output. */
export function parseConntrackList(text: string): ConntrackView["entries"] {
  const out: ConntrackView["entries"] = [];
  for (const line of text.split("\n")) {
    // "tcp      6 431999 ESTABLISHED src=… dst=… sport=… dport=… [UNREPLIED] src=…": the state is the fourth word.
    const state = /^tcp\s+\d+\s+\d+\s+([A-Z_0-9]+)\s/.exec(line)?.[1];
    if (!state) continue;
    const ends: CtEnds[] = [...line.matchAll(ENDS)].map((m) => ({
      src: m[1],
      sport: Number(m[3]),
      dst: m[2],
      dport: Number(m[4]),
    }));
    if (ends.length < 2) throw new Error(`conntrack -L: want two tuples on a line, got ${line}`);
    out.push({ state, orig: ends[0], reply: ends[1] });
  }
  return out;
}

/** `invalid=` of `conntrack -S`, summed over its per-CPU lines. */
export function parseConntrackStats(text: string): number {
  let sum = 0;
  for (const m of text.matchAll(/\binvalid=(\d+)/g)) sum += Number(m[1]);
  return sum;
}

/** The namespace's table, now. */
export async function readConntrack(ns: PrivateNetns): Promise<ConntrackView> {
  const [list, stats] = await Promise.all([
    ns.exec(["conntrack", "-L", "-p", "tcp"]),
    ns.exec(["conntrack", "-S"]),
  ]);
  return { entries: parseConntrackList(list), invalid: parseConntrackStats(stats) };
}
