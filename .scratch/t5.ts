// Side by side: reasons per packet on builtin vs kernel, for given files.
import { loadScenarios } from "../runtime/host/load_scenarios.ts";
import { runScenarioOn } from "../runtime/scenario.ts";
import { formatReason } from "../runtime/wire/stack_reasons.ts";
const files = Deno.args;
let same = 0, diff = 0;
for (const sc of await loadScenarios(files)) {
  const a = await runScenarioOn(sc, "builtin");
  const b = await runScenarioOn(sc, "kernel");
  if (a.skipped || b.skipped || !a.ok || !b.ok) continue;
  const ra = a.trace.events.filter((e) => e.kind === "packet").map((e) => e.kind === "packet" ? `${e.dir} ${e.reason ? formatReason(e.reason).replace(/^\w+/, "") : "-"}` : "");
  const rb = b.trace.events.filter((e) => e.kind === "packet").map((e) => e.kind === "packet" ? `${e.dir} ${e.reason ? formatReason(e.reason).replace(/^\w+/, "") : "-"}` : "");
  if (JSON.stringify(ra) === JSON.stringify(rb)) { same++; continue; }
  diff++;
  console.log(`## ${sc.name}`);
  const n = Math.max(ra.length, rb.length);
  for (let i = 0; i < n; i++) if (ra[i] !== rb[i]) console.log(`  #${i} builtin ${ra[i]} | kernel ${rb[i]}`);
}
console.log({ same, diff });
