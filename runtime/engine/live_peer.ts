/**
 * The script's own peer stack, live against the stack under test, with the
 * path between them: the peer's datagrams cross the path and go in like the
 * script's own; the stack's cross it back to the peer. Whatever the path
 * stops is marked on its trace event (or traced with the mark, when it never
 * had one).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defineScenario } from "../../dsl/scenario_def.ts";
 * import { listen, peer } from "../../dsl/socket_steps.ts";
 * import { builtinPeer, builtinTarget } from "../stack/builtin_target.ts";
 * import { runScenario } from "./runner.ts";
 * const sc = defineScenario("peer", [listen(8080), peer.auto(), peer.socket(), peer.connect(8080).returns(0)], { register: false });
 * const r = await runScenario(sc, { target: builtinTarget(), makePeer: builtinPeer });
 * assert.equal(r.ok, true, r.failure?.message);
 * assert.ok(r.trace.events.some((e) => e.kind === "packet" && e.by === "peer"));
 * ```
 */
import type { Step } from "../../dsl/steps.ts";
import { parsePacket } from "../wire/packet.ts";
import { ScenarioFailure } from "./failure.ts";
import type { PacketEvent, PacketLog } from "./packet_log.ts";
import { Path } from "./path.ts";
import type { Peer, PeerFactory, Target } from "./target.ts";
import type { Trace } from "./trace.ts";

/** The peer stack and the path between it and the stack under test. */
export class LivePeer {
  readonly path: Path;
  readonly #t: Target;
  readonly #makePeer?: PeerFactory;
  readonly #log: PacketLog;
  readonly #trace: Trace;
  readonly #ended: AbortSignal;
  /** The trace event of each of the stack's datagrams while live, for the path's marks. */
  readonly #events = new WeakMap<Uint8Array, PacketEvent>();
  #peer: Peer | undefined;

  constructor(
    o: { target: Target; makePeer?: PeerFactory; log: PacketLog; trace: Trace; ended: AbortSignal },
  ) {
    this.#t = o.target;
    this.#makePeer = o.makePeer;
    this.#log = o.log;
    this.#trace = o.trace;
    this.#ended = o.ended;
    this.path = new Path(o.target.clock, (bytes, from, text) => this.mark(bytes, from, text));
  }

  /** Turns live mode on (the peer answers everything the stack sends) or off. */
  live(on: boolean, s: Step): void {
    if (!on) return this.#log.manual();
    this.ensure(s);
    this.#log.live((bytes, e) => this.#toPeer(bytes, e));
  }

  /** The peer stack, made on first use. */
  ensure(s: Step): Peer {
    if (this.#peer) return this.#peer;
    if (!this.#makePeer) throw new ScenarioFailure("peer: this run has no peer stack", s.at);
    const t = this.#t;
    // The peer's datagrams cross the path, then go in like the script's own.
    this.#peer = this.#makePeer(t.clock, (bytes) => {
      void this.path.cross(bytes, "peer", (b, marks) => {
        if (this.#ended.aborted) return;
        void this.#log.inject(
          b,
          parsePacket(b, "raw", { verify: false }),
          "peer",
          undefined,
          marks,
        );
      });
    }, { v4: t.v4, v6: t.v6 });
    return this.#peer;
  }

  /** One of the stack's datagrams, live: across the path to the peer stack. */
  #toPeer(bytes: Uint8Array, e: PacketEvent): void {
    this.#events.set(bytes, e);
    void this.path.cross(bytes, "target", (b, marks) => {
      if (marks.length) (e.path ??= []).push(...marks);
      // Held, then released: it did reach the peer.
      delete e.stopped;
      const c = this.#t.clock;
      // Deferred to a timer so the stack under test is never re-entered from its own output.
      c.setTimer(c.now(), () => this.#peer?.input(b));
    });
  }

  /** A datagram the path dropped or held: marked on its event, or traced with the mark. */
  mark(bytes: Uint8Array, from: string, text: string): void {
    const e = this.#events.get(bytes);
    if (e) {
      (e.path ??= []).push(text);
      e.stopped = true;
      return;
    }
    this.#trace.add({
      kind: "packet",
      dir: from === "target" ? "out" : "in",
      time: this.#t.clock.now(),
      bytes,
      by: from === "peer" ? "peer" : undefined,
      path: [text],
      stopped: true,
    });
  }
}
