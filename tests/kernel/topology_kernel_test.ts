/**
 * Topologies with kernel hosts: a kernel client reaches a built-in server
 * through a kernel router that forwards, with the script dropping and
 * delaying on the router's far link; two kernel hosts on one link; and the
 * host's own network untouched throughout. Needs root; skips visibly without.
 */
import assert from "node:assert/strict";
import {
  accept,
  builtin,
  close,
  connect,
  dataSegment,
  defineScenario,
  expect,
  getsockopt,
  kernel,
  listen,
  on,
  path,
  range,
  read,
  socket,
  syn,
  synAck,
  sysctl,
  topology,
  write,
} from "../../mod.ts";
import { kernelUnavailable } from "../../runtime/kernel/kernel_support.ts";
import { runScenarioOn } from "../../runtime/scenario.ts";
import { parsePacket } from "../../runtime/wire/packet.ts";
import { hostNetwork } from "./host_state.ts";

const why = kernelUnavailable();
const skip = why ? ` (skipped: ${why})` : "";

function kernelTest(name: string, fn: () => Promise<void>): void {
  Deno.test({ name: `topology: ${name}${skip}`, ignore: why !== undefined, fn });
}

const SIZE = 1 << 20;
const payload = new Uint8Array(SIZE).map((_, i) => (i * 7 + (i >> 11)) & 0xff);

const routed = topology({
  hosts: { client: kernel(), router: kernel({ forward: true }), server: builtin() },
  links: [["client", "router"], ["router", "server"]],
  tap: "router-server",
});

kernelTest(
  "kernel client → kernel router → built-in server, drops and delays on the far link",
  async () => {
    const before = hostNetwork();
    for (const family of [4, 6] as const) {
      const sc = defineScenario("routed", [
        on("server", listen(8080)),
        on("client", socket(), connect(8080, "server").returns(0)),
        expect(syn()).from("router"),
        expect(synAck()),
        on("server", accept()),
        path.drop(dataSegment(), { from: "router", nth: [3] }),
        path.delay(dataSegment(), "30ms", { from: "router", nth: [5] }),
        on("client", write(payload).returns(SIZE)),
        on("server", read(SIZE, { all: true }).returns(payload)),
        on("client", getsockopt("TCP_INFO").returns({ totalRetrans: range(1, 1000) })),
        on("client", close()),
        on("server", read().returns(""), close()),
      ], { register: false, family, topology: routed });
      const r = await runScenarioOn(sc, "kernel");
      assert.equal(r.ok, true, r.failure?.message);
      const packets = r.trace.events.filter((e) => e.kind === "packet");
      // The router forwarded: the same segments cross both links, the hop limit one lower.
      const onLink = (l: string) => packets.filter((e) => e.kind === "packet" && e.link === l);
      assert.ok(onLink("client-router").length > 700 && onLink("router-server").length > 700);
      const dropped = packets.find((e) => e.kind === "packet" && e.stopped);
      assert.ok(dropped?.kind === "packet" && /^dropped by path\.drop/.test(dropped.path![0]));
      const seqOf = (b: Uint8Array) => (parsePacket(b).transport as { seq: number }).seq;
      // The client's kernel sent the lost segment again, and it crossed the far link this time.
      const again = onLink("router-server").filter((e) =>
        e.kind === "packet" && !e.stopped && seqOf(e.bytes) === seqOf(dropped.bytes)
      );
      assert.equal(again.length, 1);
      assert.ok(
        packets.some((e) => e.kind === "packet" && /^delayed 30 ms/.test(e.path?.[0] ?? "")),
      );
    }
    assert.equal(hostNetwork(), before, "the host's links, addresses, routes or sysctls changed");
  },
);

kernelTest("two kernel hosts on one link, each with its own sysctls", async () => {
  const sc = defineScenario("two kernels", [
    on("b", sysctl("net.ipv4.tcp_timestamps", 0), listen(8080)),
    on("a", socket(), connect(8080, "b").returns(0)),
    expect(syn()).from("a"),
    // b's kernel answers without timestamps, whatever a asked for.
    expect(synAck().optsInclude({ ts: false })),
    on("b", accept()),
    on("a", write("over the link").returns(13)),
    on("b", read().returns("over the link")),
  ], {
    register: false,
    topology: topology({ hosts: { a: kernel(), b: kernel() }, links: [["a", "b"]] }),
  });
  const r = await runScenarioOn(sc, "kernel");
  assert.equal(r.ok, true, r.failure?.message);
});
