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

/** The part of V8's CallSite this reads (Deno maps it to the TypeScript source). */
interface CallSite {
  getFileName(): string | undefined | null;
  getLineNumber(): number | null;
  getColumnNumber(): number | null;
}

const ErrorV8 = Error as unknown as {
  prepareStackTrace?: (e: Error, cs: CallSite[]) => unknown;
  stackTraceLimit: number;
  captureStackTrace(target: object, above?: (...a: never[]) => unknown): void;
};

/**
 * The caller's frames as V8 call sites, not as text: a formatted stack costs
 * about 20 µs (every frame mapped and printed), call sites about 3, and every
 * DSL call asks once.
 */
function callSites(depth: number, above: (...a: never[]) => unknown): CallSite[] {
  const prepare = ErrorV8.prepareStackTrace, limit = ErrorV8.stackTraceLimit;
  ErrorV8.prepareStackTrace = (_e, cs) => cs;
  ErrorV8.stackTraceLimit = depth;
  try {
    // Frames from `above`'s caller on: the DSL function that asks is never the answer.
    const holder: { stack?: unknown } = {};
    ErrorV8.captureStackTrace(holder, above);
    return holder.stack as CallSite[];
  } finally {
    ErrorV8.prepareStackTrace = prepare;
    ErrorV8.stackTraceLimit = limit;
  }
}

/**
 * The location of the first caller outside synack, or `<unknown>:0:0`. A DSL
 * function passes itself as `above`: its caller is nearly always the
 * scenario's line, and one frame is all that is read (a scenario of a
 * million steps asks a million times); the whole stack only if need be.
 */
export function callerLocation(above: (...a: never[]) => unknown = callerLocation): SourceLoc {
  return outside(callSites(above === callerLocation ? 3 : 1, above)) ??
    outside(callSites(64, callerLocation), true) ?? { file: "<unknown>", line: 0, col: 0 };
}

/** Call sites name local files by path; the rest of this module speaks URLs. */
const INTERNAL_PATHS = INTERNAL.filter((p) => p.startsWith("file:")).map((p) =>
  decodeURIComponent(new URL(p).pathname)
);
const shown = new Map<string, string>();

function outside(sites: CallSite[], orInternal = false): SourceLoc | undefined {
  let fallback: CallSite | undefined;
  for (const cs of sites) {
    const name = cs.getFileName();
    // Deno's own (ext:, node:) frames are nobody's scenario line.
    if (!name || /^(ext|node):/.test(name)) continue;
    const internal = name.startsWith("/")
      ? INTERNAL_PATHS.some((p) => name.startsWith(p))
      : INTERNAL.some((p) => name.startsWith(p));
    if (!internal) return site(cs, name);
    fallback ??= cs;
  }
  return orInternal && fallback ? site(fallback, fallback.getFileName()!) : undefined;
}

function site(cs: CallSite, name: string): SourceLoc {
  let file = shown.get(name);
  if (file === undefined) {
    file = display(name.startsWith("/") ? `file://${encodeURI(name)}` : name);
    shown.set(name, file);
  }
  return { file, line: cs.getLineNumber() ?? 0, col: cs.getColumnNumber() ?? 0 };
}

/**
 * Where an error was thrown, as a scenario author wants it: the first frame
 * of its stack outside synack (a builder that rejects a value points at the
 * scenario line that called it); undefined when synack alone threw it.
 */
export function errorLocation(e: unknown): SourceLoc | undefined {
  return e instanceof Error && e.stack ? stackLocation(e.stack) : undefined;
}

function stackLocation(stack: string): SourceLoc | undefined {
  for (const line of stack.split("\n").slice(1)) {
    const m = FRAME.exec(line.trim());
    if (m && !INTERNAL.some((p) => m[1].startsWith(p))) {
      return { file: display(m[1]), line: Number(m[2]), col: Number(m[3]) };
    }
  }
  return undefined;
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
