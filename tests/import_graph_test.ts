/**
 * Imports inside `runtime/` point one way. The graph is Deno's own
 * (`deno info --json` over every runtime module), type-only imports
 * included: a circle of types is still two files that cannot be read, or
 * changed, one without the other.
 *
 * The built-in stack's connection and its parts (output, timers,
 * congestion control) reach each other through one port (`tcb_driver.ts`),
 * wired in one place (`tcb_wiring.ts`), not by importing each other.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);

/** The runtime modules (tests and benches aside), as paths from the repository's top. */
function runtimeModules(dir = "runtime"): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(new URL(dir, ROOT))) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) out.push(...runtimeModules(path));
    else if (/\.ts$/.test(e.name) && !/_(test|bench)\.ts$/.test(e.name)) out.push(path);
  }
  return out.sort();
}

interface InfoModule {
  specifier: string;
  dependencies?: { code?: { specifier: string }; type?: { specifier: string } }[];
}

/** Every import edge between runtime modules, from `deno info --json`. */
async function importGraph(): Promise<Map<string, string[]>> {
  const dir = await Deno.makeTempDir({ prefix: "synack-graph-" });
  try {
    const entry = `${dir}/all.ts`;
    await Deno.writeTextFile(
      entry,
      runtimeModules().map((m) => `import "${new URL(m, ROOT).href}";`).join("\n") + "\n",
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", entry],
      cwd: ROOT.pathname,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const info = JSON.parse(new TextDecoder().decode(out.stdout)) as { modules: InfoModule[] };
    const prefix = new URL("runtime/", ROOT).href;
    const local = (s: string | undefined) =>
      s?.startsWith(prefix) ? s.slice(ROOT.href.length) : undefined;
    const graph = new Map<string, string[]>();
    for (const m of info.modules) {
      const from = local(m.specifier);
      if (!from) continue;
      const to = (m.dependencies ?? []).flatMap((d) => {
        const s = local(d.code?.specifier ?? d.type?.specifier);
        return s ? [s] : [];
      });
      graph.set(from, [...new Set(to)]);
    }
    return graph;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The strongly connected components of more than one module (Tarjan): each holds a circle. */
function circles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>(), low = new Map<string, number>();
  const stack: string[] = [], onStack = new Set<string>(), out: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const scc: string[] = [];
    for (let w = stack.pop()!;; w = stack.pop()!) {
      onStack.delete(w);
      scc.push(w);
      if (w === v) break;
    }
    if (scc.length > 1) out.push(scc.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out.sort((a, b) => a[0].localeCompare(b[0]));
}

Deno.test("imports: no circle inside runtime/, type-only imports included", async () => {
  const graph = await importGraph();
  assert.ok(graph.size >= 140, `only ${graph.size} runtime modules in the graph`);
  assert.deepEqual(circles(graph), [], "import circles inside runtime/");
});

Deno.test("imports: the circle finder finds a circle of two and one of three, and no other", () => {
  const g = new Map<string, string[]>([
    ["a", ["b"]],
    ["b", ["a", "c"]],
    ["c", ["d"]],
    ["d", ["e"]],
    ["e", ["c"]],
    ["f", ["a"]],
  ]);
  assert.deepEqual(circles(g), [["a", "b"], ["c", "d", "e"]]);
  assert.deepEqual(circles(new Map([["x", ["y"]], ["y", []]])), []);
});
