/**
 * Target specs as the command line and `openTarget` take them: `builtin`,
 * `builtin:<profile>`, `kernel`, `raw`, `raw:echo=<port>`, `gvisor`. Parsing only; this
 * module loads nothing else, so the CLI can check a flag before it loads a
 * target.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseTargetSpec } from "./target_spec.ts";
 * assert.deepEqual(parseTargetSpec("raw:echo=7"), { kind: "raw", echoPort: 7 });
 * assert.throws(() => parseTargetSpec("kernal"), /Unknown target "kernal"/);
 * ```
 */

/** The target specs `openTarget` understands, for messages and `--help`. */
export const TARGET_SPECS = "builtin, builtin:<profile>, kernel, raw, raw:echo=<port> or gvisor";

/** A target spec, parsed. */
export type TargetSpec =
  | { kind: "builtin"; profile?: string }
  | { kind: "kernel" }
  | { kind: "raw"; echoPort?: number }
  | { kind: "gvisor" };

/** Parses a target spec without opening anything; a `RangeError` says what is accepted. */
export function parseTargetSpec(spec: string): TargetSpec {
  const [kind, arg] = spec.split(":", 2);
  if (kind === "builtin") return arg === undefined ? { kind } : { kind, profile: arg };
  if ((kind === "kernel" || kind === "gvisor") && arg === undefined) return { kind };
  if (kind === "raw") {
    if (arg === undefined) return { kind };
    const echo = /^echo=(\d+)$/.exec(arg);
    if (echo) return { kind, echoPort: Number(echo[1]) };
  }
  throw new RangeError(`Unknown target ${JSON.stringify(spec)}: want ${TARGET_SPECS}`);
}
