/**
 * The gVisor helper's binary: built from `netstack/*.go` with Debian's Go
 * and gVisor packages (golang-go, golang-gvisor-gvisor-dev) in GOPATH mode,
 * no network needed, and kept in a cache outside the repository, keyed by
 * the sources, the Go version and the gVisor package's version. A cold build
 * takes seconds; a cached one nothing. `deno task gvisor:build` builds it
 * ahead (`.ci/run` does), and the target builds it on first use otherwise.
 *
 * ```text
 * $SYNACK_CACHE, else $XDG_CACHE_HOME/synack, else ~/.cache/synack
 *   gvisor-<key>/netstack     the binary
 *   go-build/                 Go's build cache (gVisor's packages, compiled once)
 * ```
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cacheRoot } from "./helper_build.ts";
 * assert.match(cacheRoot({ SYNACK_CACHE: "/tmp/c" }), /^\/tmp\/c$/);
 * assert.match(cacheRoot({ HOME: "/home/u" }), /^\/home\/u\/\.cache\/synack$/);
 * ```
 */
import { TargetUnavailable } from "../engine/target_unavailable.ts";
import { cacheRoot } from "../host/cache_root.ts";

/** Where gVisor's sources are, as Debian installs them. */
export const GOPATH = "/usr/share/gocode";
const GVISOR_PKG = `${GOPATH}/src/gvisor.dev/gvisor/pkg/tcpip/stack`;

export { cacheRoot };

const dec = new TextDecoder();

async function run(cmd: string, args: string[], env?: Record<string, string>, cwd?: string) {
  const o = await new Deno.Command(cmd, { args, env, cwd, stdout: "piped", stderr: "piped" })
    .output();
  return { ok: o.success, out: dec.decode(o.stdout).trim(), err: dec.decode(o.stderr).trim() };
}

/** Why the helper cannot be built here, or undefined. */
export async function buildUnavailable(): Promise<string | undefined> {
  const go = await run("go", ["version"]).catch(() => undefined);
  if (!go?.ok) return "go is not installed: install Debian's golang-go";
  try {
    Deno.statSync(GVISOR_PKG);
  } catch {
    return "gVisor's netstack source is not installed: install Debian's golang-gvisor-gvisor-dev";
  }
  return undefined;
}

/** The helper's sources, by name. */
function sources(): Map<string, Uint8Array> {
  const dir = new URL("./netstack/", import.meta.url);
  if (dir.protocol !== "file:") {
    throw new TargetUnavailable("gvisor", "the helper's sources must be local files to build it");
  }
  const out = new Map<string, Uint8Array>();
  for (const e of [...Deno.readDirSync(dir)].sort((a, b) => a.name.localeCompare(b.name))) {
    if (e.name.endsWith(".go")) out.set(e.name, Deno.readFileSync(new URL(e.name, dir)));
  }
  return out;
}

async function key(src: Map<string, Uint8Array>): Promise<string> {
  const go = (await run("go", ["version"])).out;
  const pkg = (await run("dpkg-query", ["-W", "-f=${Version}", "golang-gvisor-gvisor-dev"])).out;
  const parts: Uint8Array[] = [new TextEncoder().encode(`${go}\n${pkg}\n`)];
  for (const [name, bytes] of src) parts.push(new TextEncoder().encode(name), bytes);
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    all.set(p, off);
    off += p.length;
  }
  const h = new Uint8Array(await crypto.subtle.digest("SHA-256", all));
  return [...h.slice(0, 8)].map((x) => x.toString(16).padStart(2, "0")).join("");
}

/** What a build did. */
export interface Built {
  path: string;
  /** Whether the binary came from the cache. */
  cached: boolean;
  ms: number;
}

/**
 * The helper binary, built if the cache does not have it. Throws
 * `TargetUnavailable` when Go or gVisor's source is missing, or the build fails.
 */
export async function helperBinary(o: { root?: string; fresh?: boolean } = {}): Promise<Built> {
  const t0 = performance.now();
  const root0 = o.root ?? cacheRoot();
  // Once found, the binary is the same for the rest of the process: no subprocess each time
  // (`fresh` looks again, as a new process would).
  const seen = o.fresh ? undefined : found.get(root0);
  if (seen) {
    try {
      Deno.statSync(seen);
      return { path: seen, cached: true, ms: performance.now() - t0 };
    } catch { /* removed meanwhile: look again */ }
  }
  const b = await locate(root0, t0);
  found.set(root0, b.path);
  return b;
}

/** Binaries this process has found, by cache root. */
const found = new Map<string, string>();

async function locate(root: string, t0: number): Promise<Built> {
  const why = await buildUnavailable();
  if (why) throw new TargetUnavailable("gvisor", why);
  const src = sources();
  const dir = `${root}/gvisor-${await key(src)}`;
  const path = `${dir}/netstack`;
  try {
    Deno.statSync(path);
    return { path, cached: true, ms: performance.now() - t0 };
  } catch { /* not built yet */ }
  Deno.mkdirSync(dir, { recursive: true });
  // The sources are copied out, so the build never writes next to them.
  const work = Deno.makeTempDirSync({ dir, prefix: "src-" });
  try {
    for (const [name, bytes] of src) Deno.writeFileSync(`${work}/${name}`, bytes);
    const tmp = `${path}.${Deno.pid}`;
    const r = await run("go", ["build", "-trimpath", "-o", tmp, "."], {
      GOPATH,
      GO111MODULE: "off",
      GOCACHE: `${root}/go-build`,
      GOFLAGS: "",
      CGO_ENABLED: "0",
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      HOME: Deno.env.get("HOME") ?? "/tmp",
    }, work).catch((e) => ({ ok: false, out: "", err: String(e) }));
    if (!r.ok) throw new TargetUnavailable("gvisor", `building the helper failed: ${r.err}`);
    Deno.renameSync(tmp, path);
  } finally {
    Deno.removeSync(work, { recursive: true });
  }
  return { path, cached: false, ms: performance.now() - t0 };
}

if (import.meta.main) {
  const b = await helperBinary();
  console.log(`${b.path} (${b.cached ? "cached" : "built"} in ${(b.ms / 1000).toFixed(1)} s)`);
}
