/**
 * `synack run`: runs scenarios and prints one line per scenario, the failure
 * report under a failing one, and a summary line `N passed, N failed`.
 * Returns 0 when all pass, 1 otherwise.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runCommand } from "./run_command.ts";
 * const lines: string[] = [];
 * const code = await runCommand(["examples/rst_closed_port.ts"], { print: (l) => lines.push(l) });
 * assert.equal(code, 0);
 * assert.equal(lines.at(-1), "3 passed, 0 failed");
 * ```
 */
import { formatLocation } from "../dsl/source_location.ts";
import type { Scenario } from "../dsl/scenario_def.ts";
import type { MaskName } from "../runtime/engine/divergence.ts";
import type { RunResult } from "../runtime/engine/runner.ts";
import type { LimitOverride } from "../runtime/engine/scenario_limits.ts";
import { parseTargetSpec } from "../runtime/target_spec.ts";
import {
  checkOutputFile,
  ProgressLine,
  scenarioOutputLines,
  verdictLines,
} from "./scenario_lines.ts";
import { ScenarioSuite, type SuiteOptions } from "./scenario_suite.ts";
import { colorsWanted } from "./style.ts";

/** Options of `synack run`. */
export interface RunCommandOptions extends Omit<SuiteOptions, "includeTests"> {
  target?: string;
  pcap?: string;
  trace?: string;
  /** Write one HTML file with a ladder diagram (and time-sequence graph) per run. */
  report?: string;
  filter?: string;
  /** Time limits over each scenario's own (`--timeout`, `--virtual-timeout`). */
  limits?: LimitOverride;
  /** Known noise a target list ignores (default `psh`, `window`); `[]` compares everything. */
  masks?: readonly MaskName[];
  print?: (line: string) => void;
}

function numbered(path: string, i: number, n: number): string {
  if (n === 1) return path;
  const dot = path.lastIndexOf(".");
  return dot > 0 ? `${path.slice(0, dot)}.${i + 1}${path.slice(dot)}` : `${path}.${i + 1}`;
}

/**
 * Runs every scenario the paths define (those whose name contains `filter`).
 * A target list (`builtin,kernel`) runs each scenario on every target and
 * prints where the runs first diverge; a divergence counts as a failure.
 */
export async function runCommand(
  paths: readonly string[],
  o: RunCommandOptions = {},
): Promise<number> {
  const print = o.print ?? ((l: string) => console.log(l));
  const targets = (o.target ?? "builtin").split(",").map((t) => t.trim());
  if (targets.some((t) => !t)) {
    throw new RangeError(`--target: empty name in ${JSON.stringify(o.target)}`);
  }
  // Every name is checked before anything runs.
  for (const t of targets) parseTargetSpec(t);
  await checkOutputFile("--pcap", o.pcap);
  await checkOutputFile("--trace", o.trace);
  await checkOutputFile("--report", o.report);
  const { suite, engine } = await openWithEngine(paths, o);
  // One tracing instance for the whole run, not one per kernel scenario (about 60 ms each).
  const tracing = await engine.holdTracing(targets);
  try {
    return await runSuite(suite, engine, paths, targets, o, print);
  } finally {
    await tracing.release();
    await suite.close();
  }
}

/** The runner's side: loaded while the scenario host starts, not before it. */
export type Engine = typeof import("../runtime/scenario.ts");

/**
 * Opens the suite (its scenario host starts at once) and loads the engine
 * meanwhile: the two take about as long, so the run starts sooner.
 */
export async function openWithEngine(
  paths: readonly string[],
  o: SuiteOptions,
): Promise<{ suite: ScenarioSuite; engine: Engine }> {
  const engine = import("../runtime/scenario.ts");
  engine.catch(() => {});
  const suite = await ScenarioSuite.open(paths, o);
  try {
    return { suite, engine: await engine };
  } catch (e) {
    await suite.close();
    throw e;
  }
}

