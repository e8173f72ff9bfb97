/**
 * Step lists to and from JSON (superjson, so bytes and `undefined` survive),
 * validated with zod on the way in. This is the form the REPL's `.save`, the
 * CLI and a later `.pkt` parser exchange. Predicate matchers (`where`) keep
 * their description only: a loaded step that uses one reports that it cannot
 * run it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { syn } from "./packet_builder.ts";
 * import { listen } from "./socket_steps.ts";
 * import { checkScenarioOptions, checkSteps, stepsFromJSON, stepsToJSON } from "./step_codec.ts";
 * import { inject, toSteps } from "./steps.ts";
 * const steps = toSteps([listen(8080), inject(syn().payload("hi"))]);
 * const back = stepsFromJSON(stepsToJSON(steps));
 * assert.deepEqual(back, steps);
 * assert.throws(() => stepsFromJSON('{"json":{"version":1,"steps":[{"kind":"jump"}]}}'), /steps\.0\.kind/);
 * assert.throws(() => checkScenarioOptions({ family: 5 }), /options\.family/);
 * assert.deepEqual(checkSteps(steps), steps);
 * ```
 */
import { DROP_REASONS, RST_REASONS } from "../runtime/wire/stack_reasons.ts";
import superjson from "superjson";
import { z } from "zod";
import { checkFields } from "./field_schema.ts";
import type { Matcher } from "./matcher.ts";
import type { ScenarioOptions } from "./scenario_def.ts";
import type { SourceLoc } from "./source_location.ts";
import { CONNTRACK_STATES, type Step } from "./steps.ts";
import { topologySchema } from "./topology_def.ts";

const loc = z.strictObject({ file: z.string(), line: z.number().int(), col: z.number().int() });
const matcher = z.union([
  z.number(),
  z.strictObject({ matcher: z.literal("any") }),
  z.strictObject({ matcher: z.literal("range"), min: z.number(), max: z.number() }),
  z.strictObject({ matcher: z.literal("mask"), value: z.number(), mask: z.number() }),
  // `remote`: a predicate that stays in the process that wrote it (runtime/host asks it).
  z.strictObject({
    matcher: z.literal("where"),
    description: z.string(),
    remote: z.number().int().min(0).optional(),
  }),
]);
const ipDef = z.strictObject({
  src: z.string().optional(),
  dst: z.string().optional(),
  ttl: matcher.optional(),
  tos: z.number().optional(),
  ecn: z.number().optional(),
  df: z.boolean().optional(),
});
const common = {
  name: z.string(),
  ip: ipDef,
  label: z.string().optional(),
  payload: z.union([z.instanceof(Uint8Array), z.number()]).optional(),
  checksum: z.union([z.number(), z.literal("bad")]).optional(),
};
const packetDef = z.discriminatedUnion("proto", [
  z.strictObject({
    proto: z.literal("tcp"),
    ...common,
    flags: matcher,
    srcPort: matcher.optional(),
    dstPort: matcher.optional(),
    seq: matcher.optional(),
    ack: matcher.optional(),
    win: matcher.optional(),
    urg: matcher.optional(),
    len: matcher.optional(),
    options: z.union([
      z.strictObject({
        mode: z.literal("exact"),
        list: z.array(z.looseObject({ kind: z.string() })),
      }),
      z.strictObject({ mode: z.literal("override"), set: z.record(z.string(), z.unknown()) }),
    ]).optional(),
    optionsMatch: z.enum(["exact", "subset", "ignore"]).optional(),
    reason: z.enum(RST_REASONS).optional(),
  }),
  z.strictObject({
    proto: z.literal("udp"),
    ...common,
    srcPort: z.number().optional(),
    dstPort: z.number().optional(),
  }),
  z.strictObject({
    proto: z.literal("icmp"),
    ...common,
    type: z.number(),
    code: z.number(),
    rest: z.number().optional(),
    quote: z.string().optional(),
  }),
]);
const select = {
  match: packetDef,
  from: z.string().min(1).optional(),
  count: z.union([z.number().int().min(1), z.literal("all")]),
  nth: z.array(z.number().int().min(1)).min(1).optional(),
};
const u = (max: number) => z.number().int().min(0).max(max).optional();
const pathOp = z.discriminatedUnion("op", [
  z.strictObject({ op: z.enum(["drop", "duplicate", "reorder", "hold"]), ...select }),
  z.strictObject({ op: z.literal("delay"), ms: z.number().min(0), ...select }),
  z.strictObject({
    op: z.literal("rewrite"),
    ...select,
    fields: z.strictObject({
      win: u(0xffff),
      flags: u(0xfff),
      seq: u(0xffffffff),
      ack: u(0xffffffff),
      seqDelta: z.number().int().optional(),
      ackDelta: z.number().int().optional(),
      urg: u(0xffff),
      ttl: u(255),
    }),
  }),
  z.strictObject({
    op: z.literal("impair"),
    loss: z.number().min(0).max(1),
    delayMs: z.number().min(0),
    jitterMs: z.number().min(0),
    reorder: z.number().min(0).max(1),
    duplicate: z.number().min(0).max(1),
    seed: z.number().int(),
    from: z.string().min(1).optional(),
  }),
  z.strictObject({ op: z.enum(["release", "clear"]) }),
]);
const ref = z.union([
  z.strictObject({ step: z.number().int().min(0) }),
  z.strictObject({ label: z.string() }),
]);
const timing = z.strictObject({ kind: z.enum(["within", "after"]), ms: z.number().min(0) })
  .optional();
