/**
 * `synack show`: prints a pcap or pcapng file in the line syntax, one packet
 * per line with its time relative to the first, or field by field with
 * `verbose`. The file is streamed and parsed chunk by chunk, in constant
 * memory; lines are written in large batches. What it reads and shows:
 *
 * - Ethernet, raw IP, and Linux cooked captures (`tcpdump -i any`: SLL and
 *   SLL2), whose direction and interface are shown as `[In eth0]`;
 * - packets cut by the snap length, decoded as far as their bytes go and
 *   marked as tcpdump marks them: `[|tcp: 54 of 1514 bytes]`;
 * - checksums a NIC was to fill in (a sender's capture on a veth or a host
 *   with offload holds only the pseudo-header sum): `[checksum offloaded]`
 *   instead of `[bad checksum]`;
 * - `relative`: seq and ack relative to each direction's first seq, as the
 *   scenario language writes them; `ascii`: the payload as text (tcpdump -A);
 * - `filter` (`capture_filter.ts`): host, port, flags, the connection of a
 *   packet number.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { showCapture } from "./show_capture.ts";
 * const lines: string[] = [];
 * const n = await showCapture(new URL("../examples/handshake.pcap", import.meta.url), { out: (l) => lines.push(l) });
 * assert.equal(n, lines.length);
 * assert.match(lines[0], /^0\.000000 192\.0\.2\.1:40000 > 192\.168\.0\.1:8080 S /);
 * ```
 */
import { captureRecords, decodeCut, unwrapRecord } from "../runtime/wire/capture_read.ts";
import { DecodeError } from "../runtime/wire/decode_error.ts";
import { formatLine } from "../runtime/wire/line_format.ts";
import { isPartialChecksum } from "../runtime/wire/offload.ts";
import { type Packet, parsePacket } from "../runtime/wire/packet.ts";
import { TcpFlag } from "../runtime/wire/tcp.ts";
import { formatVerbose } from "../runtime/wire/verbose.ts";
import { type CaptureFilter, parseFilter } from "./capture_filter.ts";

/** Options for `showCapture`. */
export interface ShowOptions {
  verbose?: boolean;
  /** Print payload bytes (`data 0x…`). */
  data?: boolean;
  /** Print the payload as text under each line, `.` for what does not print (tcpdump -A). */
  ascii?: boolean;
  /** Seq and ack relative to each direction's first seq. */
  relative?: boolean;
  /** Only packets this filter passes (`capture_filter.ts`). */
  filter?: string;
  /** Where lines go; by default stdout, in batches. */
  out?: (line: string) => void;
  /** Interface names by SLL2 ifindex, when known (for tests). */
  interfaces?: ReadonlyMap<number, string>;
}

/** Each direction's first seq, for `relative`. */
class RelativeSeq {
  readonly #first = new Map<string, number>();

  apply(p: Packet): Packet {
    const t = p.transport;
    if (t.kind !== "tcp") return p;
    const here = `${p.ip.src}|${t.srcPort}>${p.ip.dst}|${t.dstPort}`;
    const back = `${p.ip.dst}|${t.dstPort}>${p.ip.src}|${t.srcPort}`;
    if (!this.#first.has(here)) this.#first.set(here, t.seq);
    const seqBase = this.#first.get(here)!;
    const ackBase = this.#first.get(back);
    return {
      ...p,
      transport: {
        ...t,
        seq: (t.seq - seqBase) >>> 0,
        ack: t.flags & TcpFlag.ACK && ackBase !== undefined ? (t.ack - ackBase) >>> 0 : t.ack,
      },
    };
  }
}

/** tcpdump -A: printable bytes as they are, the rest as `.`, lines kept. */
export function asciiPayload(payload: Uint8Array): string {
  let s = "";
  for (const b of payload) {
    s += b === 10 ? "\n" : b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : ".";
  }
  return s;
}

/** Lines to stdout in large writes: one write per line is most of the cost. */
class BatchedOut {
  #parts: string[] = [];
  #size = 0;
  readonly #enc = new TextEncoder();
  /** The reader went away (`| head`): nothing more is wanted. */
  closed = false;

