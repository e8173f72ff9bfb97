/**
 * The built-in stack's conformance scenarios (tests/stack_*_test.ts), run
 * unchanged against gVisor's real netstack (`--target gvisor`), as
 * tests/kernel/conformance_test.ts runs them against Linux. Every scenario
 * with at most 3 s of protocol time runs, unless pinned to a profile that
 * models another stack (`linux`).
 *
 * A scenario either passes on gVisor, or it is listed in
 * gvisor_divergences.ts with what gVisor does instead: where Linux and gVisor's netstack differ, one
 * scenario each (the README has the table). The list is checked both ways:
 * a listed scenario that starts to pass must come off it. Needs Go and
 * Debian's golang-gvisor-gvisor-dev (.ci/run installs them); skips visibly
 * without.
 */
import assert from "node:assert/strict";
import { buildUnavailable } from "../runtime/gvisor/helper_build.ts";
import { runScenarioOn } from "../runtime/scenario.ts";
import { loadStackScenarios } from "./fixtures.ts";
import { GVISOR_DIVERGENCES } from "./gvisor_divergences.ts";

const why = await buildUnavailable();
const MAX_MS = 3000;

Deno.test({
  name: `gvisor: the built-in stack's conformance scenarios run unchanged on gVisor's netstack${
    why ? ` (skipped: ${why})` : ""
  }`,
  ignore: why !== undefined,
  async fn(t) {
    const scenarios = await loadStackScenarios("gvisor");
    const unexpected: string[] = [];
    const stale: string[] = [];
    let ran = 0, passed = 0;
    for (const sc of scenarios) {
      const profile = sc.options.profile;
      if (profile !== undefined && profile !== "gvisor" && profile !== "rfc7323-strict") continue;
      const builtin = await runScenarioOn(sc, "builtin");
      if (!builtin.ok || builtin.elapsedMs > MAX_MS) continue;
      ran++;
      const r = await runScenarioOn(sc, "gvisor");
      const known = GVISOR_DIVERGENCES[sc.name];
      if (r.ok) passed++;
      if (!r.ok && !known) unexpected.push(`${sc.name}\n${r.failure?.message}`);
      if (r.ok && known) stale.push(sc.name);
      await t.step({
        name: `${r.ok ? "pass" : known ? "differs" : "FAIL"}: ${sc.name}`,
        fn: () => {},
      });
    }
    assert.ok(ran >= 80, `only ${ran} scenarios ran on gVisor`);
    assert.ok(passed >= 25, `only ${passed} passed on gVisor`);
    assert.deepEqual(stale, [], "listed as differing but passing on gVisor: take them off");
    assert.deepEqual(unexpected, [], "differing from Linux without a documented reason");
  },
});
