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
 * import { compareTraces, firstDivergence } from "./divergence.ts";
 * const a = new Trace(), b = new Trace();
 * const call = { name: "socket" } as const;
 * a.add({ kind: "call", time: 0, step: 0, side: "target", call, result: { ok: true, value: 3 } });
 * b.add({ kind: "call", time: 0, step: 0, side: "target", call, result: { ok: true, value: 4 } });
 * const d = firstDivergence(a, b)!;
 * assert.equal(d.kind, "events");
 * assert.equal(d.stream, "calls");
 * assert.equal(d.index, 0);
 * assert.equal(d.left?.text, "socket(AF_INET, SOCK_STREAM) = 3");
 * assert.equal(d.right?.text, "socket(AF_INET, SOCK_STREAM) = 4");
 * // Timing: the same call, 50 ms later on the right, beyond max(10 ms, 20 %).
 * const c = new Trace(), e = new Trace();
 * for (const [t, time] of [[c, 0], [c, 10], [e, 0], [e, 60]] as const) {
 *   t.add({ kind: "call", time, step: 0, side: "target", call, result: { ok: true, value: 3 } });
 * }
 * const { divergences } = compareTraces(c, e, { masks: [], timing: { minMs: 10, fraction: 0.2 } });
 * assert.equal(divergences[0].kind, "timing");
 * assert.equal(divergences[0].gapDeltaMs, 50);
 * ```
 */
import { address } from "../wire/address.ts";
import { parsePacket } from "../wire/packet.ts";
import { TcpFlag } from "../wire/tcp.ts";
import { formatCall } from "../wire/socket_call.ts";
import { timingTolerance, type Tolerance } from "./clock.ts";
import { relativeLine } from "./failure.ts";
import { Flows } from "./flow.ts";
import type { Trace } from "./trace.ts";
import { formatReason } from "../wire/stack_reasons.ts";

/** One event as compared: what happened, normalized, and when. */
export interface ComparedEvent {
  kind: "packet" | "call";
  time: number;
  step?: number;
  text: string;
  /** The stack's reason for a packet, without who said it: `dropped: TCP_OLD_DATA`. */
  reason?: string;
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
    // A topology's datagrams are compared link by link (`linkEvents`).
    if (e.kind === "packet" && e.link !== undefined) continue;
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
        ...(e.reason ? { reason: formatReason(e.reason).replace(/^\w+:? ?/, "") } : {}),
      });
    } else if (e.kind === "call") {
      const r = e.result;
      // TCP_INFO's timings and counters differ between any two stacks; its state does not.
      const text = r?.ok && typeof r.value === "object" && "state" in r.value
        ? `${formatCall(e.call)} = {state: ${r.value.state}}`
        : formatCall(e.call, r);
      const side = e.side === "target" ? "" : `${e.side}.`;
      out.push({ kind: "call", time: e.time, step: e.step, text: side + text });
    }
  }
  return out;
}

/**
 * A topology's datagrams, link by link: each line names its sender, reads
 * seq and ack relative to its flow's ISNs on that link, masks the ports
 * stacks and NAT chose for themselves (`:eph1`, in order of first SYN), and
 * ends with `[conntrack INVALID]` when a netfilter host (real or modelled)
 * found it so. Real kernels say nothing of segments they found valid, so
 * INVALID is the verdict both sides can give.
 */
export function linkEvents(trace: Trace): Map<string, ComparedEvent[]> {
  const out = new Map<string, ComparedEvent[]>();
  const flows = new Map<string, { flows: Flows; first: string }>();
  const ephemeral = new Map<number, string>();
  for (const e of trace.events) {
    if (e.kind !== "packet" || e.link === undefined || e.from === undefined) continue;
    let f = flows.get(e.link);
    if (!f) flows.set(e.link, f = { flows: new Flows(ANY, 0, () => 0), first: e.from });
    // The link's first sender plays the script's side, the other the stack's.
    const dir = e.from === f.first ? "in" : "out";
    let text: string;
    try {
      const p = parsePacket(e.bytes, "raw", { verify: false });
      const t = p.transport;
      if (t.kind === "tcp" && !(t.flags & TcpFlag.SYN) && t.flags & TcpFlag.ACK) {
        // A flow met mid-stream (a segment NAT did not translate): its ack numbers the
        // other side's bytes from here, as a SYN one before it would have.
        const back = { srcPort: t.dstPort, dstPort: t.srcPort };
        const known = dir === "out"
          ? f.flows.peek(p)
          : f.flows.peek({ ...p, transport: { ...t, ...back } });
        if (!known) {
          const syn = {
            ...p,
            transport: { ...t, ...back, seq: (t.ack - 1) >>> 0, flags: TcpFlag.SYN, options: [] },
          };
          if (dir === "out") f.flows.sent(syn);
          else f.flows.seen(syn);
        }
      }
      if (dir === "in") f.flows.sent(p);
      else f.flows.seen(p);
      if (t.kind === "tcp" && t.flags & TcpFlag.SYN && !(t.flags & TcpFlag.ACK)) {
        if (!ephemeral.has(t.srcPort)) ephemeral.set(t.srcPort, `eph${ephemeral.size + 1}`);
      }
      text = relativeLine(p, dir, f.flows).replace(/TS val \d+ ecr \d+/g, "TS val * ecr *")
        .replace(/ id \d+/g, "").replace(/ flow 0x[0-9a-f]+/g, "");
      for (const [port, name] of ephemeral) {
        text = text.replace(new RegExp(`:${port}(?=[ ,)]|$)`, "g"), `:${name}`);
      }
    } catch {
      text = `${e.bytes.length} bytes that do not parse`;
    }
    const invalid = e.path?.some((n) => /conntrack (\(output\) )?INVALID \(/.test(n));
    const list = out.get(e.link) ?? [];
    out.set(e.link, list);
    list.push({
      kind: "packet",
      time: e.time,
      step: e.step,
      text: `${dir === "in" ? ">" : "<"} ${text} (from ${e.from})${
        invalid ? " [conntrack INVALID]" : ""
      }`,
    });
  }
  return out;
}

/**
 * A topology's links are compared packet by packet while each carries at
 * most this many datagrams: a conversation (handshakes, a request, what a
 * middlebox does to a segment). Beyond it, a bulk transfer's segmentation
 * and ACK pattern follow each stack's own pacing (Linux's TSO autosizing
 * and delayed ACKs against the built-in stack's) and would part at once.
 */
export const CONVERSATION = 64;

/** The first event where the two traces differ, or undefined when they agree throughout. */
export function firstDivergence(a: Trace, b: Trace): Divergence | undefined {
  return compareTraces(a, b, { masks: [], timing: undefined }).divergences[0];
}

/**
 * Differences that are known noise between two correct stacks, each with a
 * name the output shows when it hides one:
 * - `psh`: a PSH bit one side set and the other did not (Linux pushes the end
 *   of each GSO burst, whose size follows its pacing; the built-in stack the
 *   end of each write);
 * - `window`: advertised windows within 1/16 of each other (Linux charges
 *   the receive buffer by truesize and rounds to the window scale);
 * - `timing`: when events came (off by default: timing is part of TCP).
 */
export const MASKS = Object.freeze({
  psh: "PSH at burst ends",
  window: "window within truesize rounding (1/16)",
  timing: "timing",
});

/** A mask's name. */
export type MaskName = keyof typeof MASKS;

/** The masks `--target a,b` applies unless told otherwise. */
export const DEFAULT_MASKS: readonly MaskName[] = Object.freeze(["psh", "window"]);

/** A difference between two runs: in what happened, or only in when. */
export interface Divergence {
  /** `packets`, `calls`, or in a topology `packets on <link>`. */
  stream: string;
  /** The position within that stream, from 0. */
  index: number;
  /** `events`: the normalized texts differ (or one side ran out); `timing`: only the gaps. */
  kind: "events" | "timing";
  left?: ComparedEvent;
  right?: ComparedEvent;
  /** The right side's gap since its previous event minus the left side's, in ms. */
  gapDeltaMs?: number;
}

/** How two traces are compared. */
export interface CompareOptions {
  masks: readonly MaskName[];
  /**
   * How far the gaps between events may differ before it is a timing
   * divergence: max(minMs, fraction of the larger gap); undefined compares
   * no timing (two virtual clocks agree by construction).
   */
  timing: Tolerance | undefined;
  /** In a topology, compare each link's datagrams too (not for bulk transfers; see `linksComparable`). */
  links?: boolean;
  /**
   * Compare the stacks' reasons too (`# dropped: TCP_OLD_DATA`, `# rst:
   * NO_SOCKET`): set when both runs' stacks give them (`RunResult.reasons`).
   */
  reasons?: boolean;
}

/** Every divergence of two traces, in order, and how many each mask hid. */
export interface Comparison {
  divergences: Divergence[];
  masked: Partial<Record<MaskName, number>>;
  /** Why a stream was not compared. */
  note?: string;
}

const TOKENS = /^([<>]) (\S+) > (\S+) (\S+)( .*)?$/;

/** `text` with the PSH flag taken out of a packet line's flags. */
function withoutPsh(text: string): string {
  const m = TOKENS.exec(text);
  if (!m) return text;
  const flags = m[4].replace("P", "") || ".";
  return `${m[1]} ${m[2]} > ${m[3]} ${flags}${m[5] ?? ""}`;
}

/** Both texts with their windows made equal when within 1/16 of each other. */
function windowsClose(a: string, b: string): [string, string] {
  const wa = /\bwin (\d+)/.exec(a), wb = /\bwin (\d+)/.exec(b);
  if (!wa || !wb) return [a, b];
  const x = Number(wa[1]), y = Number(wb[1]);
  if (Math.abs(x - y) * 16 > Math.max(x, y)) return [a, b];
  return [a.replace(/\bwin \d+/, "win ~"), b.replace(/\bwin \d+/, "win ~")];
}

/** The masks that make the texts agree (each one that changed something), or undefined. */
function maskedEqual(a: string, b: string, masks: readonly MaskName[]): MaskName[] | undefined {
  let x = a, y = b;
  const used: MaskName[] = [];
  for (const m of masks) {
    const [nx, ny] = m === "psh"
      ? [withoutPsh(x), withoutPsh(y)]
      : m === "window"
      ? windowsClose(x, y)
      : [x, y];
    if (nx !== x || ny !== y) used.push(m);
    [x, y] = [nx, ny];
    if (x === y) return used;
  }
  return undefined;
}

/**
 * Compares two runs event by event, as two streams (packets and calls: when
 * a blocked call returns relative to the packet that released it is a matter
 * of threads, not of TCP), and returns every difference, in the order the
 * first run met them.
 */
export function compareTraces(a: Trace, b: Trace, o: CompareOptions): Comparison {
  const said = (e: ComparedEvent) =>
    o.reasons && e.reason ? { ...e, text: `${e.text}  # ${e.reason}` } : e;
  const x = comparedEvents(a).map(said), y = comparedEvents(b).map(said);
  const divergences: Divergence[] = [];
  const masked: Partial<Record<MaskName, number>> = {};
  const hide = (m: MaskName) => (masked[m] = (masked[m] ?? 0) + 1);
  // With a live peer stack, each side paces the exchange by its own clock and windows:
  // the interleaving of two real runs says nothing; their calls and verdicts still do.
  const topo = [a, b].some((t) => t.events.some((e) => e.kind === "packet" && e.link));
  const live = topo ||
    [a, b].some((t) => t.events.some((e) => e.kind === "packet" && e.by === "peer"));
  // Live, each host's calls return when its stack lets them: compare them in step order.
  const order = (e: ComparedEvent[]) =>
    live ? e.sort((p, q) => (p.step ?? 0) - (q.step ?? 0) || p.time - q.time) : e;
  const streams = new Map<string, [ComparedEvent[], ComparedEvent[]]>();
  if (!live) {
    streams.set("packets", [
      x.filter((e) => e.kind === "packet"),
      y.filter((e) => e.kind === "packet"),
    ]);
  }
  streams.set("calls", [
    order(x.filter((e) => e.kind === "call")),
    order(y.filter((e) => e.kind === "call")),
  ]);
  let bulk: string | undefined;
  if (topo && o.links) {
    const la = linkEvents(a), lb = linkEvents(b);
    const links = [...new Set([...la.keys(), ...lb.keys()])];
    const n = (l: string) => Math.max(la.get(l)?.length ?? 0, lb.get(l)?.length ?? 0);
    bulk = links.find((l) => n(l) > CONVERSATION);
    if (bulk) bulk = `${bulk} carried ${n(bulk)}`;
    else for (const l of links) streams.set(`packets on ${l}`, [la.get(l) ?? [], lb.get(l) ?? []]);
  }
  for (const [stream, [l, r]] of streams) {
    for (let i = 0; i < Math.max(l.length, r.length); i++) {
      const left = l[i], right = r[i];
      if (left?.text !== right?.text) {
        const m = left && right ? maskedEqual(left.text, right.text, o.masks) : undefined;
        if (m) m.forEach(hide);
        else divergences.push({ stream, index: i, kind: "events", left, right });
        // The gaps after a difference in events say nothing more.
        if (!m) continue;
      }
      if (!o.timing || live || !left || !right || i === 0) continue;
      // When the script injects is synack's own pace (a reason check waits on the kernel's
      // tracer), not the stack's: the stack's timing is in what it sends and when calls return.
      if (left.kind === "packet" && left.text.startsWith(">")) continue;
      const gapL = left.time - l[i - 1].time, gapR = right.time - r[i - 1].time;
      const slack = timingTolerance(Math.max(gapL, gapR), o.timing);
      if (Math.abs(gapR - gapL) <= slack) continue;
      if (o.masks.includes("timing")) hide("timing");
      else {divergences.push({
          stream,
          index: i,
          kind: "timing",
          left,
          right,
          gapDeltaMs: gapR - gapL,
        });}
    }
  }
  const when = (d: Divergence) => d.left?.time ?? d.right?.time ?? Infinity;
  divergences.sort((p, q) => when(p) - when(q));
  const note = bulk
    ? `packets not compared: ${bulk} datagrams, a bulk transfer, whose segments follow each ` +
      `stack's own pacing; calls, verdicts and conntrack steps are compared`
    : topo && !o.links
    ? "packets not compared: calls, verdicts and conntrack steps are"
    : live && !topo
    ? "packets not compared: with stacks on both ends, each run's exchange is paced by its own stacks"
    : undefined;
  return { divergences, masked, note };
}
