/**
 * The one error type that decoding throws. Every parser in `runtime/wire`
 * either returns a value or throws a `DecodeError`; anything else escaping a
 * parser is a bug (the property tests hold us to that).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DecodeError } from "./decode_error.ts";
 * const e = new DecodeError("TCP header", "data offset 4 is below 5");
 * assert.equal(e.message, "Cannot parse TCP header: data offset 4 is below 5");
 * assert.ok(e instanceof RangeError);
 * ```
 */
export class DecodeError extends RangeError {
  /** What was being decoded, e.g. `"TCP header"`. */
  readonly layer: string;
  /** Why it could not be decoded, without the layer prefix. */
  readonly reason: string;

  constructor(layer: string, reason: string) {
    super(`Cannot parse ${layer}: ${reason}`);
    this.name = "DecodeError";
    this.layer = layer;
    this.reason = reason;
  }
}
