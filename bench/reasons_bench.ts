// What the kernel's reasons cost (root only). Run: npx deno task bench
// - a kernel target set up and torn down, with its tracing instance and without;
// - a whole small scenario (SYN to a closed port, RST back), traced and not;
// - the same scenario while another target holds the process's tracer (as `synack run` of many
//   files does once its first kernel scenario has started one): the per-scenario part alone;
// - 10,000 injected duplicate ACKs and the wait for every event they drew, traced and not.
import { defineScenario, expect, inject, rstAck, syn } from "../mod.ts";
import { runScenario } from "../runtime/engine/runner.ts";
import { established as handshake } from "../tests/fixtures.ts";
import { kernelUnavailable } from "../runtime/kernel/kernel_support.ts";
import { kernelTarget } from "../runtime/kernel/kernel_target.ts";
import type { Target } from "../runtime/engine/target.ts";

const why = kernelUnavailable();
const ignore = why !== undefined;
const skipped = why ? ` (skipped: ${why})` : "";

for (const reasons of [true, false]) {
  Deno.bench({
    name: `kernel target set up and torn down, reasons ${reasons ? "on" : "off"}${skipped}`,
    group: "target",
    baseline: !reasons,
    ignore,
    async fn() {
      await (await kernelTarget({ reasons })).close();
    },
  });
}

const closedPort = defineScenario("closed port", [
  inject(syn().ports(40000, 9)),
  expect(rstAck().seq(0).ack(1).reason("NO_SOCKET")),
], { register: false });

for (const reasons of [true, false]) {
  Deno.bench({
    name: `kernel scenario, setup included, reasons ${reasons ? "on" : "off"}${skipped}`,
    group: "scenario",
    baseline: !reasons,
    ignore,
    async fn() {
      const target = await kernelTarget({ reasons });
      try {
        const r = await runScenario(closedPort, { target });
        // Without reasons the check warns instead; with them it must hold.
        if (!r.ok || r.reasons !== reasons) throw r.failure ?? new Error("reasons not as set");
      } finally {
        await target.close();
      }
    },
  });
}

// Another target holding the tracer: what each further scenario of a run pays. Made at the
// first iteration, so that the benches above measured starting and stopping the tracer.
let holder: Target | undefined;
Deno.bench({
  name: `kernel scenario, setup included, reasons on, tracer already running${skipped}`,
  group: "scenario",
  ignore,
  async fn() {
    holder ??= await kernelTarget();
    const target = await kernelTarget();
    try {
      const r = await runScenario(closedPort, { target });
      if (!r.ok) throw r.failure;
    } finally {
      await target.close();
    }
  },
});

const N = 10_000;

async function established(reasons: boolean): Promise<{ t: Target; ack: Uint8Array }> {
  const t = await kernelTarget({ reasons });
  const sc = defineScenario("established", handshake, { register: false });
  const r = await runScenario(sc, { target: t });
  if (!r.ok) throw r.failure;
  const last = r.trace.events.findLast((e) => e.kind === "packet" && e.dir === "in");
  if (last?.kind !== "packet") throw new Error("no ACK in the trace");
  return { t, ack: last.bytes };
}

const live = new Map<boolean, { t: Target; ack: Uint8Array }>();
for (const reasons of [true, false]) {
  Deno.bench({
    name: `${N} duplicate ACKs injected and every event read, reasons ${
      reasons ? "on" : "off"
    }${skipped}`,
    group: "inject",
    baseline: !reasons,
    ignore,
    async fn() {
      if (!live.has(reasons)) live.set(reasons, await established(reasons));
      const { t, ack } = live.get(reasons)!;
      for (let i = 0; i < N; i++) t.backend.send(ack);
      await t.reasons?.settle();
    },
  });
}

globalThis.addEventListener("unload", () => {
  void holder?.close();
  for (const l of live.values()) void l.t.close();
});
