/**
 * gVisor's real netstack as a target: seed 1 against the stack it is about,
 * socket calls both ways with what the netstack lacks refused by name, and
 * the helper gone with synack however synack ends. Needs Go and Debian's
 * golang-gvisor-gvisor-dev (.ci/run installs them); skips visibly without.
 */
import assert from "node:assert/strict";
import {
  accept,
  ack,
  builtin,
  connect,
  data,
  defineScenario,
  expect,
  getsockopt,
  inject,
  listen,
  read,
  socket,
  type StepInput,
  syn,
  synAck,
  sysctl,
  topology,
  write,
} from "../mod.ts";
import { buildUnavailable } from "../runtime/gvisor/helper_build.ts";
import { loadScenarios } from "../runtime/host/load_scenarios.ts";
import { runScenarioOn } from "../runtime/scenario.ts";
import { markedProcesses } from "./kernel/host_state.ts";
import { GVISOR_DIVERGENCES } from "./gvisor_divergences.ts";
import { isRoot, runShell } from "./shell.ts";
import { kernelUnavailable } from "../runtime/kernel/kernel_support.ts";

const why = await buildUnavailable();
const skip = why ? ` (skipped: ${why})` : "";

function gvisorTest(name: string, fn: () => Promise<void>): void {
  Deno.test({ name: `gvisor: ${name}${skip}`, ignore: why !== undefined, fn });
}

const run = (steps: StepInput[], o: Record<string, unknown> = {}) =>
  runScenarioOn(defineScenario("gvisor", steps, { register: false, ...o }), "gvisor");

gvisorTest(
  "seed 1: the real netstack drops the TS-less ACK, retransmits its SYN-ACK six times, resets the data",
  async () => {
    const scenarios = await loadScenarios(["examples/gvisor_timestamp_handshake.ts"]);
    const verdicts: string[] = [];
    for (const sc of scenarios) {
      const r = await runScenarioOn(sc, "gvisor");
      assert.ok(r.ok, `${sc.name}\n${r.failure?.message}`);
      verdicts.push(r.skipped ? `skip: ${r.skipped}` : "pass");
    }
    // Its own scenarios pass on it; Linux's are not its story.
    assert.deepEqual(verdicts, [
      "pass",
      "skip: profile linux models Linux, not gVisor's netstack",
      "skip: profile linux models Linux, not gVisor's netstack",
      "pass",
    ]);
  },
);

gvisorTest("calls both ways on IPv4 and IPv6; TCP_INFO as the netstack keeps it", async () => {
  for (const family of [4, 6] as const) {
    const r = await run([
      socket(),
      connect(9000).returns(0),
      expect(syn()),
      inject(synAck().seq(0).ack(1)),
      expect(ack()),
      write("ping").returns(4),
      expect(data("ping")),
      inject(data("pong").seq(1).ack(5)),
      read().returns("pong"),
      getsockopt("TCP_INFO").returns({ state: "ESTABLISHED", totalRetrans: 0 }),
    ], { family, strict: "ignore" });
    assert.equal(r.ok, true, `IPv${family}: ${r.failure?.message}`);
  }
});

gvisorTest(
  "what the netstack lacks is refused by name: a sysctl, a TCP_INFO field, a topology",
  async () => {
    const ts = await run([sysctl("net.ipv4.tcp_timestamps", 0), listen(8080)]);
    assert.match(
      ts.failure!.message,
      /sysctl\(\): sysctl net\.ipv4\.tcp_timestamps: gVisor's netstack has no switch for it: it always offers timestamps and window scaling/,
    );
    const backoff = await run([
      listen(8080),
      inject(syn()),
      expect(synAck()),
      inject(ack()),
      accept().returns(4),
      getsockopt("TCP_INFO").returns({ backoff: 0 }),
    ]);
    assert.match(
      backoff.failure!.message,
      /result\.backoff: want 0, got nothing: this stack does not report it/,
    );
    const topo = await runScenarioOn(
      defineScenario("t", [listen(80)], {
        register: false,
        topology: topology({ hosts: { a: builtin(), b: builtin() }, links: [["a", "b"]] }),
      }),
      "gvisor",
    );
    assert.match(topo.skipped ?? "", /gVisor's netstack is a target of its own/);
  },
);

gvisorTest(
  "the helper goes with synack: killed with SIGKILL mid-run, nothing is left",
  async () => {
    const marker = `SYNACK_GVISOR_RUN=${Deno.pid}-${Date.now()}`;
    const [k, v] = marker.split("=");
    const cli = new URL("../cli/main.ts", import.meta.url).pathname;
    const file = new URL("./gvisor_slow_scenario.ts", import.meta.url).pathname;
    for (let i = 0; i < 3; i++) {
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", cli, "run", "--target", "gvisor", file],
        env: { [k]: v },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      // Long enough for the helper to be up and the handshake done; the scenario idles 3 s.
      let helperSeen = false;
      for (let t = 0; t < 200 && !helperSeen; t++) {
        await new Promise((r) => setTimeout(r, 25));
        helperSeen = markedProcesses(marker).some((p) => /netstack/.test(p.cmd));
      }
      assert.ok(helperSeen, "the helper never started");
      child.kill("SIGKILL");
      await child.output();
    }
    // The helper reads its stdin; when the pipe closes with synack it exits.
    let left = markedProcesses(marker);
    for (let i = 0; i < 100 && left.length; i++) {
      await new Promise((r) => setTimeout(r, 20));
      left = markedProcesses(marker);
    }
    assert.deepEqual(left, [], "processes left over");
  },
);

Deno.test("gvisor: the README's table of differences names scenarios of the documented list", () => {
  const readme = Deno.readTextFileSync(new URL("../README.md", import.meta.url));
  const start = readme.search(/^\| gVisor's netstack +\| Scenario +\|$/m);
  assert.ok(start > 0, "the table is in the README");
  const rows = readme.slice(start).split("\n").slice(2).filter((l) => l.startsWith("|"));
  assert.ok(rows.length >= 12, `${rows.length} rows`);
  for (const row of rows) {
    const scenario = row.split(/(?<!\\)\|/)[2].trim().replaceAll("\\|", "|");
    if (scenario.startsWith("`examples/")) continue;
    assert.ok(
      Object.keys(GVISOR_DIVERGENCES).some((k) => k.startsWith(scenario)),
      `README row names no listed scenario: ${scenario}`,
    );
  }
});

Deno.test({
  name: `gvisor: the README's three-way differential shows the PAWS scenario where gVisor parts${
    why ? skip : kernelUnavailable() ? ` (skipped: ${kernelUnavailable()})` : ""
  }`,
  ignore: why !== undefined || !isRoot || kernelUnavailable() !== undefined,
  async fn() {
    const r = await runShell(
      './synack run --target builtin,kernel,gvisor tests/stack_rst_test.ts --filter "PAWS: a segment"',
    );
    assert.equal(r.code, 1, r.text);
    assert.match(r.text, /^DIFF PAWS: a segment with an older timestamp/m);
    assert.match(
      r.text,
      /^\s+builtin\s+pass\n\s+kernel\s+pass\n\s+gvisor\s+FAIL .*expect\(ack\) did not match/m,
    );
    assert.match(r.text, /0 same, 1 diverged/);
  },
});
