/**
 * The `synack` command line. Exit codes: 0 success, 1 scenario failure,
 * 2 usage or input error, each with a one-line message on stderr.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { main } from "./main.ts";
 * assert.equal(await main(["version"]), 0);
 * assert.equal(await main(["show", "/nonexistent.pcap"]), 2);
 * ```
 */
import type { Command } from "commander";
import { DecodeError } from "../runtime/wire/decode_error.ts";
import { LineSyntaxError } from "../runtime/wire/line_syntax_error.ts";
import { ScenarioError } from "../dsl/source_location.ts";
import { TargetUnavailable } from "../runtime/engine/target_unavailable.ts";
import { parseDuration } from "../dsl/duration.ts";
import { dropPrestarted, prestart } from "../runtime/host/child_process.ts";
import { trustedPermissions } from "../runtime/host/permissions.ts";
// Commands load their modules on demand: `synack repl` should not wait for `synack show`'s.
import { parseTargetSpec, TARGET_SPECS } from "../runtime/target_spec.ts";

/** The flags that say where scenario code runs and what it may do. */
interface TrustFlags {
  sandbox?: boolean;
  allowImport?: string;
  allowRead?: string | true;
  allowWrite?: string | true;
  allowNet?: string | true;
  allowEnv?: string | true;
  allowRun?: string | true;
  timeout?: string;
  virtualTimeout?: string;
}

interface RunFlags extends TrustFlags {
  target: string;
  pcap?: string;
  trace?: string;
  report?: string;
  filter?: string;
  mask?: string | boolean;
}

const MASK_NAMES = ["psh", "window", "timing"] as const;

/**
 * `--mask psh,timing`, `--no-mask`, or the defaults (undefined): commander
 * gives a negatable option `true` when neither flag is there.
 */
function masksFrom(v: string | boolean | undefined): (typeof MASK_NAMES)[number][] | undefined {
  if (v === undefined || v === true) return undefined;
  if (v === false) return [];
  const names = v.split(",").map((x) => x.trim()).filter(Boolean);
  for (const n of names) {
    if (!(MASK_NAMES as readonly string[]).includes(n)) {
      throw new RangeError(`--mask: want ${MASK_NAMES.join(", ")}, got ${JSON.stringify(n)}`);
    }
  }
  return names as (typeof MASK_NAMES)[number][];
}

/** The sandbox and time-limit flags every command that loads scenario files takes. */
function trustOptions(c: Command): Command {
  return c
    .option("--sandbox", "run local files sandboxed too, as files from a URL always are")
    .option("--allow-import <hosts>", "sandboxed code may also import from these hosts (a,b)")
    .option("--allow-read [paths]", "sandboxed code may read files (these, or any)")
    .option("--allow-write [paths]", "sandboxed code may write files (these, or any)")
    .option("--allow-net [hosts]", "sandboxed code may open network connections")
    .option("--allow-env [names]", "sandboxed code may read environment variables")
    .option("--allow-run [programs]", "sandboxed code may start programs")
    .option(
      "--timeout <duration>",
      "real time a scenario may take (default 60s, 10min on a real clock)",
    )
    .option("--virtual-timeout <duration>", "virtual time a scenario may take (default 24h)");
}

function grant(v: string | true | undefined): true | string[] | undefined {
  return v === undefined || v === true ? v : v.split(",").map((x) => x.trim()).filter(Boolean);
}

/** What `TrustFlags` mean to the scenario host and the runner. */
function trustFrom(o: TrustFlags) {
  const ms = (d: string | undefined, flag: string) => {
    if (d === undefined) return undefined;
    try {
      return parseDuration(d);
    } catch (e) {
      throw new RangeError(`${flag}: ${(e as Error).message}`);
    }
  };
  return {
    sandbox: o.sandbox,
    allow: {
      import: grant(o.allowImport) as string[] | undefined,
      read: grant(o.allowRead),
      write: grant(o.allowWrite),
      net: grant(o.allowNet),
      env: grant(o.allowEnv),
      run: grant(o.allowRun),
    },
    loadTimeoutMs: ms(o.timeout, "--timeout"),
    limits: {
      timeoutMs: ms(o.timeout, "--timeout"),
      virtualTimeoutMs: ms(o.virtualTimeout, "--virtual-timeout"),
    },
  };
}

