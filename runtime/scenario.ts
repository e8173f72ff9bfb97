/**
 * `scenario()`, the form users write: it defines the scenario and, unless
 * told not to, registers it with `Deno.test`, so a scenario file runs under
 * `deno test` as it is. Under `deno run` (and `synack run`) registration is
 * a no-op. `runScenarioOn` runs one against a target named by a string
 * (`builtin`, `builtin:rfc7323-strict`).
 *
 * This lives above dsl/ because registering means running, which needs the
 * engine and the stack; dsl/ itself stays plain data.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { scenario, runScenarioOn } from "./scenario.ts";
 * import { listen } from "../dsl/socket_steps.ts";
 * const sc = scenario("listen only", [listen(8080)], { register: false });
 * const r = await runScenarioOn(sc, "builtin");
 * assert.equal(r.ok, true);
 * ```
 */
import {
  defineScenario,
  type Scenario,
  type ScenarioContext,
  type ScenarioOptions,
} from "../dsl/scenario_def.ts";
import type { StepInput } from "../dsl/steps.ts";
import { type RunResult, runScenario } from "./engine/runner.ts";
import type { LimitOverride } from "./engine/scenario_limits.ts";
import type { Target } from "./engine/target.ts";
import { TargetUnavailable } from "./engine/target_unavailable.ts";
import { Trace } from "./engine/trace.ts";
import { builtinPeer, builtinTarget } from "./stack/builtin_target.ts";
import { parseTargetSpec, TARGET_SPECS, type TargetSpec } from "./target_spec.ts";

export { parseTargetSpec, TARGET_SPECS, type TargetSpec };

/**
 * What a kernel target's namespace is set to before a scenario runs, so that
 * it runs what the `linux` profile models: Reno, where a new namespace
 * otherwise inherits the host's default (often BBR or CUBIC, neither of which
 * a namespace may always choose). A scenario's own sysctl steps come after.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { KERNEL_AS_PROFILED } from "./scenario.ts";
 * assert.equal(KERNEL_AS_PROFILED["net.ipv4.tcp_congestion_control"], "reno");
 * ```
 */
export const KERNEL_AS_PROFILED: Readonly<Record<string, string>> = Object.freeze({
  "net.ipv4.tcp_congestion_control": "reno",
});

/**
 * Opens the target a spec names: `builtin`, `builtin:<profile>`, `kernel`
 * (the Linux kernel through TUN in a private namespace), `raw` (a kernel in
 * a second namespace, reached over a veth by a packet socket) or
 * `raw:echo=7` (the same, with a TCP echo server process on port 7 there)
 * or `gvisor` (gVisor's netstack, run by a helper process).
 * The scenario's own profile applies unless the spec names one. A scenario
 * with a topology runs on its own hosts: its kernel hosts are real with a
 * `kernel` or `raw` spec, and modelled on `builtin` (a `TargetUnavailable`
 * says what cannot be).
 */
export async function openTarget(spec: string, sc?: Scenario): Promise<Target> {
  const t = parseTargetSpec(spec);
  // A topology names its own hosts. Kernel hosts are built only when the run asks for the
  // kernel (`--target kernel` or `raw`): the target named decides whether the kernel is touched.
  // On the built-in target they are played by models: a forwarding one by the conntrack +
  // NAT router, the others by built-in stacks.
  const topo = sc?.options.topology;
  if (topo && t.kind === "gvisor") {
    throw new TargetUnavailable(
      "gvisor",
      "a topology's hosts are kernel() or builtin(); gVisor's netstack is a target of its own",
    );
  }
  if (topo) {
    const { openTopology } = await import("./topology/topology_target.ts");
    return await openTopology(topo, { model: t.kind === "builtin" });
  }
  switch (t.kind) {
    case "builtin":
      return builtinTarget({
        profile: t.profile ?? sc?.options.profile ?? "linux",
        seed: sc?.options.seed,
      });
    // Loaded on demand: the built-in target (and the REPL's start-up) need none of it.
    case "kernel":
      return await (await import("./kernel/kernel_target.ts")).kernelTarget({
        sysctls: KERNEL_AS_PROFILED,
      });
    case "raw": {
      const { rawTarget } = await import("./kernel/raw_target.ts");
      return await rawTarget({
        sysctls: KERNEL_AS_PROFILED,
        ...(t.echoPort === undefined ? {} : { echoPort: t.echoPort }),
      });
    }
    case "gvisor":
      return await (await import("./gvisor/gvisor_target.ts")).gvisorTarget();
  }
}

