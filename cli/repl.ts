/**
 * `synack repl`: a live session against a target, on node:readline.
 *
 * - A line is JavaScript with the DSL in scope: a packet builder is sent
 *   (`syn().opts(<ts:false>)`, the bare option literal included), a step is
 *   run (`expect(synAck())`, `listen(8080)`, `accept()`, `wait("1s")`), and
 *   what the stack sends is printed in the line syntax as it arrives.
 * - Tab completes DSL names, builder methods and option names; history is
 *   kept in ~/.synack_history ($SYNACK_HISTORY); an unclosed bracket
 *   continues on the next line.
 * - Dot commands: .help .trace .pcap .diagram .reset .target .save .load .exit.
 *
 * @example
 * ```ts ignore
 * // synack repl --target builtin:rfc7323-strict
 * ```
 */
import { relative } from "node:path";
import process from "node:process";
import readline from "node:readline";
import type { Allowance } from "../runtime/host/permissions.ts";
import {
  complete,
  evaluate,
  isComplete,
  isDeclaration,
  methodNames,
  methodTable,
} from "./repl_eval.ts";
import { scenarioOutputLines } from "./scenario_lines.ts";
import type { LineKind, ReplSession } from "./repl_session.ts";
import { type Color, colorsWanted, paint } from "./style.ts";

/** Options of `synack repl`. */
export interface ReplOptions {
  target: string;
  version: string;
  /** Where history is kept; default $SYNACK_HISTORY or ~/.synack_history. */
  historyFile?: string;
  /** `.load` runs local files sandboxed too (files from a URL always are). */
  sandbox?: boolean;
  /** What sandboxed files may do besides importing. */
  allow?: Allowance;
  /** How long a `.load`ed file's top level may take, in ms. */
  loadTimeoutMs?: number;
}

const HELP = `Type a builder or a step; what the stack sends is printed as it arrives.
  listen(8080)                  socket, bind, listen on the stack under test
  syn()                         inject a SYN (unset fields come from the flow)
  syn().opts(<ts:false>)        options as packetdrill writes them
  expect(synAck())              check the next packet; a mismatch shows the diff
  ack(); accept()               finish the handshake, accept the connection
  const a = ack()               keep a builder for later lines
  wait("1s")                    let time pass (virtual on the built-in stack)
.trace            every packet and call so far
.pcap FILE        save the session's packets as pcap
.diagram [FILE]   save the session as a ladder diagram (HTML; default synack-diagram.html)
.save FILE.ts     save the session as a scenario that replays it and asserts what came
.save FILE.pkt    save it as a packetdrill script instead
.load FILE.ts     run a scenario file's steps into this session
.reset            start over on the same target
.target SPEC      start over on another target (builtin, builtin:<profile>, kernel, raw)
.exit             leave (or Ctrl-D)`;

const KIND_COLOR: Record<LineKind, Color> = {
  in: "cyan",
  out: "green",
  call: "yellow",
  note: "dim",
  error: "red",
};

function historyPath(o: ReplOptions): string | undefined {
  if (o.historyFile) return o.historyFile;
  try {
    const env = Deno.env.get("SYNACK_HISTORY");
    if (env) return env;
    const home = Deno.env.get("HOME");
    return home ? `${home}/.synack_history` : undefined;
  } catch {
    return undefined;
  }
}

function readHistory(path: string | undefined): string[] {
  if (!path) return [];
  try {
    // readline wants the newest first.
    return Deno.readTextFileSync(path).split("\n").filter(Boolean).reverse().slice(0, 1000);
  } catch {
    return [];
  }
}

/** Where a saved scenario imports the DSL from: a path relative to it, or the URL synack runs from. */
function modSpecifier(savedFile: string): string {
  const mod = new URL("../mod.ts", import.meta.url);
  if (mod.protocol !== "file:") return mod.href;
  const from = savedFile.startsWith("/") ? savedFile : `${Deno.cwd()}/${savedFile}`;
  const rel = relative(from.slice(0, from.lastIndexOf("/")), mod.pathname);
  return rel.startsWith(".") ? rel : `./${rel}`;
}

