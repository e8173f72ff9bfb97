/**
 * `synack run --target builtin,kernel`: each scenario on both, and the first
 * divergence printed. Needs root; skips visibly without.
 */
import assert from "node:assert/strict";
import { runCommand } from "../../cli/run_command.ts";
import { kernelUnavailable } from "../../runtime/kernel/kernel_support.ts";

const why = kernelUnavailable();

Deno.test({
  name: `differential: the gVisor story shows where rfc7323-strict and Linux part${
    why ? ` (skipped: ${why})` : ""
  }`,
  ignore: why !== undefined,
  async fn() {
    const lines: string[] = [];
    const code = await runCommand(["examples/gvisor_timestamp_handshake.ts"], {
      target: "builtin,kernel",
      print: (l) => lines.push(l),
    });
    assert.equal(code, 1);
    const text = lines.join("\n");
    assert.match(text, /^DIFF gVisor \(rfc7323-strict\)/m);
    assert.match(
      text,
      /first divergence in calls, #5 \(examples\/gvisor_timestamp_handshake\.ts:38:5\):/,
    );
    assert.match(text, /builtin +\d+\.\d+ accept\(3\) = -1 EAGAIN/);
    assert.match(text, /kernel +\d+\.\d+ accept\(3\) = 4/);
    assert.match(text, /^same Linux: the same TS-less ACK completes the handshake/m);
    assert.equal(lines.at(-1), "3 same, 1 diverged");
  },
});

Deno.test("differential: a bad target list is refused before anything runs", async () => {
  await assert.rejects(
    () => runCommand(["examples/rst_closed_port.ts"], { target: "builtin,", print: () => {} }),
    /--target: empty name in "builtin,"/,
  );
  await assert.rejects(
    () =>
      runCommand(["examples/rst_closed_port.ts"], { target: "builtin,kernal", print: () => {} }),
    /Unknown target "kernal": want builtin, builtin:<profile>, kernel, raw or raw:echo=<port>/,
  );
});
