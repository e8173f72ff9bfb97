/**
 * `synack test [dir]`: every scenario under a folder (its `_test.ts` files
 * too), a summary, and reports for CI: JUnit XML (`--junit`) and TAP
 * (`--tap`). `--shard i/n` runs the i-th of n slices, so a CI matrix can
 * split a large suite; every scenario lands in exactly one slice. On a
 * terminal a progress line counts up; piped, each scenario is one plain line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseShard, tapReport } from "./test_command.ts";
 * assert.deepEqual(parseShard("2/3"), { index: 2, count: 3 });
 * assert.throws(() => parseShard("4/3"), /--shard: want i\/n with 1 <= i <= n, got "4\/3"/);
 * assert.equal(tapReport([{ name: "a", file: "x.ts", line: 1, ok: true, ms: 1 }]), "TAP version 14\n1..1\nok 1 - a\n");
 * ```
 */
import { z } from "zod";
import type { LimitOverride } from "../runtime/engine/scenario_limits.ts";
import { parseTargetSpec } from "../runtime/target_spec.ts";
import { type Engine, loadLines, openWithEngine, Report, summaryLine } from "./run_command.ts";
import {
  checkOutputFile,
  ProgressLine,
  scenarioOutputLines,
  verdictLines,
} from "./scenario_lines.ts";
import type { ScenarioSuite, SuiteOptions } from "./scenario_suite.ts";
import { colorsWanted } from "./style.ts";

/** Options of `synack test`. */
export interface TestCommandOptions extends Omit<SuiteOptions, "includeTests"> {
  target?: string;
  /** Time limits over each scenario's own (`--timeout`, `--virtual-timeout`). */
  limits?: LimitOverride;
  junit?: string;
  tap?: string;
  /** Write one HTML file with a ladder diagram per scenario. */
  report?: string;
  shard?: string;
  filter?: string;
  print?: (line: string) => void;
  /** Show a progress line (default: when stdout is a terminal). */
  progress?: boolean;
}

/** One scenario's outcome, for the reports. */
export interface TestOutcome {
  name: string;
  file: string;
  line: number;
  ok: boolean;
  ms: number;
  message?: string;
  /** Why the scenario did not apply to the target, when it was skipped. */
  skipped?: string;
  /** What the scenario's code printed. */
  output?: string[];
}

const Shard = z.string().regex(/^\d+\/\d+$/).transform((s) => {
  const [index, count] = s.split("/").map(Number);
  return { index, count };
}).refine((s) => s.count >= 1 && s.index >= 1 && s.index <= s.count);

/** `i/n` as numbers; a `RangeError` says what is accepted. */
export function parseShard(text: string): { index: number; count: number } {
  const r = Shard.safeParse(text);
  if (!r.success) {
    throw new RangeError(`--shard: want i/n with 1 <= i <= n, got ${JSON.stringify(text)}`);
  }
  return r.data;
}

const xml = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")
    // deno-lint-ignore no-control-regex
    .replace(/[\x00-\x08\x0b\x0c\x0e-\x1f]/g, "");

/** JUnit XML, one testsuite per file, as CI systems read it. */
export function junitReport(outcomes: readonly TestOutcome[]): string {
  const byFile = Map.groupBy(outcomes, (o) => o.file);
  const secs = (ms: number) => (ms / 1000).toFixed(3);
  const total = outcomes.reduce((t, o) => t + o.ms, 0);
  const out = [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites name="synack" tests="${outcomes.length}" failures="${
      outcomes.filter((o) => !o.ok).length
    }" time="${secs(total)}">`,
  ];
  for (const [file, list] of byFile) {
    const failures = list.filter((o) => !o.ok).length;
    const time = list.reduce((t, o) => t + o.ms, 0);
    out.push(
      `  <testsuite name="${xml(file)}" tests="${list.length}" failures="${failures}" time="${
        secs(time)
      }">`,
    );
    for (const o of list) {
      const head = `    <testcase name="${xml(o.name)}" classname="${xml(file)}" time="${
        secs(o.ms)
      }"`;
      const printed = o.output?.length
        ? [`      <system-out>${xml(o.output.join("\n"))}</system-out>`]
        : [];
      if (o.ok && !printed.length && o.skipped === undefined) out.push(`${head}/>`);
      else {
        const msg = o.message ?? "failed";
        out.push(`${head}>`);
        if (o.skipped !== undefined) out.push(`      <skipped message="${xml(o.skipped)}"/>`);
        if (!o.ok) {
          out.push(`      <failure message="${xml(msg.split("\n")[0])}">${xml(msg)}</failure>`);
        }
        out.push(...printed, `    </testcase>`);
      }
    }
    out.push(`  </testsuite>`);
  }
  out.push(`</testsuites>`, "");
  return out.join("\n");
}

