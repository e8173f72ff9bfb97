/**
 * Runs a documented command as a user would type it: `sh -c` from the
 * repository's top, `.exit` on its input (for the REPL), colors off. Shared
 * by the README and `--help` example tests. Not a test file itself.
 */
const ROOT = new URL("../", import.meta.url).pathname;

/** Whether the tests run as root (commands written with `sudo` need it). */
export const isRoot = Deno.uid?.() === 0;

/** Runs `command`; `sudo ` in front is dropped (the caller checks `isRoot`). */
export async function runShell(
  command: string,
  env: Record<string, string> = {},
): Promise<{ code: number; text: string }> {
  const child = new Deno.Command("sh", {
    args: ["-c", command.replace(/^sudo /, "")],
    cwd: ROOT,
    env: { NO_COLOR: "1", SYNACK_HISTORY: "/dev/null", ...env },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(".exit\n"));
  await w.close();
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, text: `${dec.decode(out.stdout)}\n${dec.decode(out.stderr)}` };
}
