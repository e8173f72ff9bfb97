/**
 * The conntrack table of the model: TCP entries found by either of their two
 * tuples (ORIGINAL, the direction of the first segment, and REPLY), each with
 * its tracker, and the verdict of every segment that passes. An entry that
 * ends (a RST before any reply) is removed; one reopened by a SYN is replaced.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CONNTRACK_DEFAULTS } from "./conntrack_settings.ts";
 * import { ConntrackTable } from "./conntrack_table.ts";
 * import { CtState } from "./conntrack_states.ts";
 * const ct = new ConntrackTable(CONNTRACK_DEFAULTS);
 * const a = new Uint8Array([10, 0, 0, 2]), b = new Uint8Array([192, 0, 2, 1]);
 * const seg = (flags: number, seq: number, ack = 0) => ({ seq, ack, flags, window: 65535, payloadLength: 0, options: [] });
 * ct.track({ src: a, dst: b, srcPort: 40000, dstPort: 80 }, seg(0x002, 1000));
 * const v = ct.track({ src: b, dst: a, srcPort: 80, dstPort: 40000 }, seg(0x012, 5000, 1001));
 * assert.deepEqual([v.kind, v.dir, v.state], ["accept", "reply", CtState.SynRecv]);
 * assert.equal(ct.size, 1);
 * ```
 */
import type { ConntrackSettings } from "./conntrack_settings.ts";
import { CtDir } from "./conntrack_states.ts";
import { type CtVerdict, openTracker, TcpTracker, type TrackedSegment } from "./tcp_tracker.ts";

/** A TCP segment's addresses and ports. */
export interface Tuple {
  src: Uint8Array;
  dst: Uint8Array;
  srcPort: number;
  dstPort: number;
}

/** A verdict, which way the segment went relative to its entry, and the entry's tracker. */
export type TableVerdict = CtVerdict & { dir?: "original" | "reply"; tracker?: TcpTracker };

interface Entry {
  tracker: TcpTracker;
  original: string;
  reply: string;
  /** The two tuples, for listing (`conntrack -L`). */
  tuples: { original: Tuple; reply: Tuple };
  /** When the entry times out, in clock ms. */
  expires: number;
}

/** Addresses as one number each (IPv4) or their bytes joined (IPv6): cheap, unique keys. */
function addrKey(a: Uint8Array): string | number {
  if (a.length === 4) return ((a[0] << 24) | (a[1] << 16) | (a[2] << 8) | a[3]) >>> 0;
  return String.fromCharCode(...a);
}

/**
 * The key of a tuple, as the table files it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tupleKey } from "./conntrack_table.ts";
 * const k = tupleKey({ src: new Uint8Array([10, 0, 0, 2]), dst: new Uint8Array([10, 0, 0, 1]), srcPort: 1, dstPort: 2 });
 * assert.equal(k, "167772162:1>167772161:2");
 * ```
 */
export function tupleKey(t: Tuple): string {
  return `${addrKey(t.src)}:${t.srcPort}>${addrKey(t.dst)}:${t.dstPort}`;
}

/** The table. */
export class ConntrackTable {
  settings: ConntrackSettings;
  readonly #byKey = new Map<string, Entry>();
  /** Segments conntrack let through untracked (`conntrack -S`'s `invalid`). */
  invalid = 0;

  constructor(settings: ConntrackSettings) {
    this.settings = settings;
  }

  /** Entries, each counted once. */
  get size(): number {
    return this.#byKey.size / 2;
  }

  /**
   * Files the entry `original` opened under a new reply tuple: after NAT, the
   * reply comes back to the translated address and port, not the inverse of
   * the original tuple.
   */
  natReply(original: Tuple, reply: Tuple): void {
    const e = this.#byKey.get(tupleKey(original));
    if (!e) throw new RangeError("natReply(): no entry for that tuple");
    this.#byKey.delete(e.reply);
    e.reply = tupleKey(reply);
    e.tuples = { original: e.tuples.original, reply };
    this.#byKey.set(e.reply, e);
  }

  /**
   * Whether a tuple is taken, either way, by a live entry other than
   * `self`'s (NAT picks a free one; a connection being bound does not clash
   * with itself, as Linux's is not in the table until it is confirmed).
   */
  taken(t: Tuple, now = 0, self?: TcpTracker): boolean {
    const e = this.#live(tupleKey(t), now);
    return e !== undefined && e.tracker !== self;
  }

  /** The live entries at `now`, each once, oldest first, with its two tuples. */
  entries(now = 0): { tracker: TcpTracker; original: Tuple; reply: Tuple }[] {
    const seen = new Set<Entry>();
    for (const [key, e] of [...this.#byKey]) if (this.#live(key, now)) seen.add(e);
    return [...seen].map((e) => ({ tracker: e.tracker, ...e.tuples }));
  }

  /** The live entry `t` belongs to at `now` (clock ms), and its direction, if any. */
  lookup(t: Tuple, now = 0): { tracker: TcpTracker; dir: CtDir } | undefined {
    const key = tupleKey(t);
    const e = this.#live(key, now);
    if (!e) return undefined;
    return { tracker: e.tracker, dir: key === e.original ? CtDir.Original : CtDir.Reply };
  }

  /**
   * One segment through conntrack at `now` (clock ms): found or new entry,
   * its verdict, the table kept up (timeouts renewed, ended entries gone).
   */
  track(t: Tuple, s: TrackedSegment, now = 0): TableVerdict {
    const key = tupleKey(t);
    const e = this.#live(key, now);
    if (!e) return this.#open(t, key, s, now);
    const dir = key === e.original ? CtDir.Original : CtDir.Reply;
    const v = e.tracker.packet(dir, s);
    if (v.kind === "invalid") this.invalid++;
    if (v.timeout !== undefined) e.expires = now + v.timeout * 1000;
    if (v.end === "killed") this.#remove(e);
    if (v.end === "reopen") {
      // The closed entry goes, and the SYN is looked up again, as a new connection.
      this.#remove(e);
      return this.#open(t, key, s, now);
    }
    return { ...v, dir: dir === CtDir.Original ? "original" : "reply", tracker: e.tracker };
  }

  /** The entry filed under `key`, unless it has timed out (then it is removed). */
  #live(key: string, now: number): Entry | undefined {
    const e = this.#byKey.get(key);
    if (e && now >= e.expires) {
      this.#remove(e);
      return undefined;
    }
    return e;
  }

  #open(t: Tuple, key: string, s: TrackedSegment, now: number): TableVerdict {
    const opened = openTracker(s, this.settings);
    if (!(opened instanceof TcpTracker)) {
      this.invalid++;
      return opened;
    }
    const v = opened.packet(CtDir.Original, s);
    if (v.kind === "invalid") {
      this.invalid++;
      return v;
    }
    const inverse = { src: t.dst, dst: t.src, srcPort: t.dstPort, dstPort: t.srcPort };
    const reply = tupleKey(inverse);
    if (v.end !== "killed") {
      const e: Entry = {
        tracker: opened,
        original: key,
        reply,
        tuples: { original: t, reply: inverse },
        expires: now + (v.timeout ?? 0) * 1000,
      };
      this.#byKey.set(key, e);
      this.#byKey.set(reply, e);
    }
    return { ...v, dir: "original", tracker: opened };
  }

  #remove(e: Entry): void {
    this.#byKey.delete(e.original);
    this.#byKey.delete(e.reply);
  }
}
