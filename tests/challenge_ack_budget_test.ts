// The built-in stack's RFC 5961 §7 challenge-ACK budget, drawn each second as Linux draws it
// (tcp_challenge_ack_allowed). A unit test: a scenario on the kernel can assert only the limit-1
// case, where the draw has one outcome (tests/stack_rst_test.ts).
import assert from "node:assert/strict";
import { VirtualClock } from "../runtime/engine/clock.ts";
import { profiles } from "../runtime/stack/profile.ts";
import { Stack } from "../runtime/stack/stack.ts";

Deno.test("challenge ACKs: each second's budget is drawn between ⌈limit/2⌉ and limit + ⌈limit/2⌉ − 1, as Linux does", () => {
  const clock = new VirtualClock();
  const budgets = (limit: number) => {
    const stack = new Stack({
      clock,
      addresses: ["192.168.0.1"],
      profile: { ...profiles.linux, challengeAckLimit: limit },
    });
    const seen = new Set<number>();
    for (let second = 0; second < 200; second++) {
      clock.advanceTo((clock.now() - (clock.now() % 1000)) + 1000);
      let n = 0;
      while (n < 3 * limit && stack.challengeAckAllowed()) n++;
      seen.add(n);
    }
    return [...seen].sort((a, b) => a - b);
  };
  assert.deepEqual(budgets(1), [1]);
  assert.deepEqual(budgets(4), [2, 3, 4, 5]);
  const wide = budgets(1000);
  assert.ok(
    wide[0] >= 500 && wide[wide.length - 1] <= 1499,
    `${wide[0]}..${wide[wide.length - 1]}`,
  );
  assert.ok(wide.length > 150, "the draws vary");
});