async function runSuite(
  suite: ScenarioSuite,
  { runScenarioOn }: Engine,
  paths: readonly string[],
  targets: readonly string[],
  o: RunCommandOptions,
  print: (line: string) => void,
): Promise<number> {
  // Colors only for a terminal (and not under NO_COLOR); a caller's printer gets plain text.
  const color = o.print ? false : colorsWanted();
  for (const l of loadLines(suite, color)) print(l);
  const list = suite.select(o.filter);
  if (!list.length && !suite.failures.length) {
    throw new RangeError(`No scenarios found in ${paths.join(", ")}`);
  }
  const report = o.report === undefined ? undefined : await Report.open(o.report, paths, targets);
  if (targets.length > 1) {
    const code = await differential(suite, runScenarioOn, list, targets, o, print, report);
    await report?.write();
    return code;
  }
  let passed = 0, failed = 0, skipped = 0;
  // On a terminal, a line that counts up while a scenario runs (real targets take seconds).
  const progress = new ProgressLine(
    o.print === undefined && list.length > 1 && Deno.stdout.isTerminal(),
  );
  for (const [i, { scenario: sc, host }] of list.entries()) {
    progress.show(i, list.length, sc.name);
    const start = performance.now();
    const r = await runScenarioOn(sc, targets[0], o.limits);
    host.settle();
    progress.clear();
    for (const l of verdictLines(sc, r, performance.now() - start, color)) print(l);
    for (const l of scenarioOutputLines(suite.takeOutput())) print(l);
    for (const w of r.warnings) print(`     warning: ${w}`);
    if (o.pcap) {
      // pcapng carries what the path did to each packet as a packet comment.
      const file = numbered(o.pcap, i, list.length);
      await Deno.writeFile(file, file.endsWith(".pcapng") ? r.trace.toPcapng() : r.trace.toPcap());
    }
    if (o.trace) await Deno.writeTextFile(numbered(o.trace, i, list.length), r.trace.toJSON());
    report?.add(sc, r, targets[0]);
    if (r.skipped) skipped++;
    else if (r.ok) passed++;
    else failed++;
  }
  print(summaryLine(passed, failed, suite.failures.length, skipped));
  await report?.write();
  return suite.failures.length ? 2 : failed ? 1 : 0;
}

/** `--report`: the runs gathered, written as one HTML file at the end (`../runtime/report`). */
export class Report {
  readonly #items: import("../runtime/report/report_html.ts").ReportItem[] = [];
  private constructor(
    readonly file: string,
    readonly title: string,
    readonly html: typeof import("../runtime/report/report_html.ts"),
  ) {}

  /** Loads the report's code (only when a report is asked for). */
  static async open(file: string, paths: readonly string[], targets: readonly string[]) {
    const html = await import("../runtime/report/report_html.ts");
    return new Report(file, `synack --target ${targets.join(",")} ${paths.join(" ")}`, html);
  }

  add(sc: Scenario, r: RunResult, target: string): void {
    this.#items.push(this.html.reportItem(sc, r, target));
  }

