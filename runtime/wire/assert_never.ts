/**
 * Closes an exhaustive `switch` over a discriminated union: the compiler
 * rejects the call if a case is missing, and at run time it throws.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { assertNever } from "./assert_never.ts";
 * type Kind = { kind: "a" } | { kind: "b" };
 * const name = (k: Kind) => {
 *   switch (k.kind) {
 *     case "a": return "A";
 *     case "b": return "B";
 *     default: return assertNever(k);
 *   }
 * };
 * assert.equal(name({ kind: "b" }), "B");
 * assert.throws(() => assertNever({ kind: "c" } as never), TypeError);
 * ```
 */
export function assertNever(x: never, what = "value"): never {
  throw new TypeError(`Unhandled ${what}: ${JSON.stringify(x)}`);
}
