/**
 * Scenario files from a URL (a gist's raw URL) run in a child Deno process
 * with only the permissions their target needs, never the CLI's own:
 *
 * - always: importing modules (that is how the code arrives), reading
 *   synack's own files, and the environment variables synack reads;
 * - `--pcap`/`--trace`: writing one folder of its own, whose files synack
 *   then moves where they were asked for;
 * - the kernel and raw targets: FFI and running `nsenter`, `ip` and Deno
 *   (the raw target's echo server), as root needs them anyway;
 * - anything more only by the user's flag: `--allow-write` (any file),
 *   `--allow-run` (any program), `--allow-net` (any host).
 *
 * Code that reaches further fails with Deno's NotCapable error naming the
 * permission, and the run fails with it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sandboxFlags } from "./sandbox.ts";
 * const f = sandboxFlags({ target: "builtin", outDir: "/tmp/synack-out" });
 * assert.ok(f.includes("--allow-write=/tmp/synack-out"));
 * assert.ok(!f.some((x) => x.startsWith("--allow-run") || x === "--allow-all"));
 * assert.ok(sandboxFlags({ target: "kernel" }).includes("--allow-ffi"));
 * ```
 */
import { parseTargetSpec } from "../runtime/scenario.ts";

/** What the user allowed beyond the target's needs. */
export interface SandboxRequest {
  target: string;
  pcap?: string;
  trace?: string;
  allowWrite?: boolean;
  allowRun?: boolean;
  allowNet?: boolean;
  /** The only folder the child may write, for its --pcap and --trace files. */
  outDir?: string;
}

const ROOT = new URL("../", import.meta.url);

/** The permission flags for a child that runs remote scenarios. */
export function sandboxFlags(r: SandboxRequest): string[] {
  const kinds = r.target.split(",").map((t) => parseTargetSpec(t.trim()).kind);
  const live = kinds.some((k) => k !== "builtin");
  const flags = [
    "--allow-import",
    "--allow-env=NO_COLOR,SYNACK_TARGET,HOME,SYNACK_HISTORY",
  ];
  if (ROOT.protocol === "file:") flags.push(`--allow-read=${ROOT.pathname}`);
  // The child writes --pcap/--trace files into a folder of their own; the parent moves them.
  if (r.allowWrite) flags.push("--allow-write");
  else if (r.outDir) flags.push(`--allow-write=${r.outDir}`);
  if (r.allowRun) flags.push("--allow-run");
  else if (live) flags.push(`--allow-run=nsenter,ip,${Deno.execPath()}`);
  if (live) flags.push("--allow-ffi");
  if (r.allowNet) flags.push("--allow-net");
  return flags;
}

/** Runs `synack run` on `urls` in a sandboxed child; returns its exit code. */
export async function runSandboxed(
  urls: readonly string[],
  r: SandboxRequest & { filter?: string },
): Promise<number> {
  const outDir = r.pcap || r.trace ? await Deno.makeTempDir({ prefix: "synack-out-" }) : undefined;
  const inOut = (p: string | undefined) => (p && outDir ? `${outDir}/${basename(p)}` : undefined);
  const main = new URL("./main.ts", import.meta.url).href;
  // synack's own config (its import map: zod, commander…), wherever the user runs from.
  const config = ROOT.protocol === "file:" ? ["--config", `${ROOT.pathname}deno.json`] : [];
  const args = ["run", ...config, ...sandboxFlags({ ...r, outDir }), main, "run", "--sandboxed"];
  args.push("--target", r.target);
  const pcap = inOut(r.pcap), trace = inOut(r.trace);
  if (pcap) args.push("--pcap", pcap);
  if (trace) args.push("--trace", trace);
  if (r.filter) args.push("--filter", r.filter);
  args.push(...urls);
  const child = new Deno.Command(Deno.execPath(), {
    args,
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  const code = (await child.status).code;
  if (outDir) {
    // out.pcap, or out.1.pcap, out.2.pcap… for several scenarios: beside the path asked for.
    for await (const e of Deno.readDir(outDir)) {
      const wanted = [r.pcap, r.trace].find((p) => p && sameStem(basename(p), e.name));
      if (wanted) await Deno.rename(`${outDir}/${e.name}`, `${dirname(wanted)}/${e.name}`);
    }
    await Deno.remove(outDir, { recursive: true });
  }
  return code;
}

function basename(p: string): string {
  return p.slice(p.lastIndexOf("/") + 1);
}

function dirname(p: string): string {
  return p.includes("/") ? p.slice(0, p.lastIndexOf("/")) || "/" : ".";
}

/** `out.pcap` names `out.pcap` and `out.3.pcap`. */
function sameStem(asked: string, got: string): boolean {
  const dot = asked.lastIndexOf(".");
  if (dot <= 0) return got === asked || got.startsWith(`${asked}.`);
  const stem = asked.slice(0, dot), ext = asked.slice(dot);
  return got === asked || new RegExp(`^${escape(stem)}\\.\\d+${escape(ext)}$`).test(got);
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
