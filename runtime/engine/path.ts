/**
 * The path between two stacks, with the script on it. Every datagram that
 * crosses (the peer stack's towards the stack under test and back, or one
 * host's towards another on a topology link) goes through `cross()`, which
 * applies the scenario's path rules in the order they were set, then the
 * seeded impairment, and hands the datagram on (or not) with marks that say
 * what the path did: `dropped by path.drop (file.ts:12)`, `delayed 30 ms`,
 * `rewritten tcp.win 0`.
 *
 * Patterns match as `expect()` patterns do; seq and ack are relative to the
 * ISN of each direction, learnt from the SYNs that crossed. Randomness comes
 * from the impairment's seed alone, so a run on the virtual clock repeats
 * exactly, and a real-clock run makes the same choices for the same
 * sequence of segments.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ack, syn } from "../../dsl/packet_builder.ts";
 * import { path } from "../../dsl/path_steps.ts";
 * import { emitPacket } from "../wire/packet.ts";
 * import { Flows } from "./flow.ts";
 * import { VirtualClock } from "./clock.ts";
 * import { builtinTarget } from "../stack/builtin_target.ts";
 * import { Path } from "./path.ts";
 * const flows = new Flows(builtinTarget().v4, 40000, () => 0);
 * const p = new Path(new VirtualClock(), () => {});
 * p.apply(path.drop(syn()).step);
 * const got: string[][] = [];
 * const send = (b: Uint8Array) => p.cross(b, "peer", (_b, marks) => got.push(marks));
 * await send(emitPacket(flows.resolve(syn().ports(40000, 80).def)));
 * await send(emitPacket(flows.resolve(ack().ports(40000, 80).def)));
 * assert.deepEqual(got, [[]]);
 * assert.equal(p.stats.dropped, 1);
 * ```
 */
import type { Impairment, PathOp, PathSelect, RewriteFields, Step } from "../../dsl/steps.ts";
import type { PacketDef } from "../../dsl/packet_builder.ts";
import { formatLocation } from "../../dsl/source_location.ts";
import { any, PredicatePending, withPredicates } from "../../dsl/matcher.ts";
import { assertNever } from "../wire/assert_never.ts";
import { Ipv4View } from "../wire/ipv4.ts";
import { datagramEnds, type Packet, parsePacket, tcpStart } from "../wire/packet.ts";
import { TcpFlag, TcpView } from "../wire/tcp.ts";
import { address } from "../wire/address.ts";
import type { Clock } from "./clock.ts";
import { mulberry32 } from "./mulberry32.ts";
import { comparePattern, type Pattern, resolvePattern } from "./pattern.ts";

/** Hands a datagram on, with what the path did to it. `original` is the datagram as it came. */
export type Deliver = (bytes: Uint8Array, marks: string[], original: Uint8Array) => void;

/** Says what the path did with a datagram that is not handed on now (dropped, held). */
export type Mark = (bytes: Uint8Array, from: string, text: string) => void;

type Select = PathSelect & { readonly op: string };

interface Rule {
  sel: Select;
  /** The pattern as written, resolved once: only the ISN bases change from segment to segment. */
  base: Pattern;
  op: Exclude<PathOp, { op: "impair" | "release" | "clear" }>;
  where: string;
  seen: number;
  applied: number;
}

/** What the path does to one datagram, built up rule by rule. */
interface Verdict {
  out: Uint8Array;
  marks: string[];
  copies: number;
  delay: number;
}

interface Held {
  bytes: Uint8Array;
  from: string;
  deliver: Deliver;
  marks: string[];
}

/** How many datagrams the path saw and what it did to them. */
export interface PathStats {
  crossed: number;
  dropped: number;
  delayed: number;
  duplicated: number;
  reordered: number;
  rewritten: number;
  held: number;
}

