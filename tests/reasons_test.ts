/**
 * Reasons on the built-in stack: the checks of `reason_cases.ts`, the words
 * on trace lines and in pcapng comments, names the DSL refuses, and a target
 * that gives no reasons (the checks warn, once each, and do not pass or fail
 * on a guess).
 */
import assert from "node:assert/strict";
import { expectDrop, rst } from "../mod.ts";
import { runScenario } from "../runtime/engine/runner.ts";
import { describeEvent } from "../runtime/engine/failure.ts";
import { Flows } from "../runtime/engine/flow.ts";
import { runScenarioOn } from "../runtime/scenario.ts";
import { builtinTarget } from "../runtime/stack/builtin_target.ts";
import { reasonScenarios } from "./reason_cases.ts";

for (const { c, sc } of reasonScenarios()) {
  Deno.test(`reasons (builtin): ${c.name}`, async () => {
    const r = await runScenarioOn(sc, "builtin");
    assert.equal(r.reasons, true);
    if (!c.fails) return assert.ok(r.ok, r.failure?.message);
    assert.ok(!r.ok, "want a failure");
    assert.match(r.failure!.message, new RegExp(c.fails.replaceAll("{stack}", "builtin")));
  });
}

Deno.test("reasons (builtin): on the trace lines, and as pcapng comments", async () => {
  const { sc } = reasonScenarios()[0];
  const r = await runScenarioOn(sc, "builtin");
  const flows = new Flows({ local: new Uint8Array(4), remote: new Uint8Array(4) }, 40000, () => 0);
  const lines = r.trace.events.map((e) => describeEvent(e, flows));
  assert.match(
    lines[0],
    /> 192\.0\.2\.1:40000 > 192\.168\.0\.1:9 \. .* {2}# builtin dropped: NO_SOCKET$/,
  );
  assert.match(lines[1], /< 192\.168\.0\.1:9 > 192\.0\.2\.1:40000 R .* {2}# builtin: NO_SOCKET$/);
  const text = new TextDecoder().decode(r.trace.toPcapng());
  assert.ok(text.includes("builtin dropped: NO_SOCKET") && text.includes("builtin: NO_SOCKET"));
});

Deno.test("reasons: names the kernel does not use are refused where they are written", () => {
  assert.throws(
    () => rst().reason("NO_LISTENER"),
    /reason\("NO_LISTENER"\): want a reset reason the kernel names: NOT_SPECIFIED, NO_SOCKET/,
  );
  assert.throws(
    () => expectDrop("TCP_PAWS"),
    /expectDrop\("TCP_PAWS"\): want a drop reason the kernel names/,
  );
  // A drop reason is not a reset reason.
  assert.throws(() => rst().reason("TCP_RFC7323_PAWS_ACK"), /want a reset reason/);
});

Deno.test("reasons: a target that gives none warns once per check, and the run goes on", async () => {
  const { sc } = reasonScenarios()[0];
  const target = builtinTarget();
  (target as { reasons?: unknown }).reasons = undefined;
  const r = await runScenario(sc, { target });
  assert.ok(r.ok, r.failure?.message);
  assert.equal(r.reasons, false);
  assert.deepEqual(r.warnings, [
    "rst().reason() not checked: the builtin:linux target gives no reasons",
    "expectDrop() not checked: the builtin:linux target gives no reasons",
  ]);
});
