/**
 * Conntrack state as a step: what a topology host's connection tracking
 * holds, read at that point of the scenario and checked. On a kernel host it
 * is the namespace's own table (`conntrack -L`, and `conntrack -S`'s
 * `invalid` counter); on the built-in target, the model's table.
 *
 * ```text
 * conntrack("dockerhost")
 *   .has({ state: "ESTABLISHED", orig: "container:* > server:80", reply: "server:80 > dockerhost:*" })
 *   .invalid(1)
 * ```
 *
 * An entry's ends are written as `conntrack -L` pairs them, source first:
 * `10.1.0.1:40000 > 10.2.0.1:80`. An address may be a host of the topology
 * (any of its addresses matches), and an address or port may be `*`. IPv6
 * addresses go in brackets: `[fd00:0:0:1::1]:80`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { conntrack } from "./conntrack_steps.ts";
 * import { toSteps } from "./steps.ts";
 * const [s] = toSteps([conntrack("node").has({ state: "ESTABLISHED", orig: "client:* > 10.2.0.1:80" }).invalid(0)]);
 * assert.ok(s.kind === "conntrack");
 * assert.deepEqual(s.has[0].orig, { src: "client", sport: "*", dst: "10.2.0.1", dport: 80 });
 * assert.equal(s.invalid, 0);
 * assert.throws(() => conntrack("node").has({ orig: "client > server:80" }), /conntrack\.has\.orig: want "a:port > b:port"/);
 * assert.throws(() => conntrack("node").has({ state: "OPEN" }), /conntrack\.has\.state: want one of NONE, SYN_SENT/);
 * ```
 */
import { type FieldMatch, isMatcher } from "./matcher.ts";
import { callerLocation } from "./source_location.ts";
import {
  CONNTRACK_STATES,
  type ConntrackStep,
  type EndsPattern,
  type EntryPattern,
  type Step,
  type StepSource,
} from "./steps.ts";

const END = /^(\*|\[[0-9a-fA-F:.]+\]|[0-9.]+|[a-z][a-z0-9_]*):(\*|\d{1,5})$/;

function end(text: string, what: string): { addr: string; port: number | "*" } {
  const m = END.exec(text);
  const port = m && (m[2] === "*" ? "*" : Number(m[2]));
  if (!m || (port !== "*" && port! > 65535)) {
    throw new RangeError(
      `${what}: want "a:port > b:port" (an address, a host or *; a port or *), got ${
        JSON.stringify(text)
      }`,
    );
  }
  return { addr: m[1].replace(/^\[|\]$/g, ""), port: port! };
}

/**
 * Reads `"a:p > b:q"` into a pattern.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseEnds } from "./conntrack_steps.ts";
 * assert.deepEqual(parseEnds("[fd00::1]:* > server:80", "x"), { src: "fd00::1", sport: "*", dst: "server", dport: 80 });
 * ```
 */
export function parseEnds(text: string, what: string): EndsPattern {
  const parts = text.trim().split(/\s+>\s+/);
  if (parts.length !== 2) {
    throw new RangeError(
      `${what}: want "a:port > b:port" (an address, a host or *; a port or *), got ${
        JSON.stringify(text)
      }`,
    );
  }
  const a = end(parts[0], what), b = end(parts[1], what);
  return { src: a.addr, sport: a.port, dst: b.addr, dport: b.port };
}

/** An entry pattern as the user writes it. */
export interface EntryInput {
  state?: string;
  orig?: string;
  reply?: string;
}

function pattern(p: EntryInput, what: string): EntryPattern {
  for (const k of Object.keys(p)) {
    if (k !== "state" && k !== "orig" && k !== "reply") {
      throw new RangeError(`${what}: want state, orig or reply, got ${JSON.stringify(k)}`);
    }
  }
  if (p.state !== undefined && !(CONNTRACK_STATES as readonly string[]).includes(p.state)) {
    throw new RangeError(
      `${what}.state: want one of ${CONNTRACK_STATES.join(", ")}, got ${JSON.stringify(p.state)}`,
    );
  }
  return {
    ...(p.state !== undefined && { state: p.state as EntryPattern["state"] }),
    ...(p.orig !== undefined && { orig: parseEnds(p.orig, `${what}.orig`) }),
    ...(p.reply !== undefined && { reply: parseEnds(p.reply, `${what}.reply`) }),
  };
}

function count(v: FieldMatch, what: string): FieldMatch {
  if (isMatcher(v) || (Number.isInteger(v) && v >= 0)) return v;
  throw new RangeError(`${what}: want a count (0 or more) or a matcher, got ${JSON.stringify(v)}`);
}

/** The builder. Immutable: each method returns a new one. */
export class ConntrackBuilder implements StepSource {
  readonly step: ConntrackStep;
  constructor(step: ConntrackStep) {
    this.step = Object.freeze(step);
  }
  #with(s: Partial<ConntrackStep>): ConntrackBuilder {
    return new ConntrackBuilder({ ...this.step, ...s });
  }
  /** Some entry matches `p`. */
  has(p: EntryInput): ConntrackBuilder {
    return this.#with({ has: [...this.step.has, pattern(p, "conntrack.has")] });
  }
  /** No entry matches `p`. */
  lacks(p: EntryInput): ConntrackBuilder {
    return this.#with({ lacks: [...this.step.lacks, pattern(p, "conntrack.lacks")] });
  }
  /** The table holds this many entries. */
  count(n: FieldMatch): ConntrackBuilder {
    return this.#with({ count: count(n, "conntrack.count") });
  }
  /** Conntrack found this many segments INVALID so far (`conntrack -S`). */
  invalid(n: FieldMatch): ConntrackBuilder {
    return this.#with({ invalid: count(n, "conntrack.invalid") });
  }
  toSteps(): Step[] {
    return [this.step];
  }
}

/**
 * Conntrack state on `host` (the tap's far end when left out), checked as a step.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { conntrack } from "./conntrack_steps.ts";
 * const b = conntrack().count(0);
 * assert.equal(b.step.host, undefined);
 * assert.equal(b.step.count, 0);
 * ```
 */
export function conntrack(host?: string): ConntrackBuilder {
  return new ConntrackBuilder({
    kind: "conntrack",
    at: callerLocation(conntrack),
    ...(host !== undefined && { host }),
    has: [],
    lacks: [],
  });
}

const endText = (a: string, p: number | "*") => `${a.includes(":") ? `[${a}]` : a}:${p}`;

/**
 * A pattern as it is written: `ESTABLISHED orig 10.1.0.1:* > server:80`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { conntrack, describeEntryPattern } from "./conntrack_steps.ts";
 * const s = conntrack("r").has({ state: "SYN_SENT", reply: "server:80 > [fd00::1]:*" }).step;
 * assert.equal(describeEntryPattern(s.has[0]), "SYN_SENT reply server:80 > [fd00::1]:*");
 * ```
 */
export function describeEntryPattern(p: EntryPattern): string {
  const ends = (e: EndsPattern) => `${endText(e.src, e.sport)} > ${endText(e.dst, e.dport)}`;
  return [
    p.state,
    p.orig && `orig ${ends(p.orig)}`,
    p.reply && `reply ${ends(p.reply)}`,
  ].filter(Boolean).join(" ") || "any entry";
}
