/**
 * `synack explain`'s report: each RST in the line syntax, with its number,
 * time and (when the capture saw more than one place) where it was seen;
 * under it, its kind, the segment it answers, the likely cause, and the
 * evidence.
 *
 * ```text
 * #10 0.009000 192.168.0.1:9 > 192.0.2.1:40001 R. 0:0(0) ack 5001 win 0 DF
 *     passive, answers #9: closed port: nothing listens on 192.168.0.1:9
 *     rule: seq 0 and ack 5001 = #9's seq + 1 (a segment without ACK that no socket took)
 *     #9 is a SYN to 192.168.0.1:9
 * ```
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadSegments } from "./explain_input.ts";
 * import { explainText } from "./explain_text.ts";
 * const lines = explainText(await loadSegments(new URL("../../examples/handshake.pcap", import.meta.url)));
 * assert.match(lines.join("\n"), /passive, answers #\d+: closed port/);
 * assert.match(lines.at(-1)!, /^\d+ RSTs?: \d+ passive, \d+ active/);
 * ```
 */
import { formatLine } from "../wire/line_format.ts";
import type { SegmentGroup } from "./explain_input.ts";
import { CAUSE_REASONS, explainRsts } from "./rst_explain.ts";

/** The report's lines, the last a count. */
export function explainText(groups: readonly SegmentGroup[]): string[] {
  const out: string[] = [];
  let passive = 0, active = 0, unmatched = 0;
  const several = groups.length > 1;
  for (const g of groups) {
    const byN = new Map(g.segs.map((s) => [s.n, s]));
    for (const e of explainRsts(g.segs)) {
      const s = byN.get(e.n)!;
      const at = several && g.where ? ` [${g.where}]` : "";
      // As captured: the checksum is not the point here.
      const t = s.packet.transport as { checksum?: number };
      const line = formatLine({ ...s.packet, transport: { ...t, checksum: undefined } } as never);
      out.push(`#${e.n} ${e.time.toFixed(6)}${at} ${line}`);
      const what = e.kind === "unmatched"
        ? "answers nothing"
        : `${e.kind}${
          e.answers === undefined
            ? ""
            : `, ${e.kind === "active" ? "after" : "answers"} #${e.answers}`
        }`;
      out.push(`    ${what}: ${e.summary}`);
      for (const line of e.evidence) out.push(`    ${line}`);
      if (e.stack) {
        const r = e.stack.reason;
        out.push(
          `    ${r.source} says: ${r.name}${r.state ? ` in ${r.state}` : ""}, ${
            e.stack.agrees
              ? "as this cause gives"
              : `which this cause does not give (${
                CAUSE_REASONS[e.cause].join(", ") || "none"
              }): the stack's word stands`
          }`,
        );
      }
      if (e.kind === "passive") passive++;
      else if (e.kind === "active") active++;
      else unmatched++;
    }
  }
  const n = passive + active + unmatched;
  out.push(
    `${n} RST${n === 1 ? "" : "s"}: ${passive} passive, ${active} active${
      unmatched ? `, ${unmatched} answering nothing` : ""
    }`,
  );
  return out;
}
