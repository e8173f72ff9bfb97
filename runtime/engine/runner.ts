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
import { withPredicates } from "../../dsl/matcher.ts";
import { errorLocation, formatLocation } from "../../dsl/source_location.ts";
import { type Step, type StepInput, toSteps } from "../../dsl/steps.ts";
import { address } from "../wire/address.ts";
import { assertNever } from "../wire/assert_never.ts";
import { emitPacket, type Packet, parsePacket } from "../wire/packet.ts";
import { formatCall, formatResult, type SocketCall } from "../wire/socket_call.ts";
import { DEFAULT_TOLERANCE, RealClock, timingTolerance, VirtualClock } from "./clock.ts";
import { checkResult } from "./call_check.ts";
import {
  describeEvent,
  relativeLine,
  ScenarioFailure,
  ScenarioSkipped,
  threwFailure,
  traceTail,
} from "./failure.ts";
import { Flows } from "./flow.ts";
import { comparePattern, formatPattern, type Pattern, relate, resolvePattern } from "./pattern.ts";
import type { CallHandle, Peer, PeerFactory, Received, Target } from "./target.ts";
import { type LimitOverride, type Limits, scenarioLimits, Watchdog } from "./scenario_limits.ts";
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
}

interface Pending {
  step: Extract<Step, { kind: "call" }>;
  index: number;
  handle: CallHandle;
  call: SocketCall;
  since: number;
}

interface Fds {
  current?: number;
  listener?: number;
  boundPort?: number;
}

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
  };
}

/** A throw out of a scenario's code, as its failure at the line of the throw. */
function thrown(e: unknown): ScenarioFailure {
  return e instanceof Error
    ? threwFailure(e.name, e.message, errorLocation(e))
    : threwFailure(typeof e, String(e));
}

