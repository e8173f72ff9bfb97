/**
 * `synack explain` on runs whose RSTs have known causes: the seed examples
 * on the built-in stack and on the real kernel (whose trace is what a
 * tcpdump on the TUN device captures), read from the trace and from the
 * pcap written of it; and the Docker and Kubernetes stories, link by link.
 */
import assert from "node:assert/strict";
import { loadScenarios } from "../runtime/host/load_scenarios.ts";
import { runScenarioOn } from "../runtime/scenario.ts";
import { fromTrace, loadSegments, type SegmentGroup } from "../runtime/explain/explain_input.ts";
import { explainRsts } from "../runtime/explain/rst_explain.ts";
import { explainText } from "../runtime/explain/explain_text.ts";
import { kernelUnavailable } from "../runtime/kernel/kernel_support.ts";
import type { Trace } from "../runtime/engine/trace.ts";
import type { Scenario } from "../dsl/scenario_def.ts";
import { defineScenario } from "../dsl/scenario_def.ts";
import { close, data, expect, finAck, inject, rst } from "../mod.ts";
import { runScenario } from "../runtime/engine/runner.ts";
import { kernelTarget } from "../runtime/kernel/kernel_target.ts";
import { holdTracing } from "../runtime/scenario.ts";
import { established } from "./fixtures.ts";

/** Each RST of each group as "where kind cause". */
const verdicts = (groups: readonly SegmentGroup[]) =>
  groups.flatMap((g) => explainRsts(g.segs).map((e) => `${g.where ?? "-"} ${e.kind} ${e.cause}`));

/** The seed examples whose RSTs have one known cause each, in file order. */
const SEEDS: Record<string, string[][]> = {
  "examples/rst_closed_port.ts": [
    ["- passive no-connection", "- passive no-connection"],
    ["- passive closed-port", "- passive closed-port"],
    // A FIN with data and no ACK is not a SYN: nothing says there was ever a connection.
    ["- passive no-connection"],
  ],
  "examples/rst_unread_data.ts": [["- active unread-data"], []],
  "examples/rst_linger_zero.ts": [["- active linger-zero", "- passive after-close"]],
};

async function seedVerdicts(target: string): Promise<Record<string, string[][]>> {
  const out: Record<string, string[][]> = {};
  for (const file of Object.keys(SEEDS)) {
    out[file] = [];
    for (const sc of await loadScenarios([file])) {
      const r = await runScenarioOn(sc, target);
      assert.ok(r.ok, `${sc.name}: ${r.failure?.message}`);
      out[file].push(verdicts(fromTrace(r.trace)));
      // The same from the pcap a run writes (--pcap): one capture point.
      const pcap = await Deno.makeTempFile({ suffix: ".pcap" });
      try {
        await Deno.writeFile(pcap, r.trace.toPcap());
        const fromPcap = verdicts(await loadSegments(pcap)).map((v) =>
          v.replace(/^interface 0 /, "- ")
        );
        assert.deepEqual(fromPcap, out[file].at(-1), `${sc.name}: pcap and trace agree`);
      } finally {
        await Deno.remove(pcap);
      }
    }
  }
  return out;
}

Deno.test("explain: the seed RSTs on the built-in stack, from its trace and its pcap", async () => {
  assert.deepEqual(await seedVerdicts("builtin"), SEEDS);
});

const why = kernelUnavailable();
Deno.test({
  name: `explain: the same RSTs captured from the real kernel${why ? ` (skipped: ${why})` : ""}`,
  ignore: why !== undefined,
  async fn() {
    assert.deepEqual(await seedVerdicts("kernel"), SEEDS);
  },
});

/** A socket closed by close() that still gets data: Linux aborts (TCP_ABORT_ON_DATA). */
const abortOnData = defineScenario("data after close()", [
  ...established,
  close(),
  expect(finAck()),
  inject(data("late")),
  expect(rst().reason("TCP_ABORT_ON_DATA")),
], { register: false });

