import assert from "node:assert/strict";
import fc from "fast-check";
import { checkResult } from "../runtime/engine/call_check.ts";

/** `bytes` placed `offset` bytes into a larger buffer, as a read's result or a slab view may be. */
function at(bytes: Uint8Array, offset: number): Uint8Array {
  const buf = new Uint8Array(offset + bytes.length);
  buf.set(bytes, offset);
  return buf.subarray(offset);
}

Deno.test("read().returns(bytes): equal bytes pass at every alignment, one changed byte fails", () => {
  // Lengths past 64 take the four-bytes-a-load path; offsets put either side off alignment.
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 1, maxLength: 400 }),
      fc.nat(7),
      fc.nat(7),
      fc.nat(),
      fc.integer({ min: 1, max: 255 }),
      (bytes, wantAt, gotAt, pick, flip) => {
        const want = at(bytes, wantAt);
        const got = at(bytes, gotAt);
        assert.equal(
          checkResult({ kind: "value", value: want }, { ok: true, value: got }),
          undefined,
        );
        got[pick % got.length] ^= flip;
        assert.match(
          checkResult({ kind: "value", value: want }, { ok: true, value: got }) ?? "",
          new RegExp(`^result: want .*, got ${bytes.length} bytes`),
        );
      },
    ),
    { numRuns: 2000 },
  );
});