/** Examples for each command's --help, from the repository's top. */
export const EXAMPLES: Readonly<Record<string, readonly string[]>> = {
  version: ["synack version"],
  show: [
    "synack show examples/handshake.pcap",
    "synack show -r -A examples/handshake.pcap",
    'synack show -f "port 8080 and flags P" examples/handshake.pcap',
  ],
  explain: [
    "synack explain examples/handshake.pcap",
    "synack explain examples/handshake.pcap --html /tmp/explain.html",
  ],
  run: [
    "synack run examples/",
    "synack run examples/rst_closed_port.ts --pcap /tmp/closed.pcap",
    "synack run examples/ --report /tmp/synack-report.html",
    "sudo synack run --target builtin,kernel examples/",
    "sudo synack run --target kernel examples/",
    "sudo synack run examples/pkt/linger_zero.pkt",
    "sudo synack run --ip_version=ipv6 --mtu=1520 examples/pkt/linger_zero.pkt",
    "synack run --target builtin examples/pkt/linger_zero.pkt",
  ],
  test: [
    "synack test examples/ --junit /tmp/synack.xml",
    "synack test examples/ --shard 1/2",
    "synack test examples/ --report /tmp/synack-test.html",
    "sudo synack test --pkt kernel --jobs 6",
    "sudo synack test --pkt kernel --converted",
  ],
  repl: ["synack repl", "sudo synack repl --target kernel"],
  compile: ["synack compile examples/rst_closed_port.ts"],
  convert: [
    "synack convert examples/pkt/linger_zero.pkt",
    "synack convert --native examples/pkt/ts_less_ack.pkt",
  ],
};

function examples(list: readonly string[]): string {
  return list.length ? `\nExamples:\n${list.map((e) => `  $ ${e}`).join("\n")}` : "";
}

/** synack's version, from package.json. */
export const VERSION = "0.1.0";

/**
 * `run` and `test` of local files start their scenario host's process before
 * anything else loads: its boot and the CLI's then overlap.
 */
