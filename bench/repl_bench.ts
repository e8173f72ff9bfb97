// REPL start-up: from spawning `synack repl` to its prompt on stdout, on the built-in target.
// Scapy needs about 1.9 s here. Run: npx deno task bench
const CLI = new URL("../cli/main.ts", import.meta.url).pathname;

/** Times spawn → prompt, or with `command`, spawn → the command's answer on screen. */
async function time(
  b: Deno.BenchContext,
  command?: { line: string; answer: string },
): Promise<void> {
  b.start();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, "repl"],
    env: { NO_COLOR: "1", SYNACK_HISTORY: "/dev/null" },
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.getReader();
  let seen = "";
  const w = child.stdin.getWriter();
  const until = async (text: string) => {
    while (!seen.includes(text)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the REPL ended before "${text}": ${seen}`);
      seen += new TextDecoder().decode(value);
    }
  };
  await until("synack> ");
  if (command) {
    await w.write(new TextEncoder().encode(`${command.line}\n`));
    await until(command.answer);
  }
  b.end();
  await w.write(new TextEncoder().encode(".exit\n"));
  await w.close();
  await reader.cancel();
  await child.status;
}

Deno.bench({
  name: "synack repl: process start to prompt (builtin target)",
  n: 20,
  warmup: 2,
  async fn(b) {
    await time(b);
  },
});

Deno.bench({
  name: "synack repl: process start to the answer of a first command, listen(8080)",
  n: 20,
  warmup: 2,
  async fn(b) {
    await time(b, { line: "listen(8080)", answer: "listen(3) = 0" });
  },
});