const ends = z.strictObject({
  src: z.string(),
  sport: z.union([z.number().int().min(0).max(65535), z.literal("*")]),
  dst: z.string(),
  dport: z.union([z.number().int().min(0).max(65535), z.literal("*")]),
});
const entryPattern = z.strictObject({
  state: z.enum(CONNTRACK_STATES).optional(),
  orig: ends.optional(),
  reply: ends.optional(),
});
const stepSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("inject"), at: loc, packet: packetDef }),
  z.strictObject({
    kind: z.literal("expect"),
    at: loc,
    alternatives: z.array(packetDef).min(1),
    relations: z.array(
      z.strictObject({ kind: z.enum(["seqEquals", "ackEquals", "answers"]), ref }),
    ),
    timing,
    from: z.string().min(1).optional(),
  }),
  z.strictObject({
    kind: z.literal("expectNothing"),
    at: loc,
    ms: z.number().min(0),
    pattern: packetDef.optional(),
  }),
  z.strictObject({
    kind: z.literal("call"),
    at: loc,
    side: z.string().min(1),
    call: z.looseObject({ name: z.string() }),
    want: z.looseObject({ kind: z.enum(["ok", "value", "errno", "any"]) }),
    timing,
  }),
  z.strictObject({
    kind: z.literal("expectDrop"),
    at: loc,
    reason: z.enum(DROP_REASONS).optional(),
  }),
  z.strictObject({ kind: z.literal("wait"), at: loc, ms: z.number().min(0) }),
  z.strictObject({
    kind: z.literal("sysctl"),
    at: loc,
    name: z.string(),
    value: z.union([z.number(), z.string()]),
    host: z.string().optional(),
  }),
  z.strictObject({
    kind: z.literal("profile"),
    at: loc,
    profile: z.union([z.string(), z.record(z.string(), z.unknown())]),
  }),
  z.strictObject({ kind: z.literal("peer"), at: loc, mode: z.enum(["auto", "manual"]) }),
  z.strictObject({
    kind: z.literal("path"),
    at: loc,
    link: z.string().min(1).optional(),
    op: pathOp,
  }),
  z.strictObject({
    kind: z.literal("conntrack"),
    at: loc,
    host: z.string().optional(),
    has: z.array(entryPattern),
    lacks: z.array(entryPattern),
    count: matcher.optional(),
    invalid: matcher.optional(),
  }),
], {
  error:
    "want a step kind: inject, expect, expectNothing, expectDrop, call, wait, sysctl, profile, peer, path, conntrack",
});

const fileSchema = z.strictObject({ version: z.literal(1), steps: z.array(stepSchema) });

const duration = z.union([z.number().min(0), z.string()]);
/** Scenario options as data, for scenarios that arrive from another process. */
const optionsSchema = z.strictObject({
  profile: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
  strict: z.enum(["fail", "warn", "ignore"]).optional(),
  tolerance: z.strictObject({ minMs: z.number().min(0), fraction: z.number().min(0) }).optional(),
  expectTimeoutMs: z.number().min(0).optional(),
  timeout: duration.optional(),
  virtualTimeout: duration.optional(),
  remotePort: z.number().int().min(0).max(65535).optional(),
  family: z.union([z.literal(4), z.literal(6)]).optional(),
  seed: z.number().optional(),
  register: z.boolean().optional(),
  topology: topologySchema.optional(),
});

/** Validates steps that are already parsed (superjson) data; errors name the path. */
export function checkSteps(raw: unknown, label = "steps"): Step[] {
  return checkFields(z.array(stepSchema), raw, label) as unknown as Step[];
}

/** Validates scenario options that are already parsed data. */
export function checkScenarioOptions(raw: unknown, label = "options"): ScenarioOptions {
  return checkFields(optionsSchema, raw, label) as ScenarioOptions;
}

/** Validates a source location. */
export function checkLocation(raw: unknown, label = "at"): SourceLoc {
  return checkFields(loc, raw, label);
}

/** A predicate matcher as it appears in step data. */
export type WhereMatcher = Extract<Matcher, { matcher: "where" }> & { remote?: number };

/**
 * A copy of `v` (steps, or any step data) with every predicate matcher
 * replaced by `f(matcher)`: what crosses a process boundary has no functions.
 */
export function mapPredicates(v: unknown, f: (m: WhereMatcher) => unknown): unknown {
  if (Array.isArray(v)) return v.map((x) => mapPredicates(x, f));
  if (v instanceof Uint8Array || v === null || typeof v !== "object") return v;
  const o = v as Record<string, unknown>;
  if (o.matcher === "where") return f(o as unknown as WhereMatcher);
  return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, mapPredicates(x, f)]));
}

function stripPredicates(v: unknown): unknown {
  return mapPredicates(v, (m) => ({ matcher: "where", description: m.description }));
}

/** Serializes steps (references must already be step indexes, as `defineScenario` leaves them). */
export function stepsToJSON(steps: readonly Step[]): string {
  return superjson.stringify({ version: 1, steps: stripPredicates(steps) });
}

/** Reads and validates what `stepsToJSON` wrote. */
export function stepsFromJSON(text: string): Step[] {
  let raw: unknown;
  try {
    raw = superjson.parse(text);
  } catch (e) {
    throw new RangeError(`Cannot read steps: want superjson text, got ${(e as Error).message}`);
  }
  return checkFields(fileSchema, raw, "file").steps as unknown as Step[];
}