/** One path, with its rules. */
export class Path {
  readonly #clock: Clock;
  readonly #mark: Mark;
  #rules: Rule[] = [];
  #impair: (Impairment & { rng: () => number }) | undefined;
  #held: Held[] = [];
  /** Crossings waiting on an earlier one; the chain keeps them in order. */
  #busy = 0;
  #tail: Promise<void> = Promise.resolve();
  /** A segment held back by reorder, per direction, until the next one has passed. */
  readonly #behind = new Map<string, Held>();
  /** ISNs seen in SYNs, by `src:port>dst:port`. */
  readonly #isn = new Map<string, number>();
  readonly stats: PathStats = {
    crossed: 0,
    dropped: 0,
    delayed: 0,
    duplicated: 0,
    reordered: 0,
    rewritten: 0,
    held: 0,
  };

  constructor(clock: Clock, mark: Mark) {
    this.#clock = clock;
    this.#mark = mark;
  }

  /** Applies a path step. */
  apply(s: Extract<Step, { kind: "path" }>): void {
    const op = s.op;
    switch (op.op) {
      case "impair":
        this.#impair = { ...op, rng: rng(op.seed) };
        return;
      case "release": {
        const held = this.#held;
        this.#held = [];
        for (const h of held) {
          h.deliver(h.bytes, [...h.marks, "released by path.release()"], h.bytes);
        }
        return;
      }
      case "clear":
        this.#rules = [];
        this.#impair = undefined;
        return;
      case "drop":
      case "delay":
      case "duplicate":
      case "reorder":
      case "rewrite":
      case "hold":
        this.#rules.push({
          sel: op,
          base: resolvePattern(op.match, undefined),
          op,
          where: formatLocation(s.at),
          seen: 0,
          applied: 0,
        });
        return;
      default:
        assertNever(op, "path op");
    }
  }

  /** True when a rule or an impairment may act on what crosses. */
  get active(): boolean {
    return this.#rules.length > 0 || this.#impair !== undefined || this.#busy > 0;
  }

  /**
   * One datagram crossing from `from`. Datagrams move on in the order they
   * came; one whose rules compare with a remote predicate (`where()` in a
   * sandboxed file) waits for the answer, and those behind it wait too.
   */
  cross(bytes: Uint8Array, from: string, deliver: Deliver): Promise<void> {
    if (!this.#rules.length && !this.#impair && !this.#busy) {
      // Nothing to decide: the fast path, in order because nothing is queued.
      this.stats.crossed++;
      this.#learnBytes(bytes);
      deliver(bytes, [], bytes);
      this.#releaseBehind(from);
      return Promise.resolve();
    }
    const packet = parseOrNot(bytes);
    if (!this.#busy) {
      // Decided now when it can be, so a virtual clock's run of timers sees the result at once.
      let hits: Set<Rule> | undefined;
      try {
        hits = this.#hits(packet, from);
      } catch (e) {
        if (!(e instanceof PredicatePending)) throw e;
      }
      if (hits) {
        this.#act(bytes, packet, from, deliver, hits);
        return Promise.resolve();
      }
    }
    this.#busy++;
    const done = this.#tail.then(async () => {
      const hits = await withPredicates(() => this.#hits(packet, from));
      this.#act(bytes, packet, from, deliver, hits);
    }).finally(() => {
      this.#busy--;
    });
    this.#tail = done.catch(() => {});
    return done;
  }

  #learnBytes(bytes: Uint8Array): void {
    // SYNs only: the rest need no parse on the fast path.
    const off = tcpStart(bytes);
    if (off === undefined || !(bytes[off + 13] & TcpFlag.SYN)) return;
    try {
      this.#learn(parsePacket(bytes, "raw", { verify: false }));
    } catch { /* not decodable: nothing to learn */ }
  }

  /** The rules whose pattern `packet` matches (pure: a pending predicate throws before any change). */
  #hits(packet: Packet | undefined, from: string): Set<Rule> {
    const hits = new Set<Rule>();
    if (!packet) return hits;
    // A SYN's own ISN numbers its own seq (relative 0), as expect() reads it.
    this.#learn(packet);
    for (const r of this.#rules) {
      if (r.sel.from !== undefined && r.sel.from !== from) continue;
      if (!comparePattern(this.#rebase(r.base, packet), packet).length) hits.add(r);
    }
    return hits;
  }

  /** What crossing does to a datagram: the bytes that go on, their marks, copies, delay. */
  #act(
    bytes: Uint8Array,
    packet: Packet | undefined,
    from: string,
    deliver: Deliver,
    hits: Set<Rule>,
  ): void {
    this.stats.crossed++;
    if (packet) this.#learn(packet);
    const v: Verdict = { out: bytes, marks: [], copies: 1, delay: 0 };
    if (packet && !this.#byRules(v, bytes, from, deliver, hits)) return;
    if (!this.#byImpairment(v, bytes, from, deliver)) return;
    const send = () => {
      for (let i = 0; i < v.copies; i++) deliver(v.out, v.marks, bytes);
      this.#releaseBehind(from);
    };
    if (v.delay > 0) this.#clock.setTimer(this.#clock.now() + v.delay, send);
    else send();
  }

  /** The rules the datagram matched, in the order they were set; false when one stopped it. */
  #byRules(v: Verdict, bytes: Uint8Array, from: string, deliver: Deliver, hits: Set<Rule>) {
    for (const r of [...this.#rules]) {
      if (!hits.has(r) || !this.#count(r)) continue;
      const by = `path.${r.op.op} (${r.where})`;
      switch (r.op.op) {
        case "drop":
          this.stats.dropped++;
          this.#mark(bytes, from, `dropped by ${by}`);
          return false;
        case "hold":
          this.stats.held++;
          this.#mark(bytes, from, `held by ${by}`);
          this.#held.push({ bytes: v.out, from, deliver, marks: v.marks });
          return false;
        case "delay":
          this.stats.delayed++;
          v.delay += r.op.ms;
          v.marks.push(`delayed ${r.op.ms} ms by ${by}`);
          break;
        case "duplicate":
          this.stats.duplicated++;
          v.copies++;
          v.marks.push(`duplicated by ${by}`);
          break;
        case "rewrite":
          this.stats.rewritten++;
          v.out = rewrite(v.out, r.op.fields);
          v.marks.push(`rewritten ${describeRewrite(r.op.fields)} by ${by}`);
          break;
        case "reorder":
          this.stats.reordered++;
          this.#holdBehind({
            bytes: v.out,
            from,
            deliver,
            marks: [...v.marks, `reordered by ${by}`],
          });
          return false;
        default:
          assertNever(r.op, "path rule");
      }
    }
    return true;
  }

  /** Counts a match; true when the rule acts on it. A rule that is done is removed. */
  #count(r: Rule): boolean {
    r.seen++;
    const nth = r.sel.nth;
    const applies = nth ? nth.includes(r.seen) : r.sel.count === "all" || r.applied < r.sel.count;
    if (applies) r.applied++;
    const done = nth
      ? r.seen >= Math.max(...nth)
      : r.sel.count !== "all" && r.applied >= r.sel.count;
    if (done) this.#rules = this.#rules.filter((x) => x !== r);
    return applies;
  }

  /** The seeded impairment; false when it lost the datagram or held it back. */
  #byImpairment(v: Verdict, bytes: Uint8Array, from: string, deliver: Deliver): boolean {
    const imp = this.#impair;
    if (!imp || (imp.from !== undefined && imp.from !== from)) return true;
    // Every chance is drawn for every datagram, so one setting does not shift another's draws.
    const [lose, dup, reorder, jitter] = [imp.rng(), imp.rng(), imp.rng(), imp.rng()];
    if (lose < imp.loss) {
      this.stats.dropped++;
      this.#mark(bytes, from, `lost by path.impair (seed ${imp.seed})`);
      return false;
    }
    if (dup < imp.duplicate) {
      this.stats.duplicated++;
      v.copies++;
      v.marks.push(`duplicated by path.impair (seed ${imp.seed})`);
    }
    const extra = imp.delayMs + jitter * imp.jitterMs;
    if (extra > 0) {
      v.delay += extra;
      v.marks.push(`delayed ${extra.toFixed(1)} ms by path.impair`);
    }
    if (reorder < imp.reorder) {
      this.stats.reordered++;
      this.#holdBehind({
        bytes: v.out,
        from,
        deliver,
        marks: [...v.marks, "reordered by path.impair"],
      });
      return false;
    }
    return true;
  }

  #holdBehind(h: Held): void {
    const before = this.#behind.get(h.from);
    this.#behind.set(h.from, h);
    // A second one held back before any passed: the first goes now, still out of order.
    if (before) before.deliver(before.bytes, before.marks, before.bytes);
  }

  #releaseBehind(from: string): void {
    const h = this.#behind.get(from);
    if (!h) return;
    this.#behind.delete(from);
    h.deliver(h.bytes, h.marks, h.bytes);
  }

  /** Learns each direction's ISN from the SYNs that cross. */
  #learn(p: Packet): void {
    const t = p.transport;
    if (t.kind !== "tcp" || !(t.flags & TcpFlag.SYN)) return;
    this.#isn.set(key(p.ip.src, t.srcPort, p.ip.dst, t.dstPort), t.seq);
  }

  /**
   * `def` as a pattern for `p`, which crossed this path: only the fields it
   * sets, seq and ack relative to the ISNs of `p`'s two directions.
   */
  patternFor(def: PacketDef, p: Packet): Pattern {
    this.#learn(p);
    return this.#rebase(resolvePattern(def, undefined), p);
  }

  /** `pat` with seq and ack relative to the ISNs of `p`'s directions (looked up only if it asks). */
  #rebase(pat: Pattern, p: Packet): Pattern {
    const t = p.transport;
    if (t.kind !== "tcp" || (pat.seq.want === any && pat.ack.want === any)) return pat;
    const own = this.#isn.get(key(p.ip.src, t.srcPort, p.ip.dst, t.dstPort)) ?? 0;
    const other = this.#isn.get(key(p.ip.dst, t.dstPort, p.ip.src, t.srcPort)) ?? 0;
    return {
      ...pat,
      seq: { ...pat.seq, base: own, self: false },
      ack: { ...pat.ack, base: other },
    };
  }
}

