/**
 * The addresses of a conversation's two ends: the stack under test
 * (`local`) and the script, or its peer (`remote`). A module of its own so
 * that flows, which number packets by these, need nothing else of a target.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Endpoints } from "./endpoints.ts";
 * const e: Endpoints = { local: new Uint8Array([192, 168, 0, 1]), remote: new Uint8Array([192, 0, 2, 1]) };
 * assert.equal(e.local.length, 4);
 * ```
 */

/** Addresses of the two ends: the stack under test (`local`) and the script (`remote`). */
export interface Endpoints {
  local: Uint8Array;
  remote: Uint8Array;
}
