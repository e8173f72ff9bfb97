/**
 * A scenario as data: a name, where it was written, its options, and either a
 * step list (the declarative form) or an async function that drives the same
 * steps one at a time (the code form). `defineScenario` validates the list
 * and resolves references between steps (`seqEquals(ack)`) to step indexes,
 * so the result can be serialized and run anywhere.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ack, rst } from "./packet_builder.ts";
 * import { defineScenario } from "./scenario_def.ts";
 * import { expect, inject } from "./steps.ts";
 * const offending = ack().ack(1000);
 * const sc = defineScenario("passive RST", [inject(offending), expect(rst()).seqEquals(offending)]);
 * const e = sc.steps![1];
 * assert.ok(e.kind === "expect");
 * assert.deepEqual(e.relations[0].ref, { step: 0 });
 * assert.throws(
 *   () => defineScenario("bad", [expect(rst()).seqEquals(offending)]),
 *   /seqEquals\(\): the referenced segment is not injected before this step/,
 * );
 * ```
 */
import type { SysResult } from "../runtime/wire/socket_call.ts";
import type { Packet } from "../runtime/wire/packet.ts";
import { type Duration, parseDuration } from "./duration.ts";
import { callerLocation, ScenarioError, type SourceLoc } from "./source_location.ts";
import { type Ref, type Step, type StepInput, toSteps } from "./steps.ts";
import type { TopologyDef } from "./topology_def.ts";

/** How a scenario runs. Every field has a default. */
export interface ScenarioOptions {
  /** The built-in stack's profile (ignored by other targets): a name or a profile object. Default `linux`. */
  profile?: string | Readonly<Record<string, unknown>>;
  /** What to do with packets still unexpected at the end: fail (default), warn, or ignore. */
  strict?: "fail" | "warn" | "ignore";
  /** Timing tolerance. Default packetdrill's: max(4 ms, 12.5 % of the gap). */
  tolerance?: { minMs: number; fraction: number };
  /** How long an `expect` without timing waits, in ms. Default 5 minutes of virtual time, 10 s real. */
  expectTimeoutMs?: number;
  /**
   * How long the whole scenario may take in real (wall-clock) time before it
   * fails, naming the step it was waiting on: a hang in its own code (a
   * promise that never settles, a busy loop) or in a step. Default 60 s on the
   * virtual clock, 10 min on a real one; `synack run --timeout` overrides it.
   */
  timeout?: Duration;
  /** How far the virtual clock may run before the scenario fails. Default 24 h. */
  virtualTimeout?: Duration;
  /** The script's port for flows it starts. Default 40000. */
  remotePort?: number;
  /** IPv4 or IPv6 addresses. Default 4. */
  family?: 4 | 6;
  /** The built-in stack's random seed (ISNs, timestamps, ports). */
  seed?: number;
  /**
   * Hosts and links instead of the single target (`topology({...})`): the
   * scenario runs on them whatever target is named.
   */
  topology?: TopologyDef;
  /** Register with `Deno.test` (default true). Turn off inside a running test. */
  register?: boolean;
}

/** What one executed step produced. */
export type StepOutcome =
  | { kind: "packet"; packet: Packet; bytes: Uint8Array; time: number }
  | { kind: "result"; result: SysResult | undefined; time: number }
  | { kind: "none"; time: number };

/** The `s` of a code-form scenario: runs steps one at a time and returns what each produced. */
export interface ScenarioContext {
  /** Runs steps in order; returns the outcome of the last. */
  run(...steps: StepInput[]): Promise<StepOutcome>;
  /** Milliseconds since the run started, on the run's clock. */
  readonly now: number;
  /**
   * Takes in what the stack has sent so far, without waiting, so it shows in
   * the trace as it arrives (a live session prints it); a later expect()
   * still matches it.
   */
  observe(): Promise<void>;
  /** Drops what `observe()` took in and no step matched: it has been seen, and is not waited for. */
  discardObserved(): void;
  /** The run's record so far (packets, calls, notes), in order. */
  readonly events: readonly TraceEventLike[];
  /** One event in the line syntax, seq/ack relative as the scenario writes them. */
  describe(e: TraceEventLike): string;
  /** How many steps have run: the index the next step gets. */
  readonly stepsDone: number;
  /** Aborted when the run ends early (a step failed, or the time limit passed). */
  readonly signal?: AbortSignal;
  /**
   * Abandons the step running now (a REPL's Ctrl-C): a wait for a packet or
   * for time to pass ends, and the step fails as interrupted.
   */
  interrupt?(): void;
}

