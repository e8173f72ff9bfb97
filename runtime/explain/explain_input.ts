/**
 * The TCP segments `synack explain` reasons about, from a pcap or pcapng file
 * (Ethernet, raw IP, SLL and SLL2) or a synack trace (`--trace`, JSON),
 * grouped by where they were seen: one capture point each (a topology link,
 * an interface of a `tcpdump -i any` capture), since the same segment seen
 * before and after NAT reads as two different ones. Numbers count every
 * record of the file from 1, as tcpdump and Wireshark number them. From a
 * capture only the segments of endpoint pairs that exchanged an RST are
 * kept: nothing else bears on an RST.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadSegments } from "./explain_input.ts";
 * const groups = await loadSegments(new URL("../../examples/handshake.pcap", import.meta.url));
 * assert.deepEqual(groups.map((g) => g.where), ["interface 0"]);
 * // The connection of packets 1-9 had no RST; the three pairs that did are kept, numbered as
 * // in the file.
 * assert.deepEqual(groups[0].segs.map((s) => s.n), [10, 11, 12, 13, 14]);
 * ```
 */
import { Trace } from "../engine/trace.ts";
import { reasonOf } from "../engine/reason_check.ts";
import { captureRecords, decodeCut, ipStart, unwrapRecord } from "../wire/capture_read.ts";
import { DecodeError } from "../wire/decode_error.ts";
import { parsePacket } from "../wire/packet.ts";
import type { Seg } from "./rst_explain.ts";

/** The segments seen at one place. */
export interface SegmentGroup {
  /** The link or interface it was seen on. */
  where?: string;
  segs: Seg[];
}

function group(all: Seg[]): SegmentGroup[] {
  const by = new Map<string | undefined, Seg[]>();
  for (const s of all) {
    const list = by.get(s.where) ?? [];
    list.push(s);
    by.set(s.where, list);
  }
  return [...by].map(([where, segs]) => ({ where, segs }));
}

/** Reads a capture or a synack trace; a `RangeError` says what the file is not. */
export async function loadSegments(path: string | URL): Promise<SegmentGroup[]> {
  const head = new Uint8Array(1);
  {
    using f = await Deno.open(path);
    await f.read(head);
  }
  if (head[0] === 0x7b) return fromTrace(Trace.fromJSON(await Deno.readTextFile(path)));
  // First pass, on raw bytes: the endpoint pairs that exchanged an RST. Only their segments
  // are decoded in the second: the rest of a large capture cannot bear on any RST.
  const pairs = new Set<string>();
  for await (const batch of captureRecords(path)) {
    for (const rec of batch) {
      const u = unwrapRecord(rec);
      if (typeof u === "string") continue;
      const k = tcpPair(u.bytes, ipStart(u), true);
      if (k !== undefined) pairs.add(k);
    }
  }
  const all: Seg[] = [];
  let n = 0;
  let t0: number | undefined;
  for await (const batch of captureRecords(path)) {
    for (const rec of batch) {
      n++;
      const t = rec.tsSec + rec.tsNsec / 1e9;
      t0 ??= t;
      if (!pairs.size) continue;
      const u = unwrapRecord(rec);
      if (typeof u === "string") continue;
      const k = tcpPair(u.bytes, ipStart(u), false);
      // A segment too short to say its pair is decoded anyway (its line says what is missing).
      if (k !== undefined && k !== CUT && !pairs.has(k)) continue;
      try {
        const packet = decodeCut(u)?.p ?? parsePacket(u.bytes, u.link, { verify: false });
        if (packet.transport.kind !== "tcp") continue;
        // The capture point: SLL's interface ("In eth0"), else the pcapng interface.
        const where = u.note?.replace(/^(In|Out|Broadcast|Multicast|Host|Other)\s*/, "") ||
          `interface ${rec.interfaceId}`;
        all.push({ n, time: t - t0, packet, where });
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
      }
    }
  }
  return group(all);
}

const CUT = "cut";

/**
 * The unordered endpoint pair of a TCP segment in raw bytes (`a|b`), or
 * undefined for anything else; with `rstOnly`, only for an RST. `CUT` when
 * the headers are not all there.
 */
export function tcpPair(b: Uint8Array, at: number, rstOnly: boolean): string | undefined {
  const v = b[at] >> 4;
  let tcp: number, src: Uint8Array, dst: Uint8Array;
  if (v === 4) {
    if (b[at + 9] !== 6) return undefined;
    tcp = at + (b[at] & 0xf) * 4;
    src = b.subarray(at + 12, at + 16);
    dst = b.subarray(at + 16, at + 20);
  } else if (v === 6) {
    // Extension headers are rare on TCP; such a segment is not one of a pair here.
    if (b[at + 6] !== 6) return undefined;
    tcp = at + 40;
    src = b.subarray(at + 8, at + 24);
    dst = b.subarray(at + 24, at + 40);
  } else return undefined;
  if (b.length < tcp + 14) return CUT;
  if (rstOnly && !(b[tcp + 13] & 0x04)) return undefined;
  const a = `${src.join(".")}:${(b[tcp] << 8) | b[tcp + 1]}`;
  const z = `${dst.join(".")}:${(b[tcp + 2] << 8) | b[tcp + 3]}`;
  return a < z ? `${a}|${z}` : `${z}|${a}`;
}

/** The segments of a synack trace that crossed, by link. */
export function fromTrace(trace: Trace): SegmentGroup[] {
  const all: Seg[] = [];
  let n = 0;
  const packets = trace.events.filter((e) => e.kind === "packet");
  const t0 = packets[0]?.time ?? 0;
  for (const e of packets) {
    n++;
    // What a path dropped never reached the other end: nothing answered it there.
    if (e.stopped) continue;
    try {
      const packet = parsePacket(e.bytes, "raw", { verify: false });
      if (packet.transport.kind !== "tcp") continue;
      const reason = reasonOf(trace, e);
      all.push({
        n,
        time: (e.time - t0) / 1000,
        packet,
        where: e.link,
        notes: e.path,
        ...(reason ? { reason } : {}),
      });
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
    }
  }
  return group(all);
}
