/**
 * The tree stays as it was checked out: `npm install` changed no tracked file
 * (the committed package-lock.json is complete), and no test wrote to one or
 * left a file behind. The snapshot is taken when this module loads, which
 * `deno test` does for every file before it runs any test; the check is the
 * last test of the run (this file sorts last). Skips outside a git checkout.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url).pathname;

function git(...args: string[]): string | undefined {
  try {
    const out = new Deno.Command("git", { args, cwd: ROOT, stdout: "piped", stderr: "null" })
      .outputSync();
    return out.success ? new TextDecoder().decode(out.stdout) : undefined;
  } catch {
    return undefined;
  }
}

const before = git("status", "--porcelain", "--untracked-files=all");
const why = before === undefined ? "not a git checkout" : undefined;

Deno.test({
  name: `clean tree: npm install and deno changed no lock or manifest${
    why ? ` (skipped: ${why})` : ""
  }`,
  ignore: why !== undefined,
  fn() {
    const changed = git(
      "diff",
      "--name-only",
      "HEAD",
      "--",
      "package.json",
      "package-lock.json",
      "deno.json",
    );
    assert.equal(changed, "", `changed against HEAD: ${changed}`);
    assert.throws(() => Deno.statSync(`${ROOT}deno.lock`), "a deno.lock appeared");
  },
});

Deno.test({
  name: `clean tree: the tests wrote no tracked file and left nothing behind${
    why ? ` (skipped: ${why})` : ""
  }`,
  ignore: why !== undefined,
  fn() {
    assert.equal(git("status", "--porcelain", "--untracked-files=all"), before);
  },
});