/** TAP version 14: a line per scenario, the failure report as YAML. */
export function tapReport(outcomes: readonly TestOutcome[]): string {
  const out = ["TAP version 14", `1..${outcomes.length}`];
  outcomes.forEach((o, i) => {
    const skip = o.skipped === undefined ? "" : ` # SKIP ${o.skipped}`;
    out.push(`${o.ok ? "ok" : "not ok"} ${i + 1} - ${o.name.replace(/#/g, "\\#")}${skip}`);
    if (!o.ok) {
      out.push("  ---", `  at: ${o.file}:${o.line}`, "  message: |");
      for (const l of (o.message ?? "failed").split("\n")) out.push(`    ${l}`);
      out.push("  ...");
    }
  });
  return `${out.join("\n")}\n`;
}

/**
 * Runs the scenarios under `dir` (folders, files or URLs); returns 0 when
 * all pass, 1 when one fails, 2 when a file does not load. The reports are
 * written whatever happened, files that did not load included.
 */
export async function testCommand(
  dir: string | readonly string[],
  o: TestCommandOptions = {},
): Promise<number> {
  const print = o.print ?? ((l: string) => console.log(l));
  const target = o.target ?? "builtin";
  parseTargetSpec(target);
  const shard = o.shard === undefined ? undefined : parseShard(o.shard);
  await checkOutputFile("--junit", o.junit);
  await checkOutputFile("--tap", o.tap);
  await checkOutputFile("--report", o.report);
  const paths = typeof dir === "string" ? [dir] : dir;
  const { suite, engine } = await openWithEngine(paths, { ...o, includeTests: true });
  const tracing = await engine.holdTracing([target]);
  try {
    return await runTests(suite, engine, paths.join(", "), target, shard, o, print);
  } finally {
    await tracing.release();
    await suite.close();
  }
}

async function runTests(
  suite: ScenarioSuite,
  { runScenarioOn }: Engine,
  dir: string,
  target: string,
  shard: { index: number; count: number } | undefined,
  o: TestCommandOptions,
  print: (line: string) => void,
): Promise<number> {
  const color = o.print ? false : colorsWanted();
  for (const l of loadLines(suite, color)) print(l);
  let list = suite.select(o.filter);
  // A stable order, so shards split the same suite the same way on every machine.
  list = [...list].sort(({ scenario: a }, { scenario: b }) =>
    a.at.file.localeCompare(b.at.file) || a.at.line - b.at.line || a.at.col - b.at.col
  );
  if (shard) list = list.filter((_, i) => i % shard.count === shard.index - 1);
  if (!list.length && !suite.failures.length) throw new RangeError(`No scenarios found in ${dir}`);
  const report = o.report === undefined ? undefined : await Report.open(o.report, [dir], [target]);
  const progressOn = o.progress ?? (o.print === undefined && Deno.stdout.isTerminal());
  const progress = new ProgressLine(progressOn);
  const outcomes: TestOutcome[] = suite.failures.map((f) => ({
    name: "(did not load)",
    file: f.at?.file ?? f.file,
    line: f.at?.line ?? 0,
    ok: false,
    ms: 0,
    message: f.message,
  }));
  for (const [i, { scenario: sc, host }] of list.entries()) {
    progress.show(i, list.length, sc.name);
    const start = performance.now();
    const r = await runScenarioOn(sc, target, o.limits);
    host.settle();
    report?.add(sc, r, target);
    const ms = performance.now() - start;
    const output = suite.takeOutput();
    outcomes.push({
      name: sc.name,
      file: sc.at.file,
      line: sc.at.line,
      ok: r.ok,
      ms,
      message: r.failure?.message,
      skipped: r.skipped,
      output,
    });
    progress.clear();
    // With a progress line, only failures stay on screen.
    if (!r.ok || !progressOn) {
      for (const l of verdictLines(sc, r, ms, color)) print(l);
      for (const l of scenarioOutputLines(output)) print(l);
    }
  }
  if (o.junit) await Deno.writeTextFile(o.junit, junitReport(outcomes));
  if (o.tap) await Deno.writeTextFile(o.tap, tapReport(outcomes));
  await report?.write();
  const failed = outcomes.filter((x) => !x.ok).length - suite.failures.length;
  const skipped = outcomes.filter((x) => x.skipped !== undefined).length;
  const where = shard ? ` (shard ${shard.index}/${shard.count})` : "";
  print(
    `${
      summaryLine(list.length - failed - skipped, failed, suite.failures.length, skipped)
    }${where}`,
  );
  return suite.failures.length ? 2 : failed ? 1 : 0;
}
