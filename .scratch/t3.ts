import { loadScenarios } from "../runtime/host/load_scenarios.ts";
import { runScenarioOn } from "../runtime/scenario.ts";
import { describeEvent } from "../runtime/engine/failure.ts";
import { Flows } from "../runtime/engine/flow.ts";
const [file, target = "kernel", filter = ""] = Deno.args;
for (const sc of await loadScenarios([file])) {
  if (!sc.name.includes(filter)) continue;
  const r = await runScenarioOn(sc, target);
  console.log(sc.name, r.ok, r.skipped ?? "", r.failure?.message ?? "", r.warnings);
  const flows = new Flows({local: new Uint8Array(4), remote: new Uint8Array(4)} as never, 40000, () => 0);
  for (const e of r.trace.events) console.log("  ", describeEvent(e, flows));
}
