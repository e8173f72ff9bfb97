/**
 * A run never passes by accident (the runner, in process): a throw in a
 * scenario's code fails it at the line of the throw, a step failure its code
 * swallows still fails it, and a scenario that runs past its real-time or
 * virtual-time limit fails naming what it was waiting on.
 */
import assert from "node:assert/strict";
import {
  builtinTarget,
  defineScenario,
  expect,
  listen,
  runScenario,
  runScenarioOn,
  synAck,
  wait,
} from "../mod.ts";

const opts = { register: false } as const;

Deno.test("limits: a throw in a body fails the scenario at the line of the throw", async () => {
  const sc = defineScenario("throws", async (s) => {
    await s.run(listen(8080));
    throw new TypeError("no such thing");
  }, opts);
  const r = await runScenarioOn(sc);
  assert.equal(r.ok, false);
  assert.match(
    r.failure!.message,
    /^tests\/scenario_limits_test\.ts:\d+:11: the scenario threw TypeError: no such thing$/,
  );
});

Deno.test("limits: a step failure the body catches still fails the scenario", async () => {
  const sc = defineScenario("swallows", async (s) => {
    await s.run(listen(8080));
    try {
      await s.run(expect(synAck()).within("10ms"));
    } catch {
      // A careless body goes on as if nothing happened.
    }
  }, opts);
  const r = await runScenarioOn(sc);
  assert.equal(r.ok, false);
  assert.match(r.failure!.message, /expect\(synAck\) got nothing within 0\.014 s/);
});

Deno.test("limits: a promise that never settles fails at the real-time limit, naming the last step", async () => {
  const sc = defineScenario("never", async (s) => {
    await s.run(listen(8080));
    await new Promise(() => {});
  }, { ...opts, timeout: "150ms" });
  const r = await runScenarioOn(sc);
  assert.equal(r.ok, false);
  assert.match(
    r.failure!.message,
    /^the scenario did not finish within 0\.15 s \(real time\): it was waiting on the scenario's own code, after step 3, listen\(\) \(tests\/scenario_limits_test\.ts:\d+:\d+\)$/,
  );
});

Deno.test("limits: a step on a real clock that outlasts the limit is named", async () => {
  const sc = defineScenario("slow step", [listen(8080), wait("30s")], opts);
  const r = await runScenario(sc, {
    target: builtinTarget({ clock: "real" }),
    limits: { timeoutMs: 200 },
  });
  assert.equal(r.ok, false);
  assert.match(
    r.failure!.message,
    /^tests\/scenario_limits_test\.ts:\d+:\d+: the scenario did not finish within 0\.2 s \(real time\): it was waiting on step 4, wait\(30000ms\)$/,
  );
});

Deno.test("limits: virtual time stops at the scenario's virtual limit", async () => {
  const endless = defineScenario("endless waits", async (s) => {
    for (;;) await s.run(wait("1h"));
  }, opts);
  const r = await runScenarioOn(endless);
  assert.equal(r.ok, false);
  assert.match(
    r.failure!.message,
    /the scenario reached its virtual-time limit of 86400 s at step 24, wait\(3600000ms\)/,
  );
  const short = defineScenario("short limit", [wait("2s")], { ...opts, virtualTimeout: "1s" });
  const r2 = await runScenarioOn(short);
  assert.match(r2.failure!.message, /virtual-time limit of 1 s at step 1, wait\(2000ms\)/);
  assert.equal(r2.elapsedMs, 1000);
});

Deno.test("limits: a bad limit is refused where the scenario is written", () => {
  assert.throws(
    () => defineScenario("bad", [], { ...opts, timeout: "soon" }),
    /scenario_limits_test\.ts:\d+:\d+: scenario\(\): timeout: want a duration such as "200ms" or "1s", got "soon"/,
  );
});

Deno.test("limits: a real clock measures how late the process wakes, for timing checks to allow", async () => {
  const { RealClock } = await import("../runtime/engine/clock.ts");
  const clock = new RealClock();
  try {
    await new Promise((r) => setTimeout(r, 30));
    const before = clock.schedulingDelay();
    // The event loop held for 80 ms, as a busy machine holds it.
    const until = performance.now() + 80;
    while (performance.now() < until) { /* busy */ }
    await new Promise((r) => setTimeout(r, 20));
    assert.ok(before < 40, `delay ${before} ms before any load`);
    assert.ok(
      clock.schedulingDelay() >= 50,
      `delay ${clock.schedulingDelay()} ms after 80 ms held`,
    );
  } finally {
    clock.stop();
  }
});
