/**
 * Runs a scenario's steps, in order, against a target, recording the trace.
 * It stops at the first step that does not hold and reports it with the
 * step's file:line, the expected pattern and the actual packet in the line
 * syntax, a field-by-field diff and the tail of the trace. At the end it
 * reports packets nobody expected, as strict as the scenario asks.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defineScenario } from "../../dsl/scenario_def.ts";
 * import { rstAck, syn } from "../../dsl/packet_builder.ts";
 * import { expect, inject } from "../../dsl/steps.ts";
 * import { builtinTarget } from "../stack/builtin_target.ts";
 * import { runScenario } from "./runner.ts";
 * const sc = defineScenario("closed port", [inject(syn().ports(40000, 9)), expect(rstAck().seq(0).ack(1))], { register: false });
 * const r = await runScenario(sc, { target: builtinTarget() });
 * assert.equal(r.ok, true, r.failure?.message);
 * assert.equal(r.trace.events.filter((e) => e.kind === "packet").length, 2);
 * ```
 */
import type {
  Scenario,
  ScenarioContext,
  ScenarioOptions,
  StepOutcome,
  TraceEventLike,
} from "../../dsl/scenario_def.ts";
import { resolveRefs } from "../../dsl/scenario_def.ts";
import { errorLocation, formatLocation } from "../../dsl/source_location.ts";
import { type Step, type StepInput, toSteps } from "../../dsl/steps.ts";
import { assertNever } from "../wire/assert_never.ts";
import { emitPacket, parsePacket } from "../wire/packet.ts";
import { DEFAULT_TOLERANCE, RealClock, VirtualClock } from "./clock.ts";
import { CallTracker } from "./call_tracker.ts";
import {
  describeEvent,
  relativeLine,
  ScenarioFailure,
  ScenarioSkipped,
  threwFailure,
  traceTail,
} from "./failure.ts";
import { Flows } from "./flow.ts";
import { Expectations } from "./expectation.ts";
import { LivePeer } from "./live_peer.ts";
import { PacketLog } from "./packet_log.ts";
import { conntrackProblems } from "./conntrack_check.ts";
import { stepName } from "./step_name.ts";
import type { Endpoints, PeerFactory, Target } from "./target.ts";
import { type LimitOverride, type Limits, scenarioLimits, Watchdog } from "./scenario_limits.ts";
import { TimingCheck } from "./timing_check.ts";
import { dropNote, dropProblem, fillReasons, rstReasonProblem } from "./reason_check.ts";
import { Trace, type TraceEvent } from "./trace.ts";

/** What `runScenario` needs besides the scenario. */
export interface RunConfig {
  target: Target;
  /** Builds the script's peer stack for `peer.auto()` and `peer.*` calls. */
  makePeer?: PeerFactory;
  /** Time limits over the scenario's own (`synack run --timeout`). */
  limits?: LimitOverride;
}

/** The verdict of a run. */
export interface RunResult {
  /** Passed, or skipped (see `skipped`): nothing failed. */
  ok: boolean;
  failure?: ScenarioFailure;
  /** Why the scenario does not apply to this target, when it was skipped. */
  skipped?: string;
  /** Unexpected packets under `strict: "warn"`. */
  warnings: string[];
  trace: Trace;
  /** Clock milliseconds the run took. */
  elapsedMs: number;
  /** Whether the stack gave its reasons for RSTs and drops (on the trace's packets). */
  reasons?: boolean;
}

/** Why a finished run's signal is aborted. */
const RUN_ENDED = new Error("the run has ended");

/**
 * Runs one scenario to its end or first failure. Whatever happens inside the
 * scenario is its verdict, never an exception out of here: a throw in its
 * code fails it at the line of the throw, a step failure its code caught
 * still fails it, and so does running past its time limits.
 */