/** Runs the REPL until .exit or end of input; returns the exit code. */
export async function repl(o: ReplOptions): Promise<number> {
  // The prompt comes first; the DSL and the session load meanwhile, and the first
  // command waits for them (they are ready long before a person has typed one).
  const loading = Promise.all([import("../mod.ts"), import("./repl_session.ts")]);
  const color = colorsWanted();
  // Set while printing between commands: the prompt line is cleared first, then redrawn.
  let midPrompt = false;
  const out = (text: string, c?: Color) => {
    const clear = midPrompt && process.stdout.isTTY ? "\r\x1b[2K" : "";
    midPrompt = false;
    process.stdout.write(`${clear}${c ? paint(text, c, color) : text}\n`);
  };
  const print = (line: string, kind: LineKind) => out(line, KIND_COLOR[kind]);
  const vars = new Map<string, unknown>();
  const hist = historyPath(o);
  let names: string[] = [];
  let dsl: Record<string, unknown> = {};
  let methods = new Map<string, string[]>();

  const rl = readline.createInterface({
    input: process.stdin,
    output: process.stdout,
    completer: (line: string) =>
      complete(line, names, (root) => methods.get(root) ?? methodNames(vars.get(root))),
    history: readHistory(hist),
    historySize: 1000,
    terminal: process.stdin.isTTY === true,
  });
  let buffer = "";
  let ended = false;
  const prompt = () => {
    // Input may have ended (Ctrl-D, a pipe) while queued lines still run.
    if (ended) return;
    rl.setPrompt(buffer ? "... " : "synack> ");
    rl.prompt();
  };
  // Lines are queued from the start, typed while loading too, and handled in order.
  const lines: string[] = [];
  let wake: (() => void) | undefined;
  rl.on("line", (l: string) => {
    lines.push(l);
    wake?.();
  });
  rl.on("close", () => {
    ended = true;
    wake?.();
  });
  out(`synack ${o.version} on ${o.target}. .help for help, .exit to leave`, "bold");
  prompt();

  let Session!: typeof ReplSession;
  let session!: ReplSession;
  const ready = (async () => {
    const [mod, sessionModule] = await loading;
    dsl = mod as Record<string, unknown>;
    names = Object.keys(dsl);
    // Only the builder and step modules: calling those makes data, nothing else.
    const [builders, steps, calls] = await Promise.all([
      import("../dsl/packet_builder.ts"),
      import("../dsl/steps.ts"),
      import("../dsl/socket_steps.ts"),
    ]);
    methods = methodTable({ ...builders, ...steps, ...calls });
    for (const n of names) sessionModule.DSL_NAMES.add(n);
    Session = sessionModule.ReplSession;
    session = await Session.open(o.target, print);
  })();
  try {
    await ready;
  } catch (e) {
    // The target cannot open: say why and leave, as `synack run` would.
    rl.close();
    throw e;
  }

  const reopen = async (spec: string) => {
    const next = await Session.open(spec, print);
    await session.close();
    session = next;
    out(`now on ${session.targetName}`, "bold");
  };

  const dot = async (cmd: string, arg: string): Promise<boolean> => {
    switch (cmd) {
      case ".help":
        out(HELP);
        return true;
      case ".trace":
        for (const l of session.traceLines()) out(l);
        return true;
      case ".pcap":
        if (!arg) throw new RangeError(".pcap: want a file name, got nothing");
        await Deno.writeFile(arg, session.pcap());
        out(`wrote ${arg}`, "dim");
        return true;
      case ".diagram": {
        const file = arg || "synack-diagram.html";
        await Deno.writeTextFile(file, await session.diagram());
        out(`wrote ${file}`, "dim");
        return true;
      }
      case ".save":
        if (!arg) throw new RangeError(".save: want a file name such as session.ts, got nothing");
        // session.pkt: a packetdrill script, for packetdrill's users; anything else a scenario file.
        await Deno.writeTextFile(
          arg,
          arg.endsWith(".pkt") ? session.pktText() : session.scenarioText(modSpecifier(arg)),
        );
        out(`wrote ${arg}: run it with synack run ${arg}`, "dim");
        return true;
      case ".load": {
        if (!arg) throw new RangeError(".load: want a scenario file, got nothing");
        // The file's code runs in a scenario host, sandboxed when it comes from a URL.
        const { ScenarioSuite } = await import("./scenario_suite.ts");
        const suite = await ScenarioSuite.open([arg], {
          sandbox: o.sandbox,
          allow: o.allow,
          loadTimeoutMs: o.loadTimeoutMs,
          notice: (l) => out(l, "dim"),
        });
        try {
          for (const f of suite.failures) out(`${f.file}: did not load: ${f.message}`, "red");
          const printed = () => {
            for (const l of scenarioOutputLines(suite.takeOutput())) out(l, "dim");
          };
          printed();
          for (const { scenario: sc } of suite.scenarios) {
            if (!sc.steps) {
              out(`skipped ${sc.name}: written as code, not as steps`, "dim");
              continue;
            }
            out(`running ${sc.name}`, "dim");
            await session.runSteps(sc.steps, sc.name);
            printed();
          }
        } finally {
          await suite.close();
        }
        return true;
      }
      case ".reset":
        vars.clear();
        await reopen(session.spec);
        return true;
      case ".target":
        if (!arg) throw new RangeError(".target: want builtin, builtin:<profile>, kernel or raw");
        await reopen(arg);
        return true;
      case ".exit":
        return false;
      default:
        throw new RangeError(
          `Unknown command ${cmd}: want one of .help .trace .pcap .diagram .save .load .reset .target .exit`,
        );
    }
  };

  const handle = async (line: string): Promise<boolean> => {
    if (hist && line.trim()) {
      try {
        Deno.writeTextFileSync(hist, `${line}\n`, { append: true });
      } catch { /* history is a convenience */ }
    }
    if (!buffer && line.trim().startsWith(".")) {
      const [cmd, ...rest] = line.trim().split(/\s+/);
      return await dot(cmd, rest.join(" "));
    }
    buffer = buffer ? `${buffer}\n${line}` : line;
    if (!isComplete(buffer)) return true;
    const source = buffer;
    buffer = "";
    if (!source.trim()) return true;
    const value = evaluate(source, dsl, vars);
    if (isDeclaration(source)) session.declare(source);
    else await session.exec(source, value);
    return true;
  };

  // Ctrl-C abandons a command that waits; at the prompt it says how to leave.
  let running = false;
  let waitingShown = false;
  rl.on("SIGINT", () => {
    if (running) {
      session.interrupt();
      if (waitingShown) out("stopped waiting", "dim");
    } else {
      buffer = "";
      out("(.exit or Ctrl-D to leave)", "dim");
      prompt();
    }
  });

  // On a real clock the stack sends between commands too: print it as it comes.
  let busy = false;
  const ticker = setInterval(async () => {
    if (busy || !session.live || ended) return;
    busy = true;
    midPrompt = true;
    try {
      if (await session.poll() && !ended) rl.prompt(true);
    } finally {
      midPrompt = false;
      busy = false;
    }
  }, 200);
  for (;;) {
    if (!lines.length) {
      if (ended) break;
      await new Promise<void>((r) => (wake = r));
      wake = undefined;
      continue;
    }
    const line = lines.shift()!;
    let go = true;
    while (busy) await new Promise((r) => setTimeout(r, 5));
    busy = true;
    running = true;
    // A command that waits (an expect on a real stack) says so, and how to stop it.
    const waiting = process.stdout.isTTY
      ? setTimeout(() => {
        waitingShown = true;
        out(`waiting for ${line.trim().slice(0, 60)}… (Ctrl-C to stop waiting)`, "dim");
      }, 500)
      : undefined;
    try {
      go = await handle(line);
    } catch (e) {
      buffer = "";
      out(`${(e as Error).name}: ${(e as Error).message}`, "red");
    } finally {
      busy = false;
      running = false;
      clearTimeout(waiting);
      waitingShown = false;
    }
    if (!go) break;
    prompt();
  }
  clearInterval(ticker);
  rl.close();
  await session.close();
  return 0;
}