/** The captured cases: the seeds, the late ACK's un-NATed tuple, and the abort on data. */
const CAPTURED: Record<string, string[][]> = {
  ...SEEDS,
  "examples/late_ack.ts": [[], ["- passive no-connection"]],
};

Deno.test({
  name:
    `explain: RSTs captured by tcpdump inside the kernel's namespace, labelled as the kernel says${
      why ? ` (skipped: ${why})` : ""
    }`,
  ignore: why !== undefined,
  async fn() {
    const dir = await Deno.makeTempDir();
    const tracing = await holdTracing(["kernel"]);
    const got: Record<string, string[][]> = {};
    let rsts = 0;
    try {
      const cases: [string, Scenario][] = [];
      for (const file of Object.keys(CAPTURED)) {
        for (const sc of await loadScenarios([file])) cases.push([file, sc]);
      }
      cases.push(["abort", abortOnData]);
      for (const [i, [file, sc]] of cases.entries()) {
        const pcap = `${dir}/${i}.pcap`;
        const target = await kernelTarget({ tcpdump: pcap });
        let r;
        try {
          r = await runScenario(sc, { target });
        } finally {
          await target.close();
        }
        assert.ok(r.ok, `${sc.name}: ${r.failure?.message}`);
        // tcpdump's own file: its interface is the TUN device.
        const captured = await loadSegments(pcap);
        (got[file] ??= []).push(verdicts(captured).map((v) => v.replace(/^interface 0 /, "- ")));
        // The kernel's word on each RST, from synack's trace, agrees with what the capture shows.
        for (const e of explainRsts(fromTrace(r.trace)[0]?.segs ?? [])) {
          rsts++;
          assert.equal(
            e.stack?.reason.source,
            "kernel",
            `${sc.name}: #${e.n} has the kernel's reason`,
          );
          assert.ok(
            e.stack.agrees,
            `${sc.name}: #${e.n} ${e.cause}, kernel ${e.stack.reason.name}`,
          );
        }
      }
    } finally {
      await tracing.release();
      await Deno.remove(dir, { recursive: true });
    }
    assert.deepEqual(got, { ...CAPTURED, abort: [["- passive abort-after-fin"]] });
    assert.ok(rsts >= 10, `${rsts} RSTs`);
  },
});

async function storyTrace(file: string): Promise<Trace> {
  const [sc] = await loadScenarios([file]);
  const r = await runScenarioOn(sc, "builtin");
  assert.ok(r.ok, r.failure?.message);
  return r.trace;
}

Deno.test("explain: the Docker host's RST is a half-open answer; Kubernetes' is an un-NATed tuple on the client's link", async () => {
  assert.deepEqual(verdicts(fromTrace(await storyTrace("examples/docker_conntrack.ts"))), [
    "server-dockerhost passive half-open",
  ]);
  // Seen at the client pod's link, the segment comes from the server pod's own address; at the
  // server pod's, the client's RST answers a live connection.
  assert.deepEqual(verdicts(fromTrace(await storyTrace("examples/k8s_conntrack.ts"))), [
    "client-node passive un-natted",
    "server-node passive half-open",
  ]);
  const text = explainText(fromTrace(await storyTrace("examples/k8s_conntrack.ts"))).join("\n");
  assert.match(text, /\[client-node\] 10\.1\.0\.1:\d+ > 10\.2\.0\.1:8080 R /);
  assert.match(
    text,
    /passive, answers #\d+: an un-NATed tuple: 10\.1\.0\.1:\d+'s connection is with 10\.1\.0\.2:80, not 10\.2\.0\.1:8080/,
  );
  assert.match(text, /^2 RSTs: 2 passive, 0 active$/m);
  // On synack's own trace, what conntrack did to the answered segment is evidence too.
  const docker = explainText(fromTrace(await storyTrace("examples/docker_conntrack.ts"))).join(
    "\n",
  );
  assert.match(
    docker,
    /the trace says of #\d+: .*conntrack INVALID \(SEQ is over upper bound \d+ \(over the window of the receiver\)\), not translated/,
  );
});
