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
import { runScenarioOn } from "../runtime/scenario.ts";
import { loadScenarios } from "./load_scenarios.ts";

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

/** Runs every scenario the paths define (those whose name contains `filter`). */
export async function runCommand(
  paths: readonly string[],
  o: RunCommandOptions = {},
): Promise<number> {
  const print = o.print ?? ((l: string) => console.log(l));
  let scenarios = await loadScenarios(paths);
  if (o.filter) scenarios = scenarios.filter((s) => s.name.includes(o.filter!));
  if (!scenarios.length) throw new RangeError(`No scenarios found in ${paths.join(", ")}`);
  let passed = 0, failed = 0;
  for (const [i, sc] of scenarios.entries()) {
    const start = performance.now();
    const r = await runScenarioOn(sc, o.target ?? "builtin");
    const ms = (performance.now() - start).toFixed(1);
    print(`${r.ok ? "ok  " : "FAIL"} ${sc.name} (${formatLocation(sc.at)}) ${ms} ms`);
    if (!r.ok) print(r.failure!.message.split("\n").map((l) => `     ${l}`).join("\n"));
    for (const w of r.warnings) print(`     warning: ${w}`);
    if (o.pcap) await Deno.writeFile(numbered(o.pcap, i, scenarios.length), r.trace.toPcap());
    if (o.trace) await Deno.writeTextFile(numbered(o.trace, i, scenarios.length), r.trace.toJSON());
    if (r.ok) passed++;
    else failed++;
  }
  print(`${passed} passed, ${failed} failed`);
  return failed ? 1 : 0;
}