  line(l: string): void {
    this.#parts.push(l);
    this.#size += l.length + 1;
    if (this.#size > 1 << 16) this.flush();
  }

  flush(): void {
    if (!this.#parts.length || this.closed) return;
    const bytes = this.#enc.encode(`${this.#parts.join("\n")}\n`);
    this.#parts = [];
    this.#size = 0;
    try {
      for (let off = 0; off < bytes.length;) off += Deno.stdout.writeSync(bytes.subarray(off));
    } catch (e) {
      if (!(e instanceof Deno.errors.BrokenPipe)) throw e;
      this.closed = true;
    }
  }
}

/** Finds the connections that `stream N` terms name, reading up to the last of them. */
async function resolveStreams(path: string | URL, f: CaptureFilter, o: ShowOptions): Promise<void> {
  const last = Math.max(...f.streams);
  let n = 0;
  for await (const batch of captureRecords(path)) {
    for (const rec of batch) {
      n++;
      if (!f.streams.includes(n)) continue;
      const u = unwrapRecord(rec, o.interfaces);
      if (typeof u === "string") continue;
      try {
        f.setStream(n, decodeCut(u)?.p ?? parsePacket(u.bytes, u.link, { verify: false }));
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
      }
      if (n >= last) return;
    }
  }
}

/** Prints the packets of the capture at `path`; returns how many were printed. */
export async function showCapture(path: string | URL, o: ShowOptions = {}): Promise<number> {
  if ((await Deno.stat(path)).isDirectory) {
    throw new RangeError(`${path}: want a pcap or pcapng file, got a folder`);
  }
  const filter = o.filter === undefined ? undefined : parseFilter(o.filter);
  if (filter?.streams.length) await resolveStreams(path, filter, o);
  const batched = o.out ? undefined : new BatchedOut();
  const out = o.out ?? ((l: string) => batched!.line(l));
  const rel = o.relative ? new RelativeSeq() : undefined;
  let n = 0, shown = 0;
  let t0: number | undefined;
  try {
    for await (const batch of captureRecords(path)) {
      if (batched?.closed) break;
      for (const rec of batch) {
        n++;
        const t = rec.tsSec + rec.tsNsec / 1e9;
        t0 ??= t;
        const at = t - t0;
        const time = at.toFixed(6);
        const u = unwrapRecord(rec, o.interfaces);
        if (typeof u === "string") {
          if (!filter) {
            out(`${time} #${n} ${u} (${rec.data.length} bytes)`);
            shown++;
          }
          continue;
        }
        let p: Packet;
        let captured: number | undefined;
        const notes: string[] = [];
        try {
          const cut = decodeCut(u);
          if (cut) notes.push(cut.note);
          captured = cut?.captured;
          p = cut?.p ?? parsePacket(u.bytes, u.link);
        } catch (e) {
          if (!(e instanceof DecodeError)) throw e;
          if (!filter) {
            out(`${time} #${n} malformed: ${e.message}`);
            shown++;
          }
          continue;
        }
        if (filter && !filter.test(p, n)) continue;
        shown++;
        if (u.note) notes.push(u.note);
        const ok = (p.transport as { checksumOk?: boolean }).checksumOk;
        if (ok === false && isPartialChecksum(p)) {
          (p.transport as { checksumOk?: boolean }).checksumOk = undefined;
          notes.push("checksum offloaded");
        }
        const shownP = rel ? rel.apply(p) : p;
        const extra = notes.length ? ` [${notes.join("; ")}]` : "";
        if (o.verbose) {
          out(`#${n} at ${time} s, ${rec.data.length} bytes${extra}\n${formatVerbose(shownP)}\n`);
        } else {
          // Bytes of a cut packet that were never captured are not data to show.
          const data = o.data && captured === undefined;
          out(`${formatLine(shownP, { time: at, data, annotate: true })}${extra}`);
        }
        const pt = p.transport;
        if (o.ascii && (pt.kind === "tcp" || pt.kind === "udp") && pt.payload.length) {
          out(asciiPayload(pt.payload.subarray(0, captured ?? pt.payload.length)));
        }
      }
    }
  } finally {
    batched?.flush();
  }
  return shown;
}
