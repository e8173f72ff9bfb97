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
import { firstDivergence } from "../runtime/engine/divergence.ts";
import type { RunResult } from "../runtime/engine/runner.ts";
import { parseTargetSpec, runScenarioOn } from "../runtime/scenario.ts";
import { loadScenarios } from "./load_scenarios.ts";
import { ProgressLine, verdictLines } from "./scenario_lines.ts";
import { colorsWanted } from "./style.ts";

/** Options of `synack run`. */
export interface RunCommandOptions {
  target?: string;
  pcap?: string;
  trace?: string;
  filter?: string;
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
  let scenarios = await loadScenarios(paths);
  if (o.filter) scenarios = scenarios.filter((s) => s.name.includes(o.filter!));
  if (!scenarios.length) throw new RangeError(`No scenarios found in ${paths.join(", ")}`);
  if (targets.length > 1) return await differential(scenarios, targets, print);
  let passed = 0, failed = 0;
  // Colors only for a terminal (and not under NO_COLOR); a caller's printer gets plain text.
  const color = o.print ? false : colorsWanted();
  // On a terminal, a line that counts up while a scenario runs (real targets take seconds).
  const progress = new ProgressLine(
    o.print === undefined && scenarios.length > 1 && Deno.stdout.isTerminal(),
  );
  for (const [i, sc] of scenarios.entries()) {
    progress.show(i, scenarios.length, sc.name);
    const start = performance.now();
    const r = await runScenarioOn(sc, targets[0]);
    progress.clear();
    for (const l of verdictLines(sc, r, performance.now() - start, color)) print(l);
    for (const w of r.warnings) print(`     warning: ${w}`);
    if (o.pcap) await Deno.writeFile(numbered(o.pcap, i, scenarios.length), r.trace.toPcap());
    if (o.trace) await Deno.writeTextFile(numbered(o.trace, i, scenarios.length), r.trace.toJSON());
    if (r.ok) passed++;
    else failed++;
  }
  print(`${passed} passed, ${failed} failed`);
  return failed ? 1 : 0;
}

/** Runs each scenario on every target; reports verdicts and the first divergence. */
async function differential(
  scenarios: readonly Scenario[],
  targets: readonly string[],
  print: (line: string) => void,
): Promise<number> {
  let same = 0, differ = 0;
  const width = Math.max(...targets.map((t) => t.length));
  for (const sc of scenarios) {
    const runs: [string, RunResult][] = [];
    for (const t of targets) runs.push([t, await runScenarioOn(sc, t)]);
    const [base, first] = runs[0];
    const found = runs.slice(1).map(([t, r]) => [t, firstDivergence(first.trace, r.trace)] as const)
      .find(([, d]) => d !== undefined);
    const agree = !found && runs.every(([, r]) => r.ok === first.ok);
    print(`${agree ? "same" : "DIFF"} ${sc.name} (${formatLocation(sc.at)})`);
    for (const [t, r] of runs) {
      print(
        `     ${t.padEnd(width)}  ${r.ok ? "pass" : `FAIL ${r.failure!.message.split("\n")[0]}`}`,
      );
    }
    if (found) {
      const [other, d] = found;
      const step = d!.left?.step ?? d!.right?.step;
      const where = step !== undefined && sc.steps?.[step]
        ? ` (${formatLocation(sc.steps[step].at)})`
        : "";
      print(`     first divergence in ${d!.stream}, #${d!.index + 1}${where}:`);
      for (const [t, e] of [[base, d!.left], [other, d!.right]] as const) {
        const text = e ? `${(e.time / 1000).toFixed(6)} ${e.text}` : "(no more events)";
        print(`       ${t.padEnd(width)}  ${text}`);
      }
    }
    if (agree) same++;
    else differ++;
  }
  print(`${same} same, ${differ} diverged`);
  return differ ? 1 : 0;
}
