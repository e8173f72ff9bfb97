// Figures for the engine and the built-in stack. Run: npx deno task bench
import { defineScenario } from "../mod.ts";
import { runScenarioOn } from "../runtime/scenario.ts";
import { VirtualClock } from "../runtime/engine/clock.ts";
import { Stack } from "../runtime/stack/stack.ts";

import { established } from "../tests/fixtures.ts";

const handshake = defineScenario("handshake", established, { register: false });

Deno.bench("one handshake scenario, start to finish, virtual clock", async () => {
  const r = await runScenarioOn(handshake);
  if (!r.ok) throw r.failure;
});

/** Moves 1 MB between two built-in stacks; returns how many segments crossed the link. */
function transfer(): number {
  let segments = 0;
  const clock = new VirtualClock();
  const a = new Stack({ clock, addresses: ["10.0.0.1"], seed: 1 });
  const b = new Stack({ clock, addresses: ["10.0.0.2"], seed: 2 });
  // A link delivers on the next clock step, never inside the sender's own call.
  a.output = (x) => {
    segments++;
    clock.setTimer(clock.now(), () => b.input(x));
  };
  b.output = (x) => {
    segments++;
    clock.setTimer(clock.now(), () => a.input(x));
  };
  b.call({ name: "socket" });
  b.call({ name: "bind", fd: 3, port: 80 });
  b.call({ name: "listen", fd: 3 });
  a.call({ name: "socket" });
  a.call({ name: "connect", fd: 3, addr: "10.0.0.2", port: 80 });
  const acc = b.call({ name: "accept", fd: 3 });
  clock.runUntil(() => acc.result !== undefined, 1000);
  const chunk = new Uint8Array(16384);
  let got = 0;
  while (got < 1_000_000) {
    a.call({ name: "write", fd: 3, data: chunk });
    const r = b.call({ name: "read", fd: 4, count: 1 << 20 });
    clock.runUntil(() => r.result !== undefined, clock.now() + 10_000);
    const v = r.result?.ok ? r.result.value : undefined;
    got += v instanceof Uint8Array ? v.length : 0;
  }
  return segments;
}

// Every segment is emitted to bytes and parsed back: segments/s = this count / the time per iteration.
console.log(`segments per 1 MB transfer: ${transfer()}`);
Deno.bench("1 MB through two built-in stacks on an in-memory link", () => {
  transfer();
});
