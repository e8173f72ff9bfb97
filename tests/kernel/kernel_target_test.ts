/**
 * The kernel target against the real Linux kernel: the seed examples give the
 * kernel's verdicts, sysctls stay inside the private namespace, socket calls
 * block and fail as libc's do, and the runner's numbering follows the
 * kernel's random ISNs and timestamps. Needs root; skips visibly without.
 */
import assert from "node:assert/strict";
import { loadScenarios } from "../../runtime/host/load_scenarios.ts";
import {
  accept,
  ack,
  close,
  data,
  defineScenario,
  expect,
  getsockopt,
  inject,
  listen,
  read,
  rst,
  setsockopt,
  socket,
  syn,
  synAck,
  sysctl,
  wait,
  write,
} from "../../mod.ts";
import { runScenario } from "../../runtime/engine/runner.ts";
import { kernelUnavailable } from "../../runtime/kernel/kernel_support.ts";
import { kernelTarget } from "../../runtime/kernel/kernel_target.ts";
import { runScenarioOn } from "../../runtime/scenario.ts";
import { hostNetwork } from "./host_state.ts";
import { pingPong } from "../fixtures.ts";

const why = kernelUnavailable();
const skip = why ? ` (skipped: ${why})` : "";

function kernelTest(name: string, fn: () => Promise<void>): void {
  Deno.test({ name: `kernel: ${name}${skip}`, ignore: why !== undefined, fn });
}

async function onKernel(steps: Parameters<typeof defineScenario>[1], family: 4 | 6 = 4) {
  const sc = defineScenario("kernel check", steps, { register: false, family });
  const r = await runScenarioOn(sc, "kernel");
  assert.equal(r.ok, true, r.failure?.message);
  return r;
}

kernelTest("the seed examples give the real kernel's verdicts", async () => {
  const scenarios = await loadScenarios(["examples/"]);
  assert.ok(scenarios.length >= 12);
  for (const sc of scenarios) {
    const r = await runScenarioOn(sc, "kernel");
    if (sc.options.profile === "gvisor") {
      // A model of gVisor's netstack says nothing about Linux: skipped, with the reason.
      assert.equal(r.skipped, "profile gvisor models gVisor's netstack, not the Linux kernel");
      assert.equal(r.failure, undefined);
    } else {
      assert.equal(r.ok, true, `${sc.name}\n${r.failure?.message}`);
    }
  }
});

kernelTest("a scenario's sysctl applies inside its namespace, never on the host", async () => {
  const before = hostNetwork();
  await onKernel([
    sysctl("net.ipv4.tcp_timestamps", 0),
    listen(8080),
    inject(syn()),
    expect(synAck().optsInclude({ ts: false })),
  ]);
  assert.equal(hostNetwork(), before);
  const t = await kernelTarget();
  try {
    assert.throws(
      () => t.configure({ kind: "sysctl", name: "net.core.rmem_max", value: 1 }),
      /net\.core\.rmem_max is host-wide .*synack never changes the host's/,
    );
    assert.throws(
      () => t.configure({ kind: "sysctl", name: "kernel.hostname", value: "x" }),
      /want a network sysctl such as net\.ipv4\.tcp_timestamps/,
    );
    assert.throws(
      () => t.configure({ kind: "sysctl", name: "net.ipv4.tcp_syn_retries", value: 1000 }),
      /tcp_syn_retries: the kernel rejected 1000 \(EINVAL\)/,
    );
  } finally {
    await t.close();
  }
});

kernelTest(
  "a blocking accept() returns when the script's ACK completes the handshake",
  async () => {
    const r = await onKernel([
      listen(8080),
      accept().returns(4),
      inject(syn()),
      expect(synAck()),
      inject(ack()),
    ]);
    const calls = r.trace.events.filter((e) => e.kind === "call");
    const acceptEvent = calls.find((e) => e.kind === "call" && e.call.name === "accept")!;
    const ackIn = r.trace.events.filter((e) => e.kind === "packet" && e.dir === "in")[1];
    assert.ok(acceptEvent.time >= ackIn.time, "accept() returned before the ACK went in");
  },
);

