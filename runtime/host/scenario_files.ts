/**
 * Which files a command line names: a file, a folder's scenario files, or a
 * URL; and the URL a path is loaded by. Light on purpose: the CLI lists files
 * before it loads the engine, while the scenario host starts.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { scenarioFiles, urlOf } from "./scenario_files.ts";
 * assert.ok((await scenarioFiles("examples", false)).includes("examples/late_ack.ts"));
 * await assert.rejects(() => scenarioFiles("nope.ts", false), /Cannot load nope\.ts: no such file/);
 * assert.equal(urlOf("/tmp/a.ts"), "file:///tmp/a.ts");
 * ```
 */

/**
 * The scenario files a path names: the file itself, or a folder's `.ts`
 * files, recursively (not `node_modules` or hidden folders), sorted; `_test.ts`
 * files only with `includeTests`.
 */
export async function scenarioFiles(path: string, includeTests: boolean): Promise<string[]> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new Deno.errors.NotFound(`Cannot load ${path}: no such file`);
    }
    throw e;
  }
  if (!info.isDirectory) return [path];
  const out: string[] = [];
  for await (const e of Deno.readDir(path)) {
    const p = `${path.replace(/\/$/, "")}/${e.name}`;
    if (e.isDirectory) {
      if (e.name !== "node_modules" && !e.name.startsWith(".")) {
        out.push(...await scenarioFiles(p, includeTests));
      }
    } else if (e.name.endsWith(".ts") && (includeTests || !e.name.endsWith("_test.ts"))) {
      out.push(p);
    }
  }
  return out.sort();
}

/** The URL a path or URL names (a path is taken from the working folder). */
export function urlOf(path: string): string {
  if (/^(https?|file):\/\//.test(path)) return path;
  const abs = path.startsWith("/") ? path : `${Deno.cwd()}/${path}`;
  return new URL(`file://${abs}`).href;
}
