// What running scenario code in a scenario host costs (runtime/host), per run and per scenario:
// in process (how synack ran files before the host), in a trusted host, in a sandboxed host
// (--sandbox), and from a URL (a sandboxed host fed by the pinned local proxy).
// Run: npx deno task bench bench/sandbox_bench.ts
import { ScenarioSuite } from "../cli/scenario_suite.ts";
import { defineScenario } from "../dsl/scenario_def.ts";
import { ack, expect, inject, listen, syn, synAck } from "../mod.ts";
import { runScenarioOn } from "../runtime/scenario.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const FILE = `${ROOT}examples/rst_closed_port.ts`;
const N = 100;

// A file of N code-form scenarios: each step of each crosses the host's channel.
const dir = Deno.makeTempDirSync({ prefix: "synack-bench-" });
const MANY = `${dir}/many.ts`;
Deno.writeTextFileSync(
  MANY,
  `import { ack, expect, inject, listen, scenario, syn, synAck } from "synack";
for (let i = 0; i < ${N}; i++) {
  scenario(\`handshake \${i}\`, async (s) => {
    await s.run(listen(8080), inject(syn()));
    await s.run(expect(synAck()));
    await s.run(inject(ack()));
  });
}
`,
);
const inProcess = Array.from(
  { length: N },
  (_, i) =>
    defineScenario(`handshake ${i}`, async (s) => {
      await s.run(listen(8080), inject(syn()));
      await s.run(expect(synAck()));
      await s.run(inject(ack()));
    }, { register: false }),
);

const server = Deno.serve(
  { hostname: "127.0.0.1", port: 0, onListen() {} },
  () => new Response(Deno.readFileSync(FILE), { headers: { "content-type": "text/plain" } }),
);
const URL_FILE = `http://127.0.0.1:${server.addr.port}/rst_closed_port.ts`;
const quiet = { notice: () => {} };

async function runAll(paths: string[], o: { sandbox?: boolean }): Promise<void> {
  const suite = await ScenarioSuite.open(paths, { ...o, ...quiet });
  for (const { scenario, host } of suite.scenarios) {
    const r = await runScenarioOn(scenario);
    host.settle();
    if (!r.ok) throw new Error(r.failure?.message);
  }
  await suite.close();
}

// Per run: start a host, load a 3-scenario file, run it, end the host.
const examples = (await import("../runtime/host/load_scenarios.ts")).loadScenarios;
const local = await examples([FILE]);
Deno.bench({
  name: "run: 3 scenarios in process (no host)",
  group: "run",
  baseline: true,
  async fn() {
    for (const sc of local) await runScenarioOn(sc);
  },
});
// (Deno's bench awaits only `async` functions: an arrow that returns a promise is timed as sync.)
Deno.bench({
  name: "run: trusted host",
  group: "run",
  async fn() {
    await runAll([FILE], {});
  },
});
Deno.bench({
  name: "run: sandboxed host",
  group: "run",
  async fn() {
    await runAll([FILE], { sandbox: true });
  },
});
Deno.bench({
  name: "run: from a URL (sandboxed)",
  group: "run",
  async fn() {
    await runAll([URL_FILE], {});
  },
});

// Per scenario: N code-form handshakes, the host already running.
Deno.bench({
  name: `scenario: ${N} code-form handshakes in process`,
  group: "scenario",
  baseline: true,
  async fn() {
    for (const sc of inProcess) await runScenarioOn(sc);
  },
});
for (const sandbox of [false, true]) {
  const suite = await ScenarioSuite.open([MANY], { sandbox, ...quiet });
  Deno.bench({
    name: `scenario: ${N} code-form handshakes in a ${sandbox ? "sandboxed" : "trusted"} host`,
    group: "scenario",
    async fn() {
      for (const { scenario, host } of suite.scenarios) {
        await runScenarioOn(scenario);
        host.settle();
      }
    },
  });
}

globalThis.addEventListener("unload", () => {
  Deno.removeSync(dir, { recursive: true });
});
