/**
 * The kernel's reason on each RST it sends and each injected segment it
 * drops, attached to the very datagram (see `tracefs.ts` for how the events
 * are read without touching the machine's tracing).
 *
 * How an event finds its datagram, with other runs tracing at the same time:
 * - synack writes each datagram to a TUN device from its main thread, and
 *   the kernel receives it in that thread: one `netif_receive_skb` on that
 *   device, of that length, from this process, in the order of the writes.
 *   That names the segment's skb address until the next one is received.
 * - A `kfree_skb` of that address, before the next receive, is the
 *   segment's drop reason. An RST whose `skbaddr` is that address answers it.
 * - Every RST the kernel sends has its addresses; each RST datagram read
 *   from a device takes the first unclaimed event with its addresses, from
 *   one of this process's threads. One sent from a timer (no thread of ours)
 *   is taken only by an RST no event of ours explains.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ReasonMatcher } from "./kernel_reasons.ts";
 * const m = new ReasonMatcher(() => true);
 * const syn = new Uint8Array(40), rst = new Uint8Array(40);
 * syn[0] = 0x45; rst[0] = 0x45;
 * m.injected("tun0", syn);
 * m.event({ pid: 1, kind: "receive", dev: "tun0", skb: "a1", len: 40 });
 * m.event({ pid: 1, kind: "drop", skb: "a1", reason: "NO_SOCKET", location: "tcp_v4_rcv" });
 * assert.deepEqual(m.of(syn), { source: "kernel", kind: "drop", name: "NO_SOCKET" });
 * ```
 */
import { address } from "../wire/address.ts";
import { datagramEnds, tcpStart } from "../wire/packet.ts";
import type { PacketReason } from "../wire/stack_reasons.ts";
import { TcpFlag } from "../wire/tcp.ts";
import type { StackReasons } from "../engine/target.ts";
import { acquireTracer, type KernelEvent, type KernelTracer, releaseTracer } from "./tracefs.ts";

type ResetEvent = Extract<KernelEvent, { kind: "reset" }> & { seen?: number };

/**
 * How long an RST event waits for its datagram. The pump reads both within
 * milliseconds; an event older than this belongs to another target of this
 * process with the same addresses (its namespace's teardown, say), and would
 * otherwise be paired with a later RST of ours sent from a timer.
 */
const RESET_EVENT_TTL_MS = 2000;

/** `ip:port` as `%pISpc` prints it (`[v6]:port`), for the sender and the receiver of a datagram. */
function ends(bytes: Uint8Array): { src: string; dst: string } | undefined {
  const tcp = tcpStart(bytes);
  if (tcp === undefined) return undefined;
  const { src, dst } = datagramEnds(bytes);
  const port = (o: number) => (bytes[tcp + o] << 8) | bytes[tcp + o + 1];
  const at = (a: Uint8Array, p: number) =>
    a.length === 4 ? `${address.format(a)}:${p}` : `[${address.format(a)}]:${p}`;
  return { src: at(src, port(0)), dst: at(dst, port(2)) };
}

const isRst = (bytes: Uint8Array) => {
  const tcp = tcpStart(bytes);
  return tcp !== undefined && (bytes[tcp + 13] & TcpFlag.RST) !== 0;
};

const resetReason = (e: ResetEvent): PacketReason => ({
  source: "kernel",
  kind: "rst",
  name: e.reason,
  ...(e.state ? { state: e.state } : {}),
});

/**
 * The datagrams this process wrote and the kernel has not yet been seen to
 * receive, across every target and host: the receive events come in the
 * order of the writes, whichever namespace (and device of the same name)
 * each went to. The first matcher to see an event claims its write for all.
 */
export class WriteQueue {
  readonly #writes: { dev: string; bytes: Uint8Array; owner: object }[] = [];
  readonly #claims = new WeakMap<KernelEvent, { bytes: Uint8Array; owner: object } | null>();

  push(dev: string, bytes: Uint8Array, owner: object): void {
    this.#writes.push({ dev, bytes, owner });
    if (this.#writes.length > 4096) this.#writes.shift();
  }

  /** The write a receive event is of, or null (not one of ours). */
  claim(e: Extract<KernelEvent, { kind: "receive" }>): { bytes: Uint8Array; owner: object } | null {
    const known = this.#claims.get(e);
    if (known !== undefined) return known;
    const i = this.#writes.findIndex((w) => w.dev === e.dev && w.bytes.length === e.len);
    // Writes before it whose events were lost keep no reason.
    const w = i < 0 ? null : this.#writes.splice(0, i + 1)[i];
    this.#claims.set(e, w);
    return w;
  }
}

const processWrites = new WriteQueue();

/** The bookkeeping, apart from where events come from. `ours(pid)`: a thread of this process. */
export class ReasonMatcher {
  readonly #ours: (pid: number) => boolean;
  readonly #book = new WeakMap<Uint8Array, PacketReason>();
  readonly #writes: WriteQueue;
  /** The last received segment's skb, until the next one. */
  #current: { skb: string; bytes: Uint8Array } | undefined;
  readonly #resets: ResetEvent[] = [];
  readonly #foreign: ResetEvent[] = [];
  readonly #rsts: { bytes: Uint8Array; src: string; dst: string }[] = [];

  readonly #sentHere: (bytes: Uint8Array) => boolean;

