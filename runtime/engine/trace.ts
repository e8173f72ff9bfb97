/**
 * What happened in a run, in order: every packet each way, every socket call
 * and its result, every failure, with clock times. Every run records one.
 * It saves as pcap (raw IP, nanosecond times; tshark and Wireshark read it)
 * and as JSON through superjson, which keeps bytes and `undefined` intact.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Trace } from "./trace.ts";
 * const t = new Trace();
 * t.add({ kind: "packet", dir: "in", time: 1.5, bytes: new Uint8Array([0x45, 0, 0, 20]) });
 * t.add({ kind: "note", time: 2, text: "done" });
 * const back = Trace.fromJSON(t.toJSON());
 * assert.deepEqual(back.events, t.events);
 * assert.equal(t.toPcap().length, 24 + 16 + 4);
 * assert.equal(t.toPcapng().length, 28 + 32 + 32 + 4);
 * ```
 */
import superjson from "superjson";
import { concatBytes } from "../wire/concat_bytes.ts";
import { LinkType, PcapngWriter, PcapWriter } from "../wire/pcap.ts";
import type { SocketCall, SysResult } from "../wire/socket_call.ts";
import { formatReason, type PacketReason } from "../wire/stack_reasons.ts";

/** One event of a run. Times are clock milliseconds. */
export type TraceEvent =
  | {
    kind: "packet";
    /** `in`: into the stack under test; `out`: sent by it. */
    dir: "in" | "out";
    time: number;
    bytes: Uint8Array;
    /** The step that sent or matched it. */
    step?: number;
    /** Who sent an `in` packet: the script by hand, or the peer stack. */
    by?: "script" | "peer";
    /** What the path did to it: `dropped by path.drop (file.ts:12)`, `delayed 30 ms …`. */
    path?: string[];
    /** The path dropped (or held) it: it never reached the other end as traced here. */
    stopped?: boolean;
    /** In a topology: the link it crossed, and the host that sent it. */
    link?: string;
    from?: string;
    /** The stack's reason: for an RST it sent, or a segment it dropped (`kernel dropped: …`). */
    reason?: PacketReason;
  }
  | {
    kind: "call";
    time: number;
    step: number;
    side: string;
    call: SocketCall;
    result?: SysResult;
  }
  | { kind: "failure"; time: number; step?: number; message: string }
  | { kind: "note"; time: number; text: string };

/** The record of a run. */
export class Trace {
  readonly events: TraceEvent[] = [];

  /** Appends an event. */
  add(e: TraceEvent): void {
    this.events.push(e);
  }

  /** The packets, both ways, as a pcap file. */
  toPcap(): Uint8Array {
    const chunks: Uint8Array[] = [];
    const w = new PcapWriter((b) => chunks.push(b), { linkType: LinkType.RAW });
    for (const e of this.events) {
      if (e.kind !== "packet") continue;
      const ns = Math.round(e.time * 1e6);
      w.write({ tsSec: Math.floor(ns / 1e9), tsNsec: ns % 1e9, data: e.bytes });
    }
    return concatBytes(chunks);
  }

  /**
   * The packets, both ways, as pcapng, with what the path did to each as a
   * packet comment (Wireshark shows it; `tshark -e frame.comment` prints it).
   */
  toPcapng(): Uint8Array {
    const chunks: Uint8Array[] = [];
    // A topology's links are interfaces of their own, named: Wireshark shows where each packet was.
    const links: string[] = [];
    for (const e of this.events) {
      if (e.kind === "packet" && e.link !== undefined && !links.includes(e.link)) {
        links.push(e.link);
      }
    }
    const w = new PcapngWriter((b) => chunks.push(b), {
      linkType: LinkType.RAW,
      interfaces: links.length ? links : undefined,
    });
    for (const e of this.events) {
      if (e.kind !== "packet") continue;
      const ns = Math.round(e.time * 1e6);
      const notes = packetNotes(e);
      const comment = notes.length ? notes.join("; ") : undefined;
      w.write({
        tsSec: Math.floor(ns / 1e9),
        tsNsec: ns % 1e9,
        data: e.bytes,
        comment,
        interfaceId: e.link === undefined ? 0 : links.indexOf(e.link),
      });
    }
    return concatBytes(chunks);
  }

  /** The whole trace as JSON (superjson). */
  toJSON(): string {
    return superjson.stringify({ version: 1, events: this.events });
  }

  /** Reads what `toJSON` wrote. */
  static fromJSON(text: string): Trace {
    const v = superjson.parse<{ version: number; events: TraceEvent[] }>(text);
    if (!v || v.version !== 1 || !Array.isArray(v.events)) {
      throw new RangeError("Cannot read trace: want a synack trace (version 1)");
    }
    const t = new Trace();
    t.events.push(...v.events);
    return t;
  }
}

/** What a trace line says after `#`: the path's actions, then the stack's reason. */
export function packetNotes(e: Extract<TraceEvent, { kind: "packet" }>): string[] {
  return [...(e.path ?? []), ...(e.reason ? [formatReason(e.reason)] : [])];
}
