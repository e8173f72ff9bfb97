/**
 * The packets of one link, as the runner sees them: what goes in (the
 * script's injects, the peer stack's segments) and what comes out (the stack
 * under test's), each traced and shown to the flows once. It keeps what a live
 * session took in before a step asked (`observe()`), the bytes of each step's
 * packet (an ICMP error quotes one), and the stack's last datagram.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { syn } from "../../dsl/packet_builder.ts";
 * import { inject } from "../../dsl/steps.ts";
 * import { emitPacket, parsePacket } from "../wire/packet.ts";
 * import { builtinTarget } from "../stack/builtin_target.ts";
 * import { Flows } from "./flow.ts";
 * import { PacketLog } from "./packet_log.ts";
 * import { Trace } from "./trace.ts";
 * const t = builtinTarget();
 * const flows = new Flows(t.v4, 40000, () => 0);
 * const log = new PacketLog(t.backend, t.clock, new Trace(), flows);
 * const bytes = emitPacket(flows.resolve(syn().ports(40000, 9).def));
 * await log.inject(bytes, parsePacket(bytes), "script", 0);
 * const rst = await log.receive(1000, new AbortController().signal);
 * assert.equal(rst?.packet.transport.kind, "tcp");
 * assert.equal(log.trace.events.length, 2);
 * ```
 */
import type { PacketDef } from "../../dsl/packet_builder.ts";
import type { Step } from "../../dsl/steps.ts";
import { type Packet, parsePacket } from "../wire/packet.ts";
import type { Clock } from "./clock.ts";
import { ScenarioFailure } from "./failure.ts";
import type { Flows } from "./flow.ts";
import type { Backend, Received } from "./target.ts";
import type { Trace, TraceEvent } from "./trace.ts";

/** A datagram the stack sent, parsed, with its arrival time. */
export type Arrival = Received & { packet: Packet };

/** Who put a datagram on the link towards the stack under test. */
export type Sender = "script" | "peer";

/** A packet event of the trace. */
export type PacketEvent = Extract<TraceEvent, { kind: "packet" }>;

/**
 * In live mode, how many datagrams each way wait for an `expect()` at most;
 * older ones are let go (a peer stack moving megabytes answers them itself).
 */
export const LIVE_QUEUE_LIMIT = 65536;

/** One link's packets, both ways. */
export class PacketLog {
  readonly trace: Trace;
  readonly #backend: Backend;
  readonly #clock: Clock;
  readonly #flows: Flows;
  /** The bytes of each step's packet (injected or matched), by step index. */
  readonly #bytes = new Map<number, Uint8Array>();
  /** Packets `observe()` took in that no step has matched yet. */
  readonly #backlog: Arrival[] = [];
  #lastOut: Uint8Array | undefined;
  /** Live mode: the stack's datagrams, taken as they arrive, and the peer's, as sent. */
  #live: { out: Arrival[]; in: Arrival[] } | undefined;
  /** A datagram that did not parse while live: the next receive fails with it. */
  #broken: ScenarioFailure | undefined;

  constructor(backend: Backend, clock: Clock, trace: Trace, flows: Flows) {
    this.#backend = backend;
    this.#clock = clock;
    this.trace = trace;
    this.#flows = flows;
  }

