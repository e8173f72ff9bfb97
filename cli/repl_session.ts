/**
 * A live session against a target: the REPL's engine, without the terminal.
 * It runs one open-ended scenario whose steps arrive one command at a time.
 * A packet builder is injected, a step (expect, a socket call, wait) is run,
 * and whatever the stack sent meanwhile is taken in and printed in the line
 * syntax, seq/ack relative. A failed expectation prints the same report as
 * in a scenario and the session goes on. `save()` writes the session as a
 * scenario file that reproduces it and asserts on what was seen.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ReplSession } from "./repl_session.ts";
 * import { listen, syn } from "../mod.ts";
 * const lines: string[] = [];
 * const s = await ReplSession.open("builtin", (l) => lines.push(l));
 * await s.exec("listen(8080)", listen(8080));
 * await s.exec("syn()", syn());
 * assert.ok(lines.some((l) => l.includes("< 192.168.0.1:8080 > 192.0.2.1:40000 S. 0:0(0) ack 1")));
 * await s.close();
 * ```
 */
import { defineScenario, type ScenarioContext, type TraceEventLike } from "../dsl/scenario_def.ts";
import { inject, type Step, type StepInput, toSteps } from "../dsl/steps.ts";
import { ScenarioFailure } from "../runtime/engine/failure.ts";
import { type RunResult, runScenario } from "../runtime/engine/runner.ts";
import type { Target } from "../runtime/engine/target.ts";
import { fillReasons } from "../runtime/engine/reason_check.ts";
import { Trace, type TraceEvent } from "../runtime/engine/trace.ts";
import { openTarget } from "../runtime/scenario.ts";
import { pktScript } from "../runtime/pkt/pkt_save.ts";
import { builtinPeer } from "../runtime/stack/builtin_target.ts";
import { parseLine } from "../runtime/wire/line_parse.ts";
import { preprocess } from "./repl_eval.ts";
import { formatTcpFlags } from "../runtime/wire/tcp.ts";

/** How a printed line is meant: the REPL colors by it. */
export type LineKind = "in" | "out" | "call" | "note" | "error";

/** Prints one line of session output. */
export type Printer = (line: string, kind: LineKind) => void;

function isPacketBuilder(v: unknown): v is { def: { proto: string } } {
  return typeof v === "object" && v !== null && "def" in v &&
    typeof (v as { def: unknown }).def === "object" && "proto" in (v as { def: object }).def;
}

function isStepInput(v: unknown): v is StepInput {
  if (Array.isArray(v)) return v.every(isStepInput);
  return typeof v === "object" && v !== null && ("toSteps" in v || ("kind" in v && "at" in v));
}

/** One live session on one target. */
export class ReplSession {
  readonly spec: string;
  readonly #print: Printer;
  #target!: Target;
  #ctx!: ScenarioContext;
  #finish!: () => void;
  #run!: Promise<RunResult>;
  #printed = 0;
  /** The session as scenario steps, in source form, for `save()`. */
  readonly #record: string[] = [];
  /** `const x = …` lines, kept for `save()`. */
  readonly #decls: string[] = [];
  #commands = 0;
  /** Packets the stack sent that no expect() has matched yet, in order. */
  #unmatched: TraceEventLike[] = [];
  /** Segments the stack sent that carried sequence space, to tell a retransmission. */
  readonly #sentSegments = new Set<string>();

  private constructor(spec: string, print: Printer) {
    this.spec = spec;
    this.#print = print;
  }

  /** Opens the target `spec` names and starts the session on it. */
  static async open(spec: string, print: Printer): Promise<ReplSession> {
    const s = new ReplSession(spec, print);
    await s.#start();
    return s;
  }

