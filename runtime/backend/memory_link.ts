/**
 * The in-memory link between the script and a stack in the same process.
 * The stack's output lands in a queue that `receive` drains, letting the
 * clock run (and the stack's timers fire) until a datagram is there or the
 * deadline passes. Datagrams are handed over as they are, without copies.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { VirtualClock } from "../engine/clock.ts";
 * import { MemoryLink } from "./memory_link.ts";
 * const clock = new VirtualClock();
 * const echo: Uint8Array[] = [];
 * const link = new MemoryLink(clock, (b) => echo.push(b));
 * link.send(new Uint8Array([1]));
 * assert.equal(echo.length, 1);
 * clock.setTimer(500, () => link.fromStack(new Uint8Array([2])));
 * const got = await link.receive(1000);
 * assert.deepEqual([got?.bytes[0], got?.time], [2, 500]);
 * assert.equal(await link.receive(2000), undefined);
 * assert.equal(clock.now(), 2000);
 * ```
 */
import type { Clock } from "../engine/clock.ts";
import type { Backend, Received } from "../engine/target.ts";

/** A `Backend` over a function call in one direction and a queue in the other. */
export class MemoryLink implements Backend {
  readonly #clock: Clock;
  readonly #deliver: (bytes: Uint8Array) => void;
  #queue: Received[] = [];
  #head = 0;
  #closed = false;
  onPacket: ((bytes: Uint8Array, time: number) => void) | undefined;
  readonly checksumsTrusted: boolean;

  /**
   * `deliver` hands an injected datagram to the stack under test.
   * `checksumsTrusted` says the stack's output comes from synack's encoder.
   */
  constructor(clock: Clock, deliver: (bytes: Uint8Array) => void, checksumsTrusted = false) {
    this.#clock = clock;
    this.#deliver = deliver;
    this.checksumsTrusted = checksumsTrusted;
  }

  /** The stack's output function: queues one datagram for `receive`. */
  fromStack(bytes: Uint8Array): void {
    if (this.#closed) return;
    if (this.onPacket) this.onPacket(bytes, this.#clock.now());
    else this.#queue.push({ bytes, time: this.#clock.now() });
    this.#clock.poke();
  }

  send(bytes: Uint8Array): void {
    if (this.#closed) throw new RangeError("Cannot send: the memory link is closed");
    this.#deliver(bytes);
  }

  async receive(deadline: number): Promise<Received | undefined> {
    await this.#clock.waitFor(() => this.#head < this.#queue.length, deadline);
    return this.takeNow();
  }

  takeNow(): Received | undefined {
    if (this.#head >= this.#queue.length) return undefined;
    const r = this.#queue[this.#head++];
    if (this.#head > 64 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    return r;
  }

  pending(): number {
    return this.#queue.length - this.#head;
  }

  close(): void {
    this.#closed = true;
    this.#queue = [];
    this.#head = 0;
  }
}
