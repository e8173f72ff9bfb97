/**
 * packetdrill's steps in TypeScript: what `synack convert` writes, and what
 * anyone can write by hand to keep a script's exact semantics (its timing
 * rules, relative sequence numbers, merged segments, Python checks) while
 * gaining a module: loops, shared openings, comments that are code.
 *
 * A step is `at(time)` and an action, with the time as packetdrill writes
 * it (`"0"`, `"+0.1"`, `"*"`, `"+0~+0.2"`, `"+0...0.1"` for a call that
 * blocks):
 *
 * - `.inject("S 0:0(0) win 65535 <mss 1460>")` and `.expect("S. 0:0(0) ack 1 <...>")`:
 *   a packet line, `<` and `>`;
 * - `.call("setsockopt", 3, "SOL_SOCKET", "SO_REUSEADDR", [1], 4).returns(0)`: a system call.
 *   Numbers are numbers, words are strings, `ANY` is `...`, `str("reno")` a quoted string,
 *   `or("MSG_ZEROCOPY", "MSG_DONTWAIT")` an `A|B`, `fn("htons", 8080)` a call,
 *   `{ fd: 4, events: "POLLIN" }` a struct (`"msg_iov(1)": [...]`, `"msg_name(...)": ANY` for a
 *   field with an argument);
 *   `.returns(-1, "EAGAIN", "note")` an error;
 * - `.sh(cmd)` a backtick command, `.python(code)` a `%{ }%` block.
 *
 * Each step keeps the file:line where it was written: a failure names it.
 * `synack run [packetdrill flags] x.pkt.ts` runs the file as `x.pkt` runs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ANY, at, script, toPktScript } from "./pkt_steps.ts";
 * const sc = script({ flags: ["--tolerance_usecs=10000"] }, [
 *   at("0").call("socket", ANY, "SOCK_STREAM", "IPPROTO_TCP").returns(3),
 *   at("+0").call("setsockopt", 3, "SOL_SOCKET", "SO_REUSEADDR", [1], 4).returns(0),
 *   at("+.1").inject("S 0:0(0) win 1000 <mss 1460>"),
 *   at("+0").expect("S. 0:0(0) ack 1 <...>"),
 * ]);
 * const s = toPktScript(sc, {});
 * assert.equal(s.events.length, 4);
 * assert.deepEqual(s.options.map((o) => [o.name, o.value]), [["tolerance_usecs", "10000"]]);
 * assert.deepEqual(s.events[2].time, { kind: "relative", usecs: 100_000 });
 * const a = s.events[1].action;
 * assert.ok(a.kind === "syscall" && a.call.args[3].kind === "array");
 * assert.throws(() => at("soon"), /at\("soon"\): expected a packetdrill time/);
 * ```
 */
import { callerLocation, type SourceLoc } from "../source_location.ts";
import type { PktAction, PktExpr, PktScript, PktSyscall, PktTime } from "./pkt_ast.ts";
import { parsePkt, PktSyntaxError, resolveDefines } from "./pkt_parser.ts";

/** A value that is not a plain number, word, array or struct: `ANY`, `str()`, `or()`, `fn()`, `field()`. */
export class PktValue {
  constructor(readonly expr: PktExpr) {}
}

/** A system call argument or result, written as JavaScript. */
export type PktArg =
  | number
  | string
  | PktValue
  | readonly PktArg[]
  | { readonly [field: string]: PktArg };

/** `...`: any value. */
export const ANY: PktValue = new PktValue({ kind: "ellipsis" });

/** A quoted string (`"reno"`); a bare JavaScript string is a word (`SOCK_STREAM`). */
export const str = (value: string): PktValue => new PktValue({ kind: "string", value });

/** `A|B|C`: flags or'ed together. */
export const or = (...terms: PktArg[]): PktValue =>
  new PktValue({ kind: "or", terms: terms.map(toExpr) });

/** A call inside an argument: `htons(8080)`, `inet_addr("192.0.2.1")`. */
export const fn = (name: string, ...args: PktArg[]): PktValue =>
  new PktValue({ kind: "call", name, args: args.map(toExpr) });

/** `name=value`, or `name(arg)=value`, where an object literal cannot say it. */
export const field = (name: string, value: PktArg, arg?: PktArg): PktValue =>
  new PktValue({
    kind: "field",
    name,
    arg: arg === undefined ? undefined : toExpr(arg),
    value: toExpr(value),
  });

/** `{a, b}` with items that are not all named fields. */
export const struct = (...items: PktArg[]): PktValue =>
  new PktValue({ kind: "struct", items: items.map(toExpr) });