function key(src: Uint8Array, sp: number, dst: Uint8Array, dp: number): string {
  return `${address.format(src)}:${sp}>${address.format(dst)}:${dp}`;
}

function rng(seed: number): () => number {
  const next = mulberry32(seed);
  return () => next() / 2 ** 32;
}

/** `tcp.win 0, ip.ttl 1, tcp.seq +1000000` */
export function describeRewrite(f: RewriteFields): string {
  return Object.entries(f).map(([k, v]) => {
    const delta = k.endsWith("Delta");
    const name = delta ? k.slice(0, -5) : k;
    return `${name === "ttl" ? "ip" : "tcp"}.${name} ${delta && v >= 0 ? "+" : ""}${v}`;
  }).join(", ");
}

/** A copy of `bytes` with the fields overwritten and the checksums made right again. */
export function rewrite(bytes: Uint8Array, f: RewriteFields): Uint8Array {
  const b = bytes.slice();
  const v4 = b[0] >> 4 === 4;
  const ihl = v4 ? (b[0] & 0xf) * 4 : 40;
  if (f.ttl !== undefined) {
    if (v4) b[8] = f.ttl;
    else b[7] = f.ttl;
  }
  const proto = v4 ? b[9] : b[6];
  if (proto === 6 && b.length >= ihl + 20) {
    const t = new TcpView(b.subarray(ihl));
    if (f.win !== undefined) t.window = f.win;
    if (f.flags !== undefined) t.flags = f.flags;
    if (f.seq !== undefined) t.seq = f.seq;
    if (f.ack !== undefined) t.ack = f.ack;
    if (f.seqDelta !== undefined) t.seq = (t.seq + f.seqDelta) >>> 0;
    if (f.ackDelta !== undefined) t.ack = (t.ack + f.ackDelta) >>> 0;
    if (f.urg !== undefined) t.urgent = f.urg;
    t.fillChecksum(datagramEnds(b));
  }
  if (v4) new Ipv4View(b).fillChecksum();
  return b;
}

function parseOrNot(bytes: Uint8Array): Packet | undefined {
  try {
    return parsePacket(bytes, "raw", { verify: false });
  } catch {
    return undefined; // not IP: it crosses untouched
  }
}
