/**
 * `synack run --target builtin,kernel` on the examples: verdicts agree, and
 * gVisor's model is skipped on the kernel with the reason. Masks, timing and
 * every-divergence reports are tested without a kernel in
 * tests/divergence_test.ts. Needs root; skips visibly without.
 */
import assert from "node:assert/strict";
import { runCommand } from "../../cli/run_command.ts";
import { kernelUnavailable } from "../../runtime/kernel/kernel_support.ts";

const why = kernelUnavailable();
const skip = why ? ` (skipped: ${why})` : "";

async function differential(paths: string[], masks?: ("psh" | "window" | "timing")[]) {
  const lines: string[] = [];
  const code = await runCommand(paths, {
    target: "builtin,kernel",
    masks,
    print: (l) => lines.push(l),
  });
  return { code, text: lines.join("\n"), last: lines.at(-1) };
}

Deno.test({
  name: `differential: the examples agree; gVisor's model is skipped on the kernel${skip}`,
  ignore: why !== undefined,
  async fn() {
    const r = await differential(["examples/"]);
    assert.equal(r.code, 0, r.text);
    assert.match(
      r.text,
      /^skip gVisor: a TS-less ACK[^\n]*\n\s+builtin\s+pass\n\s+kernel\s+skip profile gvisor models gVisor's netstack, not the Linux kernel$/m,
    );
    assert.match(r.text, /^same Linux: the same TS-less ACK completes the handshake/m);
    assert.equal(r.last, "23 same, 0 diverged, 2 skipped");
  },
});

Deno.test("differential: a bad target list or mask is refused before anything runs", async () => {
  await assert.rejects(
    () => runCommand(["examples/rst_closed_port.ts"], { target: "builtin,", print: () => {} }),
    /--target: empty name in "builtin,"/,
  );
  await assert.rejects(
    () =>
      runCommand(["examples/rst_closed_port.ts"], { target: "builtin,kernal", print: () => {} }),
    /Unknown target "kernal": want builtin, builtin:<profile>, kernel, raw, raw:echo=<port> or gvisor/,
  );
});