export async function runScenario(sc: Scenario, cfg: RunConfig): Promise<RunResult> {
  const clock = cfg.target.clock;
  const limits = scenarioLimits(sc.options, clock.kind, cfg.limits);
  if (clock instanceof VirtualClock) clock.horizon = clock.now() + limits.virtualMs;
  let r: Runner;
  try {
    r = new Runner(sc.options, cfg, limits);
  } catch (e) {
    if (!(e instanceof ScenarioSkipped)) throw e;
    return { ok: true, skipped: e.message, warnings: [], trace: new Trace(), elapsedMs: 0 };
  }
  const watchdog = new Watchdog(limits.wallMs, () => r.timedOut(limits.wallMs));
  let failure: ScenarioFailure | undefined;
  let skipped: string | undefined;
  try {
    await watchdog.race((async () => {
      if (sc.steps) await r.runAll(sc.steps);
      else if (sc.body) await sc.body(r.context());
      await r.finish();
    })());
  } catch (e) {
    if (e instanceof ScenarioSkipped) skipped = e.message;
    else failure = e instanceof ScenarioFailure ? e : thrown(e);
  } finally {
    r.end();
  }
  // The trace carries the stack's reasons for what it reset and dropped.
  const reasons = await r.fillReasons();
  // A step that failed fails the scenario even if its code caught the error and went on.
  failure = r.firstFailure ?? failure;
  if (failure) r.trace.add({ kind: "failure", time: clock.now(), message: failure.message });
  if (skipped && !r.firstFailure) {
    r.trace.add({ kind: "note", time: clock.now(), text: `skipped: ${skipped}` });
    return { ok: true, skipped, warnings: r.warnings, trace: r.trace, elapsedMs: clock.now() };
  }
  return {
    ok: !failure,
    failure,
    warnings: r.warnings,
    trace: r.trace,
    elapsedMs: cfg.target.clock.now(),
    reasons,
  };
}

/** A throw out of a scenario's code, as its failure at the line of the throw. */
function thrown(e: unknown): ScenarioFailure {
  return e instanceof Error
    ? threwFailure(e.name, e.message, errorLocation(e))
    : threwFailure(typeof e, String(e));
}

type StepOf<K extends Step["kind"]> = Extract<Step, { kind: K }>;

/**
 * The dispatcher: runs each step on the part that owns it. Packets go through
 * the link's `PacketLog`, calls through each host's `CallTracker`, `expect()`
 * through `Expectations` (timing through `TimingCheck`), and path rules to the
 * `Path` they name: the one between the peer stack and the stack under test,
 * or a topology link's.
 */
class Runner {
  readonly trace = new Trace();
  readonly warnings: string[] = [];
  /** The first step failure, kept even if the scenario's code catches it. */
  firstFailure: ScenarioFailure | undefined;
  readonly #limits: Limits;
  readonly #abort = new AbortController();
  /** The step running now, for a time-out report. */
  #current: { step: Step; index: number } | undefined;
  /** Aborted to abandon the step running now (`interrupt()`). */
  #stepAbort = new AbortController();
  readonly #t: Target;
  readonly #o: ScenarioOptions;
  readonly #flows: Flows;
  readonly #done: Step[] = [];
  readonly #log: PacketLog;
  readonly #timing: TimingCheck;
  readonly #calls = new Map<string, CallTracker>();
  readonly #peer: LivePeer;
  readonly #expectations: Expectations;
  #last = 0;
  #auto = false;
  readonly #family: 4 | 6;

