/**
 * The scenario host's wire protocol: one JSON message per line, the trusted
 * runner's requests on the child's stdin, the child's messages on its stdout.
 * Everything the child says is checked here with zod before the runner acts
 * on it: the child runs code the runner does not trust.
 *
 * JSON rather than superjson (which traces and saved sessions use): a
 * message here is plain data and bytes, and JSON with bytes as base64 is
 * ten times faster to write, which a code-form scenario pays on every step.
 *
 * Parent to child: `load` a file, run a code-form scenario's `body`, the
 * `outcome` of a step the body asked for, a `predicate` question.
 * Child to parent: what a file `loaded` (scenarios as data, with their steps),
 * a body's requests (`run` steps, `observe`, `discard`), its end (`done`,
 * `threw`), `predicate` answers, and `out`: text the scenario printed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeFromChild, decodeToChild, encodeMessage } from "./protocol.ts";
 * const line = encodeMessage({ t: "done", sid: 3 });
 * assert.deepEqual(decodeFromChild(line), { t: "done", sid: 3 });
 * assert.throws(() => decodeFromChild('{"t":"done","sid":"x"}'), /child\.sid/);
 * assert.throws(() => decodeFromChild("not json"), /want a JSON message, got "not json"/);
 * // Bytes survive the trip.
 * const back = decodeToChild(encodeMessage({ op: "load", file: "x" }));
 * assert.deepEqual(back, { op: "load", file: "x" });
 * assert.deepEqual(
 *   JSON.parse(encodeMessage({ t: "out", stream: "stdout", text: "a" })),
 *   { t: "out", stream: "stdout", text: "a" },
 * );
 * ```
 */
import { z } from "zod";
import type { StepOutcome } from "../../dsl/scenario_def.ts";
import { checkFields } from "../../dsl/field_schema.ts";
import type { SourceLoc } from "../../dsl/source_location.ts";

/** An error as it crosses the boundary. */
export interface WireError {
  name: string;
  message: string;
  stack?: string;
  /** Where it was thrown, in the scenario's file. */
  at?: SourceLoc;
}

/** A scenario as a file defined it: code-form ones run their body in the child. */
export interface WireScenario {
  name: string;
  at: unknown;
  options: unknown;
  /** The steps of a declarative scenario (checked by `checkSteps` on arrival). */
  steps?: unknown;
  /** Written as code: its body runs in the child. */
  code: boolean;
}

/** A trace event the body may read, with its text in the line syntax. */
export interface WireEvent {
  event: { kind: string; time: number; [k: string]: unknown };
  text: string;
}

/** What the body can see of the run after each request. */
export interface WireState {
  now: number;
  /** Events added since the last state. */
  events: WireEvent[];
}

/** Parent to child. */
export type ToChild =
  | { op: "load"; file: string }
  | { op: "body"; sid: number; file: string; index: number }
  | {
    op: "outcome";
    sid: number;
    outcome?: StepOutcome;
    /** The step failed: the body's `run()` throws this message. */
    failure?: string;
    state: WireState;
  }
  | { op: "predicate"; qid: number; file: string; pred: number; value: number };

/** Child to parent. */
export type FromChild =
  | { t: "loaded"; file: string; scenarios: WireScenario[] }
  | { t: "loadFailed"; file: string; error: WireError }
  | { t: "run"; sid: number; steps: unknown }
  | { t: "observe"; sid: number }
  | { t: "discard"; sid: number }
  | { t: "done"; sid: number }
  | { t: "threw"; sid: number; error: WireError }
  | { t: "predicate"; qid: number; answer?: boolean; error?: WireError }
  | { t: "out"; stream: "stdout" | "stderr"; text: string }
  | { t: "exit"; code: number }
  /** The child's event loop ran dry while a body awaited something: it would wait for ever. */
  | { t: "drained" };

const loc = z.strictObject({ file: z.string(), line: z.number().int(), col: z.number().int() });
const wireErrorSchema = z.strictObject({
  name: z.string(),
  message: z.string(),
  stack: z.string().optional(),
  at: loc.optional(),
});
const sid = z.number().int().min(0);
const fromChild = z.discriminatedUnion("t", [
  z.strictObject({
    t: z.literal("loaded"),
    file: z.string(),
    scenarios: z.array(z.strictObject({
      name: z.string(),
      at: z.unknown(),
      options: z.unknown(),
      steps: z.unknown().optional(),
      code: z.boolean(),
    })),
  }),
  z.strictObject({ t: z.literal("loadFailed"), file: z.string(), error: wireErrorSchema }),
  z.strictObject({ t: z.literal("run"), sid, steps: z.unknown() }),
  z.strictObject({ t: z.literal("observe"), sid }),
  z.strictObject({ t: z.literal("discard"), sid }),
  z.strictObject({ t: z.literal("done"), sid }),
  z.strictObject({ t: z.literal("threw"), sid, error: wireErrorSchema }),
  z.strictObject({
    t: z.literal("predicate"),
    qid: z.number().int().min(0),
    answer: z.boolean().optional(),
    error: wireErrorSchema.optional(),
  }),
  z.strictObject({ t: z.literal("out"), stream: z.enum(["stdout", "stderr"]), text: z.string() }),
  z.strictObject({ t: z.literal("exit"), code: z.number().int() }),
  z.strictObject({ t: z.literal("drained") }),
], {
  error:
    "want a message kind: loaded, loadFailed, run, observe, discard, done, threw, predicate, out, exit, drained",
});

