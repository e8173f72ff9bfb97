/**
 * The scenario host's child: the only process that runs a scenario file's
 * code. It loads files, sends their scenarios as data, runs code-form bodies
 * whose steps it forwards to the trusted runner in the parent, and answers
 * the parent's questions to predicates. It never opens a target: it has no
 * FFI, no subprocesses, and, when sandboxed, no files, network or
 * environment either (the parent chooses its Deno permissions).
 *
 * Before any scenario code loads, it takes the real stdin and stdout for the
 * protocol and puts stand-ins in their place: `console` and `Deno.stdout`
 * become `out` messages the parent marks as the scenario's, `Deno.exit`
 * announces itself, and uncaught errors are reported, not printed.
 *
 * Started by `scenario_host.ts`: `deno run <permissions> child_main.ts`.
 *
 * @example
 * ```ts ignore
 * // deno run --allow-read=… runtime/host/child_main.ts   (stdin: requests, stdout: messages)
 * ```
 */
import { resolveRefs, type Scenario, type ScenarioContext } from "../../dsl/scenario_def.ts";
import type { TraceEventLike } from "../../dsl/scenario_def.ts";
import { errorLocation } from "../../dsl/source_location.ts";
import { mapPredicates, type WhereMatcher } from "../../dsl/step_codec.ts";
import { type Step, toSteps } from "../../dsl/steps.ts";
import { ScenarioFailure } from "../engine/failure.ts";
import { loadScenarios } from "./load_scenarios.ts";
import {
  decodeToChild,
  encodeMessage,
  type FromChild,
  LineBuffer,
  type ToChild,
  wireError,
  type WireScenario,
} from "./protocol.ts";

// The real stdio and exit, taken before anything else can run.
const stdout = Deno.stdout;
const stdin = Deno.stdin;
const exit = Deno.exit;
const enc = new TextEncoder();

function send(m: FromChild): void {
  const bytes = enc.encode(`${encodeMessage(m)}\n`);
  for (let off = 0; off < bytes.length;) off += stdout.writeSync(bytes.subarray(off));
}

/** Lines from the parent, read only when asked for (see `nextRequest`). */
class LineReader {
  readonly #buf = new LineBuffer();
  readonly #ready: string[] = [];
  readonly #dec = new TextDecoder();
  readonly #chunk = new Uint8Array(1 << 16);

  async next(): Promise<string | null> {
    for (;;) {
      const line = this.#ready.shift();
      if (line !== undefined) return line;
      const n = await stdin.read(this.#chunk);
      if (n === null) return null;
      this.#ready.push(
        ...this.#buf.push(this.#dec.decode(this.#chunk.subarray(0, n), { stream: true })),
      );
    }
  }
}

const reader = new LineReader();

/**
 * The next request, answering predicate questions on the way. Nothing reads
 * stdin while a body runs its own code: if that code awaits a promise that
 * never settles, the event loop runs dry and `beforeunload` tells the parent.
 */
async function nextRequest(): Promise<Exclude<ToChild, { op: "predicate" }>> {
  for (;;) {
    const line = await reader.next();
    // The parent has gone: so does the child.
    if (line === null) exit(0);
    const m = decodeToChild(line!);
    if (m.op === "predicate") answer(m);
    else return m;
  }
}

// --- the scenario's stdio and exit ---------------------------------------------

const decoder = new TextDecoder();
function out(stream: "stdout" | "stderr", text: string): void {
  send({ t: "out", stream, text });
}

function standIn(stream: "stdout" | "stderr") {
  const write = (p: Uint8Array) => {
    out(stream, decoder.decode(p));
    return p.length;
  };
  return {
    rid: -1,
    writeSync: write,
    write: (p: Uint8Array) => Promise.resolve(write(p)),
    writable: new WritableStream<Uint8Array>({ write: (p) => void write(p) }),
    isTerminal: () => false,
    close() {},
  };
}

function format(args: unknown[]): string {
  return args.map((a) => typeof a === "string" ? a : Deno.inspect(a, { colors: false })).join(" ");
}

const c = globalThis.console as unknown as Record<string, unknown>;
for (const k of ["log", "info", "debug", "dir", "dirxml", "table", "trace", "group"]) {
  c[k] = (...a: unknown[]) => out("stdout", format(a));
}
for (const k of ["error", "warn", "assert"]) {
  c[k] = k === "assert"
    ? (cond: unknown, ...a: unknown[]) =>
      void (cond || out("stderr", `Assertion failed ${format(a)}`))
    : (...a: unknown[]) => out("stderr", format(a));
}
const define = (name: string, value: unknown) =>
  Object.defineProperty(Deno, name, { value, writable: false, configurable: false });
define("stdout", standIn("stdout"));
define("stderr", standIn("stderr"));
define("stdin", {
  rid: -1,
  read: () => Promise.resolve(null),
  readSync: () => null,
  readable: new ReadableStream({ start: (ctl) => ctl.close() }),
  isTerminal: () => false,
  setRaw() {},
  close() {},
});
define("exit", (code = 0): never => {
  send({ t: "exit", code });
  return exit(code);
});

