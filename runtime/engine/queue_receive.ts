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
    const next = queue.shift();
    if (next) return next;
    if (deadline - clock.now() <= 0) return undefined;
    await clock.waitFor(
      () => queue.length > 0 || o.stopped() || signal?.aborted === true,
      deadline,
    );
  }
}
