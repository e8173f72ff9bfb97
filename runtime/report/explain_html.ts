/**
 * `synack explain --html`: the explanation of every RST in a capture or
 * trace, beside a ladder diagram of what was captured, in one
 * self-contained HTML file (inline SVG, no script, no network). Each place
 * the capture saw (a topology's link, an interface) has its own diagram,
 * and each RST its verdict under it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadSegments } from "../explain/explain_input.ts";
 * import { explainHtml } from "./explain_html.ts";
 * const file = new URL("../../examples/handshake.pcap", import.meta.url);
 * const html = explainHtml("handshake.pcap", await loadSegments(file));
 * assert.match(html, /<svg class="ladder"/);
 * assert.match(html, /passive, answers #\d+: closed port/);
 * ```
 */
import { Trace } from "../engine/trace.ts";
import type { SegmentGroup } from "../explain/explain_input.ts";
import { explainText } from "../explain/explain_text.ts";
import { emitPacket } from "../wire/packet.ts";
import { address } from "../wire/address.ts";
import { ladderSvg } from "./ladder.ts";
import { esc } from "./svg_text.ts";

const STYLE = `
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
section.place { border-top: 1px solid #ddd; margin-top: 1em; }
pre.explain { background: #f6f8fa; padding: .5em; overflow-x: auto; }
.figure { overflow-x: auto; }
`;

/** The segments of one place as a trace whose two columns are the first two endpoints. */
function asTrace(g: SegmentGroup): { trace: Trace; left: string; right: string } {
  const trace = new Trace();
  const first = g.segs[0]?.packet;
  const left = first ? address.format(first.ip.src) : "a";
  const right = first ? address.format(first.ip.dst) : "b";
  const t0 = g.segs[0]?.time ?? 0;
  for (const s of g.segs) {
    const dir = address.format(s.packet.ip.src) === left ? "in" : "out";
    trace.add({
      kind: "packet",
      dir,
      time: (s.time - t0) * 1000,
      bytes: emitPacket(s.packet),
      ...(s.notes?.length ? { path: [...s.notes] } : {}),
      ...(s.reason ? { reason: s.reason } : {}),
    });
  }
  return { trace, left, right };
}

/** The page. `title` names what was explained (the file). */
export function explainHtml(title: string, groups: readonly SegmentGroup[]): string {
  const parts = [
    "<!doctype html>",
    `<html lang="en"><head><meta charset="utf-8"><title>synack explain ${
      esc(title)
    }</title><style>${STYLE}</style></head><body>`,
    `<h1>synack explain ${esc(title)}</h1>`,
    `<pre class="explain">${esc(explainText(groups).join("\n"))}</pre>`,
  ];
  for (const g of groups) {
    const { trace, left, right } = asTrace(g);
    parts.push(
      `<section class="place"><h2>${esc(g.where ?? "the capture")}</h2>`,
      `<div class="figure">${ladderSvg(trace, { stack: right, script: left })}</div>`,
      explainText([g]).length > 1
        ? `<pre class="explain">${esc(explainText([g]).join("\n"))}</pre>`
        : "",
      "</section>",
    );
  }
  parts.push("</body></html>");
  return parts.join("\n");
}
