// Figures for topologies, the live peer and the path (root only). Run: npx deno task bench
// - the path step's own forwarding into the kernel: 100,000 segments, each compared with a
//   rule and written to the kernel's TUN (duplicate ACKs, which the kernel counts and drops
//   cheaply: the path's cost, not the kernel's TCP work);
// - segments forwarded through a path step between two kernel hosts: 50 MB, every segment
//   compared with a rule on the way (the transfer only, the namespaces already made);
// - 10 MB between the kernel and the built-in peer with 1 % seeded loss on the path;
// - the same 10 MB between two kernel hosts with the same loss;
// - the fixed cost of a three-host topology (two kernel namespaces and a built-in host).
import {
  accept,
  builtin,
  close,
  connect,
  defineScenario,
  kernel,
  listen,
  on,
  path,
  peer,
  read,
  rst,
  socket,
  topology,
  write,
} from "../mod.ts";
import { runScenario } from "../runtime/engine/runner.ts";
import { Path } from "../runtime/engine/path.ts";
import { kernelTarget } from "../runtime/kernel/kernel_target.ts";
import type { TcpInfo } from "../runtime/wire/socket_call.ts";
import { established as handshake } from "../tests/fixtures.ts";
import { kernelUnavailable } from "../runtime/kernel/kernel_support.ts";
import { runScenarioOn } from "../runtime/scenario.ts";
import { openTopology } from "../runtime/topology/topology_target.ts";

const why = kernelUnavailable();
const ignore = why !== undefined;
const skipped = why ? ` (skipped: ${why})` : "";

const N = 100_000;

/** An established connection on a kernel target; the bytes of the script's last ACK. */
async function established() {
  const t = await kernelTarget();
  const r = await runScenario(defineScenario("established", handshake, { register: false }), {
    target: t,
  });
  if (!r.ok) throw r.failure;
  const ins = r.trace.events.filter((e) => e.kind === "packet" && e.dir === "in");
  const last = ins[ins.length - 1];
  if (last.kind !== "packet") throw new Error("no ACK in the trace");
  // A path with a rule each segment is compared with (none matches), as a scenario's would be.
  const p = new Path(t.clock, () => {});
  p.apply(path.drop(rst(), { count: "all" }).step);
  const send = (b: Uint8Array) => t.backend.send(b);
  const segsIn = () => {
    const info = t.sockets.call({ name: "getsockopt", fd: 4, opt: "TCP_INFO" }).result;
    if (!info?.ok) throw new Error("getsockopt(TCP_INFO) failed");
    return (info.value as TcpInfo).segsIn;
  };
  return { t, ack: last.bytes, p, send, segsIn };
}

const live = ignore ? undefined : await established();

Deno.bench({
  name:
    `path step into the kernel: ${N} segments through a rule, each counted by the kernel${skipped}`,
  ignore,
  fn() {
    const { ack, p, send, segsIn } = live!;
    const before = segsIn();
    for (let i = 0; i < N; i++) void p.cross(ack, "peer", send);
    if (segsIn() - before !== N) throw new Error("the kernel missed forwarded segments");
  },
});

const pair = topology({ hosts: { a: kernel(), b: kernel() }, links: [["a", "b"]] });
const BIG = 50 << 20;
const big = new Uint8Array(BIG);

/** One 50 MB transfer a → b through a path rule; `b` times the transfer alone. Returns segments. */
async function forward(b?: Deno.BenchContext): Promise<number> {
  const target = await openTopology(pair);
  const sc = defineScenario("forward", async (s) => {
    // A rule every segment is compared with, and none matches: the path's whole decision, each time.
    await s.run(
      path.delay(rst(), "1ms", { count: "all" }),
      on("b", listen(8080)),
      on("a", socket(), connect(8080, "b").returns(0)),
      on("b", accept()),
    );
    b?.start();
    // Both calls block; b's close() waits for its read, as the program's thread would.
    await s.run(
      on("a", write(big).returns(BIG)),
      on("b", read(BIG, { all: true }).returns(BIG)),
      on("b", close()),
    );
    b?.end();
  }, { register: false, strict: "ignore", topology: pair });
  try {
    const r = await runScenario(sc, { target });
    if (!r.ok) throw r.failure;
    return r.trace.events.filter((e) => e.kind === "packet").length;
  } finally {
    await target.close();
  }
}

const segments = ignore ? 0 : await forward();

Deno.bench({
  name:
    `path step, kernel → kernel: 50 MB, ${segments} segments through a rule (transfer only)${skipped}`,
  ignore,
  async fn(b) {
    await forward(b);
  },
});

const TEN = 10 << 20;
const ten = new Uint8Array(TEN).map((_, i) => (i * 7 + (i >> 11)) & 0xff);
const impair = path.impair({ loss: 0.01, seed: 1 });

const withPeer = defineScenario("peer, 1 % loss", [
  listen(8080),
  peer.auto(),
  impair,
  peer.socket(),
  peer.connect(8080).returns(0),
  accept(),
  peer.write(ten).returns(TEN),
  read(TEN, { all: true }).returns(ten),
], { register: false });

Deno.bench({
  name: `10 MB built-in peer → kernel, 1 % seeded loss, whole run${skipped}`,
  ignore,
  async fn() {
    const r = await runScenarioOn(withPeer, "kernel");
    if (!r.ok) throw r.failure;
  },
});

const kernels = defineScenario("two kernels, 1 % loss", [
  impair,
  on("b", listen(8080)),
  on("a", socket(), connect(8080, "b").returns(0)),
  on("b", accept()),
  on("a", write(ten).returns(TEN)),
  on("b", read(TEN, { all: true }).returns(ten)),
], { register: false, topology: pair });

Deno.bench({
  name: `10 MB kernel → kernel, 1 % seeded loss on the path, whole run${skipped}`,
  ignore,
  async fn() {
    const r = await runScenarioOn(kernels, "kernel");
    if (!r.ok) throw r.failure;
  },
});

const three = topology({
  hosts: { client: kernel(), router: kernel({ forward: true }), server: builtin() },
  links: [["client", "router"], ["router", "server"]],
});

Deno.bench({
  name: `three-host topology (2 kernel namespaces, 1 built-in): built and torn down${skipped}`,
  ignore,
  async fn() {
    const t = await openTopology(three);
    await t.close();
  },
});