  constructor(o: ScenarioOptions, cfg: RunConfig, limits: Limits) {
    this.#limits = limits;
    this.#o = o;
    this.#t = cfg.target;
    this.#family = o.family ?? 4;
    const clock = cfg.target.clock;
    // On a real clock the script's TS clock starts at its first packet, so a
    // scenario's first TS val is the same 100 it is on the virtual clock.
    let origin: number | undefined = clock.kind === "virtual" ? 0 : undefined;
    this.#flows = new Flows(
      this.#addrs,
      o.remotePort ?? 40000,
      () => clock.now() - (origin ??= clock.now()),
    );
    this.#log = new PacketLog(cfg.target.backend, clock, this.trace, this.#flows);
    this.#timing = new TimingCheck(
      clock,
      () => this.#o.tolerance ?? this.#t.tolerance ?? DEFAULT_TOLERANCE,
    );
    this.#peer = new LivePeer({
      target: cfg.target,
      makePeer: cfg.makePeer,
      log: this.#log,
      trace: this.trace,
      ended: this.#abort.signal,
    });
    // deno-lint-ignore no-this-alias
    const self = this;
    this.#expectations = new Expectations({
      clock,
      log: this.#log,
      flows: this.#flows,
      timing: this.#timing,
      topology: cfg.target.topology,
      get addrs() {
        return self.#addrs;
      },
      done: this.#done,
      get live() {
        return self.#auto;
      },
      get signal() {
        return self.#stepAbort.signal;
      },
      get timeoutMs() {
        return self.#timeout;
      },
      fail: (summary, s, details) => this.#fail(summary, s, details),
      rstReason: (want, bytes) => this.#rstReason(want, bytes),
    });
    this.#calls.set("target", this.#tracker("target", cfg.target.sockets, this.#addrs));
    const topo = cfg.target.topology;
    if (topo) {
      topo.start(this.trace, (bytes, from, text) => this.#peer.mark(bytes, from, text));
      for (const h of topo.hosts) {
        this.#calls.set(h, this.#tracker(h, topo.sockets(h)!, this.#addrs));
      }
      // Every host is a stack: the script watches and nudges, and nothing waits on its hand.
      this.#auto = true;
    }
    if (o.profile !== undefined) {
      // A profile is settled on the spot by every target (only sysctls may take a round trip).
      const note = cfg.target.configure({ kind: "profile", profile: o.profile });
      if (typeof note === "string") this.#warn(note);
    }
  }

  get #addrs(): Endpoints {
    return this.#family === 4 ? this.#t.v4 : this.#t.v6;
  }

  get #timeout(): number {
    return this.#o.expectTimeoutMs ?? (this.#t.clock.kind === "virtual" ? 300_000 : 10_000);
  }

  #tracker(side: string, api: Target["sockets"], addrs: Endpoints): CallTracker {
    const topo = this.#t.topology;
    return new CallTracker(side, api, this.#t.clock, {
      trace: this.trace,
      timing: this.#timing,
      fail: (summary, s, details) => this.#fail(summary, s, details),
      // The stack the script's own packets go to: the target, or the far end of a topology's tap.
      listening: (port) =>
        (side === "target" || side === topo?.tap.b) && this.#flows.listening(port),
      family: this.#family,
      addrs,
      resolveAddr: topo &&
        ((addr) => {
          if (addr === undefined) {
            throw new RangeError(
              `in a topology, name the address or host: connect(port, "${topo.tap.b}")`,
            );
          }
          return topo.resolve(addr, this.#family);
        }),
    });
  }

  /** The failure for a run that passed its real-time limit: what it was waiting on. */
  timedOut(ms: number): ScenarioFailure {
    const limit = `${ms / 1000} s`;
    const cur = this.#current;
    if (cur) {
      return new ScenarioFailure(
        `the scenario did not finish within ${limit} (real time): it was waiting on step ${
          cur.index + 1
        }, ${stepName(cur.step)}`,
        cur.step.at,
      );
    }
    const last = this.#done.at(-1);
    const after = last
      ? `after step ${this.#done.length}, ${stepName(last)} (${formatLocation(last.at)})`
      : "before its first step";
    return new ScenarioFailure(
      `the scenario did not finish within ${limit} (real time): it was waiting on the scenario's own code, ${after}`,
      undefined,
    );
  }

  /** The run is over: nothing still pending may act on the target. */
  end(): void {
    // A reason given, so that no DOMException (and its stack) is built for every run.
    this.#abort.abort(RUN_ENDED);
    this.#log.manual();
    const clock = this.#t.clock;
    if (clock instanceof RealClock) clock.stop();
  }

  context(): ScenarioContext {
    // deno-lint-ignore no-this-alias
    const self = this;
    return {
      signal: this.#abort.signal,
      interrupt() {
        self.#stepAbort.abort();
        self.#t.clock.poke();
      },
      async run(...steps: StepInput[]): Promise<StepOutcome> {
        let out: StepOutcome = { kind: "none", time: self.#t.clock.now() };
        for (const s of resolveRefs(toSteps(steps), self.#done)) out = await self.#step(s);
        return out;
      },
      get now() {
        return self.#t.clock.now();
      },
      observe: () => this.#log.observe(this.#stepAbort.signal),
      discardObserved: () => this.#log.discardObserved(),
      get events() {
        return self.trace.events as unknown as readonly TraceEventLike[];
      },
      describe(e: TraceEventLike) {
        return describeEvent(e as unknown as TraceEvent, self.#flows);
      },
      get stepsDone() {
        return self.#done.length;
      },
    };
  }

  async runAll(steps: readonly Step[]): Promise<void> {
    for (const s of steps) {
      const out = this.#step(s);
      if (out instanceof Promise) await out;
    }
  }

  /**
   * Records calls that returned since the last step, on every host; undefined
   * (no promise) when no call is blocked, as in most steps.
   */
  #settle(final: boolean): Promise<void> | undefined {
    for (const c of this.#calls.values()) if (c.blocked) return this.#settleAll(final);
    return undefined;
  }

  async #settleAll(final: boolean): Promise<void> {
    for (const c of this.#calls.values()) if (c.blocked) await c.settle(final, this.#timeout);
  }

  /**
   * Runs one step. Synchronous when nothing in it waits (a stack in this
   * process, on a virtual clock, answers at once): a promise per step and per
   * layer was most of a step's cost, so each layer makes one only when it must.
   */
  #step(s: Step): StepOutcome | Promise<StepOutcome> {
    if (this.#abort.signal.aborted) {
      return Promise.reject(
        new ScenarioFailure("the run has ended: no more steps are taken", s.at),
      );
    }
    try {
      // Calls that returned because of the last step are recorded before this one runs.
      for (const c of this.#calls.values()) c.recheck();
      const before = this.#settle(false);
      const out = before ? before.then(() => this.#begin(s)) : this.#begin(s);
      return out instanceof Promise ? out.catch((e) => this.#failed(e)) : out;
    } catch (e) {
      return this.#failed(e);
    }
  }

  /** A step's failure, told with the stack's reasons, and kept as the run's first. */
  async #failed(e: unknown): Promise<never> {
    if (!(e instanceof ScenarioFailure)) throw e;
    const told = await this.#withReasons(e);
    this.firstFailure ??= told;
    throw told;
  }

  #begin(s: Step): StepOutcome | Promise<StepOutcome> {
    const index = this.#done.length;
    this.#done.push(s);
    this.#current = { step: s, index };
    if (this.#stepAbort.signal.aborted) this.#stepAbort = new AbortController();
    const abandoned = this.#stepAbort.signal;
    // Whatever the step made of its cut-short wait, it was abandoned (Ctrl-C in a REPL).
    const interrupted = () => new ScenarioFailure(`${stepName(s)} was interrupted`, s.at);
    let out;
    try {
      out = this.#exec(s, index);
    } catch (e) {
      throw abandoned.aborted ? interrupted() : e;
    }
    if (out instanceof Promise) {
      return out.then(
        (o) => {
          if (abandoned.aborted) throw interrupted();
          return this.#end(s, index, o);
        },
        (e) => {
          throw abandoned.aborted ? interrupted() : e;
        },
      );
    }
    if (abandoned.aborted) throw interrupted();
    return this.#end(s, index, out);
  }

  #end(s: Step, index: number, out: StepOutcome): StepOutcome | Promise<StepOutcome> {
    const after = this.#settle(false);
    const done = () => {
      this.#checkHorizon(s, index);
      this.#current = undefined;
      return out;
    };
    return after ? after.then(done) : done();
  }

  /** The stack's reasons for what it did, on the trace; false where it cannot say. */
  async fillReasons(): Promise<boolean> {
    const reasons = this.#t.reasons;
    if (!reasons || reasons.unavailable) return false;
    await fillReasons(this.trace, reasons);
    return true;
  }

  /** A failure with the stack's reasons on its trace lines, and its drop of the last segment said. */
  async #withReasons(e: ScenarioFailure): Promise<ScenarioFailure> {
    if (!(await this.fillReasons())) return e;
    // A failure about a reason has said it already.
    const said = e.summary.startsWith("expectDrop") ||
      e.details.some((d) => d.startsWith("rst.reason"));
    return e.retold(said ? undefined : dropNote(this.trace), traceTail(this.trace, this.#flows));
  }

  /** Says once per run that reasons cannot be checked here, and why. */
  #unchecked(what: string): void {
    const why = this.#t.reasons?.unavailable ?? `the ${this.#t.name} target gives no reasons`;
    const text = `${what} not checked: ${why}`;
    if (!this.warnings.includes(text)) this.#warn(text);
  }

  async #rstReason(want: string, bytes: Uint8Array): Promise<string | undefined> {
    if (!(await this.fillReasons())) {
      this.#unchecked("rst().reason()");
      return undefined;
    }
    return rstReasonProblem(
      want,
      this.trace,
      this.trace.events.find((e) => e.kind === "packet" && e.bytes === bytes),
    );
  }

  async #expectDrop(s: StepOf<"expectDrop">): Promise<void> {
    if (!(await this.fillReasons())) return this.#unchecked("expectDrop()");
    const problem = dropProblem(this.trace, s.reason);
    if (problem) throw this.#fail(problem, s, []);
  }

  /** Fails a step that ran the virtual clock to the scenario's limit. */
  #checkHorizon(s: Step, index: number): void {
    const clock = this.#t.clock;
    if (!(clock instanceof VirtualClock) || clock.now() < clock.horizon) return;
    throw this.#fail(
      `the scenario reached its virtual-time limit of ${this.#limits.virtualMs / 1000} s at step ${
        index + 1
      }, ${stepName(s)}`,
      s,
      [],
    );
  }

  /** Reads a host's conntrack table and checks it. */
  async #conntrack(s: Extract<Step, { kind: "conntrack" }>): Promise<void> {
    const topo = this.#t.topology;
    if (!topo) {
      throw new ScenarioFailure(
        "conntrack(): this scenario has no topology; conntrack lives on a topology's kernel() host",
        s.at,
      );
    }
    const host = s.host ?? topo.tap.b;
    let view;
    try {
      view = await topo.conntrack(host);
    } catch (e) {
      if (!(e instanceof RangeError)) throw e;
      throw new ScenarioFailure(`conntrack("${host}"): ${e.message}`, s.at);
    }
    const problems = conntrackProblems(s, view, (h) => topo.addresses(h));
    if (problems.length) {
      throw new ScenarioFailure(`${problems[0]} (on ${host})`, s.at, problems.slice(1));
    }
  }

  /** The steps that can finish without a wait run here; the rest in `#execAwaited`. */
  #exec(s: Step, index: number): StepOutcome | Promise<StepOutcome> {
    switch (s.kind) {
      case "inject":
        return this.#inject(s, index);
      case "expect":
        return this.#expect(s, index);
      case "call":
        return this.#call(s, index);
      default:
        return this.#execAwaited(s, index);
    }
  }

  #expect(s: StepOf<"expect">, index: number): StepOutcome | Promise<StepOutcome> {
    const out = this.#expectations.run(s, index, this.#last);
    const done = (o: StepOutcome) => {
      this.#last = o.time;
      return o;
    };
    return out instanceof Promise ? out.then(done) : done(out);
  }

  #call(s: StepOf<"call">, index: number): StepOutcome | Promise<StepOutcome> {
    const tracker = this.#trackerFor(s);
    const r = tracker.run(s, index, this.#last, this.#timeout, this.#auto);
    const done = (x: Awaited<typeof r>): StepOutcome => {
      if (x.result !== undefined) this.#last = x.time;
      return { kind: "result", result: x.result, time: x.time };
    };
    return r instanceof Promise ? r.then(done) : done(r);
  }

  async #execAwaited(s: Step, index: number): Promise<StepOutcome> {
    const clock = this.#t.clock;
    switch (s.kind) {
      case "inject":
        return await this.#inject(s, index);
      case "expect":
        return await this.#expect(s, index);
      case "expectDrop":
        await this.#expectDrop(s);
        return { kind: "none", time: clock.now() };
      case "expectNothing": {
        await this.#expectations.nothing(s, this.#last);
        this.#last = clock.now();
        return { kind: "none", time: this.#last };
      }
      case "call":
        return await this.#call(s, index);
      case "wait": {
        const abandoned = this.#stepAbort.signal;
        await clock.waitFor(() => abandoned.aborted, clock.now() + s.ms);
        this.#last = clock.now();
        return { kind: "none", time: this.#last };
      }
      case "sysctl":
      case "profile":
        try {
          const topo = this.#t.topology;
          if (s.kind === "sysctl" && s.host !== undefined && !topo) {
            throw new RangeError(`on("${s.host}"): this scenario has no topology`);
          }
          const setting = s.kind === "sysctl"
            ? { kind: "sysctl" as const, name: s.name, value: s.value }
            : { kind: "profile" as const, profile: s.profile };
          // A stack in another process (gVisor's helper) answers a setting asynchronously.
          const note = s.kind === "sysctl" && s.host !== undefined && topo
            ? topo.configure(s.host, setting)
            : await this.#t.configure(setting);
          if (note) this.#warn(note);
        } catch (e) {
          if (e instanceof ScenarioSkipped) throw e;
          throw new ScenarioFailure(`${s.kind}(): ${(e as Error).message}`, s.at);
        }
        return { kind: "none", time: clock.now() };
      case "peer":
        if (this.#t.topology) {
          throw new ScenarioFailure(
            `peer.${s.mode}(): a topology has no script peer; make the far end a builtin() host`,
            s.at,
          );
        }
        this.#auto = s.mode === "auto";
        this.#peer.live(this.#auto, s);
        return { kind: "none", time: clock.now() };
      case "conntrack":
        await this.#conntrack(s);
        return { kind: "none", time: clock.now() };
      case "path":
        if (this.#t.topology) {
          const topo = this.#t.topology;
          const link = s.link ?? topo.tap.link;
          const p = topo.path(link);
          if (!p) {
            throw new ScenarioFailure(
              `path.${s.op.op}().on("${link}"): want a link of the topology (${
                topo.links.join(", ")
              })`,
              s.at,
            );
          }
          p.apply(s);
          return { kind: "none", time: clock.now() };
        }
        if (s.link !== undefined) {
          throw new ScenarioFailure(
            `path.${s.op.op}().on("${s.link}"): this scenario has no topology; its one path is ` +
              "between the peer stack and the stack under test",
            s.at,
          );
        }
        this.#peer.path.apply(s);
        return { kind: "none", time: clock.now() };
      default:
        return assertNever(s, "step");
    }
  }

  #inject(s: StepOf<"inject">, index: number): StepOutcome | Promise<StepOutcome> {
    let spec;
    try {
      spec = this.#flows.resolve(s.packet, this.#log.quote(s.packet, this.#done));
    } catch (e) {
      throw new ScenarioFailure(`inject(${s.packet.name}): ${(e as Error).message}`, s.at);
    }
    const bytes = emitPacket(spec);
    // Our own bytes: their checksum is only in doubt when the script set it.
    const packet = parsePacket(bytes, "raw", { verify: s.packet.checksum !== undefined });
    const sent = this.#log.inject(bytes, packet, "script", index);
    const done = (): StepOutcome => {
      this.#last = this.#t.clock.now();
      return { kind: "packet", packet, bytes, time: this.#last };
    };
    return sent ? sent.then(done) : done();
  }

  #trackerFor(s: StepOf<"call">): CallTracker {
    const known = this.#calls.get(s.side);
    if (known) return known;
    const topo = this.#t.topology;
    if (topo) {
      throw new ScenarioFailure(
        `${s.side}.${s.call.name}(): the topology has no host "${s.side}" (${
          topo.hosts.join(", ")
        })`,
        s.at,
      );
    }
    if (s.side !== "peer") {
      throw new ScenarioFailure(
        `${s.side}.${s.call.name}(): this scenario has no host "${s.side}"; ` +
          "calls go to the stack under test, or to peer.* (the script's own stack)",
        s.at,
      );
    }
    const peer = this.#peer.ensure(s);
    const a = this.#addrs;
    const t = this.#tracker("peer", peer.sockets, { local: a.remote, remote: a.local });
    this.#calls.set("peer", t);
    return t;
  }

  async finish(): Promise<void> {
    await this.#settle(true);
    const strict = this.#o.strict ?? "fail";
    if (strict === "ignore" || this.#auto) return;
    const extra: string[] = [];
    while (this.#log.waiting) {
      const got = await this.#log.receive(this.#t.clock.now(), this.#stepAbort.signal);
      if (got) extra.push(`unexpected: ${relativeLine(got.packet, "out", this.#flows)}`);
    }
    if (!extra.length) return;
    if (strict === "warn") this.warnings.push(...extra);
    else {throw this.#fail(
        `the stack sent ${extra.length} packet(s) no step expected`,
        undefined,
        extra,
      );}
  }

  #warn(text: string): void {
    this.warnings.push(text);
    this.trace.add({ kind: "note", time: this.#t.clock.now(), text });
  }

  #fail(summary: string, s: { at: Step["at"] } | undefined, details: string[]): ScenarioFailure {
    return new ScenarioFailure(summary, s?.at, [...details, ...traceTail(this.trace, this.#flows)]);
  }
}