const WORD = /^[A-Za-z_][A-Za-z0-9_.]*$/;
const FIELD_KEY = /^([A-Za-z_][A-Za-z0-9_]*)(?:\((-?\d+|\.\.\.)\))?$/;

/** A JavaScript argument as packetdrill's expression. */
export function toExpr(a: PktArg): PktExpr {
  if (typeof a === "number") {
    if (!Number.isInteger(a)) throw new RangeError(`${a}: a system call takes whole numbers`);
    return { kind: "int", value: a };
  }
  if (typeof a === "string") {
    if (!WORD.test(a)) {
      throw new RangeError(
        `${JSON.stringify(a)}: a word is a symbol such as SOCK_STREAM; write str(${
          JSON.stringify(a)
        }) for a quoted string`,
      );
    }
    return { kind: "word", name: a };
  }
  if (a instanceof PktValue) return a.expr;
  if (Array.isArray(a)) return { kind: "array", items: a.map(toExpr) };
  const items: PktExpr[] = Object.entries(a as Record<string, PktArg>).map(([k, v]) => {
    const m = FIELD_KEY.exec(k);
    if (!m) throw new RangeError(`${JSON.stringify(k)}: a struct field is name or name(N)`);
    const arg: PktExpr | undefined = m[2] === undefined
      ? undefined
      : m[2] === "..."
      ? { kind: "ellipsis" }
      : { kind: "int", value: Number(m[2]) };
    return { kind: "field", name: m[1], arg, value: toExpr(v) };
  });
  return { kind: "struct", items };
}

/** What a step does, before the packet lines are parsed (they may name `-D` symbols). */
export type PktStepAction =
  | { kind: "packet"; dir: "in" | "out"; text: string }
  | { kind: "syscall"; call: PktSyscall }
  | { kind: "command"; text: string }
  | { kind: "code"; text: string };

/** One step: packetdrill's event, where it was written. */
export interface PktStep {
  at: SourceLoc;
  time: PktTime;
  action: PktStepAction;
}

const NUM = String.raw`(\d+(?:\.\d*)?|\.\d+)`;
const TIME = new RegExp(String.raw`^(?:(\*)|(\+)?${NUM}(?:~(\+)?${NUM})?(?:\.\.\.${NUM})?)$`);
const usecs = (s: string) => Math.round(Number(s) * 1e6);

/** A packetdrill time, and the end of a blocking call's `...b`. */
export function parseTime(text: string): { time: PktTime; endUsecs?: number } {
  const m = TIME.exec(text.trim());
  if (!m || (m[4] !== undefined && m[6] !== undefined) || (m[5] !== undefined && m[2] !== m[4])) {
    throw new RangeError(
      `at(${JSON.stringify(text)}): expected a packetdrill time (0.1, +0.1, *, +0~+0.2, +0...0.1)`,
    );
  }
  if (m[1]) return { time: { kind: "any" } };
  const rel = m[2] === "+";
  const start = usecs(m[3]);
  const endUsecs = m[6] === undefined ? undefined : usecs(m[6]);
  if (m[5] !== undefined) {
    const time: PktTime = rel
      ? { kind: "relativeRange", usecs: start, endUsecs: usecs(m[5]) }
      : { kind: "absoluteRange", usecs: start, endUsecs: usecs(m[5]) };
    return { time };
  }
  const time: PktTime = rel
    ? { kind: "relative", usecs: start }
    : { kind: "absolute", usecs: start };
  return endUsecs === undefined ? { time } : { time, endUsecs };
}

/** A system call waiting for its result. */
export class PktCallBuilder {
  constructor(
    readonly where: SourceLoc,
    readonly time: PktTime,
    readonly endUsecs: number | undefined,
    readonly name: string,
    readonly args: readonly PktArg[],
  ) {}

  /** `= result`, or `= -1 ERRNO (note)`. */
  returns(result: PktArg, errno?: string, note?: string): PktStep {
    const call: PktSyscall = {
      name: this.name,
      args: this.args.map(toExpr),
      result: toExpr(result),
      errno,
      note,
      endUsecs: this.endUsecs,
    };
    return { at: this.where, time: this.time, action: { kind: "syscall", call } };
  }
}

/** The actions a time can take. */
export class PktAt {
  constructor(
    readonly where: SourceLoc,
    readonly time: PktTime,
    readonly endUsecs: number | undefined,
  ) {}

