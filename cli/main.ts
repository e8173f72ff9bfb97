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
import { Command, CommanderError } from "commander";
import { DecodeError } from "../runtime/wire/decode_error.ts";
import { showCapture } from "./show_capture.ts";
import { compileCommand } from "./compile_command.ts";
import { runCommand } from "./run_command.ts";
import { LineSyntaxError } from "../runtime/wire/line_syntax_error.ts";
import { ScenarioError } from "../dsl/source_location.ts";
import { TargetUnavailable } from "../runtime/engine/target_unavailable.ts";
import { parseTargetSpec, TARGET_SPECS } from "../runtime/scenario.ts";

/** synack's version, from package.json. */
export const VERSION = "0.1.0";

/** Runs the CLI with `args`; returns the exit code instead of exiting. */
export async function main(args: string[]): Promise<number> {
  const program = new Command("synack")
    .description("Packet-crafting REPL and TCP test DSL")
    .exitOverride()
    .configureOutput({ writeErr: (s) => console.error(s.trimEnd()) })
    .showHelpAfterError();
  program.command("version").description("print the version").action(() => {
    console.log(`synack ${VERSION} (deno ${Deno.version.deno})`);
  });
  program.command("show").description("print a pcap or pcapng file in the line syntax")
    .argument("<file>", "capture file (pcap or pcapng; raw IP or Ethernet)")
    .option("-v, --verbose", "print every field of every packet")
    .option("-d, --data", "print payload bytes as data 0x…")
    .action(async (file: string, o: { verbose?: boolean; data?: boolean }) => {
      await showCapture(file, { verbose: o.verbose, data: o.data });
    });
  let code = 0;
  program.command("run").description("run scenario files on a target and report each")
    .argument("<paths...>", "scenario files, folders or URLs")
    .option(
      "-t, --target <target>",
      `${TARGET_SPECS}; a comma-separated list (builtin,kernel) runs each and prints the first divergence`,
      "builtin",
    )
    .option("--pcap <file>", "save each run's packets as pcap")
    .option("--trace <file>", "save each run's trace as JSON")
    .option("--filter <text>", "only scenarios whose name contains text")
    .action(
      async (
        paths: string[],
        o: { target: string; pcap?: string; trace?: string; filter?: string },
      ) => {
        code = await runCommand(paths, o);
      },
    );
  program.command("repl").description(
    "a live session: craft packets, send them, see what comes back",
  )
    .option("-t, --target <target>", TARGET_SPECS, "builtin")
    .action(async (o: { target: string }) => {
      parseTargetSpec(o.target);
      const { repl } = await import("./repl.ts");
      code = await repl({ target: o.target, version: VERSION });
    });
  program.command("compile").description(
    "print the packets scenario files describe, without running them",
  )
    .argument("<paths...>", "scenario files, folders or URLs")
    .action(async (paths: string[]) => {
      code = await compileCommand(paths);
    });
  try {
    await program.parseAsync(args, { from: "user" });
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.exitCode === 0 ? 0 : 2;
    }
    if (
      e instanceof DecodeError || e instanceof Deno.errors.NotFound ||
      e instanceof Deno.errors.PermissionDenied || e instanceof LineSyntaxError ||
      e instanceof ScenarioError || e instanceof RangeError || e instanceof TargetUnavailable
    ) {
      console.error(`synack: ${e.message}`);
      return 2;
    }
    throw e;
  }
  return code;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
