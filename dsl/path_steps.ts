/**
 * The script on the path: steps that act on the segments crossing between two
 * stacks (the stack under test and the script's peer stack, or two hosts of a
 * topology), chosen with the same patterns as `expect()`.
 *
 * ```text
 * path.drop(dataSegment(), { from: "peer", nth: [3, 10] })  // the 3rd and 10th data segments
 * path.delay(synAck(), "30ms")
 * path.rewrite(ack(), { win: 0 })
 * path.hold(fin()), …, path.release()
 * path.impair({ loss: 0.01, seed: 7 })                    // netem-like, reproducible
 * ```
 *
 * A rule acts on the next matching segment unless `count` (or `count: "all"`)
 * or `nth` says otherwise; `.on(link)` puts it on a named topology link.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ack } from "./packet_builder.ts";
 * import { path } from "./path_steps.ts";
 * import { toSteps } from "./steps.ts";
 * const [s] = toSteps([path.drop(ack(), { count: 2, from: "target" })]);
 * assert.ok(s.kind === "path" && s.op.op === "drop" && s.op.count === 2 && s.op.from === "target");
 * assert.throws(() => path.impair({ loss: 2 }), /impair\.loss: want a chance from 0 to 1, got 2/);
 * ```
 */
import { z } from "zod";
import { type Duration, parseDuration } from "./duration.ts";
import { checkFields } from "./field_schema.ts";
import type { AnyBuilder } from "./packet_builder.ts";
import { callerLocation } from "./source_location.ts";
import type { Impairment, PathOp, RewriteFields, Step, StepSource } from "./steps.ts";

/** Which matches a rule takes: the first `count`, `all`, or the `nth` ones; and from which side. */
export interface SelectOptions {
  count?: number | "all";
  nth?: readonly number[];
  from?: string;
}

const Select = z.strictObject({
  count: z.union([z.number().int().min(1), z.literal("all")]).optional(),
  nth: z.array(z.number().int().min(1)).min(1).optional(),
  from: z.string().min(1).optional(),
});

const u32 = z.number().int().min(0).max(0xffffffff);
const u16 = z.number().int().min(0).max(0xffff);
const Rewrite = z.strictObject({
  win: u16.optional(),
  flags: z.number().int().min(0).max(0xfff).optional(),
  seq: u32.optional(),
  ack: u32.optional(),
  seqDelta: z.number().int().min(-0x7fffffff).max(0x7fffffff).optional(),
  ackDelta: z.number().int().min(-0x7fffffff).max(0x7fffffff).optional(),
  urg: u16.optional(),
  ttl: z.number().int().min(0).max(255).optional(),
}).refine((f) => Object.keys(f).length > 0, { message: "want at least one field to rewrite" });

const chance = z.number().min(0).max(1, { message: "a chance from 0 to 1" });
const ImpairInput = z.strictObject({
  loss: chance.optional(),
  delay: z.union([z.number().min(0), z.string()]).optional(),
  jitter: z.union([z.number().min(0), z.string()]).optional(),
  reorder: chance.optional(),
  duplicate: chance.optional(),
  seed: z.number().int().optional(),
  from: z.string().min(1).optional(),
});

/** What `path.impair()` takes: chances from 0 to 1, durations, and the seed. */
export type ImpairOptions = z.input<typeof ImpairInput>;

/**
 * A path step; `.on(link)` names the topology link it acts on. Immutable.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { path, PathBuilder } from "./path_steps.ts";
 * const b = path.release().on("router-server");
 * assert.ok(b instanceof PathBuilder);
 * assert.equal(b.step.link, "router-server");
 * ```
 */
export class PathBuilder implements StepSource {
  readonly step: Extract<Step, { kind: "path" }>;
  constructor(step: Extract<Step, { kind: "path" }>) {
    this.step = Object.freeze(step);
  }
  /** Acts on the topology link named `link` (`"router-server"`). */
  on(link: string): PathBuilder {
    return new PathBuilder({ ...this.step, link });
  }
  toSteps(): Step[] {
    return [this.step];
  }
}

/** The rule as data: pattern, side, which matches. */
export function select(b: AnyBuilder, o: SelectOptions, label: string) {
  const v = checkFields(Select, o, label);
  return { match: b.def, from: v.from, count: v.count ?? 1, nth: v.nth };
}

function step(op: PathOp, at = callerLocation()): PathBuilder {
  return new PathBuilder({ kind: "path", at, op });
}

/** `path.impair()`'s options, checked and with durations in ms. */
export function impairment(o: ImpairOptions): Impairment {
  const v = checkFields(ImpairInput, o, "impair");
  return {
    loss: v.loss ?? 0,
    delayMs: v.delay === undefined ? 0 : parseDuration(v.delay as Duration),
    jitterMs: v.jitter === undefined ? 0 : parseDuration(v.jitter as Duration),
    reorder: v.reorder ?? 0,
    duplicate: v.duplicate ?? 0,
    seed: v.seed ?? 1,
    from: v.from,
  };
}

/**
 * The path steps.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { synAck } from "./packet_builder.ts";
 * import { path } from "./path_steps.ts";
 * const s = path.delay(synAck(), "30ms").step;
 * assert.ok(s.op.op === "delay" && s.op.ms === 30 && s.op.count === 1);
 * assert.deepEqual(path.rewrite(synAck(), { win: 0 }).step.op, { op: "rewrite", match: synAck().def, from: undefined, count: 1, nth: undefined, fields: { win: 0 } });
 * ```
 */
export const path = {
  /** Drops matching segments. */
  drop: (p: AnyBuilder, o: SelectOptions = {}) =>
    step({ op: "drop", ...select(p, o, "path.drop") }),
  /** Delays matching segments by `d`; others pass them. */
  delay: (p: AnyBuilder, d: Duration, o: SelectOptions = {}) =>
    step({ op: "delay", ms: parseDuration(d), ...select(p, o, "path.delay") }),
  /** Sends matching segments twice. */
  duplicate: (p: AnyBuilder, o: SelectOptions = {}) =>
    step({ op: "duplicate", ...select(p, o, "path.duplicate") }),
  /** Holds each matching segment until the next segment the same way has passed, then sends it. */
  reorder: (p: AnyBuilder, o: SelectOptions = {}) =>
    step({ op: "reorder", ...select(p, o, "path.reorder") }),
  /** Overwrites header fields of matching segments (`{ win: 0 }`); checksums are recomputed. */
  rewrite: (p: AnyBuilder, fields: RewriteFields, o: SelectOptions = {}) =>
    step({
      op: "rewrite",
      ...select(p, o, "path.rewrite"),
      fields: checkFields(Rewrite, fields, "path.rewrite") as RewriteFields,
    }),
  /** Holds matching segments until `path.release()`. */
  hold: (p: AnyBuilder, o: SelectOptions = {}) =>
    step({ op: "hold", ...select(p, o, "path.hold") }),
  /** Sends every held segment, in the order it was held. */
  release: () => step({ op: "release" }),
  /** Seeded random loss, delay, jitter, reordering and duplication, like netem. */
  impair: (o: ImpairOptions) => step({ op: "impair", ...impairment(o) }),
  /** Removes every rule and impairment. */
  clear: () => step({ op: "clear" }),
};
