/**
 * The kernel suite on a busy machine: runs `deno test tests/kernel/` (and the
 * examples on the kernel) `runs` times while two busy loops hold both cores of
 * a 2-core machine, and prints each run's verdict and every test that failed.
 * A verdict that depends on load shows here as a flake. Not a bench file (it
 * takes minutes): run it as root when changing kernel timing.
 *
 *   npx deno run -A bench/kernel_under_load.ts [runs, default 10] [busy loops, default 2]
 */
const ROOT = new URL("../", import.meta.url).pathname;
const runs = Number(Deno.args[0] ?? 10);
const loops = Number(Deno.args[1] ?? 2);

const busy = Array.from(
  { length: loops },
  () =>
    new Deno.Command("sh", { args: ["-c", "while :; do :; done"], stdout: "null", stderr: "null" })
      .spawn(),
);
const failures = new Map<string, number>();
let flaky = 0;
try {
  for (let i = 1; i <= runs; i++) {
    const start = performance.now();
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["test", "-A", "tests/kernel/", "tests/examples_test.ts"],
      cwd: ROOT,
      env: { NO_COLOR: "1", SYNACK_TARGET: "kernel" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    // Failed tests, and the conformance run's scenarios whose step names say FAIL (its steps
    // carry each scenario's verdict in their names), so that a flake names its scenario.
    const failed = [
      ...[...text.matchAll(/^(.+) \.\.\. FAILED/gm)].map((m) => m[1].trim()),
      ...[...text.matchAll(/^\s+(FAIL: .+?) \.\.\./gm)].map((m) => m[1].trim()),
    ];
    const summary = /^(ok|FAILED) \| .*$/m.exec(text)?.[0] ?? "no summary";
    console.log(`run ${i}: ${summary} (${((performance.now() - start) / 1000).toFixed(0)} s)`);
    for (const f of new Set(failed)) {
      console.log(`  FAILED ${f}`);
      failures.set(f, (failures.get(f) ?? 0) + 1);
    }
    if (!out.success) flaky++;
  }
} finally {
  for (const b of busy) b.kill("SIGKILL");
}
console.log(`${flaky} of ${runs} runs failed with ${loops} busy loops alongside`);
for (const [name, n] of failures) console.log(`  ${n}× ${name}`);
