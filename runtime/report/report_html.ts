/**
 * One self-contained HTML file for a run of scenarios: a summary, then per
 * scenario its verdict, its failure with the field diff, a ladder diagram
 * (`ladder.ts`) and, for a transfer, a time-sequence graph
 * (`time_sequence.ts`). Inline CSS and SVG only: no script, no network, it
 * opens offline in any browser. What a browser checks: one
 * `section.scenario` per scenario with its `data-verdict`, one `svg.ladder`
 * in each, and the failure drawn as `g.failing`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Trace } from "../engine/trace.ts";
 * import { reportHtml } from "./report_html.ts";
 * const html = reportHtml("synack run", [
 *   { name: "<x>", where: "a.ts:1:1", target: "builtin:linux", verdict: "pass", warnings: [], trace: new Trace(), ends: { stack: "builtin:linux" } },
 * ]);
 * assert.match(html, /^<!doctype html>/);
 * assert.match(html, /<section class="scenario" data-verdict="pass">/);
 * assert.ok(html.includes("&lt;x&gt;") && !html.includes("<x>"));
 * ```
 */
import type { Scenario } from "../../dsl/scenario_def.ts";
import { formatLocation } from "../../dsl/source_location.ts";
import type { RunResult } from "../engine/runner.ts";
import type { Trace } from "../engine/trace.ts";
import { type LadderEnds, ladderSvg } from "./ladder.ts";
import { esc } from "./svg_text.ts";
import { timeSequenceSvg } from "./time_sequence.ts";

/** One scenario's run, as the report shows it. */
export interface ReportItem {
  name: string;
  /** file:line:col of the scenario. */
  where: string;
  target: string;
  verdict: "pass" | "fail" | "skip";
  /** The failure (with its field diff), or why it was skipped. */
  message?: string;
  warnings: readonly string[];
  trace: Trace;
  ends: LadderEnds;
}

const STYLE = `
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.3em; } h2 { font-size: 1.05em; margin-bottom: .2em; }
.summary span { margin-right: 1.2em; font-weight: bold; }
.pass { color: #1e8449; } .fail { color: #c0392b; } .skip { color: #7f8c8d; }
section.scenario { border-top: 1px solid #ddd; padding-top: .6em; margin-top: 1.2em; }
section.scenario[data-verdict="fail"] { border-top: 3px solid #c0392b; }
.where { color: #666; font-family: monospace; font-size: .9em; }
pre.failure { background: #fdecea; border-left: 4px solid #c0392b; padding: .5em; overflow-x: auto; }
.warning { color: #a04000; font-family: monospace; font-size: .9em; }
.figure { overflow-x: auto; }
`;

/** The report. `title` heads it (`synack run --target kernel examples/`). */
export function reportHtml(title: string, items: readonly ReportItem[]): string {
  const count = (v: ReportItem["verdict"]) => items.filter((i) => i.verdict === v).length;
  const parts = [
    "<!doctype html>",
    `<html lang="en"><head><meta charset="utf-8"><title>${
      esc(title)
    }</title><style>${STYLE}</style></head><body>`,
    `<h1>${esc(title)}</h1>`,
    `<p class="summary"><span class="pass">${count("pass")} passed</span><span class="fail">${
      count("fail")
    } failed</span><span class="skip">${count("skip")} skipped</span></p>`,
  ];
  for (const it of items) parts.push(section(it));
  parts.push("</body></html>");
  return parts.join("\n");
}

function section(it: ReportItem): string {
  const verdict = { pass: "passed", fail: "FAILED", skip: "skipped" }[it.verdict];
  const out = [
    `<section class="scenario" data-verdict="${it.verdict}">`,
    `<h2><span class="${it.verdict}">${verdict}</span> ${esc(it.name)}</h2>`,
    `<div class="where">${esc(it.where)} · ${esc(it.target)}</div>`,
  ];
  if (it.message) {
    out.push(
      it.verdict === "fail"
        ? `<pre class="failure">${esc(it.message)}</pre>`
        : `<p class="skip">${esc(it.message)}</p>`,
    );
  }
  for (const w of it.warnings) out.push(`<div class="warning">warning: ${esc(w)}</div>`);
  if (it.verdict !== "skip") {
    out.push(`<div class="figure">${ladderSvg(it.trace, it.ends)}</div>`);
    const ts = timeSequenceSvg(it.trace);
    if (ts) out.push(`<div class="figure">${ts}</div>`);
  }
  out.push("</section>");
  return out.join("\n");
}

/** A scenario's run on `target` as a report item. */
export function reportItem(sc: Scenario, r: RunResult, target: string): ReportItem {
  const topo = sc.options.topology;
  return {
    name: sc.name,
    where: formatLocation(sc.at),
    target,
    verdict: r.skipped ? "skip" : r.ok ? "pass" : "fail",
    message: r.skipped ?? r.failure?.message,
    warnings: r.warnings,
    trace: r.trace,
    ends: topo ? { stack: target, links: topo.links } : { stack: target },
  };
}
