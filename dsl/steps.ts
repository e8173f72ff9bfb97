/**
 * Scenario steps as plain data. The DSL's functions (`inject`, `expect`,
 * `accept`, `wait`, …) each return a step, or a builder of one, carrying the
 * file:line where it was written. A scenario is a list of these; the runner
 * executes them, `synack compile` prints them, and `step_codec.ts` validates
 * and serializes them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ack, rst } from "./packet_builder.ts";
 * import { expect, inject, toSteps, wait } from "./steps.ts";
 * const late = ack().seq(1).ack(1000);
 * const steps = toSteps([inject(late), expect(rst()).seqEquals(late).within("10ms"), wait("1s")]);
 * assert.deepEqual(steps.map((s) => s.kind), ["inject", "expect", "wait"]);
 * const e = steps[1];
 * assert.ok(e.kind === "expect" && e.timing?.kind === "within" && e.timing.ms === 10);
 * assert.ok(e.kind === "expect" && e.relations[0].kind === "seqEquals");
 * assert.match(steps[0].at.file, /\.ts$/);
 * ```
 */
import type { SocketCall } from "../runtime/wire/socket_call.ts";
import { DROP_REASONS, type DropReason, isDropReason } from "../runtime/wire/stack_reasons.ts";
import { type Duration, parseDuration } from "./duration.ts";
import type { FieldMatch } from "./matcher.ts";
import type { AnyBuilder, PacketDef, TcpBuilder } from "./packet_builder.ts";
import { callerLocation, type SourceLoc } from "./source_location.ts";

/** A reference to an earlier injected packet: its step index, its label, or its definition. */
export type Ref = { step: number } | { label: string } | { def: PacketDef };

/** A relation between an expected packet and an earlier injected one. */
export interface Relation {
  /**
   * - `seqEquals`: this packet's seq equals the ACK field of the referenced one;
   * - `ackEquals`: this packet's ack equals the referenced one's seq + SYN + FIN + payload length;
   * - `answers`: the whole reset rule of RFC 9293 §3.10.7.1 for the referenced segment.
   */
  kind: "seqEquals" | "ackEquals" | "answers";
  ref: Ref;
}

/** When a packet or call result must arrive, relative to the previous step. */
export type Timing = { kind: "within"; ms: number } | { kind: "after"; ms: number };

/** A socket call as written: fd and address default to the scenario's current socket and peer. */
export type CallDef = SocketCall extends infer C
  ? C extends { fd: number } ? Omit<C, "fd"> & { fd?: number } : C
  : never;

/** What a call must return. */
export type CallWant =
  | { kind: "ok" }
  | { kind: "value"; value: FieldMatch | Uint8Array | string | Readonly<Record<string, unknown>> }
  | { kind: "errno"; errno: string }
  | { kind: "any" };

/**
 * Which stack a call runs on: the one under test (`target`), the script's own
 * peer stack (`peer`), or a host of the scenario's topology by name.
 */
export type Side = string;

/** Which of the matching segments a path rule acts on. */
export interface PathSelect {
  /** The pattern, as for `expect()`; seq and ack are relative to each sender's ISN. */
  readonly match: PacketDef;
  /** Only segments sent by this side (`target`, `peer`, or a topology host). */
  readonly from?: string;
  /** How many matches to act on, from the first; `all` keeps the rule for good. Default 1. */
  readonly count: number | "all";
  /** Act on these matches only (1-based, counted from when the rule was set), instead of `count`. */
  readonly nth?: readonly number[];
}

/**
 * Header fields a path rule may overwrite (absolute values), or shift
 * (`seqDelta`, `ackDelta`: added modulo 2^32, so a segment can be moved out
 * of the window whatever its ISN); checksums are recomputed.
 */
export interface RewriteFields {
  readonly win?: number;
  readonly flags?: number;
  readonly seq?: number;
  readonly ack?: number;
  readonly seqDelta?: number;
  readonly ackDelta?: number;
  readonly urg?: number;
  readonly ttl?: number;
}