  constructor(
    ours: (pid: number) => boolean,
    writes: WriteQueue = new WriteQueue(),
    sentHere: (bytes: Uint8Array) => boolean = () => true,
  ) {
    this.#ours = ours;
    this.#writes = writes;
    this.#sentHere = sentHere;
  }

  /** A datagram about to be written to `dev`. */
  injected(dev: string, bytes: Uint8Array): void {
    this.#writes.push(dev, bytes, this);
  }

  /** A datagram the kernel sent (or, on a router, forwarded: `sentHere` tells them apart). */
  received(bytes: Uint8Array): void {
    if (!isRst(bytes) || !this.#sentHere(bytes)) return;
    const e = ends(bytes);
    if (!e) return;
    this.#rsts.push({ bytes, ...e });
    if (this.#rsts.length > 256) this.#rsts.shift();
    this.#pair(this.#resets);
  }

  /** One kernel event, in the order the kernel recorded them. */
  event(e: KernelEvent): void {
    switch (e.kind) {
      case "receive": {
        const w = this.#writes.claim(e);
        // Another write of this process, or a datagram of someone else's: ours is done.
        this.#current = w?.owner === this ? { skb: e.skb, bytes: w.bytes } : undefined;
        return;
      }
      case "drop":
        // A segment taken into a queue and purged with it later was not dropped on arrival.
        if (e.reason === "QUEUE_PURGE") return;
        if (this.#current?.skb === e.skb && !this.#book.has(this.#current.bytes)) {
          this.#book.set(this.#current.bytes, { source: "kernel", kind: "drop", name: e.reason });
        }
        return;
      case "reset": {
        // One that answers a segment belongs to whoever wrote that segment.
        if (e.skb && this.#current?.skb !== e.skb) return;
        const list = this.#ours(e.pid) ? this.#resets : this.#foreign;
        // An RST that answers a segment goes to its sender, whatever socket the event names
        // (a listener prints its own wildcard addresses).
        const answered = e.skb && this.#current?.skb === e.skb
          ? ends(this.#current.bytes)
          : undefined;
        const seen = performance.now();
        list.push(answered ? { ...e, src: answered.dst, dst: answered.src, seen } : { ...e, seen });
        if (list.length > 256) list.shift();
        this.#pair(this.#resets);
        return;
      }
      case "marker":
        return;
    }
  }

  /** After a sync: an RST no event of ours explains takes one from elsewhere (a timer). */
  settled(): void {
    this.#pair(this.#foreign);
  }

  #pair(events: ResetEvent[]): void {
    const stale = performance.now() - RESET_EVENT_TTL_MS;
    for (let k = events.length - 1; k >= 0; k--) {
      if ((events[k].seen ?? Infinity) < stale) events.splice(k, 1);
    }
    for (let i = 0; i < this.#rsts.length;) {
      const r = this.#rsts[i];
      const k = events.findIndex((e) => e.src === r.src && e.dst === r.dst);
      if (k < 0) {
        i++;
        continue;
      }
      this.#book.set(r.bytes, resetReason(events.splice(k, 1)[0]));
      this.#rsts.splice(i, 1);
    }
  }

  /** The reason known for a datagram. */
  of(bytes: Uint8Array): PacketReason | undefined {
    return this.#book.get(bytes);
  }
}

/** Whether `tid` is a thread of this process. */
function ourThread(tid: number): boolean {
  if (tid === Deno.pid) return true;
  try {
    Deno.statSync(`/proc/self/task/${tid}`);
    return true;
  } catch {
    return false;
  }
}

/** A target's reasons: the process's tracer, matched to this target's datagrams. */
export class KernelReasons implements StackReasons {
  readonly unavailable?: string;
  readonly #matcher: ReasonMatcher;
  readonly #stop: (() => void) | undefined;
  readonly #sync: (() => Promise<void>) | undefined;
  #closed = false;

  private constructor(
    unavailable: string | undefined,
    sentHere?: (bytes: Uint8Array) => boolean,
    tracer?: KernelTracer,
  ) {
    this.unavailable = unavailable;
    const m = new ReasonMatcher(ourThread, processWrites, sentHere);
    this.#matcher = m;
    this.#stop = tracer?.listen((e) => m.event(e));
    this.#sync = tracer && (() => tracer.sync());
  }

  /**
   * Starts (or joins) the process's tracer. `sentHere` tells the datagrams
   * this kernel sent from those it forwarded (a router's): by source address.
   * Never throws: where it cannot, `unavailable` says why.
   */
  static async open(sentHere?: (bytes: Uint8Array) => boolean): Promise<KernelReasons> {
    const t = await acquireTracer();
    if (typeof t === "string") return new KernelReasons(t);
    return new KernelReasons(undefined, sentHere, t);
  }

  /** For a target that does not trace (`reasons: false`). */
  static off(why: string): KernelReasons {
    return new KernelReasons(why);
  }

  injected(dev: string, bytes: Uint8Array): void {
    if (!this.unavailable) this.#matcher.injected(dev, bytes);
  }

  received(bytes: Uint8Array): void {
    if (!this.unavailable) this.#matcher.received(bytes);
  }

  of(bytes: Uint8Array): PacketReason | undefined {
    return this.#matcher.of(bytes);
  }

  async settle(): Promise<void> {
    if (!this.#sync || this.#closed) return;
    await this.#sync();
    this.#matcher.settled();
  }

  /** Lets go of the tracer (the last target to close ends it). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.#stop) return;
    this.#stop();
    await releaseTracer();
  }
}