/** A step in a few words, for a time-out report. */
function stepName(s: Step): string {
  switch (s.kind) {
    case "inject":
      return `inject(${s.packet.name})`;
    case "expect":
      return `expect(${s.alternatives.map((a) => a.name).join(" | ")})`;
    case "expectNothing":
      return `expectNothing(${s.ms}ms)`;
    case "call":
      return `${s.side === "peer" ? "peer." : ""}${s.call.name}()`;
    case "wait":
      return `wait(${s.ms}ms)`;
    case "sysctl":
      return `sysctl(${s.name})`;
    case "profile":
      return "useProfile()";
    case "peer":
      return `peer.${s.mode}()`;
    default:
      return assertNever(s, "step");
  }
}

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
  readonly #makePeer?: PeerFactory;
  readonly #flows: Flows;
  readonly #done: Step[] = [];
  /** The bytes of each step's packet (injected or matched), for ICMP quotes. */
  readonly #bytes = new Map<number, Uint8Array>();
  #lastOut: Uint8Array | undefined;
  /** Packets `observe()` took in that no step has matched yet. */
  readonly #backlog: (Received & { packet: Packet })[] = [];
  #pending: Pending[] = [];
  #fds: Record<"target" | "peer", Fds> = { target: {}, peer: {} };
  #last = 0;
  #peer: Peer | undefined;
  #auto = false;
  readonly #family: 4 | 6;

  constructor(o: ScenarioOptions, cfg: RunConfig, limits: Limits) {
    this.#limits = limits;
    this.#o = o;
    this.#t = cfg.target;
    this.#makePeer = cfg.makePeer;
    this.#family = o.family ?? 4;
    const addrs = this.#family === 4 ? cfg.target.v4 : cfg.target.v6;
    // On a real clock the script's TS clock starts at its first packet, so a
    // scenario's first TS val is the same 100 it is on the virtual clock.
    const clock = cfg.target.clock;
    let origin: number | undefined = clock.kind === "virtual" ? 0 : undefined;
    this.#flows = new Flows(
      addrs,
      o.remotePort ?? 40000,
      () => clock.now() - (origin ??= clock.now()),
    );
    if (o.profile !== undefined) {
      const note = cfg.target.configure({ kind: "profile", profile: o.profile });
      if (note) this.#warn(note);
    }
  }

  get #tolerance() {
    return this.#o.tolerance ?? this.#t.tolerance ?? DEFAULT_TOLERANCE;
  }

  get #timeout(): number {
    return this.#o.expectTimeoutMs ?? (this.#t.clock.kind === "virtual" ? 300_000 : 10_000);
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
    this.#abort.abort();
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
      async observe() {
        while (self.#t.backend.pending() > 0) {
          const got = await self.#arrive(self.#t.clock.now());
          if (!got) break;
          self.#backlog.push(got);
        }
      },
      discardObserved() {
        self.#backlog.length = 0;
      },
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
    for (const s of steps) await this.#step(s);
  }

  async #step(s: Step): Promise<StepOutcome> {
    if (this.#abort.signal.aborted) {
      throw new ScenarioFailure("the run has ended: no more steps are taken", s.at);
    }
    try {
      // Calls that returned because of the last step are recorded before this one runs.
      this.#t.sockets.recheck?.();
      await this.#settle(false);
      const index = this.#done.length;
      this.#done.push(s);
      this.#current = { step: s, index };
      if (this.#stepAbort.signal.aborted) this.#stepAbort = new AbortController();
      const abandoned = this.#stepAbort.signal;
      let out: StepOutcome;
      try {
        out = await this.#exec(s, index);
      } finally {
        // Whatever the step made of its cut-short wait, it was abandoned (Ctrl-C in a REPL).
        if (abandoned.aborted) {
          // deno-lint-ignore no-unsafe-finally
          throw new ScenarioFailure(`${stepName(s)} was interrupted`, s.at);
        }
      }
      await this.#settle(false);
      this.#checkHorizon(s, index);
      this.#current = undefined;
      return out;
    } catch (e) {
      if (e instanceof ScenarioFailure) this.firstFailure ??= e;
      throw e;
    }
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

  async #exec(s: Step, index: number): Promise<StepOutcome> {
    const clock = this.#t.clock;
    switch (s.kind) {
      case "inject": {
        let spec;
        try {
          spec = this.#flows.resolve(s.packet, this.#quote(s));
        } catch (e) {
          throw new ScenarioFailure(`inject(${s.packet.name}): ${(e as Error).message}`, s.at);
        }
        const bytes = emitPacket(spec);
        // Our own bytes: their checksum is only in doubt when the script set it.
        const packet = parsePacket(bytes, "raw", { verify: s.packet.checksum !== undefined });
        this.#bytes.set(index, bytes);
        await this.#inject(bytes, packet, "script", index);
        this.#last = clock.now();
        return { kind: "packet", packet, bytes, time: this.#last };
      }
      case "expect":
        return await this.#expect(s, index);
      case "expectNothing": {
        const until = this.#last + s.ms;
        const got = await this.#receive(until);
        if (got) {
          throw this.#fail(`expectNothing(${s.ms}ms): the stack sent a packet`, s, [
            `got:  ${relativeLine(got.packet, "out", this.#flows)}`,
          ]);
        }
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
          const note = this.#t.configure(
            s.kind === "sysctl"
              ? { kind: "sysctl", name: s.name, value: s.value }
              : { kind: "profile", profile: s.profile },
          );
          if (note) this.#warn(note);
        } catch (e) {
          if (e instanceof ScenarioSkipped) throw e;
          throw new ScenarioFailure(`${s.kind}(): ${(e as Error).message}`, s.at);
        }
        return { kind: "none", time: clock.now() };
      case "peer":
        this.#auto = s.mode === "auto";
        if (this.#auto) this.#ensurePeer(s);
        this.#t.backend.onPacket = this.#auto ? (b) => this.#toPeer(b) : undefined;
        return { kind: "none", time: clock.now() };
      default:
        return assertNever(s, "step");
    }
  }

  /** The datagram an injected ICMP error quotes: a named packet, or the stack's last one. */
  #quote(s: Extract<Step, { kind: "inject" }>): Uint8Array | undefined {
    const d = s.packet;
    if (d.proto !== "icmp") return undefined;
    if (d.quote === undefined) return this.#lastOut;
    for (let i = this.#done.length - 1; i >= 0; i--) {
      const x = this.#done[i];
      const named = x.kind === "inject"
        ? x.packet.label === d.quote
        : x.kind === "expect" && x.alternatives.some((a) => a.label === d.quote);
      if (named && this.#bytes.has(i)) return this.#bytes.get(i);
    }
    throw new RangeError(`quote("${d.quote}") names no earlier packet`);
  }

  async #inject(
    bytes: Uint8Array,
    packet: Packet,
    by: "script" | "peer",
    step?: number,
  ): Promise<void> {
    this.trace.add({ kind: "packet", dir: "in", time: this.#t.clock.now(), bytes, step, by });
    this.#flows.sent(packet);
    await this.#t.backend.send(bytes);
  }

  #ensurePeer(s: Step): Peer {
    if (this.#peer) return this.#peer;
    if (!this.#makePeer) throw new ScenarioFailure("peer: this run has no peer stack", s.at);
    const t = this.#t;
    if (t.clock.kind !== "virtual") {
      // On a real clock the peer's calls and the target's race each other; until the
      // runner orders them, the peer stack plays only against the built-in target.
      throw new ScenarioFailure(
        `peer: the script's own stack runs on the virtual clock only (target ${t.name}); ` +
          "inject and expect the peer's segments by hand here",
        s.at,
      );
    }
    this.#peer = this.#makePeer(t.clock, (bytes) => {
      void this.#inject(bytes, parsePacket(bytes), "peer");
    }, { v4: t.v4, v6: t.v6 });
    return this.#peer;
  }

  #toPeer(bytes: Uint8Array): void {
    const c = this.#t.clock;
    // Deferred to a timer so the stack under test is never re-entered from its own output.
    c.setTimer(c.now(), () => this.#peer?.input(bytes));
  }

  async #receive(deadline: number): Promise<(Received & { packet: Packet }) | undefined> {
    // Packets a live session already took in come first, in order.
    return this.#backlog.shift() ?? await this.#arrive(deadline);
  }

  /** The next packet from the backend, traced and seen by the flows. */
  async #arrive(deadline: number): Promise<(Received & { packet: Packet }) | undefined> {
    const r = await this.#t.backend.receive(deadline, this.#stepAbort.signal);
    if (!r) return undefined;
    this.trace.add({ kind: "packet", dir: "out", time: r.time, bytes: r.bytes });
    let packet: Packet;
    try {
      packet = parsePacket(r.bytes, "raw", { verify: !this.#t.backend.checksumsTrusted });
    } catch (e) {
      throw new ScenarioFailure(
        `the stack sent a packet that does not parse: ${(e as Error).message}`,
        undefined,
      );
    }
    this.#flows.seen(packet);
    this.#lastOut = r.bytes;
    return { ...r, packet };
  }

  #patterns(s: Extract<Step, { kind: "expect" }>): Pattern[] {
    const clock = this.#t.clock;
    // The script's TS val is a clock reading; on a real clock its echo gets the timing tolerance.
    const tsEcrSlack = clock.kind === "real" ? timingTolerance(clock.now(), this.#tolerance) : 0;
    return s.alternatives.map((def) => {
      let p: Pattern = { ...resolvePattern(def, this.#flows.current), tsEcrSlack };
      for (const rel of s.relations) {
        // Parsed when a relation asks: a scenario of a million injects keeps only their bytes.
        const step = "step" in rel.ref ? rel.ref.step : undefined;
        const ref = step !== undefined && this.#done[step]?.kind === "inject"
          ? parsePacket(this.#bytes.get(step)!, "raw", { verify: false })
          : undefined;
        if (!ref || ref.transport.kind !== "tcp") {
          throw new ScenarioFailure(
            `${rel.kind}(): the referenced step did not inject a TCP segment`,
            s.at,
          );
        }
        p = relate(p, rel.kind, ref.transport);
      }
      return p;
    });
  }

  async #expect(s: Extract<Step, { kind: "expect" }>, index: number): Promise<StepOutcome> {
    const name = stepName(s);
    const deadline = s.timing
      ? this.#last + s.timing.ms + this.#slack(s.timing.ms).slack
      : this.#t.clock.now() + this.#timeout;
    const addrs = this.#family === 4 ? this.#t.v4 : this.#t.v6;
    for (;;) {
      // Resolved before receiving: the packet itself must not move what it is checked against.
      const patterns = this.#patterns(s);
      const got = await this.#receive(deadline);
      if (!got) {
        throw this.#fail(
          `${name} got nothing within ${((deadline - this.#last) / 1000).toFixed(3)} s`,
          s,
          [
            ...patterns.map((p) => `want: ${formatPattern(p, addrs.local, addrs.remote)}`),
          ],
        );
      }
      const diffs = await withPredicates(() => patterns.map((p) => comparePattern(p, got.packet)));
      const hit = diffs.findIndex((d) => d.length === 0);
      if (hit < 0) {
        if (this.#auto) continue; // the peer stack handles the traffic; look further
        const best = diffs.reduce((b, d, i) => (d.length < diffs[b].length ? i : b), 0);
        throw this.#fail(`${name} did not match`, s, [
          `want: ${formatPattern(patterns[best], addrs.local, addrs.remote)}`,
          `got:  ${relativeLine(got.packet, "out", this.#flows)}`,
          ...diffs[best],
        ]);
      }
      this.#checkTiming(name, s, got.time);
      const last = this.trace.events[this.trace.events.length - 1];
      if (last.kind === "packet") last.step = index;
      this.#bytes.set(index, got.bytes);
      this.#last = got.time;
      return { kind: "packet", packet: got.packet, bytes: got.bytes, time: got.time };
    }
  }

  /** The tolerance for a gap of `ms`, and how much of it the machine's measured load added. */
  #slack(ms: number): { slack: number; load: number } {
    const load = this.#t.clock.schedulingDelay?.() ?? 0;
    return { slack: timingTolerance(ms, this.#tolerance) + load, load };
  }

  #checkTiming(
    name: string,
    s: { at: Step["at"]; timing?: { kind: "within" | "after"; ms: number } },
    at: number,
    since = this.#last,
  ): void {
    if (!s.timing) return;
    const gap = at - since;
    const { slack, load } = this.#slack(s.timing.ms);
    const sec = (ms: number) => `${(ms / 1000).toFixed(3)} s`;
    const ok = s.timing.kind === "within"
      ? gap <= s.timing.ms + slack
      : Math.abs(gap - s.timing.ms) <= slack;
    if (!ok) {
      const want = s.timing.kind === "within"
        ? `at most ${sec(s.timing.ms)} (+${sec(slack)})`
        : `${sec(s.timing.ms)} ± ${sec(slack)}`;
      const measured = load
        ? `, of which ${sec(load)} is this machine's measured scheduling delay`
        : "";
      throw this.#fail(`${name} came at the wrong time`, s, [
        `timing: want ${want} after the previous step${measured}, got ${sec(gap)}`,
      ]);
    }
  }

  #resolveCall(s: Extract<Step, { kind: "call" }>): SocketCall {
    const fds = this.#fds[s.side];
    const c = s.call;
    const addrs = this.#family === 4 ? this.#t.v4 : this.#t.v6;
    if (c.name === "socket") return { ...c, family: c.family ?? this.#family };
    const fd = "fd" in c && c.fd !== undefined
      ? c.fd
      : c.name === "accept"
      ? fds.listener
      : fds.current;
    if (fd === undefined) {
      throw new ScenarioFailure(
        `${c.name}(): no socket yet: call socket() or listen(port) first, or pass .on(fd)`,
        s.at,
      );
    }
    if (c.name === "connect" && c.addr === undefined) {
      const other = s.side === "target" ? addrs.remote : addrs.local;
      return { ...c, fd, addr: address.format(other) };
    }
    return { ...c, fd } as SocketCall;
  }

  async #call(s: Extract<Step, { kind: "call" }>, index: number): Promise<StepOutcome> {
    const clock = this.#t.clock;
    const explicitFd = "fd" in s.call && s.call.fd !== undefined;
    const accepting = this.#pending.filter((p) =>
      p.step.side === s.side && p.call.name === "accept"
    );
    if (clock.kind === "real" && !explicitFd && s.call.name !== "socket" && accepting.length) {
      // The fd this call defaults to is the one a blocked accept() will return, which a
      // real stack may be about to deliver; a program's next call would wait for it. (On
      // a virtual clock an accept() still pending needs a later step: waiting cannot help.)
      await clock.waitFor(
        () => accepting.every((p) => p.handle.result !== undefined),
        clock.now() + this.#timeout,
      );
      await this.#settle(false);
    }
    const call = this.#resolveCall(s);
    const api = s.side === "peer" ? this.#ensurePeer(s).sockets : this.#t.sockets;
    const handle = api.call(call);
    const since = this.#last;
    await clock.waitFor(() => handle.result !== undefined, clock.now());
    const p: Pending = { step: s, index, handle, call, since };
    if (handle.result === undefined) {
      this.trace.add({ kind: "note", time: clock.now(), text: `${formatCall(call)} blocks` });
      this.#pending.push(p);
      return { kind: "result", result: undefined, time: clock.now() };
    }
    await this.#complete(p);
    this.#last = handle.time ?? clock.now();
    return { kind: "result", result: handle.result, time: this.#last };
  }

  async #complete(p: Pending): Promise<void> {
    const r = p.handle.result!;
    const s = p.step;
    this.trace.add({
      kind: "call",
      time: p.handle.time ?? this.#t.clock.now(),
      step: p.index,
      side: s.side,
      call: p.call,
      result: r,
    });
    const problem = await withPredicates(() => checkResult(s.want, r));
    const label = `${s.side === "peer" ? "peer." : ""}${formatCall(p.call)}`;
    if (problem) throw this.#fail(`${label} = ${formatResult(r)}`, s, [problem]);
    this.#checkTiming(label, s, p.handle.time ?? this.#t.clock.now(), p.since);
    const fds = this.#fds[s.side];
    const c = p.call;
    if (r.ok && (c.name === "socket" || c.name === "accept")) fds.current = Number(r.value);
    if (r.ok && c.name === "bind") fds.boundPort = c.port;
    if (r.ok && c.name === "listen") {
      fds.listener = c.fd;
      if (s.side === "target" && fds.boundPort !== undefined) this.#flows.listening(fds.boundPort);
    }
  }

  /** Checks blocked calls that have returned; at the end, waits for the rest. */
  async #settle(final: boolean): Promise<void> {
    if (!this.#pending.length) return;
    const clock = this.#t.clock;
    if (final) {
      await clock.waitFor(
        () => this.#pending.every((p) => p.handle.result !== undefined),
        clock.now() + this.#timeout,
      );
    }
    const still: Pending[] = [];
    for (const p of this.#pending) {
      if (p.handle.result !== undefined) await this.#complete(p);
      else still.push(p);
    }
    this.#pending = still;
    if (final && still.length) {
      const p = still[0];
      throw this.#fail(
        `${formatCall(p.call)} had not returned when the scenario ended`,
        p.step,
        [],
      );
    }
  }

  async finish(): Promise<void> {
    await this.#settle(true);
    const strict = this.#o.strict ?? "fail";
    if (strict === "ignore" || this.#auto) return;
    const extra: string[] = [];
    while (this.#backlog.length > 0 || this.#t.backend.pending() > 0) {
      const got = await this.#receive(this.#t.clock.now());
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
