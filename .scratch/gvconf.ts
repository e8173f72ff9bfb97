import type { Scenario } from "../dsl/scenario_def.ts";
import { definedScenarios, runScenarioOn, withoutRegistration } from "../runtime/scenario.ts";
const dir = new URL("../tests/", import.meta.url);
const files = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => /^stack_.*_test\.ts$/.test(n)).sort();
const out: Scenario[] = [];
for (const f of files) {
  const before = definedScenarios.length;
  await withoutRegistration(() => import(new URL(`${f}?gv`, dir).href));
  out.push(...definedScenarios.slice(before));
}
let pass = 0, fail = 0, skip = 0;
for (const sc of out) {
  const p = sc.options.profile;
  if (p !== undefined && p !== "gvisor" && p !== "rfc7323-strict") { skip++; continue; }
  const b = await runScenarioOn(sc, "builtin");
  if (!b.ok || b.elapsedMs > 3000) { skip++; continue; }
  const r = await runScenarioOn(sc, "gvisor");
  if (r.ok) { pass++; console.log(`pass  ${sc.name}`); }
  else { fail++; console.log(`FAIL  ${sc.name}\n      ${r.failure?.message.split("\n").slice(0, 3).join("\n      ")}`); }
}
console.log(`${pass} pass, ${fail} fail, ${skip} skipped`);