/** Seeded random impairment, like netem: every segment crossing is subject to it. */
export interface Impairment {
  /** Chance (0..1) that a segment is lost. */
  readonly loss: number;
  /** Fixed delay added to each segment, ms. */
  readonly delayMs: number;
  /** Uniform jitter added on top, 0..jitterMs. */
  readonly jitterMs: number;
  /** Chance (0..1) that a segment is held back behind the next one. */
  readonly reorder: number;
  /** Chance (0..1) that a segment is sent twice. */
  readonly duplicate: number;
  readonly seed: number;
  /** Only segments from this side. */
  readonly from?: string;
}

/** What the script does to segments crossing the path between two stacks. */
export type PathOp =
  | ({ readonly op: "drop" | "duplicate" | "reorder" | "hold" } & PathSelect)
  | ({ readonly op: "delay"; readonly ms: number } & PathSelect)
  | ({ readonly op: "rewrite"; readonly fields: RewriteFields } & PathSelect)
  | ({ readonly op: "impair" } & Impairment)
  /** Lets every held segment go, in the order they were held. */
  | { readonly op: "release" }
  /** Removes every rule and impairment (held segments stay held until released). */
  | { readonly op: "clear" };

/**
 * Conntrack's TCP states, as `conntrack -L` prints them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CONNTRACK_STATES } from "./steps.ts";
 * assert.ok(CONNTRACK_STATES.includes("ESTABLISHED"));
 * ```
 */
export const CONNTRACK_STATES = [
  "NONE",
  "SYN_SENT",
  "SYN_RECV",
  "ESTABLISHED",
  "FIN_WAIT",
  "CLOSE_WAIT",
  "LAST_ACK",
  "TIME_WAIT",
  "CLOSE",
  "SYN_SENT2",
] as const;

/** One end of a tuple in a pattern: an address, a host name or `*`; a port or `*`. */
export interface EndsPattern {
  readonly src: string;
  readonly sport: number | "*";
  readonly dst: string;
  readonly dport: number | "*";
}

/** What an entry must look like; what is left out matches anything. */
export interface EntryPattern {
  readonly state?: (typeof CONNTRACK_STATES)[number];
  readonly orig?: EndsPattern;
  readonly reply?: EndsPattern;
}

/** The step: each `has` pattern matches some entry, no `lacks` pattern matches any. */
export type ConntrackStep = {
  readonly kind: "conntrack";
  readonly at: SourceLoc;
  /** The topology host; the tap's far end when left out. */
  readonly host?: string;
  readonly has: readonly EntryPattern[];
  readonly lacks: readonly EntryPattern[];
  /** How many entries the table holds. */
  readonly count?: FieldMatch;
  /** `conntrack -S`'s `invalid`: segments conntrack found INVALID so far. */
  readonly invalid?: FieldMatch;
};

/** One step of a scenario. */
export type Step =
  | { kind: "inject"; at: SourceLoc; packet: PacketDef }
  | {
    kind: "expect";
    at: SourceLoc;
    alternatives: readonly PacketDef[];
    relations: readonly Relation[];
    timing?: Timing;
    /** The side the packet travels from; by default the stack under test. */
    from?: string;
  }
  | {
    kind: "expectNothing";
    at: SourceLoc;
    ms: number;
    /** Only packets matching this pattern count; others pass unremarked. */
    pattern?: PacketDef;
  }
  | {
    kind: "expectDrop";
    at: SourceLoc;
    /** The kernel's drop reason (`TCP_RFC7323_PAWS`); any reason when left out. */
    reason?: DropReason;
  }
  | { kind: "call"; at: SourceLoc; side: Side; call: CallDef; want: CallWant; timing?: Timing }
  | { kind: "wait"; at: SourceLoc; ms: number }
  | {
    kind: "sysctl";
    at: SourceLoc;
    name: string;
    value: number | string;
    /** The topology host it applies to; the stack under test when left out. */
    host?: string;
  }
  | { kind: "profile"; at: SourceLoc; profile: string | Readonly<Record<string, unknown>> }
  | { kind: "peer"; at: SourceLoc; mode: "auto" | "manual" }
  /** A path rule on `link` (a topology link's name; the only path when left out). */
  | { kind: "path"; at: SourceLoc; link?: string; op: PathOp }
  | ConntrackStep;

/** Anything that turns into steps. */
export interface StepSource {
  toSteps(): Step[];
}

/** What a scenario's step list may hold: steps, step builders, and nested lists of them. */
export type StepInput = Step | StepSource | readonly StepInput[];

function isSource(x: unknown): x is StepSource {
  return typeof x === "object" && x !== null && "toSteps" in x;
}

