/**
 * The socket calls of one host (the stack under test, or the script's peer
 * stack): which fd a call defaults to, the calls still blocked, and checking
 * each result when it comes. A blocked call (accept on an empty queue, a
 * blocking read) is recorded when it returns, before the runner's next step,
 * so a scenario reads in the order things happened.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { listen } from "../../dsl/socket_steps.ts";
 * import { toSteps } from "../../dsl/steps.ts";
 * import { builtinTarget } from "../stack/builtin_target.ts";
 * import { CallTracker } from "./call_tracker.ts";
 * import { ScenarioFailure } from "./failure.ts";
 * import { TimingCheck } from "./timing_check.ts";
 * import { Trace } from "./trace.ts";
 * const t = builtinTarget();
 * const trace = new Trace();
 * const calls = new CallTracker("target", t.sockets, t.clock, {
 *   trace,
 *   timing: new TimingCheck(t.clock, () => ({ minMs: 4, fraction: 0.125 })),
 *   fail: (summary, s) => new ScenarioFailure(summary, s?.at),
 *   listening: (port) => assert.equal(port, 8080),
 *   family: 4,
 *   addrs: t.v4,
 * });
 * for (const [i, s] of toSteps([listen(8080)]).entries()) {
 *   if (s.kind === "call") await calls.run(s, i, 0, 10_000);
 * }
 * assert.equal(trace.events.length, 3);
 * ```
 */
import type { Step } from "../../dsl/steps.ts";
import { withPredicates } from "../../dsl/matcher.ts";
import { address } from "../wire/address.ts";
import { formatCall, formatResult, type SocketCall } from "../wire/socket_call.ts";
import { checkResult } from "./call_check.ts";
import type { Clock } from "./clock.ts";
import { ScenarioFailure } from "./failure.ts";
import type { CallHandle, Endpoints, SocketApi } from "./target.ts";
import type { TimingCheck } from "./timing_check.ts";
import type { Trace } from "./trace.ts";

type CallStep = Extract<Step, { kind: "call" }>;

/** What a tracker needs from its run. */
export interface CallContext {
  trace: Trace;
  timing: TimingCheck;
  /** Builds a step failure with the trace tail. */
  fail(summary: string, s: { at: Step["at"] } | undefined, details: string[]): ScenarioFailure;
  /** The stack under test listens on `port` (flows then know the server side). */
  listening(port: number): void;
  family: 4 | 6;
  /** This host's address (`local`) and the other end's (`remote`). */
  addrs: Endpoints;
  /**
   * An address as a call gives it (a topology host's name stands for its
   * address), or the default for connect() when it gives none; a
   * `RangeError` says what is wrong.
   */
  resolveAddr?(addr: string | undefined): string;
}

/** A call step's result, or undefined while it blocks, and when it returned. */
export interface CallOutcome {
  result: CallHandle["result"];
  time: number;
}

interface Pending {
  step: CallStep;
  index: number;
  handle: CallHandle;
  call: SocketCall;
  since: number;
}

/** The fds a call defaults to. */
interface Fds {
  current?: number;
  listener?: number;
  boundPort?: number;
}

/** One host's calls. */
export class CallTracker {
  /** `target`, `peer`, or a topology host's name: how calls are labelled. */
  readonly side: string;
  readonly #api: SocketApi;
  readonly #clock: Clock;
  readonly #cx: CallContext;
  readonly #fds: Fds = {};
  #pending: Pending[] = [];

  constructor(side: string, api: SocketApi, clock: Clock, cx: CallContext) {
    this.side = side;
    this.#api = api;
    this.#clock = clock;
    this.#cx = cx;
  }

  /** Lets calls a kernel has completed from another thread show as returned. */
  recheck(): void {
    this.#api.recheck?.();
  }

  /**
   * Runs one call step. A call that returns is checked now, and its result is
   * the outcome; one that blocks is kept and checked when it returns.
   * `since` is when the previous step ended (for timing); `timeoutMs` bounds
   * the wait for a pending accept() whose fd this call defaults to. `live`:
   * the peer stack answers on its own, so an earlier call of this host that
   * still blocks is waited for first.
   */
  run(
    s: CallStep,
    index: number,
    since: number,
    timeoutMs: number,
    live = false,
  ): CallOutcome | Promise<CallOutcome> {
    const waitFirst = (live && this.#pending.length) ||
      (this.#clock.kind === "real" && this.#pending.some((p) => p.call.name === "accept"));
    return waitFirst
      ? this.#runAfterWaits(s, index, since, timeoutMs, live)
      : this.#issue(s, index, since);
  }

  async #runAfterWaits(
    s: CallStep,
    index: number,
    since: number,
    timeoutMs: number,
    live: boolean,
  ): Promise<CallOutcome> {
    const clock = this.#clock;
    if (live && this.#pending.length) {
      // With both ends played by stacks, nothing the script does next can unblock this
      // host's earlier call: like the program's one thread, it waits for it to return.
      await clock.waitFor(
        () => this.#pending.every((p) => p.handle.result !== undefined),
        clock.now() + timeoutMs,
      );
      await this.settle(false, timeoutMs);
    }
    const explicitFd = "fd" in s.call && s.call.fd !== undefined;
    const accepting = this.#pending.filter((p) => p.call.name === "accept");
    if (clock.kind === "real" && !explicitFd && s.call.name !== "socket" && accepting.length) {
      // The fd this call defaults to is the one a blocked accept() will return, which a
      // real stack may be about to deliver; a program's next call would wait for it. (On
      // a virtual clock an accept() still pending needs a later step: waiting cannot help.)
      await clock.waitFor(
        () => accepting.every((p) => p.handle.result !== undefined),
        clock.now() + timeoutMs,
      );
      await this.settle(false, timeoutMs);
    }
    return await this.#issue(s, index, since);
  }

  /** Makes the call; synchronous when the stack answers it at once (no promise made). */
  #issue(s: CallStep, index: number, since: number): CallOutcome | Promise<CallOutcome> {
    const call = this.#resolve(s);
    const handle = this.#api.call(call);
    const p: Pending = { step: s, index, handle, call, since };
    if (handle.decided || handle.result === undefined) return this.#awaitAnswer(p);
    return this.#returned(p);
  }

