/**
 * Failure reports. A failing step reads:
 *
 * ```text
 * examples/rst_closed_port.ts:14:3: expect(rst) did not match
 *   want: 192.168.0.1:8080 > 192.0.2.1:40000 R 1000:1000(0)
 *   got:  192.168.0.1:8080 > 192.0.2.1:40000 R. 0:0(0) ack 1 win 0
 *   tcp.flags: want R, got R.
 *   tcp.seq: want 1000, got 0
 * trace (last 3 of 3):
 *   0.000000 > 192.0.2.1:40000 > 192.168.0.1:8080 . 1:1(0) ack 1000 win 65535
 *   …
 * ```
 *
 * Sequence numbers are relative to each sender's ISN, as the scenario writes them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ScenarioFailure } from "./failure.ts";
 * const f = new ScenarioFailure("expect(rst) did not match", { file: "a.ts", line: 3, col: 1 }, ["tcp.seq: want 1, got 0"]);
 * assert.match(f.message, /^a\.ts:3:1: expect\(rst\) did not match\n  tcp\.seq: want 1, got 0$/);
 * ```
 */
import { formatLocation, type SourceLoc } from "../../dsl/source_location.ts";
import { formatLine } from "../wire/line_format.ts";
import { type Packet, parsePacket } from "../wire/packet.ts";
import { formatCall } from "../wire/socket_call.ts";
import { TcpFlag } from "../wire/tcp.ts";
import { shiftSackBlocks } from "../wire/tcp_options.ts";
import type { Flows } from "./flow.ts";
import { packetNotes, type Trace, type TraceEvent } from "./trace.ts";

/** A scenario step that did not hold. */
export class ScenarioFailure extends Error {
  readonly at: SourceLoc | undefined;
  readonly details: readonly string[];
  readonly summary: string;
  constructor(summary: string, at: SourceLoc | undefined, details: readonly string[] = []) {
    super(
      [at ? `${formatLocation(at)}: ${summary}` : summary, ...details.map((d) => `  ${d}`)].join(
        "\n",
      ),
    );
    this.name = "ScenarioFailure";
    this.at = at;
    this.details = details;
    this.summary = summary;
  }

  /**
   * The same failure told again once more is known: `note` after the
   * details, and the trace tail (`trace (last …`) replaced by `tail`.
   */
  retold(note: string | undefined, tail: readonly string[]): ScenarioFailure {
    const cut = this.details.findIndex((d) => d.startsWith("trace (last "));
    if (cut < 0 && note === undefined) return this;
    const kept = cut < 0 ? this.details : this.details.slice(0, cut);
    return new ScenarioFailure(this.summary, this.at, [
      ...kept,
      ...(note ? [note] : []),
      ...(cut < 0 ? [] : tail),
    ]);
  }
}

/**
 * A scenario that does not apply to the target it was asked to run on (one
 * pinned to a model of another stack, on the real Linux kernel): reported as
 * skipped, with the reason, never as passed or failed.
 */
export class ScenarioSkipped extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "ScenarioSkipped";
  }
}

/**
 * The failure of a scenario whose own code threw: `the scenario threw
 * TypeError: x is undefined`, at the line of the throw.
 */
export function threwFailure(name: string, message: string, at?: SourceLoc): ScenarioFailure {
  const [first, ...rest] = message.split("\n");
  return new ScenarioFailure(`the scenario threw ${name}: ${first}`, at, rest);
}

/** `p` in the line syntax with seq/ack relative to the ISNs the flows know. */
export function relativeLine(p: Packet, dir: "in" | "out", flows: Flows): string {
  const t = p.transport;
  if (t.kind !== "tcp") return formatLine(p);
  const f = dir === "out"
    ? flows.peek(p)
    : flows.peek({ ...p, transport: { ...t, srcPort: t.dstPort, dstPort: t.srcPort } });
  if (!f) return formatLine(p);
  const seqBase = dir === "out" ? f.localIsn ?? 0 : f.peerIsn;
  const ackBase = dir === "out" ? f.peerIsn : f.localIsn ?? 0;
  // SACK blocks cover the acknowledged side's bytes: relative to the ack's base, as packetdrill prints.
  const options = shiftSackBlocks(t.options, -ackBase);
  return formatLine({
    ...p,
    transport: {
      ...t,
      seq: (t.seq - seqBase) >>> 0,
      ack: t.flags & TcpFlag.ACK ? (t.ack - ackBase) >>> 0 : t.ack,
      options,
      checksum: undefined,
    },
  });
}

/** The last `n` packets and calls of a trace, one per line. */
export function traceTail(trace: Trace, flows: Flows, n = 8): string[] {
  const shown = trace.events.filter((e) => e.kind === "packet" || e.kind === "call");
  const tail = shown.slice(-n);
  const lines = [`trace (last ${tail.length} of ${shown.length}):`];
  for (const e of tail) lines.push(`  ${describeEvent(e, flows)}`);
  return lines;
}

/**
 * One trace event on one line: `0.001000 > …` for a packet into the stack,
 * `<` for one it sent, calls as libc would print them, notes and failures as text.
 */
export function describeEvent(e: TraceEvent, flows: Flows): string {
  const time = (e.time / 1000).toFixed(6);
  switch (e.kind) {
    case "packet": {
      let text: string;
      try {
        // A topology's links carry other hosts' flows: their numbers as on the wire.
        text = e.link
          ? formatLine(parsePacket(e.bytes))
          : relativeLine(parsePacket(e.bytes), e.dir, flows);
      } catch {
        text = `${e.bytes.length} bytes that do not parse`;
      }
      const notes = packetNotes(e);
      const path = notes.length ? `  # ${notes.join("; ")}` : "";
      const where = e.link ? `[${e.link}] ${e.from} ` : "";
      return `${time} ${where}${e.dir === "in" ? ">" : "<"} ${text}${path}`;
    }
    case "call":
      return `${time} ${e.side === "target" ? "" : `${e.side}.`}${formatCall(e.call, e.result)}`;
    case "note":
      return `${time} note: ${e.text}`;
    case "failure":
      return `${time} failure: ${e.message.split("\n")[0]}`;
  }
}
