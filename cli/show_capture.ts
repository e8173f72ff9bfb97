/**
 * `synack show`: prints a pcap or pcapng file in the line syntax, one packet
 * per line with its time relative to the first, or field by field with
 * `verbose`. The file is streamed, so captures of any size print in constant
 * memory. A packet that does not decode prints its reason and the rest go on.
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
import { DecodeError } from "../runtime/wire/decode_error.ts";
import { formatLine } from "../runtime/wire/line_format.ts";
import { type LinkKind, parsePacket } from "../runtime/wire/packet.ts";
import { LinkType, readCapture } from "../runtime/wire/pcap.ts";
import { formatVerbose } from "../runtime/wire/verbose.ts";

/** Options for `showCapture`. */
export interface ShowOptions {
  verbose?: boolean;
  /** Print payload bytes (`data 0x…`). */
  data?: boolean;
  /** Where lines go; defaults to `console.log`. */
  out?: (line: string) => void;
}

function linkKind(linkType: number): LinkKind | undefined {
  if (linkType === LinkType.ETHERNET) return "ethernet";
  if (linkType === LinkType.RAW || linkType === LinkType.IPV4 || linkType === LinkType.IPV6) {
    return "raw";
  }
  return undefined;
}

/** Prints every packet of the capture at `path`; returns how many were printed. */
export async function showCapture(path: string | URL, opts: ShowOptions = {}): Promise<number> {
  const out = opts.out ?? ((l: string) => console.log(l));
  if ((await Deno.stat(path)).isDirectory) {
    throw new RangeError(`${path}: want a pcap or pcapng file, got a folder`);
  }
  using file = await Deno.open(path);
  let n = 0;
  let t0: number | undefined;
  for await (const rec of readCapture(file.readable)) {
    n++;
    const t = rec.tsSec + rec.tsNsec / 1e9;
    t0 ??= t;
    const time = t - t0;
    const link = linkKind(rec.linkType);
    if (!link) {
      out(
        `${
          time.toFixed(6)
        } #${n} link type ${rec.linkType} is not decoded (${rec.data.length} bytes)`,
      );
      continue;
    }
    try {
      const p = parsePacket(rec.data, link);
      if (opts.verbose) {
        out(`#${n} at ${time.toFixed(6)} s, ${rec.data.length} bytes\n${formatVerbose(p)}\n`);
      } else out(formatLine(p, { time, data: opts.data, annotate: true }));
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      out(`${time.toFixed(6)} #${n} malformed: ${e.message}`);
    }
  }
  return n;
}
