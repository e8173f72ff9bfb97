/**
 * Topologies with kernel hosts: a kernel client reaches a built-in server
 * through a kernel router that forwards, with the script dropping and
 * delaying on the router's far link; two kernel hosts on one link; and the
 * host's own network untouched throughout. Needs root; skips visibly without.
 */
import assert from "node:assert/strict";
import {
  accept,
  connect,
  defineScenario,
  expect,
  kernel,
  listen,
  on,
  read,
  socket,
  syn,
  synAck,
  sysctl,
  topology,
  write,
} from "../../mod.ts";
import { kernelUnavailable } from "../../runtime/kernel/kernel_support.ts";
import { loadScenarios } from "../../runtime/host/load_scenarios.ts";
import { runScenarioOn } from "../../runtime/scenario.ts";
import { parsePacket } from "../../runtime/wire/packet.ts";
import { hostNetwork } from "./host_state.ts";
import type { Trace } from "../../runtime/engine/trace.ts";
import { DOCKER_OUTCOMES, dockerOutcome } from "../fixtures.ts";

const why = kernelUnavailable();
const skip = why ? ` (skipped: ${why})` : "";

/** The INVALID notes of a trace's segments, in order. */
function invalidWords(trace: Trace): string[] {
  return trace.events.flatMap((e) =>
    e.kind === "packet" ? (e.path ?? []).flatMap((n) => n.split(/; |, (?=conntrack)/)) : []
  ).filter((n) => /INVALID/.test(n)).map((n) =>
    // What a rule did next is the model's to say; the kernel's NFLOG tells only the verdict.
    n.replace(/^.*?(conntrack)/, "$1").replace(/, dropped by .*$/, "")
  );
}

function kernelTest(name: string, fn: () => Promise<void>): void {
  Deno.test({ name: `topology: ${name}${skip}`, ignore: why !== undefined, fn });
}

kernelTest(
  "examples/topology_router.ts: kernel client → kernel router → built-in server, drops and delays on the far link",
  async () => {
    const before = hostNetwork();
    const scenarios = await loadScenarios(["examples/topology_router.ts"]);
    assert.equal(scenarios.length, 2);
    for (const sc of scenarios) {
      const r = await runScenarioOn(sc, "kernel");
      assert.equal(r.ok, true, `${sc.name}\n${r.failure?.message}`);
      const packets = r.trace.events.filter((e) => e.kind === "packet");
      // The router forwarded: the same segments cross both links.
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

kernelTest(
  "examples/docker_conntrack.ts: the INVALID segment is answered by the host, dropped, or translated",
  async () => {
    const before = hostNetwork();
    const scenarios = await loadScenarios(["examples/docker_conntrack.ts"]);
    assert.equal(scenarios.length, 3);
    const outcome: string[] = [];
    const reasons: string[][] = [];
    for (const sc of scenarios) {
      const r = await runScenarioOn(sc, "kernel");
      assert.equal(r.ok, true, `${sc.name}\n${r.failure?.message}`);
      outcome.push(dockerOutcome(r.trace));
      reasons.push(invalidWords(r.trace));
    }
    // Real netfilter, as the story tells it: INVALID goes un-NATed to the host, which resets;
    // dropping INVALID silences the host; be_liberal tracks the segment and NAT delivers it.
    assert.deepEqual(outcome, DOCKER_OUTCOMES);
    // The kernel's own reasons (nf_conntrack_log_invalid through NFLOG, inside the namespace),
    // on the lines of the segments they are about, in the model's words.
    assert.match(
      reasons[0][0],
      /^conntrack INVALID \(SEQ is over upper bound \d+ \(over the window of the receiver\)\), not translated$/,
    );
    assert.deepEqual(reasons[0].slice(1), [
      "conntrack (output) INVALID (invalid new), not translated",
    ]);
    assert.equal(reasons[2].length, 0, "be_liberal: nothing is INVALID");
    const model: string[][] = [];
    for (const sc of scenarios) {
      model.push(invalidWords((await runScenarioOn(sc, "builtin")).trace));
    }
    assert.deepEqual(model, reasons, "the model's words are the kernel's");
    assert.equal(hostNetwork(), before, "the host's links, addresses, routes or sysctls changed");
  },
);
