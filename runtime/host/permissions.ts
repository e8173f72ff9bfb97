/**
 * Deno permissions for the scenario host's child (`scenario_host.ts`).
 *
 * - **Trusted** (local files, without `--sandbox`): what synack itself was
 *   granted, kind by kind. A scenario file is then as free as any program
 *   its author runs; it still runs in its own process, so a hang or an exit
 *   in it is its scenario's failure.
 * - **Sandboxed** (code from a URL, or `--sandbox`): reading synack's own
 *   modules, importing from the scenario's origin, and nothing else: no
 *   files, no network, no environment, no programs, no FFI, no system
 *   information. Each of those only by the user's flag.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeSandbox, sandboxPermissions } from "./permissions.ts";
 * const flags = sandboxPermissions({ importFrom: ["127.0.0.1:8000"] });
 * assert.ok(flags.includes("--allow-import=127.0.0.1:8000"));
 * assert.ok(!flags.some((f) => /^--allow-(write|net|env|run|ffi|sys|all)/.test(f)));
 * assert.ok(sandboxPermissions({ importFrom: [], allow: { write: true } }).includes("--allow-write"));
 * assert.equal(
 *   describeSandbox({ origins: ["https://gist.githubusercontent.com"] }),
 *   "may import from https://gist.githubusercontent.com and synack's own modules; " +
 *     "no files, network, environment, programs or FFI",
 * );
 * ```
 */

/** A permission for any value (`true`) or for the listed ones. */
export type Grant = true | readonly string[];

/** What the user's flags add to a sandbox. */
export interface Allowance {
  read?: Grant;
  write?: Grant;
  net?: Grant;
  env?: Grant;
  run?: Grant;
  /** Hosts (`host[:port]`) modules may come from besides the scenario's origin. */
  import?: readonly string[];
}

const ROOT = new URL("../../", import.meta.url);
const KINDS = ["read", "write", "net", "env", "sys", "run", "ffi", "import"] as const;

function flag(kind: string, g: Grant): string {
  return g === true ? `--allow-${kind}` : `--allow-${kind}=${g.join(",")}`;
}

/** The permissions synack holds, kind by kind, for a trusted child. */
export function trustedPermissions(): string[] {
  const out = ["--no-prompt"];
  for (const name of KINDS) {
    const state = Deno.permissions.querySync({ name } as Deno.PermissionDescriptor).state;
    if (state === "granted") out.push(`--allow-${name}`);
  }
  return out;
}

/** Where synack's own modules and the packages they import live. */
export function synackFiles(): string[] {
  if (ROOT.protocol !== "file:") return [];
  const root = decodeURIComponent(ROOT.pathname);
  return ["mod.ts", "dsl", "runtime", "node_modules", "deno.json", "package.json"].map((p) =>
    `${root}${p}`
  );
}

/** The flags of a sandboxed child. */
export function sandboxPermissions(o: {
  /** `host:port` of the scenario's origin (its proxy). */
  importFrom: readonly string[];
  /** Local folders it may read besides synack's own (a sandboxed local file's own folder). */
  read?: readonly string[];
  allow?: Allowance;
}): string[] {
  const a = o.allow ?? {};
  const imports = [...o.importFrom, ...(a.import ?? [])];
  const out = ["--no-prompt"];
  if (imports.length) out.push(flag("import", imports));
  out.push(
    a.read === true
      ? "--allow-read"
      : flag("read", [...synackFiles(), ...(o.read ?? []), ...(a.read ?? [])]),
  );
  for (const kind of ["write", "net", "env", "run"] as const) {
    const g = a[kind];
    if (g === true || (g && g.length)) out.push(flag(kind, g));
  }
  return out;
}

/** One line for the user: what sandboxed code may do. */
export function describeSandbox(o: { origins: readonly string[]; allow?: Allowance }): string {
  const a = o.allow ?? {};
  const from = [...o.origins, ...(a.import ?? [])].join(", ");
  const extra = (["read", "write", "net", "env", "run"] as const)
    .filter((k) => a[k] === true || (a[k] && (a[k] as readonly string[]).length))
    .map((k) => a[k] === true ? k : `${k} ${(a[k] as readonly string[]).join(",")}`);
  const denied = [
    !a.read && !a.write ? "files" : undefined,
    !a.net ? "network" : undefined,
    !a.env ? "environment" : undefined,
    !a.run ? "programs" : undefined,
    "FFI",
  ].filter((x): x is string => x !== undefined);
  const no = denied.length > 1
    ? `${denied.slice(0, -1).join(", ")} or ${denied.at(-1)}`
    : denied[0];
  return `may import from ${from || "nowhere"} and synack's own modules; ` +
    (extra.length ? `allowed by flag: ${extra.join(", ")}; ` : "") + `no ${no}`;
}
