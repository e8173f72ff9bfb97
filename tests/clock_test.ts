// The real clock's timers: what is due now runs as soon as the current code is done
// (not after a 4 ms clamp per step of a chain), a cancelled one never runs, and a
// very long chain still yields to the event loop without losing a step.
import assert from "node:assert/strict";
import { RealClock } from "../mod.ts";

Deno.test("RealClock: a timer due now runs after the current code, before the next timer turn", async () => {
  const clock = new RealClock();
  const order: string[] = [];
  setTimeout(() => order.push("event loop"), 0);
  clock.setTimer(clock.now(), () => order.push("due now"));
  order.push("current code");
  await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(order, ["current code", "due now", "event loop"]);
  clock.stop();
});

Deno.test("RealClock: a cancelled due-now timer never runs; a stopped clock takes none", async () => {
  const clock = new RealClock();
  let fired = 0;
  clock.cancel(clock.setTimer(clock.now(), () => fired++));
  await new Promise((r) => setTimeout(r, 5));
  clock.stop();
  clock.setTimer(clock.now(), () => fired++);
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(fired, 0);
});

Deno.test("RealClock: a chain of 25,000 due-now timers runs every step, yielding on the way", async () => {
  const clock = new RealClock();
  let steps = 0;
  let turns = 0;
  const tick = setInterval(() => turns++, 0);
  await new Promise<void>((done) => {
    const step = () => {
      if (++steps === 25_000) return done();
      clock.setTimer(clock.now(), step);
    };
    clock.setTimer(clock.now(), step);
  });
  clearInterval(tick);
  clock.stop();
  assert.equal(steps, 25_000);
  assert.ok(turns >= 1, "the event loop turned during the chain");
});
