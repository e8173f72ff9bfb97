// Run time grows linearly with the packets a scenario injects (it was quadratic:
// 40 k packets took 37 s). A code-form scenario injects duplicate ACKs into an
// established connection on the built-in stack. Target: 1 M in under 10 s.
// Run: npx deno task bench bench/scale_bench.ts
import { accept, ack, defineScenario, expect, inject, listen, syn, synAck } from "../mod.ts";
import { runScenarioOn } from "../runtime/scenario.ts";

function acks(n: number, reuse: boolean) {
  return defineScenario(`${n} duplicate ACKs`, async (s) => {
    await s.run(listen(8080), inject(syn()), expect(synAck()), inject(ack()), accept());
    // A step is data: one object can run any number of times.
    const dupAck = inject(ack());
    for (let i = 0; i < n; i++) await s.run(reuse ? dupAck : inject(ack()));
  }, { register: false, strict: "ignore" });
}

async function run(n: number, reuse: boolean): Promise<void> {
  const r = await runScenarioOn(acks(n, reuse));
  if (!r.ok) throw new Error(r.failure?.message);
}

for (const n of [10_000, 100_000, 1_000_000]) {
  Deno.bench({
    name: `${n} injected ACKs, one step object reused`,
    group: "scale",
    n: n >= 1_000_000 ? 1 : 3,
    warmup: n >= 1_000_000 ? 0 : 1,
    async fn() {
      await run(n, true);
    },
  });
}
// inject() per packet also records the scenario line of each (a stack walk, ~15 µs).
Deno.bench({
  name: "100000 injected ACKs, a new inject() each",
  group: "scale",
  n: 3,
  warmup: 1,
  async fn() {
    await run(100_000, false);
  },
});
