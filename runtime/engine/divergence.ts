/**
 * Differential runs: the same scenario on two targets (the built-in stack and
 * the kernel), compared event by event. Each trace is replayed through fresh
 * flows so sequence numbers read relative to each side's ISN, as the
 * scenario writes them; values that are random on a real stack (TS val and
 * its echo, the IP id, the IPv6 flow label, the ephemeral port of an active open, shown as
 * `:eph1`) and TCP_INFO figures other than the state are masked.
 * What is left should match exactly: flags, seq/ack, windows, options and
 * their order, DF, payload lengths, call results.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Trace } from "./trace.ts";
 * import { firstDivergence } from "./divergence.ts";
 * const a = new Trace(), b = new Trace();
 * const call = { name: "socket" } as const;
 * a.add({ kind: "call", time: 0, step: 0, side: "target", call, result: { ok: true, value: 3 } });
 * b.add({ kind: "call", time: 0, step: 0, side: "target", call, result: { ok: true, value: 4 } });
 * const d = firstDivergence(a, b)!;
 * assert.equal(d.stream, "calls");
 * assert.equal(d.index, 0);
 * assert.equal(d.left?.text, "socket(AF_INET, SOCK_STREAM) = 3");
 * assert.equal(d.right?.text, "socket(AF_INET, SOCK_STREAM) = 4");
 * ```
 */
import { address } from "../wire/address.ts";
import { parsePacket } from "../wire/packet.ts";
import { formatCall } from "../wire/socket_call.ts";
import { relativeLine } from "./failure.ts";
import { Flows } from "./flow.ts";
import type { Trace } from "./trace.ts";

/** One event as compared: what happened, normalized, and when. */
export interface ComparedEvent {
  kind: "packet" | "call";
  time: number;
  step?: number;
  text: string;
}

/**
 * Where two runs first differ; a missing side ran out of events. Packets and
 * calls are compared as two streams: when a blocked call returns relative to
 * the packet that released it is a matter of threads, not of TCP.
 */
export interface Divergence {
  stream: "packets" | "calls";
  /** The position within that stream, from 0. */
  index: number;
  left?: ComparedEvent;
  right?: ComparedEvent;
}

const ANY = { local: address.parse("0.0.0.0"), remote: address.parse("0.0.0.0") };

/** The packets and calls of a trace, normalized for comparison. */
export function comparedEvents(trace: Trace): ComparedEvent[] {
  const flows = new Flows(ANY, 0, () => 0);
  const out: ComparedEvent[] = [];
  // Ports the script addressed are part of the scenario; ports the stack picked for itself are not.
  const named = new Set<number>();
  const ephemeral = new Map<number, string>();
  for (const e of trace.events) {
    if (e.kind === "packet") {
      let text: string;
      try {
        const p = parsePacket(e.bytes, "raw", { verify: false });
        if (e.dir === "in") flows.sent(p);
        else flows.seen(p);
        const t = p.transport;
        if (t.kind === "tcp" && e.dir === "in") named.add(t.dstPort);
        if (
          t.kind === "tcp" && e.dir === "out" && !named.has(t.srcPort) && !ephemeral.has(t.srcPort)
        ) {
          ephemeral.set(t.srcPort, `eph${ephemeral.size + 1}`);
        }
        text = relativeLine(p, e.dir, flows).replace(/TS val \d+ ecr \d+/g, "TS val * ecr *")
          .replace(/ id \d+/g, "").replace(/ flow 0x[0-9a-f]+/g, "");
        for (const [port, name] of ephemeral) {
          text = text.replace(new RegExp(`:${port}(?=[ ,)]|$)`, "g"), `:${name}`);
        }
      } catch {
        text = `${e.bytes.length} bytes that do not parse`;
      }
      out.push({
        kind: "packet",
        time: e.time,
        step: e.step,
        text: `${e.dir === "in" ? ">" : "<"} ${text}`,
      });
    } else if (e.kind === "call") {
      const r = e.result;
      // TCP_INFO's timings and counters differ between any two stacks; its state does not.
      const text = r?.ok && typeof r.value === "object" && "state" in r.value
        ? `${formatCall(e.call)} = {state: ${r.value.state}}`
        : formatCall(e.call, r);
      out.push({ kind: "call", time: e.time, step: e.step, text });
    }
  }
  return out;
}

/** The first event where the two traces differ, or undefined when they agree throughout. */
export function firstDivergence(a: Trace, b: Trace): Divergence | undefined {
  const x = comparedEvents(a), y = comparedEvents(b);
  const found: Divergence[] = [];
  for (const stream of ["packets", "calls"] as const) {
    const kind = stream === "packets" ? "packet" : "call";
    const l = x.filter((e) => e.kind === kind), r = y.filter((e) => e.kind === kind);
    for (let i = 0; i < Math.max(l.length, r.length); i++) {
      if (l[i]?.text !== r[i]?.text) {
        found.push({ stream, index: i, left: l[i], right: r[i] });
        break;
      }
    }
  }
  // The earlier of the two, by when the first run got there.
  const when = (d: Divergence) => d.left?.time ?? d.right?.time ?? Infinity;
  return found.sort((p, q) => when(p) - when(q))[0];
}
