// Two built-in stacks moving data over a lossy in-memory link: every byte arrives, in order.
import assert from "node:assert/strict";
import fc from "fast-check";
import { profiles } from "../mod.ts";
import { bulkTransfer } from "../runtime/stack/bulk_transfer.ts";

Deno.test("bulkTransfer() delivers every byte in order at any loss up to 5 %, SACK or not", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 2 ** 31 }),
      fc.double({ min: 0, max: 0.05, noNaN: true }),
      fc.boolean(),
      (seed, loss, sack) => {
        const profile = sack ? profiles.linux : { ...profiles.linux, name: "nosack", sack: false };
        const r = bulkTransfer({ bytes: 150_000, loss, seed, profile, buffer: 65536 });
        assert.equal(r.received, 150_000);
        if (loss === 0) assert.equal(r.retransmitted, 0);
      },
    ),
    { numRuns: 25 },
  );
});

Deno.test("bulkTransfer() recovers 1 % loss mostly by fast retransmit, not timeouts", () => {
  const r = bulkTransfer({ bytes: 5_000_000, loss: 0.01, seed: 3 });
  assert.equal(r.received, 5_000_000);
  assert.ok(r.dropped > 20, `dropped ${r.dropped}`);
  // Each RTO costs at least 200 ms of protocol time; few may happen.
  assert.ok(r.virtualMs < 2_000, `took ${r.virtualMs} ms of protocol time`);
});