  /** A call not answered at once: its stack decides, and due timers run, before it blocks. */
  async #awaitAnswer(p: Pending): Promise<CallOutcome> {
    const clock = this.#clock;
    const handle = p.handle;
    if (handle.decided) await handle.decided;
    await clock.waitFor(() => handle.result !== undefined, clock.now());
    if (handle.result === undefined) {
      this.#cx.trace.add({
        kind: "note",
        time: clock.now(),
        text: `${this.#label(p.call)} blocks`,
      });
      this.#pending.push(p);
      return { result: undefined, time: clock.now() };
    }
    return await this.#returned(p);
  }

  #returned(p: Pending): CallOutcome | Promise<CallOutcome> {
    const outcome = () => ({ result: p.handle.result, time: p.handle.time ?? this.#clock.now() });
    const checked = this.#complete(p);
    return checked ? checked.then(outcome) : outcome();
  }

  /** Whether a call is still blocked (or returned and not yet checked). */
  get blocked(): boolean {
    return this.#pending.length > 0;
  }

  /** Checks blocked calls that have returned; when `final`, waits for the rest, then fails on any left. */
  async settle(final: boolean, timeoutMs: number): Promise<void> {
    if (!this.#pending.length) return;
    const clock = this.#clock;
    if (final) {
      // A call expected to return at a time (`.after("131s")`) is waited for until then, with
      // its tolerance, and the usual timeout beyond the last step otherwise.
      let until = clock.now() + timeoutMs;
      for (const p of this.#pending) {
        const t = p.step.kind === "call" ? p.step.timing : undefined;
        if (t) until = Math.max(until, p.since + t.ms + this.#cx.timing.tolerance(t.ms));
      }
      await clock.waitFor(() => this.#pending.every((p) => p.handle.result !== undefined), until);
    }
    const still: Pending[] = [];
    for (const p of this.#pending) {
      if (p.handle.result !== undefined) await this.#complete(p);
      else still.push(p);
    }
    this.#pending = still;
    if (final && still.length) {
      const p = still[0];
      throw this.#cx.fail(
        `${this.#label(p.call)} had not returned when the scenario ended`,
        p.step,
        [],
      );
    }
  }

  #label(c: SocketCall): string {
    return `${this.side === "target" ? "" : `${this.side}.`}${formatCall(c)}`;
  }

  #resolve(s: CallStep): SocketCall {
    const c = s.call;
    const family = this.#cx.family;
    if (c.name === "socket") return { ...c, family: c.family ?? family };
    const fd = "fd" in c && c.fd !== undefined
      ? c.fd
      : c.name === "accept"
      ? this.#fds.listener
      : this.#fds.current;
    if (fd === undefined) {
      throw new ScenarioFailure(
        `${c.name}(): no socket yet: call socket() or listen(port) first, or pass .on(fd)`,
        s.at,
      );
    }
    if (c.name === "connect" || (c.name === "bind" && c.addr !== undefined)) {
      let addr: string;
      try {
        addr = this.#cx.resolveAddr
          ? this.#cx.resolveAddr(c.addr)
          : c.addr ?? address.format(this.#cx.addrs.remote);
      } catch (e) {
        throw new ScenarioFailure(`${c.name}(): ${(e as Error).message}`, s.at);
      }
      return { ...c, fd, addr };
    }
    return { ...c, fd } as SocketCall;
  }

  /** Records and checks a returned call; a promise only when a remote predicate is asked. */
  #complete(p: Pending): Promise<void> | undefined {
    const r = p.handle.result!;
    const s = p.step;
    const time = p.handle.time ?? this.#clock.now();
    this.#cx.trace.add({
      kind: "call",
      time,
      step: p.index,
      side: s.side,
      call: p.call,
      result: r,
    });
    const problem = withPredicates(() => checkResult(s.want, r));
    if (problem instanceof Promise) return problem.then((x) => this.#judged(p, time, x));
    this.#judged(p, time, problem);
    return undefined;
  }

  #judged(p: Pending, time: number, problem: string | undefined): void {
    const r = p.handle.result!;
    const s = p.step;
    const label = this.#label(p.call);
    if (problem) throw this.#cx.fail(`${label} = ${formatResult(r)}`, s, [problem]);
    const late = s.timing && this.#cx.timing.problem(s.timing, time - p.since);
    if (late) throw this.#cx.fail(`${label} came at the wrong time`, s, [late]);
    const fds = this.#fds;
    const c = p.call;
    if (r.ok && (c.name === "socket" || c.name === "accept")) fds.current = Number(r.value);
    if (r.ok && c.name === "bind") fds.boundPort = c.port;
    if (r.ok && c.name === "listen") {
      fds.listener = c.fd;
      if (fds.boundPort !== undefined) this.#cx.listening(fds.boundPort);
    }
  }
}