  write(): Promise<void> {
    return Deno.writeTextFile(this.file, this.html.reportHtml(this.title, this.#items));
  }
}

/** `3 passed, 1 failed`, how many were skipped, and how many files did not load. */
export function summaryLine(
  passed: number,
  failed: number,
  unloaded: number,
  skipped = 0,
): string {
  const files = unloaded ? ` (${unloaded} file${unloaded > 1 ? "s" : ""} did not load)` : "";
  const skips = skipped ? `, ${skipped} skipped` : "";
  return `${passed} passed, ${failed + unloaded} failed${skips}${files}`;
}

/** A FAIL line for each file that did not load, and what files printed while loading. */
export function loadLines(suite: ScenarioSuite, color: boolean): string[] {
  const out: string[] = [];
  for (const f of suite.failures) {
    out.push(...verdictLines(
      { name: "(did not load)", at: f.at ?? { file: f.file, line: 0, col: 0 } },
      { ok: false, failure: new Error(f.message) },
      0,
      color,
    ));
  }
  const printed = suite.takeOutput();
  if (printed.length) {
    out.push("scenario files printed while loading:", ...scenarioOutputLines(printed));
  }
  return out;
}

/**
 * Runs each scenario on every target and compares the runs with the first
 * one: verdicts, then every divergence in packets and calls (each with how
 * far its timing differs), after the masks for known noise, whose hits are
 * counted by name. Exit 0 when verdicts agree and nothing unmasked differs.
 */
async function differential(
  suite: ScenarioSuite,
  runScenarioOn: Engine["runScenarioOn"],
  list: readonly { scenario: Scenario; host: { settle(): void } }[],
  targets: readonly string[],
  o: RunCommandOptions,
  print: (line: string) => void,
  report?: Report,
): Promise<number> {
  const { compareTraces, DEFAULT_MASKS, MASKS } = await import(
    "../runtime/engine/divergence.ts"
  );
  const { REAL_STACK_TOLERANCE } = await import("../runtime/engine/clock.ts");
  const masks = o.masks ?? DEFAULT_MASKS;
  // Two virtual clocks agree on time by construction; a real stack's timing is compared.
  const timing = targets.some((t) => !t.startsWith("builtin")) ? REAL_STACK_TOLERANCE : undefined;
  let same = 0, differ = 0, skipped = 0;
  const width = Math.max(...targets.map((t) => t.length));
  const sec = (ms: number) => (ms / 1000).toFixed(6);
  for (const { scenario: sc, host } of list) {
    const runs: [string, RunResult][] = [];
    for (const t of targets) {
      runs.push([t, await runScenarioOn(sc, t, o.limits)]);
      report?.add(sc, runs[runs.length - 1][1], t);
      host.settle();
    }
    // A target a scenario does not apply to has no verdict to compare.
    const judged = runs.filter(([, r]) => !r.skipped);
    const [base, first] = judged[0] ?? runs[0];
    const compared = judged.slice(1).map(([t, r]) => ({
      target: t,
      ...compareTraces(first.trace, r.trace, {
        masks,
        timing,
        links: true,
        reasons: first.reasons === true && r.reasons === true,
      }),
    }));
    const agree = judged.every(([, r]) => r.ok === first.ok) &&
      compared.every((c) => c.divergences.length === 0);
    const verdict = judged.length < 2 ? "skip" : agree ? "same" : "DIFF";
    print(`${verdict} ${sc.name} (${formatLocation(sc.at)})`);
    for (const [t, r] of runs) {
      const head = `     ${t.padEnd(width)}  `;
      if (r.skipped) print(`${head}skip ${r.skipped}`);
      else if (r.ok) print(`${head}pass`);
      else {
        // A failure keeps its whole report: the field diff is the point.
        const [line, ...more] = r.failure!.message.split("\n");
        print(`${head}FAIL ${line}`);
        for (const l of more) print(`     ${" ".repeat(width)}  ${l}`);
      }
    }
    for (const c of compared) {
      for (const d of c.divergences) {
        const step = d.left?.step ?? d.right?.step;
        const where = step !== undefined && sc.steps?.[step]
          ? ` (${formatLocation(sc.steps[step].at)})`
          : "";
        const dt = d.left && d.right ? d.right.time - d.left.time : undefined;
        const timingNote = d.kind === "timing"
          ? `: ${c.target} ${d.gapDeltaMs! > 0 ? "+" : ""}${
            d.gapDeltaMs!.toFixed(1)
          } ms after the event before`
          : dt !== undefined
          ? ` (${c.target} ${dt >= 0 ? "+" : ""}${dt.toFixed(1)} ms)`
          : "";
        print(
          `     ${d.kind === "timing" ? "timing of" : "divergence in"} ${d.stream} #${
            d.index + 1
          }${where}${timingNote}:`,
        );
        for (const [t, e] of [[base, d.left], [c.target, d.right]] as const) {
          print(
            `       ${t.padEnd(width)}  ${e ? `${sec(e.time)} ${e.text}` : "(no more events)"}`,
          );
        }
      }
      const hidden = Object.entries(c.masked).map(([m, n]) =>
        `${n} × ${MASKS[m as keyof typeof MASKS]}`
      );
      if (hidden.length) print(`     masked (${c.target}): ${hidden.join(", ")}`);
      if (c.note) print(`     ${c.note}`);
    }
    for (const l of scenarioOutputLines(suite.takeOutput())) print(l);
    if (verdict === "skip") skipped++;
    else if (agree) same++;
    else differ++;
  }
  const unloaded = suite.failures.length
    ? `, ${suite.failures.length} file${suite.failures.length > 1 ? "s" : ""} did not load`
    : "";
  const skips = skipped ? `, ${skipped} skipped` : "";
  print(`${same} same, ${differ} diverged${skips}${unloaded}`);
  return suite.failures.length ? 2 : differ ? 1 : 0;
}
