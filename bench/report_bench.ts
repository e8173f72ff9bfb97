// `--report`: one HTML file for 100 scenario runs (the built-in stack's conformance scenarios,
// then the examples, until there are 100), from the runs' traces to the page's text.
// Run: npx deno task bench bench/report_bench.ts
import { runScenarioOn } from "../runtime/scenario.ts";
import { reportHtml, type ReportItem, reportItem } from "../runtime/report/report_html.ts";
import { loadStackScenarios } from "../tests/fixtures.ts";
import { loadScenarios } from "../runtime/host/load_scenarios.ts";

const scenarios = [
  ...await loadStackScenarios("report-bench"),
  ...await loadScenarios(["examples/"]),
]
  .slice(0, 100);
const items: ReportItem[] = [];
for (const sc of scenarios) {
  items.push(reportItem(sc, await runScenarioOn(sc, "builtin"), "builtin"));
}
if (items.length !== 100) throw new Error(`${items.length} runs, want 100`);

let bytes = 0;
Deno.bench({
  name: "report: one HTML page for 100 scenario runs",
  n: 20,
  fn() {
    bytes = reportHtml("synack run", items).length;
  },
});
globalThis.addEventListener("unload", () => console.log(`page: ${(bytes / 1e6).toFixed(2)} MB`));