  /** Sends one datagram to the stack under test, traced; `path` says what the path did to it. */
  inject(
    bytes: Uint8Array,
    packet: Packet,
    by: Sender,
    step?: number,
    path?: string[],
  ): void | Promise<void> {
    const time = this.#clock.now();
    const e: PacketEvent = { kind: "packet", dir: "in", time, bytes, step, by };
    if (path?.length) e.path = path;
    this.trace.add(e);
    if (step !== undefined) this.#bytes.set(step, bytes);
    this.#flows.sent(packet);
    if (this.#live && by === "peer") keepRecent(this.#live.in, { bytes, time, packet });
    return this.#backend.send(bytes);
  }

  /**
   * Live mode: every datagram the stack sends is traced as it arrives and
   * handed to `onOut` (the peer stack, through the path), and kept for
   * `expect()`; the peer's datagrams are kept too, for `expect().from("peer")`.
   */
  live(onOut: (bytes: Uint8Array, event: PacketEvent) => void): void {
    if (this.#live) return;
    const live = { out: [] as Arrival[], in: [] as Arrival[] };
    this.#live = live;
    this.#backend.onPacket = (bytes, time) => {
      const e: PacketEvent = { kind: "packet", dir: "out", time, bytes };
      this.trace.add(e);
      try {
        const packet = parsePacket(bytes, "raw", { verify: !this.#backend.checksumsTrusted });
        this.#lastOut = bytes;
        keepRecent(live.out, { bytes, time, packet });
      } catch (err) {
        this.#broken ??= unparsable(err);
      }
      onOut(bytes, e);
    };
  }

  /** Leaves live mode: the stack's datagrams queue on the link again. */
  manual(): void {
    if (!this.#live) return;
    this.#backend.onPacket = undefined;
    // What arrived while live and no step took is still there for the next expect().
    for (const a of this.#live.out) {
      this.#flows.seen(a.packet);
      this.#backlog.push(a);
    }
    this.#live = undefined;
  }

  /**
   * The next datagram from the stack (or, with `from: "peer"`, from the peer
   * stack): one taken in earlier first, then the link's, until `deadline`.
   */
  async receive(
    deadline: number,
    signal: AbortSignal,
    from?: string,
  ): Promise<Arrival | undefined> {
    if (this.#broken) throw this.#broken;
    const early = from === "peer" ? undefined : this.#backlog.shift();
    if (early) return early;
    const live = this.#live;
    if (!live) {
      if (from === "peer") {
        throw new RangeError(
          'expect().from("peer"): the peer stack is not running: peer.auto() first',
        );
      }
      return await this.#arrive(deadline, signal);
    }
    // Datagrams queued on the link before live mode began come first.
    if (from !== "peer" && this.#backend.pending() > 0) return await this.#arrive(deadline, signal);
    const q = from === "peer" ? live.in : live.out;
    if (!q.length) await this.#clock.waitFor(() => q.length > 0 || signal.aborted, deadline);
    if (this.#broken) throw this.#broken;
    const got = q.shift();
    // The flows see the stack's datagram when a step takes it, as they do when not live: an
    // expect() resolves its defaults against what came before it, not what arrived since.
    if (got && from !== "peer") this.#flows.seen(got.packet);
    return got;
  }

  /**
   * What `receive()` would return at once, taken without a promise: a datagram
   * taken in earlier, or one waiting on a backend that can hand it over now.
   * Undefined when a wait is needed (or in live mode); then call `receive()`.
   */
  receiveNow(from?: string): Arrival | undefined {
    if (this.#broken || from === "peer" || this.#live) return undefined;
    const early = this.#backlog.shift();
    if (early) return early;
    const r = this.#backend.takeNow?.();
    return r && this.#took(r);
  }

  /** Takes in what the stack has sent so far, without waiting. */
  async observe(signal: AbortSignal): Promise<void> {
    while (this.#backend.pending() > 0) {
      const got = await this.#arrive(this.#clock.now(), signal);
      if (!got) break;
      this.#backlog.push(got);
    }
  }

  /** Forgets what `observe()` took in. */
  discardObserved(): void {
    this.#backlog.length = 0;
  }

  /** True while datagrams are waiting to be received. */
  get waiting(): boolean {
    return this.#backlog.length > 0 || this.#backend.pending() > 0 ||
      (this.#live?.out.length ?? 0) > 0;
  }

  /** Marks the datagram traced last as matched by step `index`, and keeps its bytes. */
  matched(index: number, got: Arrival): void {
    // Its event is the last one, or close to it when a peer stack sent meanwhile.
    const ev = this.trace.events;
    for (let i = ev.length - 1; i >= Math.max(0, ev.length - 256); i--) {
      const e = ev[i];
      if (e.kind === "packet" && e.bytes === got.bytes) {
        e.step = index;
        break;
      }
    }
    this.#bytes.set(index, got.bytes);
  }

  /** The bytes step `index` sent or matched. */
  bytesOf(index: number): Uint8Array | undefined {
    return this.#bytes.get(index);
  }

  /**
   * The datagram an injected ICMP error quotes: the one named by `def.quote`
   * among the steps done (latest first), or else the stack's last datagram.
   */
  quote(def: PacketDef, done: readonly Step[]): Uint8Array | undefined {
    if (def.proto !== "icmp") return undefined;
    if (def.quote === undefined) return this.#lastOut;
    for (let i = done.length - 1; i >= 0; i--) {
      const x = done[i];
      const named = x.kind === "inject"
        ? x.packet.label === def.quote
        : x.kind === "expect" && x.alternatives.some((a) => a.label === def.quote);
      if (named && this.#bytes.has(i)) return this.#bytes.get(i);
    }
    throw new RangeError(`quote("${def.quote}") names no earlier packet`);
  }

  /** The next datagram from the backend, traced and seen by the flows. */
  async #arrive(deadline: number, signal: AbortSignal): Promise<Arrival | undefined> {
    const r = await this.#backend.receive(deadline, signal);
    return r && this.#took(r);
  }

  /** A datagram from the backend: traced, parsed, and seen by the flows. */
  #took(r: Received): Arrival {
    this.trace.add({ kind: "packet", dir: "out", time: r.time, bytes: r.bytes });
    let packet: Packet;
    try {
      packet = parsePacket(r.bytes, "raw", { verify: !this.#backend.checksumsTrusted });
    } catch (e) {
      throw unparsable(e);
    }
    this.#flows.seen(packet);
    this.#lastOut = r.bytes;
    return { ...r, packet };
  }
}

function unparsable(e: unknown): ScenarioFailure {
  return new ScenarioFailure(
    `the stack sent a packet that does not parse: ${(e as Error).message}`,
    undefined,
  );
}

/**
 * Queues a datagram for a later `expect()`, letting the oldest half go once
 * the queue passes `LIVE_QUEUE_LIMIT` (live stacks exchange far more than
 * any step names).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { keepRecent, LIVE_QUEUE_LIMIT } from "./packet_log.ts";
 * const q: number[] = [];
 * for (let i = 0; i <= LIVE_QUEUE_LIMIT; i++) keepRecent(q, i);
 * assert.equal(q.length, LIVE_QUEUE_LIMIT / 2);
 * assert.equal(q.at(-1), LIVE_QUEUE_LIMIT);
 * ```
 */
export function keepRecent<T>(q: T[], item: T): void {
  q.push(item);
  if (q.length > LIVE_QUEUE_LIMIT) q.splice(0, q.length - LIVE_QUEUE_LIMIT / 2);
}
