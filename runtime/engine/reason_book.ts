/**
 * A stack's own account of why it reset or dropped what it did, kept by
 * datagram: the built-in stack writes here as it decides, in the kernel's
 * reason names, so nothing needs to wait (`settle()` returns undefined).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ReasonBook } from "./reason_book.ts";
 * const book = new ReasonBook();
 * const seg = new Uint8Array([0x45]);
 * book.drop(seg, "TCP_RFC7323_PAWS_ACK");
 * book.drop(seg, "TCP_FLAGS"); // the first word stands
 * assert.deepEqual(book.of(seg), { source: "builtin", kind: "drop", name: "TCP_RFC7323_PAWS_ACK" });
 * ```
 */
import type { DropReason, PacketReason, RstReason } from "../wire/stack_reasons.ts";
import type { StackReasons } from "./target.ts";

/** Reasons by datagram, as the built-in stack gives them. */
export class ReasonBook implements StackReasons {
  readonly #book = new WeakMap<Uint8Array, PacketReason>();

  /** The stack dropped `bytes` (a datagram it was given); the first reason given stands. */
  drop(bytes: Uint8Array, name: DropReason): void {
    if (!this.#book.has(bytes)) this.#book.set(bytes, { source: "builtin", kind: "drop", name });
  }

  /** The stack sent the RST `bytes` for `name`, its socket in `state` (none for no socket). */
  reset(bytes: Uint8Array, name: RstReason, state?: string): void {
    this.#book.set(bytes, { source: "builtin", kind: "rst", name, ...(state ? { state } : {}) });
  }

  of(bytes: Uint8Array): PacketReason | undefined {
    return this.#book.get(bytes);
  }

  settle(): undefined {
    return undefined;
  }
}
