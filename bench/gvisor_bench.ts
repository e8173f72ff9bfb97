// Figures for the gvisor target (gVisor's netstack in its helper). Run: npx deno task bench
// - the helper's build from the Debian packages: cold (empty cache, Go's build cache too) and cached;
// - the fixed cost of a gvisor scenario (helper started and stopped) against the kernel target's;
// - segments per second into the netstack: 10,000 duplicate ACKs, counted by it (TCP_INFO segs_in).
import { defineScenario, expect, inject, rstAck, syn } from "../mod.ts";
import { runScenario } from "../runtime/engine/runner.ts";
import type { Target } from "../runtime/engine/target.ts";
import { buildUnavailable, helperBinary } from "../runtime/gvisor/helper_build.ts";
import { gvisorTarget } from "../runtime/gvisor/gvisor_target.ts";
import { kernelUnavailable } from "../runtime/kernel/kernel_support.ts";
import { runScenarioOn } from "../runtime/scenario.ts";
import type { TcpInfo } from "../runtime/wire/socket_call.ts";
import { established as handshake } from "../tests/fixtures.ts";

const why = await buildUnavailable();
const ignore = why !== undefined;
const skipped = why ? ` (skipped: ${why})` : "";
const noKernel = kernelUnavailable();

Deno.bench({
  name: `gvisor helper: cold build from the Debian packages (empty cache)${skipped}`,
  group: "build",
  ignore,
  n: 2,
  warmup: 0,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "synack-gvisor-build-" });
    try {
      const b = await helperBinary({ root });
      if (b.cached) throw new Error("a fresh cache held the helper");
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.bench({
  name:
    `gvisor helper: cached (found again in a fresh process: go version, dpkg, a stat)${skipped}`,
  group: "build",
  ignore,
  async fn() {
    if (!(await helperBinary({ fresh: true })).cached) throw new Error("not cached");
  },
});

const closedPort = defineScenario("closed port", [
  inject(syn().ports(40000, 9)),
  expect(rstAck().seq(0).ack(1)),
], { register: false });

Deno.bench({
  name: `gvisor scenario: SYN to a closed port, RST back, helper started and stopped${skipped}`,
  group: "fixed cost",
  baseline: true,
  ignore,
  async fn() {
    const r = await runScenarioOn(closedPort, "gvisor");
    if (!r.ok) throw r.failure;
  },
});

Deno.bench({
  name: `kernel scenario: the same, namespace and TUN set up and torn down${
    noKernel ? ` (skipped: ${noKernel})` : ""
  }`,
  group: "fixed cost",
  ignore: noKernel !== undefined,
  async fn() {
    const r = await runScenarioOn(closedPort, "kernel");
    if (!r.ok) throw r.failure;
  },
});

const N = 10_000;

async function segsIn(t: Target): Promise<number> {
  const h = t.sockets.call({ name: "getsockopt", fd: 4, opt: "TCP_INFO" });
  await h.decided;
  await t.clock.waitFor(() => h.result !== undefined, t.clock.now() + 10_000);
  if (!h.result?.ok) throw new Error("getsockopt(TCP_INFO) failed");
  return (h.result.value as TcpInfo).segsIn;
}

/** An established connection on a gvisor target, and the bytes of the script's last ACK. */
async function openEstablished() {
  const t = await gvisorTarget();
  const r = await runScenario(defineScenario("established", handshake, { register: false }), {
    target: t,
  });
  if (!r.ok) throw r.failure;
  const ins = r.trace.events.filter((e) => e.kind === "packet" && e.dir === "in");
  const last = ins[ins.length - 1];
  if (last.kind !== "packet") throw new Error("no ACK in the trace");
  return { t, ackBytes: last.bytes };
}

const live = ignore ? undefined : await openEstablished();

Deno.bench({
  name:
    `gvisor injection: ${N} duplicate ACKs into an established connection, counted by the netstack${skipped}`,
  ignore,
  async fn() {
    const { t, ackBytes } = live!;
    const before = await segsIn(t);
    for (let i = 0; i < N; i++) t.backend.send(ackBytes);
    // Counted once the netstack has taken them all (segs_in), polled every millisecond.
    for (;;) {
      const now = await segsIn(t);
      if (now - before >= N) break;
      await new Promise((r) => setTimeout(r, 1));
    }
  },
});

globalThis.addEventListener("unload", () => void live?.t.close());
