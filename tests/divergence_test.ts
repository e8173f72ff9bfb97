/**
 * Differential runs without a kernel: the masks for known noise and timing
 * on traces written in the line syntax, and `--target` with two built-in
 * profiles, which part where gVisor's netstack and Linux do.
 */
import assert from "node:assert/strict";
import { runCommand } from "../cli/run_command.ts";
import { compareTraces, DEFAULT_MASKS } from "../runtime/engine/divergence.ts";
import { Trace } from "../runtime/engine/trace.ts";
import { parseLine } from "../runtime/wire/line_parse.ts";
import { emitPacket } from "../runtime/wire/packet.ts";

/** A trace of the stack's packets, each `[ms, line]`. */
function trace(lines: [number, string][]): Trace {
  const t = new Trace();
  for (const [time, line] of lines) {
    t.add({ kind: "packet", dir: "out", time, bytes: emitPacket(parseLine(line).packet) });
  }
  return t;
}

const SYN_ACK = "192.168.0.1:8080 > 192.0.2.1:40000 S. 0:0(0) ack 1 win 65160";
const data = (flags: string, win: number) =>
  `192.168.0.1:8080 > 192.0.2.1:40000 ${flags} 1:1001(1000) ack 1 win ${win}`;
const timing = { minMs: 10, fraction: 0.2 };

Deno.test("divergence: PSH at a burst end and a window within 1/16 are masked, and counted", () => {
  const builtin = trace([[0, SYN_ACK], [1, data("P.", 64)]]);
  const kernel = trace([[0, SYN_ACK], [1, data(".", 63)]]);
  const masked = compareTraces(builtin, kernel, { masks: DEFAULT_MASKS, timing });
  assert.deepEqual(masked.divergences, []);
  assert.deepEqual(masked.masked, { psh: 1, window: 1 });
  const pshOnly = compareTraces(builtin, kernel, { masks: ["psh"], timing });
  assert.equal(pshOnly.divergences.length, 1);
  const bare = compareTraces(builtin, kernel, { masks: [], timing });
  assert.equal(bare.divergences[0].kind, "events");
  assert.match(bare.divergences[0].left!.text, /P\. 1:1001\(1000\) ack 1 win 64/);
  assert.match(bare.divergences[0].right!.text, /\. 1:1001\(1000\) ack 1 win 63/);
});

Deno.test("divergence: a window off by more than 1/16 is not noise", () => {
  const a = trace([[0, SYN_ACK], [1, data(".", 64)]]);
  const b = trace([[0, SYN_ACK], [1, data(".", 56)]]);
  assert.equal(compareTraces(a, b, { masks: DEFAULT_MASKS, timing }).divergences.length, 1);
});

Deno.test("divergence: every difference is reported, timing beyond max(10 ms, 20 %) too", () => {
  const builtin = trace([[0, SYN_ACK], [0, data(".", 64)], [200, data(".", 64)]]);
  const kernel = trace([[0, SYN_ACK], [43, data(".", 64)], [243, data(".", 32)]]);
  const r = compareTraces(builtin, kernel, { masks: DEFAULT_MASKS, timing });
  assert.deepEqual(r.divergences.map((d) => [d.kind, d.index, d.gapDeltaMs]), [
    ["timing", 1, 43],
    ["events", 2, undefined],
  ]);
  const untimed = compareTraces(builtin, kernel, { masks: [...DEFAULT_MASKS, "timing"], timing });
  assert.deepEqual(untimed.masked, { timing: 1 });
  assert.equal(untimed.divergences.length, 1);
});

Deno.test("divergence: --target with two built-in profiles shows every divergence and the failing step's diff", async () => {
  const lines: string[] = [];
  const code = await runCommand(["examples/gvisor_timestamp_handshake.ts"], {
    target: "builtin:gvisor,builtin:linux",
    filter: "leaves the handshake hanging",
    print: (l) => lines.push(l),
  });
  const text = lines.join("\n");
  assert.equal(code, 1, text);
  assert.match(text, /^DIFF gVisor: a TS-less ACK/m);
  // The failing step keeps its whole report: the want/got lines and the field diff.
  assert.match(
    text,
    /builtin:linux +FAIL examples\/gvisor_timestamp_handshake\.ts:\d+:\d+: accept\(3\) = 4\n +result: want -1 EAGAIN, got 4/,
  );
  // More than the first divergence: the calls and the packets that follow both differ.
  const shown = [...text.matchAll(/^ {5}divergence in (packets|calls) #\d+/gm)].map((m) => m[1]);
  assert.ok(shown.includes("calls") && shown.includes("packets"), text);
  assert.equal(lines.at(-1), "0 same, 1 diverged");
});

/** A topology trace: each `[ms, link, from, line, path notes]`. */
function linkTrace(lines: [number, string, string, string, string[]?][]): Trace {
  const t = new Trace();
  for (const [time, link, from, line, path] of lines) {
    const bytes = emitPacket(parseLine(line).packet);
    t.add({ kind: "packet", dir: from === "b" ? "out" : "in", time, bytes, link, from, path });
  }
  return t;
}

Deno.test("divergence: a topology is compared link by link, ISNs and chosen ports masked, INVALID verdicts included", () => {
  const run = (isn: number, port: number, verdict: string[]) =>
    linkTrace([
      [0, "a-r", "a", `10.1.0.1:${port} > 10.2.0.1:80 S ${isn}:${isn}(0) win 65535`],
      [1, "r-b", "r", `10.2.0.2:${port} > 10.2.0.1:80 S ${isn}:${isn}(0) win 65535`],
      [2, "r-b", "b", `10.2.0.1:80 > 10.2.0.2:${port} S. 7:7(0) ack ${isn + 1} win 65535`],
      [
        3,
        "r-b",
        "b",
        `10.2.0.1:80 > 10.2.0.2:${port} . 1000008:1000008(0) ack ${isn + 1} win 65535`,
        verdict,
      ],
    ]);
  const model = run(1000, 40000, [
    "conntrack INVALID (SEQ is over upper bound 70000 …), not translated",
  ]);
  const kernel = run(55555, 51234, [
    "conntrack INVALID (SEQ is over upper bound 90000 …), not translated",
  ]);
  const o = { masks: DEFAULT_MASKS, timing: undefined, links: true };
  assert.deepEqual(compareTraces(model, kernel, o).divergences, []);
  // The kernel let it through: the verdict is where the runs part, and the line says so.
  const liberal = run(55555, 51234, []);
  const [d] = compareTraces(model, liberal, o).divergences;
  assert.equal(d.stream, "packets on r-b");
  assert.equal(d.index, 2);
  assert.match(
    d.left!.text,
    /< 10\.2\.0\.1:80 > 10\.2\.0\.2:eph1 \. 1000001:1000001\(0\) ack 1 .*\(from b\) \[conntrack INVALID\]$/,
  );
  assert.doesNotMatch(d.right!.text, /INVALID/);
});

Deno.test("divergence: a topology link that carried a bulk transfer is not compared packet by packet, and the note says why", () => {
  const many = (isn: number) =>
    linkTrace(
      Array.from({ length: 70 }, (_, i) =>
        [
          i,
          "a-b",
          "a",
          `10.1.0.1:40000 > 10.1.0.2:80 . ${isn + i * 100}:${
            isn + i * 100 + 100
          }(100) ack 1 win 65535`,
        ] as [number, string, string, string]),
    );
  const c = compareTraces(many(1), many(5), { masks: [], timing: undefined, links: true });
  assert.deepEqual(c.divergences, []);
  assert.match(c.note!, /^packets not compared: a-b carried 70 datagrams, a bulk transfer/);
});
