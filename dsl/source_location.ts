/**
 * Where a DSL call was written: the first stack frame outside synack's own
 * `dsl/` and `runtime/` folders. Steps carry it so that a failure names the
 * line of the scenario file, not a line of synack.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { callerLocation, errorLocation, formatLocation } from "./source_location.ts";
 * const at = callerLocation();
 * assert.match(at.file, /source_location\.ts|\$deno\$doc|\.ts$/);
 * assert.ok(at.line > 0);
 * assert.equal(formatLocation({ file: "a.ts", line: 3, col: 5 }), "a.ts:3:5");
 * const e = new Error("boom");
 * e.stack = "Error: boom\n    at async fn (file:///tmp/scenario.ts:4:9)";
 * assert.deepEqual(errorLocation(e), { file: "/tmp/scenario.ts", line: 4, col: 9 });
 * assert.equal(errorLocation("not an error"), undefined);
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

// Read once: every DSL call asks, and a process's scenarios all run from one folder.
let cwdSlash: string | undefined;

function display(url: string): string {
  if (!url.startsWith("file:")) return url;
  const path = decodeURIComponent(new URL(url).pathname);
  const cwd = cwdSlash ??= typeof Deno !== "undefined" ? Deno.cwd() + "/" : "";
  return cwd && path.startsWith(cwd) ? path.slice(cwd.length) : path;
}

/** The location of the first caller outside synack, or `<unknown>:0:0`. */
export function callerLocation(): SourceLoc {
  return stackLocation(new Error().stack ?? "", true) ?? { file: "<unknown>", line: 0, col: 0 };
}

/**
 * Where an error was thrown, as a scenario author wants it: the first frame
 * of its stack outside synack (a builder that rejects a value points at the
 * scenario line that called it); undefined when synack alone threw it.
 */
export function errorLocation(e: unknown): SourceLoc | undefined {
  return e instanceof Error && e.stack ? stackLocation(e.stack, false) : undefined;
}

function stackLocation(stack: string, orInternal: boolean): SourceLoc | undefined {
  let fallback: SourceLoc | undefined;
  for (const line of stack.split("\n").slice(1)) {
    const m = FRAME.exec(line.trim());
    if (!m) continue;
    const loc = { file: display(m[1]), line: Number(m[2]), col: Number(m[3]) };
    if (!INTERNAL.some((p) => m[1].startsWith(p))) return loc;
    fallback ??= loc;
  }
  return orInternal ? fallback : undefined;
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
