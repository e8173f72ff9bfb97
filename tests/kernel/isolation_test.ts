/**
 * Isolation: 50 runs of a scenario on the kernel and raw targets, and 50 of a
 * three-namespace topology, one in
 * three killed part-way through (SIGKILL, SIGTERM or SIGINT), leave no namespace, interface,
 * route, sysctl change or process behind, and no tracefs mount, tracing instance or enabled
 * event (each run reads the kernel's reasons through its own instance). Needs root; skips visibly without.
 */
import assert from "node:assert/strict";
import { kernelUnavailable } from "../../runtime/kernel/kernel_support.ts";
import { mulberry32 } from "../../runtime/engine/mulberry32.ts";
import { hostNetwork, markedProcesses, nsMounts, tracingState } from "./host_state.ts";

const why = kernelUnavailable();
const SCENARIO = new URL("./slow_scenario.ts", import.meta.url).pathname;
const TOPOLOGY = new URL("./slow_topology.ts", import.meta.url).pathname;
const CLI = new URL("../../cli/main.ts", import.meta.url).pathname;
/** Every process a run starts inherits this, so leftovers can be found by it. */
const MARKER = `SYNACK_ISOLATION_RUN=${Deno.pid}-${Date.now()}`;

async function oneRun(
  target: string,
  killAfterMs: number | undefined,
  signal: Deno.Signal = "SIGKILL",
  file = SCENARIO,
): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, "run", "--target", target, file],
    env: { [MARKER.split("=")[0]]: MARKER.split("=")[1] },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timer: ReturnType<typeof setTimeout> | undefined;
  if (killAfterMs !== undefined) timer = setTimeout(() => child.kill(signal), killAfterMs);
  const out = await child.output();
  clearTimeout(timer);
  if (killAfterMs === undefined && !out.success) {
    throw new Error(
      `run on ${target} failed:\n${new TextDecoder().decode(out.stdout)}\n${
        new TextDecoder().decode(out.stderr)
      }`,
    );
  }
  return out.signal ?? "exit";
}

/** Runs `plan` five at a time; checks that nothing is left and that enough runs were killed. */
async function runAll(
  plan: { target: string; kill?: number; signal: Deno.Signal; file?: string }[],
): Promise<void> {
  const mountsBefore = nsMounts();
  const hostBefore = hostNetwork();
  const tracingBefore = tracingState();
  const endings: string[] = [];
  for (let i = 0; i < plan.length; i += 5) {
    endings.push(
      ...await Promise.all(
        plan.slice(i, i + 5).map((p) => oneRun(p.target, p.kill, p.signal, p.file)),
      ),
    );
  }
  assert.ok(endings.filter((e) => e === "SIGKILL").length >= 5, `endings: ${endings.join(",")}`);
  assert.ok(endings.filter((e) => e !== "exit").length >= 12, `endings: ${endings.join(",")}`);
  // Children of a killed run notice the closed pipe and exit; give them a moment.
  let left = markedProcesses(MARKER);
  for (let i = 0; i < 100 && left.length; i++) {
    await new Promise((r) => setTimeout(r, 20));
    left = markedProcesses(MARKER);
  }
  assert.deepEqual(left, [], "processes (and the namespaces they hold) left over");
  assert.deepEqual(nsMounts(), mountsBefore, "namespaces pinned by a mount");
  assert.equal(hostNetwork(), hostBefore, "the host's links, addresses, routes or sysctl changed");
  // Each run traced the kernel's reasons in an instance of its own, on a private tracefs mount.
  assert.deepEqual(tracingState(), tracingBefore, "a tracefs mount, instance or event left behind");
}

Deno.test({
  name: `isolation: 50 runs of a three-namespace topology, some killed, leave nothing behind${
    why ? ` (skipped: ${why})` : ""
  }`,
  ignore: why !== undefined,
  async fn() {
    const random = mulberry32(0x7090);
    await runAll(Array.from({ length: 50 }, (_, i) => ({
      target: "kernel",
      file: TOPOLOGY,
      kill: i % 3 === 0 ? 150 + Math.floor(random() * 1400) : undefined,
      signal: (["SIGKILL", "SIGKILL", "SIGTERM", "SIGINT"] as const)[i % 4],
    })));
  },
});

Deno.test({
  name:
    `isolation: 50 kernel and raw runs, some killed (SIGKILL, SIGTERM, SIGINT), leave nothing behind${
      why ? ` (skipped: ${why})` : ""
    }`,
  ignore: why !== undefined,
  async fn() {
    const random = mulberry32(0x5eed);
    const plan = Array.from({ length: 50 }, (_, i) => ({
      target: i % 5 === 4 ? "raw:echo=7" : "kernel",
      // Kill one run in three somewhere between start-up and the end of the idle wait,
      // mostly with SIGKILL (no chance to clean up), some with SIGTERM and SIGINT.
      kill: i % 3 === 0 ? 150 + Math.floor(random() * 1400) : undefined,
      signal: (["SIGKILL", "SIGKILL", "SIGTERM", "SIGINT"] as const)[i % 4],
    }));
    await runAll(plan);
  },
});
