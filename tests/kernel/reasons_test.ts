/**
 * The kernel's reasons: the checks of `../reason_cases.ts` on Linux, the
 * tracepoints' words on the trace lines, three runs and a stranger tracing
 * at the same time (each run attributes only its own events), and a tracing
 * helper killed outright, whose instance the next run removes. Needs root;
 * skips visibly without.
 */
import assert from "node:assert/strict";
import { kernelUnavailable } from "../../runtime/kernel/kernel_support.ts";
import { runScenarioOn } from "../../runtime/scenario.ts";
import { Trace } from "../../runtime/engine/trace.ts";
import { formatReason } from "../../runtime/wire/stack_reasons.ts";
import { reasonScenarios } from "../reason_cases.ts";
import { inPrivateTracefs } from "../../runtime/kernel/tracefs.ts";
import { markedProcesses, tracingState } from "./host_state.ts";

const why = kernelUnavailable();
const skip = why ? ` (skipped: ${why})` : "";
const CLI = new URL("../../cli/main.ts", import.meta.url).pathname;
const LINGER = new URL("../../examples/rst_linger_zero.ts", import.meta.url).pathname;

for (const { c, sc } of reasonScenarios()) {
  Deno.test({
    name: `reasons (kernel): ${c.name}${skip}`,
    ignore: why !== undefined,
    async fn() {
      const r = await runScenarioOn(sc, "kernel");
      assert.equal(r.reasons, true, "tracefs is usable here");
      if (!c.fails) return assert.ok(r.ok, r.failure?.message);
      assert.ok(!r.ok, "want a failure");
      assert.match(r.failure!.message, new RegExp(c.fails.replaceAll("{stack}", "kernel")));
    },
  });
}

/** Each packet's reason in a saved trace, in order: `< kernel: TCP_STATE in CLOSE`, `> -`. */
function reasons(trace: Trace): string[] {
  return trace.events.flatMap((e) =>
    e.kind === "packet" ? [`${e.dir} ${e.reason ? formatReason(e.reason) : "-"}`] : []
  );
}

/** The linger-zero story as the kernel tells it. */
const LINGER_REASONS = [
  "in -",
  "out -",
  "in -",
  "out kernel: TCP_STATE in CLOSE",
  "in kernel dropped: TCP_FLAGS",
  "out kernel: TCP_FLAGS in LISTEN",
];

Deno.test({
  name: `reasons (kernel): three runs and another tracer at once each see only their own${skip}`,
  ignore: why !== undefined,
  async fn() {
    const dir = await Deno.makeTempDir();
    // A stranger: an instance of its own with the same events on, and a filter of its own.
    const stranger = new Deno.Command("unshare", {
      args: inPrivateTracefs(
        "I=/sys/kernel/tracing/instances/stranger-$$; " +
          "mkdir $I; echo 1 > $I/events/tcp/tcp_send_reset/enable; " +
          "echo 1 > $I/events/skb/kfree_skb/enable; cat $I/trace_pipe > /dev/null & " +
          "read x; kill $!; wait; rmdir $I",
      ),
      stdin: "piped",
    }).spawn();
    try {
      const runs = await Promise.all([0, 1, 2].map(async (i) => {
        const out = await new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "-A",
            CLI,
            "run",
            "--target",
            "kernel",
            LINGER,
            "--trace",
            `${dir}/${i}.json`,
          ],
        }).output();
        assert.ok(out.success, new TextDecoder().decode(out.stdout));
        return Trace.fromJSON(await Deno.readTextFile(`${dir}/${i}.json`));
      }));
      for (const t of runs) assert.deepEqual(reasons(t), LINGER_REASONS);
    } finally {
      await stranger.stdin.close();
      await stranger.status;
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    `reasons (kernel): a tracing helper killed outright leaves an instance the next run removes${skip}`,
  ignore: why !== undefined,
  async fn() {
    const before = tracingState();
    const marker = `SYNACK_TRACING_TEST=${Deno.pid}`;
    // A process that holds the tracer and waits, as a long run on the kernel would.
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        `import { acquireTracer } from "${
          new URL("../../runtime/kernel/tracefs.ts", import.meta.url).href
        }";` +
        `const t = await acquireTracer(); if (typeof t === "string") Deno.exit(3); console.log("ready"); await new Promise(() => {});`,
      ],
      env: { SYNACK_TRACING_TEST: `${Deno.pid}` },
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const reader = child.stdout.getReader();
    const { value } = await reader.read();
    assert.match(new TextDecoder().decode(value), /ready/);
    reader.releaseLock();
    // Kill the run and its helper together, as `kill -9 -- -<group>` would: no one cleans up.
    const procs = markedProcesses(marker);
    assert.ok(procs.some((p) => p.cmd.includes("synack-trace")), "the helper is running");
    for (const p of procs) Deno.kill(p.pid, "SIGKILL");
    await child.status;
    for (let i = 0; i < 100 && markedProcesses(marker).length; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await child.stdout.cancel().catch(() => {});
    const left = tracingState().instances.filter((n) => !before.instances.includes(n));
    assert.equal(left.length, 1, `the killed helper's instance: ${left}`);
    // The next run's helper removes instances whose helper is gone.
    const r = await runScenarioOn(reasonScenarios()[0].sc, "kernel");
    assert.ok(r.ok, r.failure?.message);
    assert.deepEqual(tracingState(), before);
  },
});
