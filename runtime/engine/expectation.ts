/**
 * The `expect()` step: what a stack sent (or, live, what the peer stack
 * sent, or what crosses a topology's tap) checked against the step's
 * patterns, with its relations and timing. Without a live peer the first
 * packet must match; with one, or in a topology, the stacks exchange much
 * that no step names, and the step looks further until its deadline.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defineScenario } from "../../dsl/scenario_def.ts";
 * import { rstAck, syn } from "../../dsl/packet_builder.ts";
 * import { expect, inject } from "../../dsl/steps.ts";
 * import { builtinTarget } from "../stack/builtin_target.ts";
 * import { runScenario } from "./runner.ts";
 * const sc = defineScenario("x", [inject(syn().ports(40000, 9)), expect(rstAck().ack(2))], { register: false });
 * const r = await runScenario(sc, { target: builtinTarget() });
 * assert.match(r.failure!.message, /expect\(rstAck\) did not match/);
 * assert.match(r.failure!.message, /tcp\.ack: want 2, got 1/);
 * ```
 */
import type { StepOutcome } from "../../dsl/scenario_def.ts";
import { withPredicates } from "../../dsl/matcher.ts";
import type { Step } from "../../dsl/steps.ts";
import type { PacketDef } from "../../dsl/packet_builder.ts";
import { formatLine } from "../wire/line_format.ts";
import { type Packet, parsePacket } from "../wire/packet.ts";
import type { Clock } from "./clock.ts";
import { relativeLine, ScenarioFailure } from "./failure.ts";
import type { Flows } from "./flow.ts";
import type { Arrival, PacketLog } from "./packet_log.ts";
import { comparePattern, formatPattern, type Pattern, relate, resolvePattern } from "./pattern.ts";
import { stepName } from "./step_name.ts";
import type { Endpoints, TopologyControl } from "./target.ts";
import type { TimingCheck } from "./timing_check.ts";

type ExpectStep = Extract<Step, { kind: "expect" }>;

/** A packet that does not match, live: the peer stack handles it, and the step looks further. */
const LOOK_FURTHER = Symbol("look further");
type Verdict = StepOutcome | typeof LOOK_FURTHER;

/** What an expectation needs from its run; the getters read the run's state as it is now. */
export interface ExpectContext {
  readonly clock: Clock;
  readonly log: PacketLog;
  readonly flows: Flows;
  readonly timing: TimingCheck;
  readonly topology?: TopologyControl;
  /** The stack under test's address (`local`) and the script's (`remote`). */
  readonly addrs: Endpoints;
  /** The steps run so far (relations refer to them). */
  readonly done: readonly Step[];
  /** A peer stack answers live: look past packets that do not match. */
  readonly live: boolean;
  /** Aborted to abandon the step (a REPL's Ctrl-C). */
  readonly signal: AbortSignal;
  /** How long an expect without timing waits. */
  readonly timeoutMs: number;
  /** What is wrong with the reason the stack gave for this RST (`rst().reason(…)`), if anything. */
  rstReason(want: string, bytes: Uint8Array): Promise<string | undefined>;
  fail(summary: string, s: { at: Step["at"] } | undefined, details: string[]): ScenarioFailure;
}

/** The step's name in failures: `expect(synAck).from("peer")`. Built only on a failure. */
function nameOf(s: ExpectStep): string {
  return stepName(s) + (s.from ? `.from("${s.from}")` : "");
}

/** Runs `expect()` steps. */
export class Expectations {
  readonly #cx: ExpectContext;

  constructor(cx: ExpectContext) {
    this.#cx = cx;
  }

  /** Runs one expect step; `last` is when the previous step ended (timing counts from it). */
  run(s: ExpectStep, index: number, last: number): StepOutcome | Promise<StepOutcome> {
    return this.#cx.topology ? this.#watch(s, index, last) : this.#expect(s, index, last);
  }

  /**
   * `expectNothing(d)`: no packet from the stack under test (in a topology,
   * from the far end of the tap) for `d` after the previous step.
   */
  async nothing(s: Extract<Step, { kind: "expectNothing" }>, last: number): Promise<void> {
    const cx = this.#cx;
    const until = last + s.ms;
    const topo = cx.topology;
    for (;;) {
      const got = topo
        ? await topo.receive(topo.tap.b, until, cx.signal)
        : await cx.log.receive(until, cx.signal);
      if (!got) return;
      // A topology's tap keeps what crossed before this step began: that is not in question.
      if (topo && got.time < last) continue;
      if (s.pattern && !(await this.#matchesNothingPattern(s.pattern, got.packet))) continue;
      const where = topo ? ` on ${topo.tap.link}, from ${topo.tap.b}` : "";
      throw cx.fail(`${stepName(s)}: the stack sent ${s.pattern ? "one" : "a packet"}${where}`, s, [
        `got:  ${topo ? formatLine(got.packet) : relativeLine(got.packet, "out", cx.flows)}`,
      ]);
    }
  }

  /** Whether `p` is what an `expectNothing(d, pattern)` rules out. */
  async #matchesNothingPattern(def: PacketDef, p: Packet): Promise<boolean> {
    const topo = this.#cx.topology;
    const pattern = topo
      ? topo.path(topo.tap.link)!.patternFor(def, p)
      : { ...resolvePattern(def, undefined) };
    return (await withPredicates(() => comparePattern(pattern, p))).length === 0;
  }

  /** Whether a timed wait that reached `deadline` may go on: the load measured since moved it. */
  #later(s: ExpectStep, last: number, deadline: number): boolean {
    return s.timing !== undefined && !this.#cx.signal.aborted &&
      this.#deadline(s, last) > deadline + 1;
  }