/** Runs `sc` on the target `spec` names and closes it; `limits` override the scenario's own. */
export async function runScenarioOn(
  sc: Scenario,
  spec = "builtin",
  limits?: LimitOverride,
): Promise<RunResult> {
  let target: Target;
  try {
    target = await openTarget(spec, sc);
  } catch (e) {
    // A topology's kernel hosts need root, or a model: without, the scenario does not apply here.
    if (!(sc.options.topology && e instanceof TargetUnavailable)) throw e;
    return { ok: true, skipped: e.reason, warnings: [], trace: new Trace(), elapsedMs: 0 };
  }
  const named = spec.startsWith("builtin:");
  try {
    return await runScenario(
      named ? { ...sc, options: { ...sc.options, profile: undefined } } : sc,
      {
        target,
        makePeer: builtinPeer,
        limits,
      },
    );
  } finally {
    await target.close();
  }
}

/** The target for scenarios registered with `Deno.test`: $SYNACK_TARGET, else `builtin`. */
function testTarget(): string {
  try {
    return Deno.env.get("SYNACK_TARGET") ?? "builtin";
  } catch {
    return "builtin";
  }
}

/**
 * Shared by every copy of this module in the process: a scenario file loaded
 * from a URL imports synack from that URL, a different module instance from
 * the CLI's own, and its scenarios must still reach the CLI.
 */
const shared: { registering: boolean; defined: Scenario[] } =
  ((globalThis as Record<symbol, unknown>)[Symbol.for("synack.scenarios")] ??= {
    registering: true,
    defined: [],
  }) as { registering: boolean; defined: Scenario[] };

/**
 * Runs `load` (an import of scenario files) without registering its
 * scenarios with `Deno.test`: the caller runs them itself, as `synack run` does.
 */
export async function withoutRegistration<T>(load: () => Promise<T>): Promise<T> {
  const was = shared.registering;
  shared.registering = false;
  try {
    return await load();
  } finally {
    shared.registering = was;
  }
}

/** Every scenario defined in this process, in order: `synack run` runs those a file defined. */
export const definedScenarios: Scenario[] = shared.defined;

/**
 * Defines a scenario from a step list or an async function, and registers it
 * with `Deno.test` (pass `{ register: false }` inside a running test).
 */
export function scenario(
  name: string,
  body: readonly StepInput[] | ((s: ScenarioContext) => Promise<void>),
  options: ScenarioOptions = {},
): Scenario {
  const sc = defineScenario(name, body, options);
  definedScenarios.push(sc);
  if (
    shared.registering && options.register !== false && typeof Deno !== "undefined" &&
    typeof Deno.test === "function"
  ) {
    Deno.test(name, async () => {
      const r = await runScenarioOn(sc, testTarget());
      if (!r.ok) throw r.failure;
    });
  }
  return sc;
}

/**
 * Keeps the kernel's tracer (the tracing helper and its instance, see
 * `kernel/tracefs.ts`) running while a run goes through many scenarios on
 * the kernel, so that each target joins it instead of starting its own.
 * Nothing happens for targets that do not trace, or where the kernel
 * target cannot run.
 *
 * @example
 * ```ts
 * import { holdTracing } from "./scenario.ts";
 * const tracing = await holdTracing(["builtin"]); // nothing to hold
 * await tracing.release();
 * ```
 */
export async function holdTracing(
  targets: readonly string[],
): Promise<{ release(): Promise<void> }> {
  const traced = targets.some((t) => ["kernel", "raw"].includes(parseTargetSpec(t).kind));
  if (!traced) return { release: () => Promise.resolve() };
  const { kernelUnavailable } = await import("./kernel/kernel_support.ts");
  if (kernelUnavailable()) return { release: () => Promise.resolve() };
  const { acquireTracer, releaseTracer } = await import("./kernel/tracefs.ts");
  const t = await acquireTracer();
  return { release: () => typeof t === "string" ? Promise.resolve() : releaseTracer() };
}
