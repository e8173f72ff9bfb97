/**
 * Starting a scenario host's child process (`child_main.ts`), kept apart
 * from the host itself so that the CLI can start one before it loads
 * anything heavy: the child's boot then overlaps the CLI's own (`prestart`).
 *
 * The child runs under `setpriv --pdeathsig KILL` (util-linux) when it is
 * there: PR_SET_PDEATHSIG survives exec, so the child dies with synack, by
 * SIGKILL too. Without setpriv it is started directly and dies when synack's
 * end of its stdin closes, at its next read.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { childArgs } from "./child_process.ts";
 * const args = childArgs({ permissions: ["--allow-read=/x"], denoFlags: ["--no-lock"] });
 * assert.equal(args[0], "run");
 * assert.ok(args.includes("--allow-read=/x") && args.at(-1)!.endsWith("child_main.ts"));
 * ```
 */

/** What a child is started with. */
export interface ChildSpec {
  /** Deno permission flags. */
  permissions: readonly string[];
  /** More `deno run` flags. */
  denoFlags?: readonly string[];
}

const ROOT = new URL("../../", import.meta.url);
const CHILD = new URL("./child_main.ts", import.meta.url).href;

/** The `deno` arguments for a child. */
export function childArgs(spec: ChildSpec): string[] {
  return [
    "run",
    // Deno's own "Download …" lines are not the scenario's output.
    "--quiet",
    ...(ROOT.protocol === "file:"
      ? ["--config", `${decodeURIComponent(ROOT.pathname)}deno.json`]
      : []),
    ...spec.permissions,
    ...(spec.denoFlags ?? []),
    CHILD,
  ];
}

let early: { key: string; proc: Deno.ChildProcess } | undefined;
const keyOf = (spec: ChildSpec) => JSON.stringify([spec.permissions, spec.denoFlags ?? []]);

/** Starts a child now, for the first `spawnChild` with the same spec to take. */
export function prestart(spec: ChildSpec): void {
  early?.proc.kill("SIGKILL");
  early = { key: keyOf(spec), proc: start(spec) };
}

/** Ends a prestarted child nobody took (the command failed before it needed one). */
export async function dropPrestarted(): Promise<void> {
  const e = early;
  early = undefined;
  if (!e) return;
  await e.proc.stdin.close().catch(() => {});
  e.proc.kill("SIGKILL");
  await e.proc.output().catch(() => {});
}

/** A child for `spec`: the prestarted one if it matches, else a new one. */
export function spawnChild(spec: ChildSpec): Deno.ChildProcess {
  if (early?.key === keyOf(spec)) {
    const proc = early.proc;
    early = undefined;
    return proc;
  }
  return start(spec);
}

function start(spec: ChildSpec): Deno.ChildProcess {
  const args = childArgs(spec);
  const io = { stdin: "piped", stdout: "piped", stderr: "piped" } as const;
  try {
    return new Deno.Command("setpriv", {
      args: ["--pdeathsig", "KILL", "--", Deno.execPath(), ...args],
      ...io,
    }).spawn();
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    return new Deno.Command(Deno.execPath(), { args, ...io }).spawn();
  }
}
