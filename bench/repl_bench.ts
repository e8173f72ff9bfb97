// REPL start-up: from spawning `synack repl` to its prompt on stdout, on the built-in target.
// Scapy needs about 1.9 s here. Run: npx deno task bench
const CLI = new URL("../cli/main.ts", import.meta.url).pathname;

async function toPrompt(b: Deno.BenchContext): Promise<void> {
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
  while (!seen.includes("synack> ")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the REPL ended before its prompt: ${seen}`);
    seen += new TextDecoder().decode(value);
  }
  b.end();
  const w = child.stdin.getWriter();
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
    await toPrompt(b);
  },
});
