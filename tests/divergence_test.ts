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
    target: "builtin:rfc7323-strict,builtin:linux",
    filter: "leaves the handshake hanging",
    print: (l) => lines.push(l),
  });
  const text = lines.join("\n");
  assert.equal(code, 1, text);
  assert.match(text, /^DIFF gVisor \(rfc7323-strict\)/m);
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