/**
 * Flattens a step list.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { listen } from "./socket_steps.ts";
 * import { toSteps, wait } from "./steps.ts";
 * assert.deepEqual(toSteps([listen(8080), wait("1s")]).map((s) => s.kind), ["call", "call", "call", "wait"]);
 * ```
 */
export function toSteps(items: readonly StepInput[]): Step[] {
  const out: Step[] = [];
  for (const it of items) {
    if (Array.isArray(it)) out.push(...toSteps(it));
    else if (isSource(it)) out.push(...it.toSteps());
    else out.push(it as Step);
  }
  return out;
}

function refOf(r: TcpBuilder | string): Ref {
  return typeof r === "string" ? { label: r } : { def: r.def };
}

/**
 * Sends a packet to the stack under test.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { syn } from "./packet_builder.ts";
 * import { inject } from "./steps.ts";
 * const s = inject(syn());
 * assert.equal(s.kind, "inject");
 * assert.match(s.at.file, /\.ts$/);
 * ```
 */
export function inject(b: AnyBuilder): Step {
  return Object.freeze({ kind: "inject", at: callerLocation(inject), packet: b.def });
}

/**
 * Alternatives for one expected packet: `oneOf(rst(), challengeAck())`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { challengeAck, rst } from "./packet_builder.ts";
 * import { OneOf } from "./steps.ts";
 * assert.equal(new OneOf([rst(), challengeAck()]).alternatives.length, 2);
 * ```
 */
export class OneOf {
  readonly alternatives: readonly AnyBuilder[];
  constructor(alternatives: readonly AnyBuilder[]) {
    if (!alternatives.length) throw new RangeError("oneOf(): want at least one pattern, got none");
    this.alternatives = Object.freeze([...alternatives]);
  }
}

/**
 * A pattern that matches if any of `patterns` does.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { challengeAck, rst } from "./packet_builder.ts";
 * import { expect, oneOf, toSteps } from "./steps.ts";
 * const [e] = toSteps([expect(oneOf(rst(), challengeAck()))]);
 * assert.ok(e.kind === "expect" && e.alternatives.length === 2);
 * ```
 */
export function oneOf(...patterns: AnyBuilder[]): OneOf {
  return new OneOf(patterns);
}

/**
 * An expected packet, with relations and timing. Immutable like the packet builders.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { synAck } from "./packet_builder.ts";
 * import { expect, ExpectBuilder, toSteps } from "./steps.ts";
 * const b = expect(synAck()).after("1s");
 * assert.ok(b instanceof ExpectBuilder);
 * const [s] = toSteps([b]);
 * assert.ok(s.kind === "expect" && s.timing?.ms === 1000);
 * ```
 */
export class ExpectBuilder implements StepSource {
  readonly step: Extract<Step, { kind: "expect" }>;
  constructor(step: Extract<Step, { kind: "expect" }>) {
    this.step = Object.freeze(step);
  }
  #with(s: Partial<Extract<Step, { kind: "expect" }>>): ExpectBuilder {
    return new ExpectBuilder({ ...this.step, ...s });
  }
  /** The packet's seq must equal the ACK field of `ref` (a passive RST answering an ACK). */
  seqEquals(ref: TcpBuilder | string): ExpectBuilder {
    return this.#with({
      relations: [...this.step.relations, { kind: "seqEquals", ref: refOf(ref) }],
    });
  }
  /** The packet's ack must equal `ref`'s seq plus what it occupies (SYN, FIN, payload). */
  ackEquals(ref: TcpBuilder | string): ExpectBuilder {
    return this.#with({
      relations: [...this.step.relations, { kind: "ackEquals", ref: refOf(ref) }],
    });
  }
  /** The packet must be the reset RFC 9293 §3.10.7.1 prescribes for `ref`. */
  answers(ref: TcpBuilder | string): ExpectBuilder {
    return this.#with({
      relations: [...this.step.relations, { kind: "answers", ref: refOf(ref) }],
    });
  }
  /** Must arrive no later than `d` after the previous step (with tolerance). */
  within(d: Duration): ExpectBuilder {
    return this.#with({ timing: { kind: "within", ms: parseDuration(d) } });
  }
  /** Must arrive `d` after the previous step (with tolerance either side). */
  after(d: Duration): ExpectBuilder {
    return this.#with({ timing: { kind: "after", ms: parseDuration(d) } });
  }
  /** The packet travels from `side`: `peer` (the script's own stack) or a topology host. */
  from(side: string): ExpectBuilder {
    return this.#with({ from: side });
  }
  toSteps(): Step[] {
    return [this.step];
  }
}

