import { loadScenarios } from "../runtime/host/load_scenarios.ts";
import { runScenarioOn } from "../runtime/scenario.ts";
import { describeEvent } from "../runtime/engine/failure.ts";
import { Flows } from "../runtime/engine/flow.ts";
const [file, target = "kernel"] = Deno.args;
for (const sc of await loadScenarios([file])) {
  const t0 = performance.now();
  const r = await runScenarioOn(sc, target);
  console.log(sc.name, r.ok, r.skipped ?? "", r.failure?.message ?? "", (performance.now()-t0).toFixed(0), "ms", r.warnings);
  for (const e of r.trace.events) if (e.kind === "packet") console.log("  ", e.dir, e.reason ? JSON.stringify(e.reason) : "");
}
