/**
 * Where a DSL call was written: the first stack frame outside synack's own
 * `dsl/` and `runtime/` folders. Steps carry it so that a failure names the
 * line of the scenario file, not a line of synack.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { callerLocation, formatLocation } from "./source_location.ts";
 * const at = callerLocation();
 * assert.match(at.file, /source_location\.ts|\$deno\$doc|\.ts$/);
 * assert.ok(at.line > 0);
 * assert.equal(formatLocation({ file: "a.ts", line: 3, col: 5 }), "a.ts:3:5");
 * ```
 */

/** A place in a source file. */
export interface SourceLoc {
  file: string;
  line: number;
  col: number;
}

const ROOT = new URL("../", import.meta.url).href;
const INTERNAL = [`${ROOT}dsl/`, `${ROOT}runtime/`, `${ROOT}mod.ts`];
const FRAME = /\(?((?:file|https?|data|blob):[^\s()]+?):(\d+):(\d+)\)?$/;

function display(url: string): string {
  if (!url.startsWith("file:")) return url;
  const path = decodeURIComponent(new URL(url).pathname);
  const cwd = typeof Deno !== "undefined" ? Deno.cwd() + "/" : "";
  return cwd && path.startsWith(cwd) ? path.slice(cwd.length) : path;
}

/** The location of the first caller outside synack, or `<unknown>:0:0`. */
export function callerLocation(): SourceLoc {
  const stack = new Error().stack ?? "";
  let fallback: SourceLoc | undefined;
  for (const line of stack.split("\n").slice(1)) {
    const m = FRAME.exec(line.trim());
    if (!m) continue;
    const loc = { file: display(m[1]), line: Number(m[2]), col: Number(m[3]) };
    if (!INTERNAL.some((p) => m[1].startsWith(p))) return loc;
    fallback ??= loc;
  }
  return fallback ?? { file: "<unknown>", line: 0, col: 0 };
}

/** `file:line:col`. */
export function formatLocation(at: SourceLoc): string {
  return `${at.file}:${at.line}:${at.col}`;
}

/** An error tied to a place in a scenario file: `file:line:col: message`. */
export class ScenarioError extends RangeError {
  readonly at: SourceLoc | undefined;
  constructor(message: string, at?: SourceLoc) {
    super(at ? `${formatLocation(at)}: ${message}` : message);
    this.name = "ScenarioError";
    this.at = at;
  }
}