  #step(action: PktStepAction): PktStep {
    if (this.endUsecs !== undefined) {
      throw new RangeError(`${loc(this.where)}: only a system call may block (...)`);
    }
    return { at: this.where, time: this.time, action };
  }

  /** `< packet`: injected into the stack. */
  inject(packet: string): PktStep {
    return this.#step({ kind: "packet", dir: "in", text: packet });
  }

  /** `> packet`: expected from the stack. */
  expect(packet: string): PktStep {
    return this.#step({ kind: "packet", dir: "out", text: packet });
  }

  /** A system call: `.returns(...)` completes it. */
  call(name: string, ...args: PktArg[]): PktCallBuilder {
    return new PktCallBuilder(this.where, this.time, this.endUsecs, name, args);
  }

  /** A backtick shell command, run in the script's namespace. */
  sh(command: string): PktStep {
    return this.#step({ kind: "command", text: command });
  }

  /** A `%{ }%` Python block, run after the script with the `tcpi_*` of its time. */
  python(code: string): PktStep {
    return this.#step({ kind: "code", text: code });
  }
}

/** A step's time (packetdrill's syntax); the step is what follows. */
export function at(time: string): PktAt {
  const { time: t, endUsecs } = parseTime(time);
  return new PktAt(callerLocation(at), t, endUsecs);
}

/** A script's settings: its `--flag` lines and its first and last backtick commands. */
export interface PktScriptSettings {
  /** `--tolerance_usecs=10000`, as the script's own flag lines. */
  flags?: readonly string[];
  /** Run before time 0. */
  init?: string;
  /** Run however the script ends. */
  cleanup?: string;
}

/** A script in packetdrill's semantics, made of steps. */
export interface PktScenario {
  kind: "pkt-script";
  at: SourceLoc;
  settings: PktScriptSettings;
  steps: readonly PktStep[];
}

/** A whole script: `export default script({...}, [steps])` makes a file `synack run` takes. */
export function script(settings: PktScriptSettings, steps: readonly PktStep[]): PktScenario {
  for (const f of settings.flags ?? []) {
    if (!/^--[A-Za-z_]+(=.*)?$/.test(f)) {
      throw new RangeError(`flags: expected --name or --name=value, found ${JSON.stringify(f)}`);
    }
  }
  return { kind: "pkt-script", at: callerLocation(script), settings, steps };
}

/** True for what `script()` returns. */
export function isPktScenario(v: unknown): v is PktScenario {
  return typeof v === "object" && v !== null && (v as { kind?: unknown }).kind === "pkt-script";
}

const loc = (l: SourceLoc) => `${l.file}:${l.line}:${l.col}`;
const base = (file: string) => file.split("/").at(-1)!;

/**
 * The script as the packetdrill runner reads it, with `defines` (`-D`)
 * applied as packetdrill applies them; line numbers are the steps' own.
 */
export function toPktScript(
  sc: PktScenario,
  defines: Readonly<Record<string, string>>,
): PktScript {
  const file = base(sc.at.file);
  const line = sc.at.line;
  const options = (sc.settings.flags ?? []).map((f) => {
    const eq = f.indexOf("=");
    return eq < 0
      ? { name: f.slice(2), value: undefined, line }
      : { name: f.slice(2, eq), value: f.slice(eq + 1), line };
  });
  const events = sc.steps.map((st) => ({
    line: st.at.line,
    col: st.at.col,
    time: st.time,
    action: lower(st, defines),
  }));
  return {
    file,
    options,
    init: sc.settings.init === undefined ? undefined : { text: sc.settings.init, line },
    events,
    cleanup: sc.settings.cleanup === undefined ? undefined : { text: sc.settings.cleanup, line },
  };
}

function lower(st: PktStep, defines: Readonly<Record<string, string>>): PktAction {
  const a = st.action;
  switch (a.kind) {
    case "packet":
      return packetAction(st, a.dir, a.text, defines);
    case "syscall":
      return {
        kind: "syscall",
        call: {
          ...a.call,
          args: a.call.args.map((x) => resolveDefines(x, defines)),
          result: resolveDefines(a.call.result, defines),
        },
      };
    case "command":
    case "code":
      return a;
  }
}

/** A packet line parsed as the script's own line would be; its errors name the step. */
function packetAction(
  st: PktStep,
  dir: "in" | "out",
  text: string,
  defines: Readonly<Record<string, string>>,
): PktAction {
  if (text.includes("\n")) {
    throw new RangeError(`${loc(st.at)}: a packet is one line, found a line break`);
  }
  const prefix = `0 ${dir === "in" ? "<" : ">"} `;
  try {
    const [e] = parsePkt(`${prefix}${text}\n`, "packet", defines).events;
    if (e?.action.kind !== "packet") throw new RangeError(`expected a packet, found ${text}`);
    return e.action;
  } catch (err) {
    if (!(err instanceof PktSyntaxError)) throw err;
    // The column counts from the packet's own text.
    throw new RangeError(
      `${loc(st.at)}: column ${err.col - prefix.length} of the packet: ${err.detail}`,
    );
  }
}