  async #start(): Promise<void> {
    this.#target = await openTarget(this.spec);
    let ready!: (c: ScenarioContext) => void;
    const got = new Promise<ScenarioContext>((r) => (ready = r));
    const done = new Promise<void>((r) => (this.#finish = r));
    const sc = defineScenario("repl session", async (ctx) => {
      ready(ctx);
      await done;
    }, { register: false, strict: "ignore" });
    // A session lasts as long as the person at the keyboard wants, in either kind of time.
    this.#run = runScenario(sc, {
      target: this.#target,
      makePeer: builtinPeer,
      limits: { timeoutMs: Infinity, virtualTimeoutMs: Infinity },
    });
    this.#ctx = await got;
  }

  /** The target's name: `builtin:linux`, `kernel`. */
  get targetName(): string {
    return this.#target.name;
  }

  /**
   * Runs what a command evaluated to: a packet builder is injected, steps are
   * run; anything else is printed. `source` is the command as typed.
   */
  async exec(source: string, value: unknown): Promise<void> {
    let steps: Step[];
    let recorded: string;
    // Failures point at the command: "repl:3:1".
    const at = { file: "repl", line: ++this.#commands, col: 1 };
    // Saved as JavaScript: the bare option literal quoted, a multi-line command on one line.
    const code = preprocess(source).replace(/\s*\n\s*/g, " ").trim().replace(/;$/, "");
    if (isPacketBuilder(value)) {
      steps = toSteps([inject(value as never)]);
      recorded = `inject(${code})`;
    } else if (isStepInput(value)) {
      steps = toSteps([value]);
      recorded = code;
    } else {
      if (value !== undefined) this.#print(Deno.inspect(value, { colors: false }), "note");
      return;
    }
    // An expectation checks what came in answer to the commands before it; anything
    // else moves on, and what came unchecked is saved as expected as it was seen.
    if (!steps.every((s) => s.kind === "expect" || s.kind === "expectNothing")) {
      this.#settleUnmatched();
      this.#ctx.discardObserved();
    }
    const before = this.#ctx.events.length;
    try {
      await this.#ctx.run(...steps.map((s) => ({ ...s, at }) as Step));
      this.#record.push(recorded);
    } catch (e) {
      if (!(e instanceof ScenarioFailure)) throw e;
      this.#print(e.message, "error");
    }
    await this.#ctx.observe();
    this.#flush(before);
    // Those an expect() just matched are its to assert.
    this.#unmatched = this.#unmatched.filter((e) => e.step === undefined);
  }

  /** Records the packets nothing matched as expectations of what came. */
  #settleUnmatched(): void {
    for (const e of this.#unmatched) {
      // Timing from the event before it, as a replay measures it.
      const i = this.#ctx.events.indexOf(e);
      const before = i > 0 ? this.#ctx.events[i - 1].time : e.time;
      const line = this.#ctx.describe(e);
      const key = segmentKey(line);
      const again = key !== undefined && this.#sentSegments.has(key);
      if (key) this.#sentSegments.add(key);
      this.#record.push(expectationFor(line, { afterMs: e.time - before, retransmission: again }));
    }
    this.#unmatched = [];
  }

  /**
   * Takes in and prints what the stack sent since the last command (a real
   * target sends on its own time: retransmissions, keepalives). Returns
   * whether anything was printed.
   */
  async poll(): Promise<boolean> {
    const before = this.#ctx.events.length;
    await this.#ctx.observe();
    this.#flush(before);
    return this.#ctx.events.length > before;
  }

  /** Abandons the step running now: a wait for a packet, or for time, ends (Ctrl-C). */
  interrupt(): void {
    this.#ctx.interrupt?.();
  }

  /** Whether the session runs on a real clock, where packets come between commands. */
  get live(): boolean {
    return this.#target.clock.kind === "real";
  }

  /** Keeps `const name = …` for `save()`; the value itself is the REPL's to hold. */
  declare(source: string): void {
    this.#decls.push(preprocess(source).replace(/\s*\n\s*/g, " ").trim().replace(/;?$/, ";"));
  }

  /** Runs scenario steps (from `.load`) into the session. */
  async runSteps(steps: readonly Step[], label: string): Promise<boolean> {
    const offset = this.#ctx.stepsDone;
    const before = this.#ctx.events.length;
    try {
      for (const s of steps) await this.#ctx.run(shiftRefs(s, offset));
      this.#record.push(`// ${label}: ${steps.length} steps`);
      return true;
    } catch (e) {
      if (!(e instanceof ScenarioFailure)) throw e;
      this.#print(e.message, "error");
      return false;
    } finally {
      await this.#ctx.observe();
      this.#flush(before);
    }
  }

  /** Prints events from `from` on; packets the stack sent and no step matched are recorded as expectations. */
  #flush(from: number): void {
    const events = this.#ctx.events;
    for (let i = Math.max(from, this.#printed); i < events.length; i++) {
      const e = events[i];
      const line = this.#ctx.describe(e);
      if (e.kind === "packet") {
        this.#print(line, e.dir === "in" ? "in" : "out");
        if (e.dir === "out" && e.step === undefined) this.#unmatched.push(e);
      } else if (e.kind === "call") this.#print(line, "call");
      else if (e.kind === "note") this.#print(line, "note");
    }
    this.#printed = events.length;
  }

  /** Every event so far, one line each. */
  traceLines(): string[] {
    return this.#ctx.events.map((e) => this.#ctx.describe(e));
  }

  /**
   * The session as one self-contained HTML page: its ladder diagram (and a
   * time-sequence graph when data went one way), with the stack's reasons.
   */
  /** The session as a packetdrill script (`.save file.pkt`). */
  pktText(): string {
    this.#settleUnmatched();
    return pktScript(
      this.#ctx.events as unknown as TraceEvent[],
      (e: TraceEvent) => this.#ctx.describe(e as unknown as TraceEventLike),
      `Saved from a synack REPL session on ${this.#target.name}.`,
    );
  }

  async diagram(): Promise<string> {
    const t = new Trace();
    t.events.push(...(this.#ctx.events as unknown as TraceEvent[]));
    await fillReasons(t, this.#target.reasons);
    const { reportHtml } = await import("../runtime/report/report_html.ts");
    const name = this.#target.name;
    return reportHtml(`synack repl on ${name}`, [{
      name: "this session",
      where: "the REPL",
      target: name,
      verdict: "pass",
      warnings: [],
      trace: t,
      ends: { stack: name },
    }]);
  }

  /** The session's packets as a pcap file. */
  pcap(): Uint8Array {
    const t = new Trace();
    t.events.push(...(this.#ctx.events as unknown as TraceEvent[]));
    return t.toPcap();
  }

  /**
   * The session as a scenario file: each command as a step, and each packet
   * the stack sent that no command expected as an `expect()` of what came.
   */
  scenarioText(modUrl: string, name = "saved REPL session"): string {
    this.#settleUnmatched();
    const used = new Set<string>(["scenario"]);
    for (const r of [...this.#decls, ...this.#record]) {
      // Names called on their own, not methods after a dot.
      for (const m of r.matchAll(/(?<![.\w$])([A-Za-z_$][\w$]*)\s*\(/g)) used.add(m[1]);
    }
    const names = [...used].filter((n) => DSL_NAMES.has(n)).sort();
    const target = this.spec.startsWith("builtin:") ? this.spec.slice(8) : undefined;
    return [
      `// Saved from a synack REPL session on ${this.#target.name}. Run: synack run <this file>`,
      `import { ${names.join(", ")} } from ${JSON.stringify(modUrl)};`,
      "",
      ...this.#decls,
      ...(this.#decls.length ? [""] : []),
      `scenario(${JSON.stringify(name)}, [`,
      ...this.#record.map((r) =>
        r.startsWith("//") ? `  ${r}` : `  ${r.replace(/^(.*?)( \/\/ .*)?$/, "$1,$2")}`
      ),
      target ? `], { profile: ${JSON.stringify(target)} });` : "]);",
      "",
    ].join("\n");
  }

  /** Ends the session and releases the target. */
  async close(): Promise<void> {
    this.#finish();
    await this.#run;
    await this.#target.close();
  }
}

/** DSL names `scenarioText` may import (filled by the REPL from mod.ts). */
export const DSL_NAMES = new Set<string>();

/** What identifies a segment the stack sent with sequence space: flags, seq and length. */
function segmentKey(line: string): string | undefined {
  const m = / ([SFRPUEWe.]+) (\d+):\d+\((\d+)\)/.exec(line);
  if (!m || (m[3] === "0" && !/[SF]/.test(m[1]))) return undefined;
  return `${m[1]} ${m[2]} ${m[3]}`;
}

/**
 * `expect(ack().flags("S.").seq(0).ack(1).win(range(61088, 69232)))` for a
 * line the stack sent: the window within 1/16 (stacks differ by that much,
 * charging buffers by truesize), `.after()` when it came a while after the
 * event before it (a retransmission, a timer), so that a saved session
 * replays on another target; a retransmission is marked as one.
 */
export function expectationFor(
  line: string,
  o: { afterMs?: number; retransmission?: boolean } = {},
): string {
  // The line reads "0.001000 < <packet>": drop the time and direction.
  const text = line.replace(/^\s*[\d.]+\s+[<>]\s+/, "");
  try {
    const t = parseLine(text).packet.transport;
    if (t.kind !== "tcp") return `// seen, not asserted: ${text}`;
    const parts = [`ack().flags(${JSON.stringify(formatTcpFlags(t.flags))})`, `.seq(${t.seq})`];
    if (t.flags & 0x10) parts.push(`.ack(${t.ack})`);
    const slack = t.window >> 4;
    parts.push(
      slack ? `.win(range(${t.window - slack}, ${t.window + slack}))` : `.win(${t.window})`,
    );
    if (t.payload.length) parts.push(`.payload(${t.payload.length})`);
    // A gap under 100 ms is an answer, not a timer: on a real stack its exact size is noise.
    const after = o.afterMs !== undefined && o.afterMs >= 100
      ? `.after(${JSON.stringify(`${Math.round(o.afterMs)}ms`)})`
      : "";
    const note = o.retransmission ? " // a retransmission" : "";
    return `expect(${parts.join("")})${after}${note}`;
  } catch {
    return `// seen, not asserted: ${text}`;
  }
}

/** Moves a loaded step's references to earlier steps into the session's numbering. */
function shiftRefs(s: Step, offset: number): Step {
  if (s.kind !== "expect" || offset === 0) return s;
  return {
    ...s,
    relations: s.relations.map((r) =>
      "step" in r.ref ? { ...r, ref: { step: (r.ref as { step: number }).step + offset } } : r
    ),
  } as Step;
}
