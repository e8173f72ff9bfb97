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
import { Command, CommanderError, Option } from "commander";
import { DecodeError } from "../runtime/wire/decode_error.ts";
import { LineSyntaxError } from "../runtime/wire/line_syntax_error.ts";
import { ScenarioError } from "../dsl/source_location.ts";
import { TargetUnavailable } from "../runtime/engine/target_unavailable.ts";
// Commands load their modules on demand: `synack repl` should not wait for `synack show`'s.
import { parseTargetSpec, TARGET_SPECS } from "../runtime/target_spec.ts";

interface RunFlags {
  target: string;
  pcap?: string;
  trace?: string;
  filter?: string;
  allowWrite?: boolean;
  allowRun?: boolean;
  allowNet?: boolean;
  sandboxed?: boolean;
}

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
      const { showCapture } = await import("./show_capture.ts");
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
    .option("--allow-write", "let scenarios from a URL write files")
    .option("--allow-run", "let scenarios from a URL start programs")
    .option("--allow-net", "let scenarios from a URL open network connections")
    .addOption(new Option("--sandboxed").hideHelp())
    .action(
      async (paths: string[], o: RunFlags) => {
        if (!o.sandboxed && paths.some((p) => /^https?:\/\//.test(p))) {
          // Code from a URL runs in a child with only what its target needs.
          const { runSandboxed } = await import("./sandbox.ts");
          if (paths.some((p) => !/^https?:\/\//.test(p))) {
            throw new RangeError("run: give URLs and local paths in separate runs");
          }
          code = await runSandboxed(paths, {
            target: o.target,
            pcap: o.pcap,
            trace: o.trace,
            filter: o.filter,
            allowWrite: o.allowWrite,
            allowRun: o.allowRun,
            allowNet: o.allowNet,
          });
          return;
        }
        const { runCommand } = await import("./run_command.ts");
        code = await runCommand(paths, o);
      },
    );
  program.command("test").description(
    "run every scenario under a folder, with a summary and reports for CI",
  )
    .argument("[dir]", "folder of scenario files (its _test.ts files too)", ".")
    .option("-t, --target <target>", TARGET_SPECS, "builtin")
    .option("--junit <file>", "write a JUnit XML report")
    .option("--tap <file>", "write a TAP 14 report")
    .option("--shard <i/n>", "run only the i-th of n slices of the suite")
    .option("--filter <text>", "only scenarios whose name contains text")
    .action(
      async (
        dir: string,
        o: { target: string; junit?: string; tap?: string; shard?: string; filter?: string },
      ) => {
        const { testCommand } = await import("./test_command.ts");
        code = await testCommand(dir, o);
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
      const { compileCommand } = await import("./compile_command.ts");
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

// No top-level await: `synack test` may import test files that import this module.
if (import.meta.main) main(Deno.args).then((code) => Deno.exit(code));