/**
 * Splits text that arrives in chunks into lines, in time linear in its length
 * (a step list of 10 MB payloads is one line of tens of megabytes: searching
 * the whole buffer again for each chunk would be quadratic).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LineBuffer } from "./protocol.ts";
 * const b = new LineBuffer();
 * assert.deepEqual(b.push("a\nb"), ["a"]);
 * assert.deepEqual(b.push("c\n\nd"), ["bc", ""]);
 * assert.equal(b.rest(), "d");
 * ```
 */
export class LineBuffer {
  #parts: string[] = [];

  /** Adds a chunk; returns the lines it completed. */
  push(chunk: string): string[] {
    const lines: string[] = [];
    let from = 0;
    for (let i = chunk.indexOf("\n"); i >= 0; i = chunk.indexOf("\n", from)) {
      this.#parts.push(chunk.slice(from, i));
      lines.push(this.#parts.join(""));
      this.#parts = [];
      from = i + 1;
    }
    if (from < chunk.length) this.#parts.push(chunk.slice(from));
    return lines;
  }

  /** What follows the last newline. */
  rest(): string {
    return this.#parts.join("");
  }
}

/** Bytes as base64 (V8's own encoder: a 10 MB payload takes milliseconds). */
function toBase64(u: Uint8Array): string {
  return u.toBase64();
}

function fromBase64(s: string): Uint8Array {
  try {
    return Uint8Array.fromBase64(s);
  } catch {
    throw new RangeError(`want base64, got ${s.slice(0, 20)}`);
  }
}

/**
 * One message as a line (without the newline): JSON, bytes as
 * `{"$bytes": base64, "$id": n}`. The same array met again in the message
 * (one payload both written and expected back) is `{"$ref": n}`: sent once.
 */
export function encodeMessage(m: ToChild | FromChild): string {
  const seen = new Map<Uint8Array, number>();
  return JSON.stringify(m, (_k, v: unknown) => {
    if (!(v instanceof Uint8Array)) return v;
    const id = seen.get(v);
    if (id !== undefined) return { $ref: id };
    seen.set(v, seen.size);
    return { $bytes: toBase64(v), $id: seen.size - 1 };
  });
}

/** Reads what `encodeMessage` wrote; a `$ref` is the very array its `$id` made. */
function reviveBytes(): (k: string, v: unknown) => unknown {
  const made: Uint8Array[] = [];
  return (_k, v) => {
    if (typeof v !== "object" || v === null) return v;
    const o = v as { $bytes?: unknown; $id?: unknown; $ref?: unknown };
    const keys = Object.keys(v).length;
    if (typeof o.$bytes === "string" && typeof o.$id === "number" && keys === 2) {
      return (made[o.$id] = fromBase64(o.$bytes));
    }
    if (typeof o.$ref === "number" && keys === 1) {
      const b = made[o.$ref];
      if (!b) throw new RangeError(`$ref ${o.$ref} names no bytes before it`);
      return b;
    }
    return v;
  };
}

function parse(line: string): unknown {
  try {
    return JSON.parse(line, reviveBytes());
  } catch {
    throw new RangeError(`want a JSON message, got ${JSON.stringify(line.slice(0, 80))}`);
  }
}

/** A line from the child, checked: a `RangeError` says what was wrong with it. */
export function decodeFromChild(line: string): FromChild {
  return checkFields(fromChild, parse(line), "child") as FromChild;
}

/** A line from the parent (the child trusts its parent; it only parses). */
export function decodeToChild(line: string): ToChild {
  return parse(line) as ToChild;
}

/** An error as data, with the place in the scenario's file it came from. */
export function wireError(e: unknown, at?: SourceLoc): WireError {
  if (e instanceof Error) {
    return { name: e.name, message: e.message, stack: e.stack, ...(at ? { at } : {}) };
  }
  return { name: typeof e, message: String(e), ...(at ? { at } : {}) };
}