kernelTest("TCP_INFO decodes the kernel's struct tcp_info into named fields", async () => {
  const r = await onKernel([
    listen(8080),
    inject(syn()),
    expect(synAck()),
    inject(ack()),
    accept().returns(4),
    getsockopt("TCP_INFO").returns({
      state: "ESTABLISHED",
      caState: 0,
      options: 7, // TIMESTAMPS | SACK | WSCALE
      sndWscale: 7,
      rcvWscale: 10,
      sndMss: 1448,
      advmss: 1448, // 1460 less the timestamp option
      sndCwnd: 10,
      unacked: 0,
    }),
    getsockopt("SO_RCVBUF").returns({ value: 131072 }),
    setsockopt("SO_RCVBUF", 4096),
    getsockopt("SO_RCVBUF").returns({ value: 8192 }), // Linux doubles it (socket(7))
    setsockopt("TCP_MAXSEG", 10).fails("EINVAL"),
    getsockopt("TCP_INFO").on(3).returns({ state: "LISTEN" }),
  ]);
  assert.ok(r.trace.events.some((e) => e.kind === "call" && e.call.name === "getsockopt"));
});

kernelTest("script fds start at 3 whatever the kernel's are; a closed fd is EBADF", async () => {
  await onKernel([
    socket().returns(3),
    socket().returns(4),
    close().on(3),
    socket().returns(3),
    close().on(3),
    close().on(3).fails("EBADF"),
    read(10).on(42).fails("EBADF"),
  ]);
});

kernelTest("writing to a reset connection fails with EPIPE, not SIGPIPE", async () => {
  await onKernel([
    listen(8080),
    inject(syn()),
    expect(synAck()),
    inject(ack()),
    accept().returns(4),
    inject(rst().seq(1)),
    write("late").fails("ECONNRESET"),
    write("later").fails("EPIPE"),
  ]);
});

kernelTest("blocking read() waits for data; IPv6 end to end", async () => {
  await onKernel([
    listen(8080),
    inject(syn()),
    expect(synAck().optsInclude({ mss: 1440 })),
    inject(ack()),
    accept().returns(4),
    read(100).returns("hello"),
    inject(data("hello")),
    expect(ack().ack(6)),
  ], 6);
});

kernelTest("addresses and the MTU are the target's options", async () => {
  const t = await kernelTarget({
    v4: { local: "10.9.0.1", remote: "10.9.0.2", prefix: 24 },
    mtu: 1280,
  });
  try {
    const sc = defineScenario("custom addresses", [
      listen(8080),
      inject(syn()),
      // MSS from the device's MTU: 1280 − 40.
      expect(synAck().src("10.9.0.1").dst("10.9.0.2").optsInclude({ mss: 1240 })),
    ], { register: false });
    const r = await runScenario(sc, { target: t });
    assert.equal(r.ok, true, r.failure?.message);
  } finally {
    await t.close();
  }
  await assert.rejects(() => kernelTarget({ v4: { local: "fd3d::1" } }), /v4\.local: want an IPv4/);
});

kernelTest(
  "peer.auto() on the real clock: the built-in peer talks to the kernel through the TUN",
  async () => {
    const r = await onKernel(pingPong);
    const calls = r.trace.events.filter((e) => e.kind === "call").map((e) =>
      e.kind === "call" ? `${e.side}.${e.call.name}` : ""
    );
    // Each host's calls are recorded in the order the scenario makes them; a call that blocked
    // (accept, until the kernel has taken the handshake's last ACK) when it returned.
    const on = (side: string) => calls.filter((c) => c.startsWith(`${side}.`));
    assert.deepEqual(on("peer"), [
      "peer.socket",
      "peer.connect",
      "peer.write",
      "peer.read",
      "peer.close",
    ]);
    assert.deepEqual(on("target"), [
      "target.socket",
      "target.bind",
      "target.listen",
      "target.accept",
      "target.read",
      "target.write",
      "target.read",
      "target.close",
    ]);
    const fromPeer = r.trace.events.filter((e) => e.kind === "packet" && e.by === "peer");
    assert.ok(fromPeer.length >= 4, `${fromPeer.length} segments from the peer stack`);
  },
);

kernelTest("packets that arrive during a wait() carry their arrival times", async () => {
  // No ACK: the kernel retransmits its SYN-ACK 1 s and 3 s after the first, during the wait.
  const r = await onKernel([
    listen(8080),
    inject(syn()),
    expect(synAck()),
    wait("3500ms"),
    expect(synAck()),
    expect(synAck()),
  ]);
  const synAcks = r.trace.events.filter((e) => e.kind === "packet" && e.dir === "out");
  assert.equal(synAcks.length, 3);
  const after = synAcks.map((e) => e.time - synAcks[0].time);
  // Each within the kernel's timing tolerance of its retransmission time, not at the wait's end.
  assert.ok(Math.abs(after[1] - 1000) <= 200, `first retransmission at +${after[1]} ms`);
  assert.ok(Math.abs(after[2] - 3000) <= 600, `second retransmission at +${after[2]} ms`);
  assert.ok(after[2] - after[1] >= 1500, `retransmissions ${after[2] - after[1]} ms apart`);
});
