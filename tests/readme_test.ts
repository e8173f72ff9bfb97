/**
 * Every command in README.md's code blocks works as written: each `sh`
 * block line, and each `$ ` line of a transcript, runs from the repository's
 * top through `sh -c` and must exit 0. The REPL gets `.exit` on its input.
 * `HOME` is a fresh folder whose `.local/bin` is on the PATH, so the PATH
 * recipe is tried for real without touching the user's home. Commands with
 * `sudo` run as they are when the test runs as root, and are skipped (with
 * the reason) otherwise; `deno task test` is the command running this test.
 */
import assert from "node:assert/strict";
import { isRoot, runShell } from "./shell.ts";
import { cacheRoot } from "../runtime/gvisor/helper_build.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const README = Deno.readTextFileSync(`${ROOT}README.md`);

/** The commands of the README's code blocks, in order, with the line each is on. */
export function readmeCommands(text: string): { line: number; command: string }[] {
  const out: { line: number; command: string }[] = [];
  let block: string | undefined;
  text.split("\n").forEach((l, i) => {
    const fence = /^```(\w*)/.exec(l);
    if (fence) {
      block = block === undefined ? fence[1] : undefined;
      return;
    }
    if (block === "sh" && l.trim() && !l.trimStart().startsWith("#")) {
      out.push({ line: i + 1, command: l.replace(/\s+#.*$/, "").trim() });
    } else if (block === "text" && l.startsWith("$ ")) {
      out.push({ line: i + 1, command: l.slice(2).replace(/\s+#.*$/, "").trim() });
    }
  });
  return out;
}

Deno.test("README: every command in its code blocks works as written", async (t) => {
  const home = await Deno.makeTempDir({ prefix: "synack-readme-home-" });
  try {
    const commands = readmeCommands(README);
    assert.ok(commands.length >= 15, `only ${commands.length} commands found`);
    for (const { line, command } of commands) {
      const sudo = command.startsWith("sudo ");
      const why = command.includes("deno task test")
        ? "it is the command running this test"
        : sudo && !isRoot
        ? "it needs root"
        : undefined;
      await t.step({
        name: `README.md:${line}: ${command}${why ? ` (skipped: ${why})` : ""}`,
        ignore: why !== undefined,
        async fn() {
          const r = await runShell(command, {
            HOME: home,
            PATH: `${home}/.local/bin:${Deno.env.get("PATH")}`,
            SYNACK_HISTORY: `${home}/history`,
            // Built helpers (gVisor's) are shared with the real home's cache: a fresh home
            // would build them cold.
            SYNACK_CACHE: cacheRoot(),
          });
          assert.equal(r.code, 0, `${command}\n${r.text}`);
        },
      });
    }
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("README: the launcher is what the README says it is", () => {
  const launcher = Deno.readTextFileSync(`${ROOT}synack`);
  assert.match(launcher, /^#!\/bin\/sh\n/);
  assert.ok((Deno.statSync(`${ROOT}synack`).mode! & 0o111) !== 0, "./synack is not executable");
  const found = readmeCommands(
    "```sh\n./synack run x # a comment\n# only a comment\n```\n" +
      "```text\n$ ./synack repl   # transcript\nsynack> listen(8080)\n```\n",
  );
  assert.deepEqual(found, [
    { line: 2, command: "./synack run x" },
    { line: 6, command: "./synack repl" },
  ]);
});