/**
 * Expects the stack under test to send a packet matching `p`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rst } from "./packet_builder.ts";
 * import { expect, toSteps } from "./steps.ts";
 * const [s] = toSteps([expect(rst()).within("10ms")]);
 * assert.ok(s.kind === "expect" && s.timing?.kind === "within");
 * ```
 */
export function expect(p: AnyBuilder | OneOf): ExpectBuilder {
  const alternatives = p instanceof OneOf ? p.alternatives.map((b) => b.def) : [p.def];
  return new ExpectBuilder({
    kind: "expect",
    at: callerLocation(expect),
    alternatives,
    relations: [],
  });
}

/**
 * Expects no packet at all for `d`; with a pattern, no packet matching it
 * (`expectNothing("300ms", rst())`: no reset, whatever else is sent).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rst } from "./packet_builder.ts";
 * import { expectNothing } from "./steps.ts";
 * const s = expectNothing("1s");
 * assert.ok(s.kind === "expectNothing" && s.ms === 1000 && s.pattern === undefined);
 * const r = expectNothing("300ms", rst());
 * assert.ok(r.kind === "expectNothing" && r.pattern?.name === "rst");
 * ```
 */
export function expectNothing(d: Duration, pattern?: AnyBuilder): Step {
  const s = { kind: "expectNothing" as const, at: callerLocation(), ms: parseDuration(d) };
  return Object.freeze(pattern ? { ...s, pattern: pattern.def } : s);
}

/**
 * Expects the stack to have dropped the last segment the script injected,
 * for `reason` when given: one of the kernel's `enum skb_drop_reason`
 * (`TCP_RFC7323_PAWS`, `TCP_INVALID_SEQUENCE`, …). On the kernel the
 * reason is its `skb:kfree_skb` tracepoint's; the built-in stack names its
 * own drops the same way. A segment the stack took, or dropped for another
 * reason, fails the step with both.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { expectDrop } from "./steps.ts";
 * const s = expectDrop("TCP_RFC7323_PAWS");
 * assert.ok(s.kind === "expectDrop" && s.reason === "TCP_RFC7323_PAWS");
 * assert.throws(() => expectDrop("PAWS"), /want a drop reason the kernel names/);
 * ```
 */
export function expectDrop(reason?: string): Step {
  if (reason !== undefined && !isDropReason(reason)) {
    throw new RangeError(
      `expectDrop(${JSON.stringify(reason)}): want a drop reason the kernel names: ${
        DROP_REASONS.join(", ")
      }`,
    );
  }
  const s = { kind: "expectDrop" as const, at: callerLocation(expectDrop) };
  return Object.freeze(reason === undefined ? s : { ...s, reason });
}

/**
 * Lets `d` pass.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { wait } from "./steps.ts";
 * const s = wait("200ms");
 * assert.ok(s.kind === "wait" && s.ms === 200);
 * ```
 */
export function wait(d: Duration): Step {
  return Object.freeze({ kind: "wait", at: callerLocation(wait), ms: parseDuration(d) });
}

/**
 * Sets a sysctl on the stack under test (inside its private namespace for the kernel).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sysctl } from "./steps.ts";
 * const s = sysctl("net.ipv4.tcp_timestamps", 0);
 * assert.ok(s.kind === "sysctl" && s.value === 0);
 * ```
 */
export function sysctl(name: string, value: number | string): Step {
  return Object.freeze({ kind: "sysctl", at: callerLocation(), name, value });
}

/**
 * Switches the built-in stack's profile: a name (`"rfc7323-strict"`) or a profile object.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { useProfile } from "./steps.ts";
 * const s = useProfile("rfc7323-strict");
 * assert.ok(s.kind === "profile" && s.profile === "rfc7323-strict");
 * ```
 */
export function useProfile(profile: string | Readonly<Record<string, unknown>>): Step {
  return Object.freeze({ kind: "profile", at: callerLocation(), profile });
}
