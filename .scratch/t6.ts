import { loadStackScenarios } from "../tests/fixtures.ts";
import { runScenarioOn } from "../runtime/scenario.ts";
import { formatReason } from "../runtime/wire/stack_reasons.ts";
import { describeEvent } from "../runtime/engine/failure.ts";
import { Flows } from "../runtime/engine/flow.ts";
const scs = await loadStackScenarios("t6");
let same = 0, diff = 0;
const flows = new Flows({local: new Uint8Array(4), remote: new Uint8Array(4)} as never, 40000, () => 0);
const tally = new Map<string, number>();
for (const sc of scs) {
  const a = await runScenarioOn(sc, "builtin");
  const b = await runScenarioOn(sc, "kernel");
  if (a.skipped || b.skipped || !a.ok || !b.ok) continue;
  const pk = (r: typeof a) => r.trace.events.filter((e) => e.kind === "packet") as Extract<typeof a.trace.events[number], {kind:"packet"}>[];
  const pa = pk(a), pb = pk(b);
  const ra = pa.map((e) => `${e.dir} ${e.reason ? formatReason(e.reason).replace(/^\w+/, "") : "-"}`);
  const rb = pb.map((e) => `${e.dir} ${e.reason ? formatReason(e.reason).replace(/^\w+/, "") : "-"}`);
  if (JSON.stringify(ra) === JSON.stringify(rb)) { same++; continue; }
  diff++;
  console.log(`## ${sc.name}`);
  const n = Math.max(ra.length, rb.length);
  for (let i = 0; i < n; i++) if (ra[i] !== rb[i]) {
    console.log(`  #${i} builtin ${ra[i]} | kernel ${rb[i]}`);
    if (pb[i]) console.log(`      k: ${describeEvent(pb[i], flows).slice(0, 150)}`);
    const k = `builtin ${ra[i]} | kernel ${rb[i]}`; tally.set(k, (tally.get(k) ?? 0) + 1);
  }
}
console.log({ same, diff });
console.log([...tally].sort((x, y) => y[1] - x[1]));
