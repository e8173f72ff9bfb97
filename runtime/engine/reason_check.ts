/**
 * Reasons in a run: the stack's word on each RST it sent and each segment it
 * dropped goes onto the trace line of that packet, and the checks on them
 * (`rst().reason(…)`, `expectDrop(…)`) read it from there.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Trace } from "./trace.ts";
 * import { dropProblem, fillReasons } from "./reason_check.ts";
 * const t = new Trace();
 * const seg = new Uint8Array([0x45]);
 * t.add({ kind: "packet", dir: "in", time: 0, bytes: seg, by: "script", step: 0 });
 * const reasons = { of: () => ({ source: "builtin" as const, kind: "drop" as const, name: "TCP_RFC7323_PAWS" }), settle: () => undefined };
 * await fillReasons(t, reasons);
 * assert.equal(dropProblem(t, "TCP_RFC7323_PAWS"), undefined);
 * assert.equal(dropProblem(t, "TCP_OLD_ACK"), "expectDrop: want the last injected segment dropped for TCP_OLD_ACK, got TCP_RFC7323_PAWS");
 * ```
 */
import { tcpStart } from "../wire/packet.ts";
import type { StackReasons } from "./target.ts";
import type { Trace, TraceEvent } from "./trace.ts";

type PacketEvent = Extract<TraceEvent, { kind: "packet" }>;

/** How long to wait for a stack's reasons (a tracing helper's round trip takes milliseconds). */
const SETTLE_LIMIT_MS = 3000;

/** Waits for the stack's reasons and writes each onto its packet's trace event. */
export async function fillReasons(trace: Trace, reasons: StackReasons | undefined): Promise<void> {
  if (!reasons || reasons.unavailable) return;
  const pending = reasons.settle();
  if (pending) {
    // A tracer that stopped answering must not hold the run: what is known by then is written.
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      pending,
      new Promise<void>((resolve) => timer = setTimeout(resolve, SETTLE_LIMIT_MS)),
    ]);
    clearTimeout(timer);
  }
  for (const e of trace.events) {
    if (e.kind !== "packet" || e.reason) continue;
    const r = reasons.of(e.bytes);
    if (r) e.reason = r;
  }
}

/** The last segment the script injected itself (not the peer stack). */
export function lastInjected(trace: Trace): PacketEvent | undefined {
  for (let i = trace.events.length - 1; i >= 0; i--) {
    const e = trace.events[i];
    if (e.kind === "packet" && e.dir === "in" && e.by === "script") return e;
  }
  return undefined;
}

/** What is wrong with `expectDrop(reason)` after `fillReasons`, or undefined when it holds. */
export function dropProblem(trace: Trace, reason: string | undefined): string | undefined {
  const want = reason ? ` for ${reason}` : "";
  const e = lastInjected(trace);
  if (!e) {
    return `expectDrop: want the last injected segment dropped${want}, but nothing was injected`;
  }
  const got = e.reason?.kind === "drop" ? e.reason.name : undefined;
  if (got === undefined) {
    return `expectDrop: want the last injected segment dropped${want}, got none: the stack took it`;
  }
  if (reason !== undefined && got !== reason) {
    return `expectDrop: want the last injected segment dropped${want}, got ${got}`;
  }
  return undefined;
}

/**
 * A line for a failure that waited on the stack: when the last segment the
 * script injected was dropped, the stack's reason (`the stack dropped the
 * last injected segment: kernel dropped: TCP_RFC7323_PAWS_ACK`).
 */
export function dropNote(trace: Trace): string | undefined {
  const e = lastInjected(trace);
  if (e?.reason?.kind !== "drop") return undefined;
  return `the stack dropped the last injected segment (${e.reason.source}: ${e.reason.name})`;
}

/** The TCP words that survive forwarding and NAT: seq, ack and flags. */
function tcpKey(bytes: Uint8Array): string | undefined {
  const tcp = tcpStart(bytes);
  return tcp === undefined ? undefined : bytes.subarray(tcp + 4, tcp + 14).join(",");
}

/**
 * The reason of a packet, or, for one a router forwarded (in a topology),
 * of the same segment as its sender sent it: the latest earlier packet with
 * its seq, ack and flags that has one.
 */
export function reasonOf(trace: Trace, e: PacketEvent): PacketEvent["reason"] {
  if (e.reason || e.link === undefined) return e.reason;
  const key = tcpKey(e.bytes);
  const at = trace.events.indexOf(e);
  for (let i = at - 1; i >= 0 && key; i--) {
    const x = trace.events[i];
    if (x.kind === "packet" && x.reason?.kind === "rst" && tcpKey(x.bytes) === key) return x.reason;
  }
  return undefined;
}

/** What is wrong with an RST's reason, `rst.reason: want …, got …`, or undefined. */
export function rstReasonProblem(
  want: string,
  trace: Trace,
  got: TraceEvent | undefined,
): string | undefined {
  const r = got?.kind === "packet" ? reasonOf(trace, got) : undefined;
  if (r?.kind === "rst" && r.name === want) return undefined;
  return `rst.reason: want ${want}, got ${
    r?.kind === "rst" ? r.name : "none (the stack gave no reason)"
  }`;
}
