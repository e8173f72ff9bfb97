// Figures for the kernel target (root only). Run: npx deno task bench
// - fixed cost per kernel scenario: a private namespace, TUN, addresses, torn down;
// - a whole small scenario on the kernel, setup included (packetdrill: ~0.15 s per script);
// - injection into the kernel through TUN from one core: 10,000 segments per iteration.
import { defineScenario, expect, inject, rstAck, syn } from "../mod.ts";
import { runScenario } from "../runtime/engine/runner.ts";
import { established as handshake } from "../tests/fixtures.ts";
import { kernelUnavailable } from "../runtime/kernel/kernel_support.ts";
import { kernelTarget } from "../runtime/kernel/kernel_target.ts";
import type { TcpInfo } from "../runtime/wire/socket_call.ts";
import { runScenarioOn } from "../runtime/scenario.ts";

const why = kernelUnavailable();
const ignore = why !== undefined;
const skipped = why ? ` (skipped: ${why})` : "";

Deno.bench({
  name: `kernel target: namespace + TUN + addresses, set up and torn down${skipped}`,
  ignore,
  async fn() {
    const t = await kernelTarget();
    await t.close();
  },
});

const closedPort = defineScenario("closed port", [
  inject(syn().ports(40000, 9)),
  expect(rstAck().seq(0).ack(1)),
], { register: false });

Deno.bench({
  name: `kernel scenario: SYN to a closed port, RST back, setup and teardown included${skipped}`,
  ignore,
  async fn() {
    const r = await runScenarioOn(closedPort, "kernel");
    if (!r.ok) throw r.failure;
  },
});

const N = 10_000;

/** An established connection on a kernel target, and the bytes of the script's last ACK. */
async function openEstablished() {
  const t = await kernelTarget();
  const sc = defineScenario("established", handshake, { register: false });
  const r = await runScenario(sc, { target: t });
  if (!r.ok) throw r.failure;
  const ins = r.trace.events.filter((e) => e.kind === "packet" && e.dir === "in");
  const last = ins[ins.length - 1];
  if (last.kind !== "packet") throw new Error("no ACK in the trace");
  return { t, ackBytes: last.bytes };
}

const segsIn = (t: Awaited<ReturnType<typeof kernelTarget>>) => {
  const info = t.sockets.call({ name: "getsockopt", fd: 4, opt: "TCP_INFO" }).result;
  if (!info?.ok) throw new Error("getsockopt(TCP_INFO) failed");
  return (info.value as TcpInfo).segsIn;
};

const live = ignore ? undefined : await openEstablished();
if (live) {
  // Once, before measuring: every injected duplicate ACK reaches the connection.
  const before = segsIn(live.t);
  for (let i = 0; i < 1000; i++) live.t.backend.send(live.ackBytes);
  const counted = segsIn(live.t) - before;
  if (counted !== 1000) throw new Error(`the kernel counted ${counted} of 1000 injected segments`);
}

Deno.bench({
  name: `TUN injection: ${N} duplicate ACKs into an established kernel connection${skipped}`,
  ignore,
  fn() {
    const { t, ackBytes } = live!;
    for (let i = 0; i < N; i++) t.backend.send(ackBytes);
  },
});

Deno.bench({
  name: `TUN injection, counted by the kernel (getsockopt TCP_INFO segs_in)${skipped}`,
  ignore,
  fn() {
    const { t, ackBytes } = live!;
    const before = segsIn(t);
    for (let i = 0; i < N; i++) t.backend.send(ackBytes);
    if (segsIn(t) - before !== N) throw new Error("the kernel missed injected segments");
  },
});
