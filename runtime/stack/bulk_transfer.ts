/**
 * A bulk transfer between two built-in stacks over an in-memory link that
 * drops datagrams at random (seeded, so a run repeats exactly). It exercises
 * the whole stack: windows, slow start, SACK or NewReno recovery and RTO
 * recovery, and checks every byte that arrives against what was sent.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bulkTransfer } from "./bulk_transfer.ts";
 * const r = bulkTransfer({ bytes: 200_000, loss: 0.02, seed: 7 });
 * assert.equal(r.received, 200_000);
 * assert.ok(r.dropped > 0 && r.retransmitted > 0);
 * ```
 */
import { VirtualClock } from "../engine/clock.ts";
import { mulberry32 } from "../engine/mulberry32.ts";
import type { StackProfile } from "./profile.ts";
import { Stack } from "./stack.ts";

/** What to move and how lossy the link is. */
export interface BulkTransferOptions {
  bytes: number;
  /** Chance that any one datagram, either way, is dropped (0..1). */
  loss?: number;
  seed?: number;
  /** The sender's and receiver's profile (default `linux`). */
  profile?: StackProfile;
  /** SO_SNDBUF / SO_RCVBUF for both sockets (Linux doubles them). Default 1 MiB. */
  buffer?: number;
}

/** How it went. */
export interface BulkTransferResult {
  received: number;
  /** Datagrams that crossed the link, both ways, dropped ones included. */
  datagrams: number;
  dropped: number;
  /** Segments the sender sent again (TCP_INFO total_retrans). */
  retransmitted: number;
  /** Protocol time the transfer took on the virtual clock, in ms. */
  virtualMs: number;
}

/** Runs one transfer from a client stack to a server stack, to completion. */
export function bulkTransfer(o: BulkTransferOptions): BulkTransferResult {
  const clock = new VirtualClock();
  const loss = o.loss ?? 0;
  const next32 = mulberry32(o.seed ?? 1);
  const random = () => next32() / 2 ** 32;
  const a = new Stack({ clock, addresses: ["10.0.0.1"], seed: 1, profile: o.profile });
  const b = new Stack({ clock, addresses: ["10.0.0.2"], seed: 2, profile: o.profile });
  let datagrams = 0, dropped = 0;
  // A link delivers on the next clock step, never inside the sender's own call.
  const link = (to: Stack) => (x: Uint8Array) => {
    datagrams++;
    if (loss > 0 && random() < loss) {
      dropped++;
      return;
    }
    clock.setTimer(clock.now(), () => to.input(x));
  };
  a.output = link(b);
  b.output = link(a);
  const buffer = o.buffer ?? 1 << 20;
  const must = (s: Stack, c: Parameters<Stack["call"]>[0]) => {
    const r = s.call(c).result;
    if (!r?.ok) throw new RangeError(`bulkTransfer: ${c.name} failed: ${JSON.stringify(r)}`);
  };
  for (const [s, name] of [[a, "SO_SNDBUF"], [b, "SO_RCVBUF"]] as const) {
    must(s, { name: "socket" });
    must(s, { name: "setsockopt", fd: 3, opt: { name, value: buffer } });
  }
  must(b, { name: "bind", fd: 3, port: 80 });
  must(b, { name: "listen", fd: 3 });
  a.call({ name: "connect", fd: 3, addr: "10.0.0.2", port: 80 });
  const acc = b.call({ name: "accept", fd: 3 });
  clock.runUntil(() => acc.result !== undefined, 600_000);
  if (!acc.result?.ok) throw new RangeError("bulkTransfer: the handshake did not complete");
  const start = clock.now();
  let sent = 0, received = 0;
  const next = () => {
    const n = Math.min(CHUNK, o.bytes - sent);
    const h = a.call({
      name: "write",
      fd: 3,
      data: PATTERN.subarray(sent & 0xff, (sent & 0xff) + n),
    });
    sent += n;
    return h;
  };
  let pending = next();
  while (received < o.bytes) {
    const r = b.call({ name: "read", fd: 4, count: 1 << 20 });
    clock.runUntil(() => r.result !== undefined, clock.now() + 600_000);
    const v = r.result?.ok ? r.result.value : undefined;
    if (!(v instanceof Uint8Array) || v.length === 0) {
      throw new RangeError(`bulkTransfer: read failed at byte ${received}`);
    }
    for (let i = 0; i < v.length; i += 4093) {
      if (v[i] !== ((received + i) & 0xff) % 251) {
        throw new RangeError(`bulkTransfer: byte ${received + i} arrived wrong`);
      }
    }
    received += v.length;
    if (pending.result !== undefined && sent < o.bytes) pending = next();
  }
  const info = a.connections()[0].info();
  return {
    received,
    datagrams,
    dropped,
    retransmitted: info.totalRetrans,
    virtualMs: clock.now() - start,
  };
}

const CHUNK = 65536;
/** Byte i of the stream is (i mod 256) mod 251; a chunk at offset o is PATTERN[o mod 256, …). */
const PATTERN = Uint8Array.from({ length: CHUNK + 256 }, (_, i) => (i & 0xff) % 251);
