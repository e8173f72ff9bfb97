/**
 * The scenario host (runtime/host): scenario files' code runs in a child
 * process, and what a scenario can do there still works through it —
 * predicates in expected packets, a code-form body that reads the trace,
 * output marked as the scenario's — while its process dies with synack,
 * SIGKILL included.
 */
import assert from "node:assert/strict";
import { runCommand } from "../cli/run_command.ts";
import { markedProcesses } from "./kernel/host_state.ts";

const CLI = new URL("../cli/main.ts", import.meta.url).pathname;

async function withFile(text: string, fn: (path: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/scenario.ts`, text);
    await fn(`${dir}/scenario.ts`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function run(path: string): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  const code = await runCommand([path], { print: (l) => lines.push(l) });
  return { code, lines };
}

Deno.test("host: predicates written in a scenario file are asked in its own process", async () => {
  await withFile(
    `import { ack, expect, inject, listen, scenario, syn, synAck, where } from "synack";
const evenWindow = where((w) => w % 2 === 0, "an even window");
const oddWindow = where((w) => w % 2 === 1, "an odd window");
scenario("even", [listen(8080), inject(syn()), expect(synAck().win(evenWindow))]);
scenario("odd", [listen(8080), inject(syn()), expect(synAck().win(oddWindow))]);
scenario("throws", [listen(8080), inject(syn()), expect(synAck().win(where(() => { throw new Error("no"); }, "broken")))]);
`,
    async (path) => {
      const r = await run(path);
      assert.equal(r.code, 1, r.lines.join("\n"));
      assert.match(r.lines.join("\n"), /^ok {3}even /m);
      assert.match(
        r.lines.join("\n"),
        /FAIL odd [^\n]*\n[^\n]*expect\(synAck\) did not match[^]*tcp\.win: want an odd window, got 65160/,
      );
      assert.match(
        r.lines.join("\n"),
        /FAIL throws [^\n]*\n[^\n]*scenario\.ts:6:\d+: the scenario threw Error: no/,
      );
    },
  );
});

Deno.test("host: a code-form body reads its run's clock, events and their text", async () => {
  await withFile(
    `import { expect, inject, listen, scenario, syn, synAck, wait } from "synack";
scenario("reads the trace", async (s) => {
  await s.run(listen(8080), inject(syn()));
  const got = await s.run(expect(synAck()));
  if (got.kind !== "packet") throw new Error("want a packet");
  await s.run(wait("250ms"));
  console.log("now", s.now, "steps", s.stepsDone);
  const last = s.events.filter((e) => e.kind === "packet").at(-1)!;
  console.log(s.describe(last));
  Deno.stdout.writeSync(new TextEncoder().encode("written straight to stdout\\n"));
});
`,
    async (path) => {
      const r = await run(path);
      const text = r.lines.join("\n");
      assert.equal(r.code, 0, text);
      assert.match(text, /^ {5}output\| now 250 steps 6$/m);
      assert.match(
        text,
        /^ {5}output\| 0\.000000 < 192\.168\.0\.1:8080 > 192\.0\.2\.1:40000 S\. 0:0\(0\) ack 1 /m,
      );
      assert.match(text, /^ {5}output\| written straight to stdout$/m);
    },
  );
});

Deno.test("host: an exit between scenarios fails only the one that exits", async () => {
  await withFile(
    `import { listen, scenario } from "synack";
scenario("first", [listen(8080)]);
scenario("exits", async () => { Deno.exit(3); });
scenario("after", async (s) => { await s.run(listen(8080)); });
`,
    async (path) => {
      const r = await run(path);
      const text = r.lines.join("\n");
      assert.equal(r.code, 1, text);
      assert.match(text, /^ok {3}first /m);
      assert.match(
        text,
        /FAIL exits [^\n]*\n\s+the scenario exited with 3 before finishing \(before its first step\)/,
      );
      assert.match(text, /^ok {3}after /m);
      assert.equal(r.lines.at(-1), "2 passed, 1 failed");
    },
  );
});

Deno.test("host: a spinning scenario's process dies with synack, by SIGKILL too", async () => {
  const marker = `SYNACK_HOST_TEST=${Deno.pid}-${Date.now()}`;
  await withFile(
    `import { listen, scenario } from "synack";
scenario("spins", async (s) => { await s.run(listen(8080)); while (true) { /* spin */ } });
`,
    async (path) => {
      const runs = Array.from({ length: 3 }, async () => {
        const child = new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", CLI, "run", path],
          env: { [marker.split("=")[0]]: marker.split("=")[1] },
          stdout: "null",
          stderr: "null",
        }).spawn();
        // Long enough for the scenario host to start and begin spinning.
        await new Promise((r) => setTimeout(r, 1500));
        assert.ok(markedProcesses(marker).length >= 2, "want synack and its scenario host running");
        child.kill("SIGKILL");
        await child.status;
      });
      await Promise.all(runs);
      let left = markedProcesses(marker);
      for (let i = 0; i < 100 && left.length; i++) {
        await new Promise((r) => setTimeout(r, 20));
        left = markedProcesses(marker);
      }
      assert.deepEqual(left, [], "a scenario host outlived synack");
    },
  );
});