function prestartHost(args: readonly string[]): void {
  const local = (args[0] === "run" || args[0] === "test") &&
    !args.some((a) => /^https?:\/\//.test(a) || a === "--sandbox" || a === "--help" || a === "-h");
  if (local) prestart({ permissions: trustedPermissions(), denoFlags: [] });
}

/** Runs the CLI with `args`; returns the exit code instead of exiting. */
export async function main(args: string[]): Promise<number> {
  // `npx deno task synack -- run …`: Deno passes the `--` on; it means nothing here.
  if (args[0] === "--") args = args.slice(1);
  // packetdrill scripts take packetdrill's own flags, which commander would refuse.
  const pkt = (args[0] === "run" && (await import("./pkt_command.ts")).isPktRun(args.slice(1)))
    ? "run"
    : args[0] === "test" && args.includes("--pkt")
    ? "test"
    : args[0] === "convert" && !args.includes("--help") && !args.includes("-h")
    ? "convert"
    : undefined;
  if (pkt) return await pktMain(pkt, args.slice(1));
  prestartHost(args);
  const { Command, CommanderError } = await import("commander");
  const program = new Command("synack")
    .description("Packet-crafting REPL and TCP test DSL")
    .exitOverride()
    .configureOutput({ writeErr: (s) => console.error(s.trimEnd()) })
    .showHelpAfterError();
  program.command("version").description("print the version").action(() => {
    console.log(`synack ${VERSION} (deno ${Deno.version.deno})`);
  });
  program.command("show").description("print a pcap or pcapng file in the line syntax")
    .argument("<file>", "capture file (pcap or pcapng; raw IP, Ethernet, Linux cooked SLL/SLL2)")
    .option("-v, --verbose", "print every field of every packet")
    .option("-d, --data", "print payload bytes as data 0x…")
    .option("-A, --ascii", "print each payload as text under its line, as tcpdump -A")
    .option("-r, --relative", "seq and ack relative to each direction's first seq")
    .option(
      "-f, --filter <expr>",
      "only packets that pass: host, port, src/dst, flags R, stream <packet #>, tcp, udp, icmp; and, or, not",
    )
    .action(
      async (
        file: string,
        o: {
          verbose?: boolean;
          data?: boolean;
          ascii?: boolean;
          relative?: boolean;
          filter?: string;
        },
      ) => {
        const { showCapture } = await import("./show_capture.ts");
        await showCapture(file, o);
      },
    );
  program.command("explain")
    .description(
      "say where each RST in a capture or trace came from: active or passive, what it answers, the likely cause",
    )
    .argument("<file>", "a pcap or pcapng file, or a synack trace (run --trace)")
    .option("--html <out>", "also write the explanation with a ladder diagram as one HTML file")
    .action(async (file: string, o: { html?: string }) => {
      const { loadSegments } = await import("../runtime/explain/explain_input.ts");
      const { explainText } = await import("../runtime/explain/explain_text.ts");
      const groups = await loadSegments(file);
      for (const line of explainText(groups)) console.log(line);
      if (o.html) {
        const { explainHtml } = await import("../runtime/report/explain_html.ts");
        await Deno.writeTextFile(o.html, explainHtml(file, groups));
      }
    });
  let code = 0;
  trustOptions(
    program.command("run").description(
      "run scenario files on a target and report each; packetdrill .pkt scripts (and their .pkt.ts " +
        "modules) run on the kernel " +
        "with packetdrill's flags and verdict (--target builtin: converted, on the built-in stack)",
    )
      .argument("<paths...>", "scenario files, folders or URLs (URL#sha256=<hex> pins the content)")
      .option(
        "-t, --target <target>",
        `${TARGET_SPECS}; a comma-separated list (builtin,kernel) runs each and prints the first divergence`,
        "builtin",
      )
      .option(
        "--pcap <file>",
        "save each run's packets as pcap (.pcapng: with what the path did as comments)",
      )
      .option("--trace <file>", "save each run's trace as JSON")
      .option(
        "--report <file>",
        "write one HTML file: a ladder diagram of each run (a time-sequence graph of each transfer)",
      )
      .option("--filter <text>", "only scenarios whose name contains text")
      .option(
        "--mask <names>",
        "with a target list: noise to ignore, from psh, window, timing (default psh,window)",
      )
      .option("--no-mask", "with a target list: compare everything"),
  ).action(async (paths: string[], o: RunFlags) => {
    const { runCommand } = await import("./run_command.ts");
    code = await runCommand(paths, { ...o, masks: masksFrom(o.mask), ...trustFrom(o) });
  });
  trustOptions(
    program.command("test").description(
      "run every scenario under a folder, with a summary and reports for CI",
    )
      .argument("[paths...]", "folders of scenario files (_test.ts files too), files or URLs", [
        ".",
      ])
      .option("-t, --target <target>", TARGET_SPECS, "builtin")
      .option(
        "--pkt <dir>",
        "run every packetdrill .pkt script under dir (kernel: the kernel's own, from linux-source-6.12), " +
          "ipv4 and ipv6, in parallel namespaces; --oracle <tsv> compares with packetdrill's verdicts, " +
          "--jobs N sets how many at a time, --converted runs each through synack convert first",
      )
      .option("--junit <file>", "write a JUnit XML report")
      .option("--tap <file>", "write a TAP 14 report")
      .option("--report <file>", "write one HTML file with a ladder diagram of each scenario")
      .option("--shard <i/n>", "run only the i-th of n slices of the suite")
      .option("--filter <text>", "only scenarios whose name contains text"),
  ).action(
    async (
      dir: string[],
      o: TrustFlags & {
        target: string;
        junit?: string;
        tap?: string;
        report?: string;
        shard?: string;
        filter?: string;
      },
    ) => {
      const { testCommand } = await import("./test_command.ts");
      code = await testCommand(dir, { ...o, ...trustFrom(o) });
    },
  );
  trustOptions(
    program.command("repl").description(
      "a live session: craft packets, send them, see what comes back",
    )
      .option("-t, --target <target>", TARGET_SPECS, "builtin"),
  ).action(async (o: TrustFlags & { target: string }) => {
    parseTargetSpec(o.target);
    const { repl } = await import("./repl.ts");
    code = await repl({ target: o.target, version: VERSION, ...trustFrom(o) });
  });
  trustOptions(
    program.command("compile").description(
      "print the packets scenario files describe, without running them",
    )
      .argument("<paths...>", "scenario files, folders or URLs"),
  ).action(async (paths: string[], o: TrustFlags) => {
    const { compileCommand } = await import("./compile_command.ts");
    code = await compileCommand(paths, undefined, trustFrom(o));
  });
  // Listed for --help; `synack convert x.pkt` itself is routed before commander (packetdrill's flags).
  program.command("convert").description(
    "print a packetdrill .pkt script as a TypeScript module of its steps (x.pkt.ts, which synack run " +
      "takes with the script's verdict); --native: as a scenario in the DSL's own steps, or the lines " +
      "the DSL cannot say yet",
  )
    .argument(
      "<file.pkt>",
      "a packetdrill script; packetdrill's flags (-D, --bind_port…) may come first",
    )
    .option(
      "--native",
      "write inject/expect/call steps that every target runs, the built-in stack too",
    );
  // Each command's --help ends with examples that run as written (tests/cli_help_test.ts).
  program.addHelpText(
    "after",
    examples(["synack run examples/", "synack repl", "synack show examples/handshake.pcap"]),
  );
  for (const c of program.commands) c.addHelpText("after", examples(EXAMPLES[c.name()] ?? []));
  try {
    await program.parseAsync(args, { from: "user" });
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.exitCode === 0 ? 0 : 2;
    }
    return inputProblem(e);
  } finally {
    await dropPrestarted();
  }
  return code;
}