  #deadline(s: ExpectStep, last: number): number {
    const cx = this.#cx;
    return s.timing ? cx.timing.deadline(s.timing, last) : cx.clock.now() + cx.timeoutMs;
  }

  #patterns(s: ExpectStep): Pattern[] {
    const clock = this.#cx.clock;
    // The script's TS val is a clock reading; on a real clock its echo gets the timing tolerance.
    const tsEcrSlack = clock.kind === "real" ? this.#cx.timing.tolerance(clock.now()) : 0;
    return s.alternatives.map((def) => {
      let p: Pattern = { ...resolvePattern(def, this.#cx.flows.current), tsEcrSlack };
      for (const rel of s.relations) {
        // Parsed when a relation asks: a scenario of a million injects keeps only their bytes.
        const step = "step" in rel.ref ? rel.ref.step : undefined;
        const ref = step !== undefined && this.#cx.done[step]?.kind === "inject"
          ? parsePacket(this.#cx.log.bytesOf(step)!, "raw", { verify: false })
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

  /** Patterns for a packet the peer stack sent: fields relative to the peer's own ISN. */
  #peerPatterns(s: ExpectStep): Pattern[] {
    const f = this.#cx.flows.current;
    const flip = f && {
      ...f,
      localIsn: f.peerIsn,
      peerIsn: f.localIsn ?? 0,
      localPort: f.remotePort,
      remotePort: f.localPort,
      rcvNxt: undefined,
      sndNxt: f.rcvNxt ?? 0,
      pendingIsn: undefined,
    };
    return s.alternatives.map((def) => resolvePattern(def, flip));
  }

  /** An expect() in a topology: what crosses the tap from one of its ends. */
  async #watch(s: ExpectStep, index: number, last: number): Promise<StepOutcome> {
    const topo = this.#cx.topology!;
    const from = s.from === undefined || s.from === "target" ? topo.tap.b : s.from;
    if (from !== topo.tap.a && from !== topo.tap.b) {
      throw new ScenarioFailure(
        `${
          nameOf(s)
        }: the script's tap is on ${topo.tap.link}: want "${topo.tap.a}" or "${topo.tap.b}"`,
        s.at,
      );
    }
    const path = topo.path(topo.tap.link)!;
    let deadline = this.#deadline(s, last);
    for (;;) {
      const got = await topo.receive(from, deadline, this.#cx.signal);
      if (!got && this.#later(s, last, deadline)) {
        deadline = this.#deadline(s, last);
        continue;
      }
      if (!got) {
        throw this.#cx.fail(
          `${nameOf(s)} got nothing on ${topo.tap.link} within ${
            ((deadline - last) / 1000).toFixed(3)
          } s`,
          s,
          s.alternatives.map((d) => `want: ${d.name} from ${from}`),
        );
      }
      const patterns = s.alternatives.map((d) => path.patternFor(d, got.packet));
      const compared = withPredicates(() => patterns.map((p) => comparePattern(p, got.packet)));
      const diffs = compared instanceof Promise ? await compared : compared;
      const hit = diffs.findIndex((d) => d.length === 0);
      if (hit < 0) continue;
      const late = s.timing && this.#cx.timing.problem(s.timing, got.time - last);
      if (late) throw this.#cx.fail(`${nameOf(s)} came at the wrong time`, s, [late]);
      await this.#reason(s, hit, got.bytes, () => formatLine(got.packet));
      this.#cx.log.matched(index, got);
      return { kind: "packet", packet: got.packet, bytes: got.bytes, time: got.time };
    }
  }

  #expect(s: ExpectStep, index: number, last: number): StepOutcome | Promise<StepOutcome> {
    const from = s.from === "target" ? undefined : s.from;
    if (from !== undefined && from !== "peer") {
      throw new ScenarioFailure(
        `${
          nameOf(s)
        }: this scenario has no side "${from}"; packets come from the stack under test ` +
          'or from "peer"',
        s.at,
      );
    }
    if (from === "peer" && !this.#cx.live) {
      throw new ScenarioFailure(
        `${nameOf(s)}: the peer stack is not running: peer.auto() first`,
        s.at,
      );
    }
    // What the stack has sent already is judged without a wait. (Not live, so a packet that
    // does not match fails the step: there is no looking further.)
    const patterns = from === "peer" ? this.#peerPatterns(s) : this.#patterns(s);
    const now = this.#cx.log.receiveNow(from);
    if (now) {
      return this.#judge(s, index, last, patterns, now) as StepOutcome | Promise<StepOutcome>;
    }
    return this.#awaitPacket(s, index, last, from);
  }

  async #awaitPacket(
    s: ExpectStep,
    index: number,
    last: number,
    from: string | undefined,
  ): Promise<StepOutcome> {
    let deadline = this.#deadline(s, last);
    for (;;) {
      // Resolved before receiving: the packet itself must not move what it is checked against.
      const patterns = from === "peer" ? this.#peerPatterns(s) : this.#patterns(s);
      const got = await this.#cx.log.receive(deadline, this.#cx.signal, from);
      if (!got && this.#later(s, last, deadline)) {
        deadline = this.#deadline(s, last);
        continue;
      }
      if (!got) {
        const [local, remote] = this.#ends(from);
        throw this.#cx.fail(
          `${nameOf(s)} got nothing within ${((deadline - last) / 1000).toFixed(3)} s`,
          s,
          patterns.map((p) => `want: ${formatPattern(p, local, remote)}`),
        );
      }
      const verdict = await this.#judge(s, index, last, patterns, got);
      if (verdict !== LOOK_FURTHER) return verdict;
    }
  }

  /** The addresses a pattern is printed with: the stack's and the script's, or the peer's. */
  #ends(from: string | undefined): [Uint8Array, Uint8Array] {
    const a = this.#cx.addrs;
    return from === "peer" ? [a.remote, a.local] : [a.local, a.remote];
  }

  /**
   * Whether `got` is what the step wants: the outcome, a failure, or (live,
   * where the peer stack handles the rest) `LOOK_FURTHER`. A promise only
   * when a remote predicate or the stack's reason must be asked.
   */
  #judge(
    s: ExpectStep,
    index: number,
    last: number,
    patterns: Pattern[],
    got: Arrival,
  ): Verdict | Promise<Verdict> {
    const compared = withPredicates(() => patterns.map((p) => comparePattern(p, got.packet)));
    if (compared instanceof Promise) {
      return compared.then((diffs) => this.#verdict(s, index, last, patterns, got, diffs));
    }
    return this.#verdict(s, index, last, patterns, got, compared);
  }

  #verdict(
    s: ExpectStep,
    index: number,
    last: number,
    patterns: Pattern[],
    got: Arrival,
    diffs: string[][],
  ): Verdict | Promise<Verdict> {
    const hit = diffs.findIndex((d) => d.length === 0);
    if (hit < 0) {
      if (this.#cx.live) return LOOK_FURTHER; // the peer stack handles the traffic
      const best = diffs.reduce((b, d, i) => (d.length < diffs[b].length ? i : b), 0);
      const [local, remote] = this.#ends(s.from === "target" ? undefined : s.from);
      throw this.#cx.fail(`${nameOf(s)} did not match`, s, [
        `want: ${formatPattern(patterns[best], local, remote)}`,
        `got:  ${relativeLine(got.packet, "out", this.#cx.flows)}`,
        ...diffs[best],
      ]);
    }
    const late = s.timing && this.#cx.timing.problem(s.timing, got.time - last);
    if (late) throw this.#cx.fail(`${nameOf(s)} came at the wrong time`, s, [late]);
    const accept = (): StepOutcome => {
      this.#cx.log.matched(index, got);
      return { kind: "packet", packet: got.packet, bytes: got.bytes, time: got.time };
    };
    if (!this.#wantsReason(s, hit)) return accept();
    const line = () => relativeLine(got.packet, "out", this.#cx.flows);
    return this.#reason(s, hit, got.bytes, line).then(accept);
  }

  /** Whether the alternative that matched names a reason (most do not: no await for them). */
  #wantsReason(s: ExpectStep, hit: number): boolean {
    const def = s.alternatives[hit];
    return def?.proto === "tcp" && def.reason !== undefined;
  }

  /** `rst().reason(…)`: the stack must give that reason for the RST that matched. */
  async #reason(
    s: ExpectStep,
    hit: number,
    bytes: Uint8Array,
    line: () => string,
  ): Promise<void> {
    const def = s.alternatives[hit];
    if (def?.proto !== "tcp" || def.reason === undefined) return;
    const problem = await this.#cx.rstReason(def.reason, bytes);
    if (problem) {
      throw this.#cx.fail(`${stepName(s)} came for another reason`, s, [
        `got:  ${line()}`,
        problem,
      ]);
    }
  }
}