/** A trace event as a session sees it (the engine's `TraceEvent`). */
export type TraceEventLike = { kind: string; time: number; [k: string]: unknown };

/** A scenario. */
export interface Scenario {
  readonly name: string;
  readonly at: SourceLoc;
  readonly options: Readonly<ScenarioOptions>;
  /** The declarative form: the steps, with references resolved to step indexes. */
  readonly steps?: readonly Step[];
  /** The code form. */
  readonly body?: (s: ScenarioContext) => Promise<void>;
}

/**
 * Resolves each relation's `{ def }` or `{ label }` to the latest earlier
 * inject step with that definition or label. `known` are steps run before
 * (the code form resolves one step at a time, so this never copies them: a
 * scenario of a million steps stays linear).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ack, rst } from "./packet_builder.ts";
 * import { resolveRefs } from "./scenario_def.ts";
 * import { expect, inject, toSteps } from "./steps.ts";
 * const a = ack().ack(1000);
 * const [, e] = resolveRefs(toSteps([inject(a), expect(rst()).seqEquals(a)]));
 * assert.ok(e.kind === "expect" && "step" in e.relations[0].ref && e.relations[0].ref.step === 0);
 * ```
 */
export function resolveRefs(steps: readonly Step[], known: readonly Step[] = []): Step[] {
  const out: Step[] = [];
  const at = (i: number) => (i < known.length ? known[i] : out[i - known.length]);
  for (const s of steps) {
    let r = s;
    if (s.kind === "expect" && s.relations.length) {
      const before = known.length + out.length;
      r = Object.freeze({
        ...s,
        relations: s.relations.map((rel) => ({
          ...rel,
          ref: find(at, before, rel.ref, rel.kind, s.at),
        })),
      });
    }
    out.push(r);
  }
  return out;
}

function find(
  at: (i: number) => Step,
  before: number,
  ref: Ref,
  what: string,
  loc: SourceLoc,
): Ref {
  if ("step" in ref) return ref;
  for (let i = before - 1; i >= 0; i--) {
    const s = at(i);
    if (s.kind !== "inject") continue;
    if ("def" in ref ? s.packet === ref.def : s.packet.label === ref.label) return { step: i };
  }
  const name = "label" in ref ? ` "${ref.label}"` : "";
  throw new ScenarioError(
    `${what}(): the referenced segment${name} is not injected before this step`,
    loc,
  );
}

/**
 * Builds a scenario from a step list or an async body.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { syn } from "./packet_builder.ts";
 * import { defineScenario } from "./scenario_def.ts";
 * import { inject } from "./steps.ts";
 * const sc = defineScenario("one SYN", [inject(syn())], { timeout: "5s" });
 * assert.equal(sc.steps?.length, 1);
 * ```
 */
export function defineScenario(
  name: string,
  body: readonly StepInput[] | ((s: ScenarioContext) => Promise<void>),
  options: ScenarioOptions = {},
): Scenario {
  const at = callerLocation();
  if (typeof name !== "string" || !name.trim()) {
    throw new ScenarioError(`scenario(): want a name, got ${JSON.stringify(name)}`, at);
  }
  for (const k of ["timeout", "virtualTimeout"] as const) {
    const d = options[k];
    if (d === undefined) continue;
    try {
      parseDuration(d);
    } catch (e) {
      throw new ScenarioError(`scenario(): ${k}: ${(e as Error).message}`, at);
    }
  }
  if (typeof body === "function") {
    return Object.freeze({ name, at, options: Object.freeze({ ...options }), body });
  }
  if (!Array.isArray(body)) {
    throw new ScenarioError("scenario(): want a list of steps or an async function", at);
  }
  const steps = Object.freeze(resolveRefs(toSteps(body)));
  return Object.freeze({ name, at, options: Object.freeze({ ...options }), steps });
}
