/**
 * The trusted side of the scenario host. A scenario file's code never runs in
 * the process that owns targets (namespaces, TUN, FFI, `nsenter`): it runs in
 * a child Deno process (`child_main.ts`) with the permissions the caller
 * chooses, and only data crosses back: scenarios with their steps, a body's
 * requests, predicate answers, and printed text. Each piece is checked with
 * zod (`protocol.ts`) before the runner acts on it.
 *
 * A child process rather than a Worker: a Worker that spins in `while (true)`
 * cannot be stopped (Deno 2.9's `terminate()` leaves the thread running), a
 * process can; its stdout and stderr are pipes, so nothing it prints can pass
 * for synack's own output; and it dies with synack, SIGKILL included
 * (`child_process.ts`).
 *
 * What the child does wrong is the scenario's failure, never the run's end:
 * an exit (`scenario exited with 0 before finishing`), a promise that never
 * settles (its event loop runs dry), a throw (at the line of the throw), a
 * broken message. The next scenario gets a new child when it needs one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ScenarioHost } from "./scenario_host.ts";
 * import { trustedPermissions } from "./permissions.ts";
 * import { runScenarioOn } from "../scenario.ts";
 * const host = new ScenarioHost({ permissions: trustedPermissions() });
 * const file = new URL("../../examples/rst_closed_port.ts", import.meta.url).href;
 * const loaded = await host.load(file);
 * assert.ok(loaded.ok);
 * assert.equal(loaded.scenarios.length, 3);
 * assert.equal((await runScenarioOn(loaded.scenarios[0])).ok, true);
 * await host.close();
 * ```
 */
import type { Scenario, ScenarioContext, StepOutcome } from "../../dsl/scenario_def.ts";
import { PredicatePending } from "../../dsl/matcher.ts";
import type { SourceLoc } from "../../dsl/source_location.ts";
import {
  checkLocation,
  checkScenarioOptions,
  checkSteps,
  mapPredicates,
  type WhereMatcher,
} from "../../dsl/step_codec.ts";
import type { Step } from "../../dsl/steps.ts";
import { ScenarioFailure, ScenarioSkipped, threwFailure } from "../engine/failure.ts";
import { type ChildSpec, spawnChild } from "./child_process.ts";
import {
  decodeFromChild,
  encodeMessage,
  type FromChild,
  LineBuffer,
  type ToChild,
  type WireError,
  type WireState,
} from "./protocol.ts";

/** How to start the child, and what to do with what it prints. */
export interface HostOptions extends ChildSpec {
  /** Replacements on everything the child says: a proxy's URLs back to the origin's. */
  rewrite?: readonly (readonly [string, string])[];
  /** Text the scenario printed, one call per line. */
  onOutput?: (text: string, stream: "stdout" | "stderr") => void;
  /** How long a file's top level may take to run (default 60 s). */
  loadTimeoutMs?: number;
}

/** What loading one file gave. */
export type LoadResult =
  | { ok: true; scenarios: Scenario[] }
  | { ok: false; message: string; at?: SourceLoc };

/** How a child ended. */
interface Death {
  dead: true;
  code: number;
  signal: string | null;
  /** The code it gave `Deno.exit`, when it said so first. */
  claimedExit?: number;
  /** Its event loop ran dry: an awaited promise could never settle. */
  drained: boolean;
  /** Why synack ended it, if synack did. */
  killedBecause?: string;
}

type Message = FromChild | Death;

/** How long a file's top level may take to run. */
export const DEFAULT_LOAD_MS = 60_000;
const enc = new TextEncoder();

/** One child process and what it has said. */
class Child {
  readonly proc: Deno.ChildProcess;
  readonly loaded = new Set<string>();
  readonly #queue: FromChild[] = [];
  #wake: (() => void) | undefined;
  readonly #answers = new Map<number, (m: FromChild | Death) => void>();
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  death: Death | undefined;
  #claimed: number | undefined;
  #drained = false;
  #killedBecause: string | undefined;
  /** Requests out that the child has not finished: a body, a predicate. */
  busy = 0;

