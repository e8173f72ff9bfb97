/**
 * Every command's `--help` works and ends with examples, and every example
 * runs as written (from the repository's top, through ./synack; `sudo` ones
 * as root only; the REPL gets `.exit`).
 */
import assert from "node:assert/strict";
import { EXAMPLES } from "../cli/main.ts";
import { isRoot, runShell } from "./shell.ts";

const ROOT = new URL("../", import.meta.url).pathname;
/** An example as written, through the repository's launcher. */
const sh = (example: string) => runShell(example.replace(/^(sudo )?synack /, `${ROOT}synack `));

Deno.test("--help: every command has one, with examples", async () => {
  for (const name of ["", ...Object.keys(EXAMPLES)]) {
    const r = await sh(`synack ${name} --help`);
    assert.equal(r.code, 0, r.text);
    assert.match(r.text, /\nExamples:\n {2}\$ synack /, `synack ${name} --help`);
  }
});

Deno.test("--help: every example runs as written", async (t) => {
  for (const [name, list] of Object.entries(EXAMPLES)) {
    for (const example of list) {
      const why = example.startsWith("sudo ") && !isRoot ? "it needs root" : undefined;
      await t.step({
        name: `${name}: ${example}${why ? ` (skipped: ${why})` : ""}`,
        ignore: why !== undefined,
        async fn() {
          const r = await sh(example);
          assert.equal(r.code, 0, `${example}\n${r.text}`);
        },
      });
    }
  }
});
