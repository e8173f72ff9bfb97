/**
 * Loads the scenarios a file, a folder (its `.ts` files, recursively) or a
 * URL defines: every `scenario()` the module ran while loading, and every
 * exported scenario made with `defineScenario`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadScenarios } from "./load_scenarios.ts";
 * const found = await loadScenarios(["examples/rst_closed_port.ts"]);
 * assert.equal(found.length, 3);
 * await assert.rejects(() => loadScenarios(["nope.ts"]), /Cannot load nope\.ts: no such file/);
 * ```
 */
import type { Scenario } from "../../dsl/scenario_def.ts";
import { definedScenarios, withoutRegistration } from "../scenario.ts";
import { scenarioFiles, urlOf } from "./scenario_files.ts";

function isScenario(v: unknown): v is Scenario {
  return typeof v === "object" && v !== null && "name" in v && "at" in v && "options" in v &&
    ("steps" in v || "body" in v);
}

// A module runs once per process; remember what it defined for later loads.
const byModule = new Map<string, Scenario[]>();

/**
 * The scenarios the given paths or URLs define, in definition order. A
 * folder's `_test.ts` files are left out unless `includeTests` (`synack test`).
 */
export async function loadScenarios(
  paths: readonly string[],
  o: { includeTests?: boolean } = {},
): Promise<Scenario[]> {
  const out: Scenario[] = [];
  for (const p of paths) {
    const list = /^(https?|file):\/\//.test(p)
      ? [p]
      : await scenarioFiles(p, o.includeTests ?? false);
    for (const f of list) {
      const url = urlOf(f);
      let found = byModule.get(url);
      if (!found) {
        const before = definedScenarios.length;
        let mod: Record<string, unknown>;
        try {
          mod = await withoutRegistration(() => import(url)) as Record<string, unknown>;
        } catch (e) {
          // A module that does not load, or reaches past its permissions, is bad input.
          if (e instanceof RangeError || e instanceof Deno.errors.NotFound) throw e;
          throw new RangeError(`Cannot load ${f}: ${(e as Error).message}`, { cause: e });
        }
        found = definedScenarios.slice(before);
        for (const v of Object.values(mod)) if (isScenario(v) && !found.includes(v)) found.push(v);
        byModule.set(url, found);
      }
      out.push(...found);
    }
  }
  return out;
}
