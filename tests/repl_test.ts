/**
 * The REPL as a user meets it: started in a real pseudo-terminal (tmux), fed
 * keystrokes with send-keys, and read back from the screen with capture-pane.
 * Skips with the reason when tmux is missing.
 */
import assert from "node:assert/strict";
import { kernelUnavailable } from "../runtime/kernel/kernel_support.ts";

const CLI = new URL("../cli/main.ts", import.meta.url).pathname;

function tmuxMissing(): string | undefined {
  try {
    const ok = new Deno.Command("tmux", { args: ["-V"], stdout: "null", stderr: "null" })
      .outputSync().success;
    return ok ? undefined : "tmux -V failed";
  } catch {
    return "tmux is not installed (Debian: tmux)";
  }
}

const why = tmuxMissing();

class Screen {
  readonly name = `synack-repl-${Deno.pid}-${Math.floor(Math.random() * 1e6)}`;
  tmux(...args: string[]): string {
    const out = new Deno.Command("tmux", { args, stdout: "piped", stderr: "piped" }).outputSync();
    if (!out.success) throw new Error(`tmux ${args[0]}: ${new TextDecoder().decode(out.stderr)}`);
    return new TextDecoder().decode(out.stdout);
  }
  start(cmd: string): void {
    this.tmux("new-session", "-d", "-s", this.name, "-x", "220", "-y", "60", cmd);
  }
  text(): string {
    return this.tmux("capture-pane", "-p", "-J", "-S", "-200", "-t", this.name);
  }
  keys(...k: string[]): void {
    this.tmux("send-keys", "-t", this.name, ...k);
  }
  async waitFor(re: RegExp, ms = 10_000): Promise<string> {
    const until = Date.now() + ms;
    for (;;) {
      const t = this.text();
      if (re.test(t)) return t;
      if (Date.now() > until) throw new Error(`screen never showed ${re}:\n${t}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  stop(): void {
    try {
      this.tmux("kill-session", "-t", this.name);
    } catch { /* already gone */ }
  }
}

Deno.test({
  name: `repl: a session in a real terminal${why ? ` (skipped: ${why})` : ""}`,
  ignore: why !== undefined,
  async fn() {
    const dir = await Deno.makeTempDir();
    const s = new Screen();
    const env = `HOME=${dir} SYNACK_HISTORY=${dir}/history NO_COLOR=1`;
    const start = () => s.start(`cd ${Deno.cwd()} && ${env} ${Deno.execPath()} run -A ${CLI} repl`);
    try {
      start();
      await s.waitFor(/synack> $/m);
      // Socket calls and a packet; the answer is printed as it arrives.
      s.keys("listen(8080)", "Enter");
      await s.waitFor(/listen\(3\) = 0/);
      // The bare option literal, as packetdrill writes it.
      s.keys("syn().opts(<ts:false>)", "Enter");
      await s.waitFor(/S\. 0:0\(0\) ack 1 win 64240 <mss 1460,nop,nop,sackOK,nop,wscale 10>/);
      // expect() with the scenario's diff, pointing at the command.
      s.keys("expect(synAck().ack(9))", "Enter");
      await s.waitFor(/repl:3:1: expect\(synAck\) did not match[\s\S]*tcp\.ack: want 9, got 1/);
      // Multi-line input: an open bracket asks for more.
      s.keys("inject(ack()", "Enter");
      await s.waitFor(/^\.\.\. $/m);
      s.keys(")", "Enter");
      await s.waitFor(/> 192\.0\.2\.1:40000 > 192\.168\.0\.1:8080 \. 1:1\(0\) ack 1/);
      // Tab completion of DSL names, and only of methods the value has.
      s.keys("C-u", "syn().por", "Tab");
      await s.waitFor(/synack> syn\(\)\.ports\($/m);
      s.keys("C-u", "listen(1).on", "Tab");
      await s.waitFor(/synack> listen\(1\)\.on\($/m);
      s.keys("C-u", "syn().on", "Tab");
      await new Promise((r) => setTimeout(r, 300));
      assert.match(s.text(), /synack> syn\(\)\.on$/m);
      s.keys("C-u", "acce", "Tab");
      await s.waitFor(/synack> accept$/m);
      s.keys("()", "Enter");
      await s.waitFor(/accept\(3\) = 4/);
      // .load runs a scenario file's steps into the session.
      s.keys(".load examples/rst_closed_port.ts", "Enter");
      await s.waitFor(
        /running closed port, SYN: RST\+ACK[\s\S]*< 192\.168\.0\.1:9 > 192\.0\.2\.1:40001 R\. 0:0\(0\) ack 1/,
      );
      // .save writes a scenario that replays the session and passes.
      s.keys(`.save ${dir}/session.ts`, "Enter");
      await s.waitFor(/wrote .*session\.ts/);
      s.keys(".trace", "Enter");
      await s.waitFor(/synack> \.trace\n0\.000000 socket\(AF_INET, SOCK_STREAM\) = 3/);
      s.keys(`.pcap ${dir}/session.pcap`, "Enter");
      await s.waitFor(/wrote .*session\.pcap/);
      assert.ok(Deno.statSync(`${dir}/session.pcap`).size > 24);
      // .diagram: the session as a ladder diagram, the closed port's RST with its reason.
      s.keys(`.diagram ${dir}/session.html`, "Enter");
      await s.waitFor(/wrote .*session\.html/);
      const page = await Deno.readTextFile(`${dir}/session.html`);
      assert.match(page, /<svg class="ladder"/);
      assert.match(page, /builtin: NO_SOCKET/);
      s.keys(".help", "Enter");
      await s.waitFor(/\.save FILE\.ts +save the session as a scenario/);
      s.keys(".target builtin:rfc7323-strict", "Enter");
      await s.waitFor(/now on builtin:rfc7323-strict/);
      s.keys(".target nope", "Enter");
      await s.waitFor(/RangeError: Unknown target "nope"/);
      s.keys(".exit", "Enter");
      await s.waitFor(/\$ $|exited|^$/m, 3000).catch(() => {});
      s.stop();
      const run = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", CLI, "run", `${dir}/session.ts`],
        stdout: "piped",
      }).outputSync();
      const out = new TextDecoder().decode(run.stdout);
      assert.equal(run.code, 0, `${out}\n${await Deno.readTextFile(`${dir}/session.ts`)}`);
      assert.match(out, /1 passed, 0 failed/);
      // History persists: a new session recalls the last command with the Up arrow.
      s.start(
        `cd ${Deno.cwd()} && env -u NO_COLOR HOME=${dir} SYNACK_HISTORY=${dir}/history ${Deno.execPath()} run -A ${CLI} repl`,
      );
      await s.waitFor(/synack> $/m);
      s.keys("Up");
      await s.waitFor(/synack> \.exit$/m);
      s.keys("C-u", "syn().ports(40000, 9)", "Enter");
      // Colors on a terminal without NO_COLOR: the stack's packets in green.
      await s.waitFor(/R\. 0:0\(0\) ack 1/);
      assert.ok(s.tmux("capture-pane", "-p", "-e", "-t", s.name).includes("\x1b[32m"));
    } finally {
      s.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

const noKernel = why ?? kernelUnavailable();

Deno.test({
  name: `repl: on the kernel, what the stack sends appears without a keystroke${
    noKernel ? ` (skipped: ${noKernel})` : ""
  }`,
  ignore: noKernel !== undefined,
  async fn() {
    const dir = await Deno.makeTempDir();
    const s = new Screen();
    try {
      s.start(
        `cd ${Deno.cwd()} && SYNACK_HISTORY=/dev/null NO_COLOR=1 ${Deno.execPath()} run -A ${CLI} repl --target kernel`,
      );
      await s.waitFor(/on kernel\.[\s\S]*synack> $/m);
      s.keys("listen(8080)", "Enter");
      await s.waitFor(/listen\(3\) = 0/);
      s.keys("syn()", "Enter");
      await s.waitFor(/S\. 0:0\(0\) ack 1/);
      // Nobody answers the SYN-ACK: the kernel sends it again after 1 s, and it shows.
      const screen = await s.waitFor(
        /^1\.\d+ < 192\.168\.0\.1:8080 > 192\.0\.2\.1:40000 S\. 0:0\(0\) ack 1/m,
        5000,
      );
      assert.match(screen, /synack> $/m);
      // Saved, the retransmission keeps its timing and its name, and replays on the built-in stack.
      s.keys(`.save ${dir}/kernel.ts`, "Enter");
      await s.waitFor(/wrote .*kernel\.ts/);
      const saved = await Deno.readTextFile(`${dir}/kernel.ts`);
      assert.match(saved, /\.after\("1\d\d\dms"\), \/\/ a retransmission/);
      const replay = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", CLI, "run", "--target", "builtin", `${dir}/kernel.ts`],
        stdout: "piped",
      }).outputSync();
      assert.equal(replay.code, 0, `${new TextDecoder().decode(replay.stdout)}\n${saved}`);
      // A blocking expect says it waits, and Ctrl-C ends the wait: the handshake done, the
      // kernel has nothing more to send.
      s.keys("ack()", "Enter");
      await s.waitFor(/> 192\.0\.2\.1:40000 > 192\.168\.0\.1:8080 \. 1:1\(0\) ack 1/);
      s.keys("expect(rst())", "Enter");
      await s.waitFor(/waiting for expect\(rst\(\)\)… \(Ctrl-C to stop waiting\)/);
      s.keys("C-c");
      await s.waitFor(/expect\(rst\) was interrupted\nsynack> $/m, 3000);
      s.keys(".exit", "Enter");
    } finally {
      s.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