  /** What the host's URLs look like in the child's messages. */
  readonly rewrite: (s: string) => string;

  constructor(proc: Deno.ChildProcess, o: HostOptions) {
    this.proc = proc;
    this.#writer = proc.stdin.getWriter();
    const rewrite = (s: string) => (o.rewrite ?? []).reduce((t, [a, b]) => t.replaceAll(a, b), s);
    this.rewrite = rewrite;
    const stdout = this.#lines(proc.stdout, (line) => {
      let m: FromChild;
      try {
        m = decodeFromChild(rewrite(line));
      } catch (e) {
        this.kill(`it sent a message that does not check: ${(e as Error).message}`);
        return;
      }
      this.#take(m, o);
    });
    const stderr = this.#lines(proc.stderr, (l) => o.onOutput?.(rewrite(l), "stderr"));
    // Dead once it has exited and everything it wrote has been read.
    Promise.all([proc.status, stdout, stderr]).then(([s]) => {
      this.death = {
        dead: true,
        code: s.code,
        signal: s.signal,
        claimedExit: this.#claimed,
        drained: this.#drained,
        killedBecause: this.#killedBecause,
      };
      this.#wake?.();
      for (const answer of this.#answers.values()) answer(this.death);
      this.#answers.clear();
    });
  }

  async #lines(stream: ReadableStream<Uint8Array>, each: (line: string) => void): Promise<void> {
    const buf = new LineBuffer();
    try {
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
        for (const line of buf.push(chunk)) each(line);
      }
    } catch {
      // The pipe broke: the process is gone, which `status` reports.
    }
    const rest = buf.rest();
    if (rest) each(rest);
  }

  #take(m: FromChild, o: HostOptions): void {
    switch (m.t) {
      case "out":
        for (const l of m.text.replace(/\n$/, "").split("\n")) o.onOutput?.(l, m.stream);
        return;
      case "exit":
        this.#claimed = m.code;
        return;
      case "drained":
        this.#drained = true;
        return;
      case "predicate": {
        const answer = this.#answers.get(m.qid);
        this.#answers.delete(m.qid);
        answer?.(m);
        return;
      }
      default:
        this.#queue.push(m);
        this.#wake?.();
    }
  }

  /** The next message, or how the child died. */
  async next(): Promise<Message> {
    for (;;) {
      const m = this.#queue.shift();
      if (m) return m;
      if (this.death) return this.death;
      await new Promise<void>((r) => (this.#wake = r));
      this.#wake = undefined;
    }
  }

  /** Sends a request whose answer comes by `qid` (a predicate question). */
  ask(m: Extract<ToChild, { op: "predicate" }>): Promise<FromChild | Death> {
    if (this.death) return Promise.resolve(this.death);
    const p = new Promise<FromChild | Death>((r) => this.#answers.set(m.qid, r));
    this.send(m);
    return p;
  }

  send(m: ToChild): void {
    if (this.death) return;
    // A child that stopped reading cannot hold us up: writes queue in the stream.
    this.#writer.write(enc.encode(`${encodeMessage(m)}\n`)).catch(() => {});
  }

  /** Ended, or being ended: no new request goes to it. */
  get gone(): boolean {
    return this.death !== undefined || this.#killedBecause !== undefined;
  }

  kill(why: string): void {
    if (this.death) return;
    this.#killedBecause ??= why;
    try {
      this.proc.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }

  async close(): Promise<void> {
    await this.#writer.close().catch(() => {});
    const quit = setTimeout(() => this.kill("synack was done with it"), 2000);
    await this.proc.status;
    clearTimeout(quit);
  }
}

function isDeath(m: Message): m is Death {
  return "dead" in m;
}

/** What a dead child's end means for the scenario that was running. */
function deathFailure(d: Death, doing: string): ScenarioFailure {
  if (d.killedBecause) {
    return new ScenarioFailure(`${doing}: synack ended it: ${d.killedBecause}`, undefined);
  }
  if (d.claimedExit !== undefined) {
    return new ScenarioFailure(
      `the scenario exited with ${d.claimedExit} before finishing (${doing})`,
      undefined,
    );
  }
  if (d.drained) {
    return new ScenarioFailure(
      `the scenario's code awaits a promise that never settles: nothing was left to run (${doing})`,
      undefined,
    );
  }
  const how = d.signal ? `signal ${d.signal}` : `exit code ${d.code}`;
  return new ScenarioFailure(`the scenario's process ended with ${how} (${doing})`, undefined);
}

function fromWire(e: WireError): ScenarioFailure {
  return threwFailure(e.name, e.message, e.at);
}

/** Runs scenario files' code in a child process; see the module comment. */
export class ScenarioHost {
  readonly #o: HostOptions;
  #child: Child | undefined;
  #sid = 0;
  #qid = 0;

  constructor(o: HostOptions) {
    this.#o = o;
  }

  /** A live child, started if there is none. */
  #live(): Child {
    if (this.#child && !this.#child.gone) return this.#child;
    const { permissions, denoFlags } = this.#o;
    this.#child = new Child(spawnChild({ permissions, denoFlags }), this.#o);
    return this.#child;
  }

  /**
   * Loads `file` (a file: or http(s): URL) in the child: its scenarios, as
   * data and bodies. A file whose top level does not finish within
   * `timeoutMs` (a busy loop, a wait) fails to load, and its child is ended.
   */
  async load(
    file: string,
    timeoutMs = this.#o.loadTimeoutMs ?? DEFAULT_LOAD_MS,
  ): Promise<LoadResult> {
    const child = this.#live();
    child.send({ op: "load", file });
    const limit = setTimeout(
      () => child.kill(`loading did not finish within ${timeoutMs / 1000} s`),
      timeoutMs,
    );
    try {
      return await this.#loaded(child, file);
    } finally {
      clearTimeout(limit);
    }
  }

  async #loaded(child: Child, file: string): Promise<LoadResult> {
    // The child names the file as the user knows it (a proxy's URL turned back).
    const named = child.rewrite(file);
    for (;;) {
      const m = await child.next();
      if (isDeath(m)) {
        const f = m.killedBecause
          ? `${m.killedBecause} (a busy loop or a wait at the file's top level?)`
          : deathFailure(m, "while loading").message;
        return { ok: false, message: f };
      }
      if (m.t === "loadFailed" && m.file === named) {
        return { ok: false, message: m.error.message, at: m.error.at };
      }
      if (m.t !== "loaded" || m.file !== named) continue;
      child.loaded.add(file);
      try {
        return { ok: true, scenarios: m.scenarios.map((w, i) => this.#scenario(file, w, i)) };
      } catch (e) {
        child.kill("it described a scenario that does not check");
        return { ok: false, message: `${file}: ${(e as Error).message}` };
      }
    }
  }

  #scenario(file: string, w: Extract<FromChild, { t: "loaded" }>["scenarios"][number], i: number) {
    const name = w.name;
    const at = checkLocation(w.at, `scenario ${i}.at`);
    const options = checkScenarioOptions(w.options, `scenario ${i}.options`);
    if (w.code) {
      const body = (ctx: ScenarioContext) => this.#body(file, i, ctx);
      return Object.freeze({ name, at, options, body }) as Scenario;
    }
    const steps = this.#steps(file, w.steps, `scenario ${i}.steps`);
    return Object.freeze({ name, at, options, steps: Object.freeze(steps) }) as Scenario;
  }

  /** Steps from the child, checked, with its predicates answered by asking it. */
  #steps(file: string, raw: unknown, label: string): Step[] {
    return mapPredicates(checkSteps(raw, label), (m) => this.#remote(file, m)) as Step[];
  }

  #remote(file: string, m: WhereMatcher): WhereMatcher {
    const pred = m.remote;
    if (pred === undefined) return m;
    const known = new Map<number, boolean>();
    const test = (v: number) => {
      const hit = known.get(v);
      if (hit !== undefined) return hit;
      throw new PredicatePending(m.description, async () => {
        known.set(v, await this.#ask(file, pred, m.description, v));
      });
    };
    return { matcher: "where", description: m.description, test };
  }

  async #ask(file: string, pred: number, description: string, value: number): Promise<boolean> {
    const child = await this.#withFile(file);
    child.busy++;
    const r = await child.ask({ op: "predicate", qid: ++this.#qid, file, pred, value });
    child.busy--;
    const doing = `asking predicate "${description}"`;
    if (isDeath(r)) throw deathFailure(r, doing);
    if (r.t !== "predicate") throw new ScenarioFailure(`${doing}: no answer`, undefined);
    if (r.error) throw fromWire(r.error);
    return r.answer === true;
  }

  /** A live child that has `file` loaded (a new child loads it again). */
  async #withFile(file: string): Promise<Child> {
    const child = this.#live();
    if (child.loaded.has(file)) return child;
    const r = await this.load(file);
    if (!r.ok) throw new ScenarioFailure(`loading ${file} again: ${r.message}`, r.at);
    return this.#live();
  }

  /** A code-form scenario's body: the child runs it, the runner runs its steps. */
  async #body(file: string, index: number, ctx: ScenarioContext): Promise<void> {
    const child = await this.#withFile(file);
    const sid = ++this.#sid;
    let shown = ctx.events.length;
    const state = (): WireState => {
      const events = ctx.events.slice(shown).map((event) => ({ event, text: ctx.describe(event) }));
      shown = ctx.events.length;
      return { now: ctx.now, events };
    };
    // A run that ends early (time limit) must not leave the child spinning.
    const stop = () => child.kill("the scenario's run ended before its code did");
    ctx.signal?.addEventListener("abort", stop);
    child.busy++;
    child.send({ op: "body", sid, file, index });
    let failed: ScenarioFailure | undefined;
    const reply = (outcome?: StepOutcome) =>
      child.send({
        op: "outcome",
        sid,
        ...(outcome ? { outcome } : {}),
        ...(failed ? { failure: failed.message } : {}),
        state: state(),
      });
    try {
      for (;;) {
        const m = await child.next();
        if (isDeath(m)) {
          const when = ctx.stepsDone ? `after step ${ctx.stepsDone}` : "before its first step";
          throw failed ?? deathFailure(m, when);
        }
        if (!("sid" in m) || m.sid !== sid) continue;
        switch (m.t) {
          case "run": {
            // After a failure the verdict is made; the code only learns it again.
            if (failed) {
              reply();
              break;
            }
            try {
              reply(await ctx.run(...this.#steps(file, m.steps, "steps")));
            } catch (e) {
              // Not for this target: the whole scenario is skipped, its code with it.
              if (e instanceof ScenarioSkipped) throw e;
              failed = e instanceof ScenarioFailure ? e : new ScenarioFailure(
                `the scenario sent steps that do not check: ${(e as Error).message}`,
                undefined,
              );
              reply();
            }
            break;
          }
          case "observe":
            await ctx.observe();
            reply();
            break;
          case "discard":
            ctx.discardObserved();
            break;
          case "done":
            child.busy--;
            if (failed) throw failed;
            return;
          case "threw":
            child.busy--;
            throw failed ?? fromWire(m.error);
        }
      }
    } finally {
      ctx.signal?.removeEventListener("abort", stop);
    }
  }

  /**
   * After each scenario: a child still busy with it (a body or predicate that
   * did not finish) is ended, so the next scenario starts clean.
   */
  settle(): void {
    if (this.#child?.busy) this.#child.kill("its scenario had ended");
  }

  /** Ends the child. */
  async close(): Promise<void> {
    await this.#child?.close();
    this.#child = undefined;
  }
}
