/**
 * `Backend.receive` for a backend that queues what its stack sends: the
 * next datagram, waiting on the clock (which the backend pokes when one
 * arrives) until the deadline, the signal, or the backend stopping.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { VirtualClock } from "./clock.ts";
 * import { receiveQueued } from "./queue_receive.ts";
 * import type { Received } from "./target.ts";
 * const clock = new VirtualClock();
 * const queue: Received[] = [{ bytes: new Uint8Array([0x45]), time: 0 }];
 * assert.equal((await receiveQueued(queue, clock, 10, undefined, { stopped: () => false }))?.time, 0);
 * assert.equal(await receiveQueued(queue, clock, 10, undefined, { stopped: () => false }), undefined);
 * // Stamped after the deadline: not returned, and kept for later.
 * queue.push({ bytes: new Uint8Array([0x45]), time: 12 });
 * assert.equal(await receiveQueued(queue, clock, 10, undefined, { stopped: () => false }), undefined);
 * assert.equal(queue.length, 1);
 * ```
 */
import type { Clock } from "./clock.ts";
import type { Received } from "./target.ts";

/**
 * The next datagram of `queue`; `refill` moves what has arrived into it
 * first (a backend that reads its fd on demand).
 */
export async function receiveQueued(
  queue: Received[],
  clock: Clock,
  deadline: number,
  signal: AbortSignal | undefined,
  o: { stopped: () => boolean; refill?: () => void },
): Promise<Received | undefined> {
  for (;;) {
    if (o.stopped() || signal?.aborted) return undefined;
    o.refill?.();
    // One that arrived after the deadline was not there in time, however late we look: it
    // stays for the next step (on a busy machine the wait for the deadline can wake late).
    if (queue.length && queue[0].time > deadline) return undefined;
    const next = queue.shift();
    if (next) return next;
    if (deadline - clock.now() <= 0) return undefined;
    await clock.waitFor(
      () => queue.length > 0 || o.stopped() || signal?.aborted === true,
      deadline,
    );
  }
}