/** The body running now, if any: uncaught errors are its failure. */
let current: number | undefined;
function uncaught(e: unknown): void {
  const error = wireError(e, errorLocation(e));
  if (current !== undefined) send({ t: "threw", sid: current, error });
  else out("stderr", `Uncaught ${error.name}: ${error.message}`);
}
globalThis.addEventListener("error", (e) => {
  e.preventDefault();
  uncaught(e.error);
});
globalThis.addEventListener("unhandledrejection", (e) => {
  e.preventDefault();
  uncaught(e.reason);
});
// Only awaited work is left (a body's, or a file's top-level await) and none of it can settle.
globalThis.addEventListener("beforeunload", () => send({ t: "drained" }));

// --- scenarios and predicates ---------------------------------------------------

const files = new Map<string, readonly Scenario[]>();
/**
 * Predicates by file, numbered in the order the file's scenarios name them,
 * so that a file loaded again by a new child numbers them the same way.
 */
const predicates = new Map<string, ((v: number) => boolean)[]>();

/** A predicate stays here; the data that leaves names it by file and number. */
function registrar(file: string): (m: WhereMatcher) => WhereMatcher {
  return (m) => {
    if (!m.test) return { matcher: "where", description: m.description };
    const list = predicates.get(file) ?? [];
    predicates.set(file, list);
    list.push(m.test);
    return { matcher: "where", description: m.description, remote: list.length - 1 };
  };
}

function answer(m: Extract<ToChild, { op: "predicate" }>): void {
  try {
    const test = predicates.get(m.file)?.[m.pred];
    if (!test) throw new RangeError(`no predicate #${m.pred} in ${m.file}`);
    send({ t: "predicate", qid: m.qid, answer: test(m.value) === true });
  } catch (e) {
    send({ t: "predicate", qid: m.qid, error: wireError(e, errorLocation(e)) });
  }
}

function toWire(sc: Scenario, register: (m: WhereMatcher) => WhereMatcher): WireScenario {
  return {
    name: sc.name,
    at: sc.at,
    options: sc.options,
    ...(sc.steps ? { steps: mapPredicates(sc.steps, register) } : {}),
    code: !sc.steps,
  };
}

async function load(file: string): Promise<void> {
  try {
    if (files.has(file)) throw new RangeError(`${file} is already loaded`);
    const found = await loadScenarios([file]);
    files.set(file, found);
    const register = registrar(file);
    send({ t: "loaded", file, scenarios: found.map((sc) => toWire(sc, register)) });
  } catch (e) {
    const cause = (e as Error).cause ?? e;
    send({ t: "loadFailed", file, error: { ...wireError(e), at: errorLocation(cause) } });
  }
}

/** Runs a code-form body; its steps go to the parent, which runs them. */
async function body(m: Extract<ToChild, { op: "body" }>): Promise<void> {
  const sc = files.get(m.file)?.[m.index];
  const register = registrar(m.file);
  const sid = m.sid;
  current = sid;
  const done: Step[] = [];
  const events: TraceEventLike[] = [];
  const texts = new WeakMap<object, string>();
  let now = 0;
  const ask = async (request: FromChild) => {
    send(request);
    for (;;) {
      const r = await nextRequest();
      if (r.op !== "outcome" || r.sid !== sid) continue;
      now = r.state.now;
      for (const { event, text } of r.state.events) {
        events.push(event);
        texts.set(event, text);
      }
      if (r.failure !== undefined) throw new ScenarioFailure(r.failure, undefined);
      return r.outcome;
    }
  };
  const ctx: ScenarioContext = {
    async run(...steps) {
      const resolved = resolveRefs(toSteps(steps), done);
      done.push(...resolved);
      const outcome = await ask({ t: "run", sid, steps: mapPredicates(resolved, register) });
      return outcome ?? { kind: "none", time: now };
    },
    get now() {
      return now;
    },
    async observe() {
      await ask({ t: "observe", sid });
    },
    discardObserved() {
      send({ t: "discard", sid });
    },
    get events() {
      return events;
    },
    describe(e) {
      return texts.get(e) ?? `${(e.time / 1000).toFixed(6)} ${e.kind}`;
    },
    get stepsDone() {
      return done.length;
    },
  };
  try {
    if (!sc?.body) throw new RangeError(`no code-form scenario #${m.index} in ${m.file}`);
    await sc.body(ctx);
    send({ t: "done", sid });
  } catch (e) {
    send({ t: "threw", sid, error: wireError(e, errorLocation(e)) });
  } finally {
    current = undefined;
  }
}

async function serve(): Promise<void> {
  for (;;) {
    const m = await nextRequest();
    switch (m.op) {
      case "load":
        await load(m.file);
        break;
      case "body":
        await body(m);
        break;
      case "outcome":
        // An answer for a body that has already ended: nobody is waiting for it.
        break;
    }
  }
}

// No top-level await: a body that never settles must let the event loop run dry.
serve();