/** `synack run x.pkt` and `synack test --pkt dir`, with main's exit codes and one-line errors. */
async function pktMain(which: "run" | "test" | "convert", args: string[]): Promise<number> {
  const { pktConvertCommand, pktRunCommand, pktTestCommand } = await import("./pkt_command.ts");
  const { PktSyntaxError } = await import("../dsl/pkt/pkt_scanner.ts");
  try {
    return which === "run"
      ? await pktRunCommand(args)
      : which === "test"
      ? await pktTestCommand(args)
      : await pktConvertCommand(args);
  } catch (e) {
    if (e instanceof PktSyntaxError) {
      console.error(`synack: ${e.message}`);
      return 2;
    }
    return inputProblem(e);
  }
}

/** Bad input as one line on stderr and exit code 2; any other error is rethrown. */
function inputProblem(e: unknown): number {
  if (
    e instanceof DecodeError || e instanceof LineSyntaxError || e instanceof ScenarioError ||
    e instanceof RangeError || e instanceof TargetUnavailable
  ) {
    console.error(`synack: ${e.message}`);
    return 2;
  }
  // A path of the wrong kind, a file that cannot be read or written: bad input, one line.
  const io = ioProblem(e);
  if (io) {
    console.error(`synack: ${io}`);
    return 2;
  }
  throw e;
}

/** What a file-system error says about the user's input, or undefined for any other error. */
function ioProblem(e: unknown): string | undefined {
  const kinds: [new (...a: never[]) => Error, string][] = [
    [Deno.errors.NotFound, "no such file or folder"],
    [Deno.errors.IsADirectory, "want a file, got a folder"],
    [Deno.errors.NotADirectory, "want a folder, got a file"],
    [Deno.errors.PermissionDenied, "permission denied"],
    [Deno.errors.NotCapable, "synack was not granted access to it"],
    [Deno.errors.AlreadyExists, "already exists"],
    [Deno.errors.InvalidData, "not valid data"],
  ];
  for (const [kind, what] of kinds) {
    if (!(e instanceof kind)) continue;
    // Deno's messages end with the path: `Is a directory (os error 21): read 'x/'`.
    const path = /'([^']+)'\s*$/.exec(e.message)?.[1];
    return path
      ? `${path}: ${what}`
      : e.message.startsWith("Cannot")
      ? e.message
      : `${e.message}: ${what}`;
  }
  return undefined;
}

// No top-level await: `synack test` may import test files that import this module.
if (import.meta.main) main(Deno.args).then((code) => Deno.exit(code));
