// Start-up: `./synack version` and `./synack run examples/`, against Deno's own start
// (an empty program) and against the old way through npx (`npx deno task demo`).
// Run: npx deno task bench bench/launcher_bench.ts
const ROOT = new URL("../", import.meta.url).pathname;
const EMPTY = await Deno.makeTempFile({ suffix: ".ts" });

async function quietly(cmd: string, args: string[]): Promise<void> {
  const s = await new Deno.Command(cmd, { args, cwd: ROOT, stdout: "null", stderr: "null" })
    .output();
  if (!s.success) throw new Error(`${cmd} ${args.join(" ")} failed`);
}

Deno.bench({
  name: "deno run of an empty file",
  group: "start",
  baseline: true,
  async fn() {
    await quietly(Deno.execPath(), ["run", EMPTY]);
  },
});
Deno.bench({
  name: "./synack version",
  group: "start",
  async fn() {
    await quietly(`${ROOT}synack`, ["version"]);
  },
});
Deno.bench({
  name: "./synack run examples/ (12 scenarios)",
  group: "demo",
  baseline: true,
  n: 10,
  async fn() {
    await quietly(`${ROOT}synack`, ["run", "examples/"]);
  },
});
Deno.bench({
  name: "npx deno task demo (the same, through npx)",
  group: "demo",
  n: 5,
  async fn() {
    await quietly("npx", ["deno", "task", "demo"]);
  },
});
