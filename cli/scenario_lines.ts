/**
 * What `synack run` and `synack test` print per scenario: on a terminal, a
 * progress line counted up in place while it runs; after it, the verdict
 * line, and under a failure its report, indented.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { scenarioOutputLines, verdictLines } from "./scenario_lines.ts";
 * const sc = { name: "x", at: { file: "a.ts", line: 3, col: 1 } };
 * assert.deepEqual(verdictLines(sc, { ok: true }, 1.25, false), ["ok   x (a.ts:3:1) 1.3 ms"]);
 * assert.deepEqual(verdictLines(sc, { ok: false, failure: new Error("a\nb") }, 2, false), [
 *   "FAIL x (a.ts:3:1) 2.0 ms",
 *   "     a\n     b",
 * ]);
 * assert.deepEqual(verdictLines(sc, { ok: true, skipped: "not here" }, 0, false), [
 *   "skip x (a.ts:3:1): not here",
 * ]);
 * assert.deepEqual(scenarioOutputLines(["3 passed, 0 failed"]), ["     output| 3 passed, 0 failed"]);
 * ```
 */
import { formatLocation, type SourceLoc } from "../dsl/source_location.ts";
import { paint } from "./style.ts";

/** The verdict line of a scenario and, when it failed, its report. */
export function verdictLines(
  sc: { name: string; at: SourceLoc },
  r: { ok: boolean; failure?: Error; skipped?: string },
  ms: number,
  color: boolean,
): string[] {
  if (r.skipped) {
    return [
      `${paint("skip", "yellow", color)} ${sc.name} (${formatLocation(sc.at)}): ${r.skipped}`,
    ];
  }
  const verdict = r.ok ? paint("ok  ", "green", color) : paint("FAIL", "red", color);
  const out = [`${verdict} ${sc.name} (${formatLocation(sc.at)}) ${ms.toFixed(1)} ms`];
  if (!r.ok) out.push(r.failure!.message.split("\n").map((l) => `     ${l}`).join("\n"));
  return out;
}

/**
 * What a scenario's own code printed, marked as its own so that it cannot
 * pass for synack's verdicts: `     output| text`.
 */
export function scenarioOutputLines(lines: readonly string[]): string[] {
  return lines.map((l) => `     output| ${l}`);
}

/**
 * Checks a file a command will write (`--pcap`, `--junit`…) before anything
 * runs: not a folder, and in a folder that exists.
 */
export async function checkOutputFile(flag: string, path: string | undefined): Promise<void> {
  if (path === undefined) return;
  const info = await Deno.stat(path).catch(() => undefined);
  if (info?.isDirectory) throw new RangeError(`${flag}: want a file name, got the folder ${path}`);
  const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) || "/" : ".";
  const parent = await Deno.stat(dir).catch(() => undefined);
  if (!parent?.isDirectory) {
    throw new RangeError(`${flag}: want a file in an existing folder, got ${path}`);
  }
}

/** `[3/12] name` on a terminal, overwritten in place; nothing when off. */
export class ProgressLine {
  readonly #on: boolean;
  readonly #enc = new TextEncoder();
  constructor(on: boolean) {
    this.#on = on;
  }
  show(i: number, n: number, name: string): void {
    if (this.#on) this.#write(`\r\x1b[2K${`[${i + 1}/${n}] ${name}`.slice(0, 100)}`);
  }
  clear(): void {
    if (this.#on) this.#write("\r\x1b[2K");
  }
  #write(s: string): void {
    Deno.stdout.writeSync(this.#enc.encode(s));
  }
}
