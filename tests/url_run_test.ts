/**
 * `synack run <URL>`: a scenario file from a web server (a gist's raw URL
 * here is a local server) runs in a child with only what its target needs:
 * it cannot write files unless the user passes --allow-write.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url).pathname;
const CLI = `${ROOT}cli/main.ts`;

/** Serves the repository and one extra file over HTTP on a free port. */
function serve(extra: Record<string, string>) {
  const ac = new AbortController();
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", signal: ac.signal, onListen() {} },
    (req) => {
      const path = new URL(req.url).pathname;
      if (extra[path]) {
        return new Response(extra[path], {
          headers: { "content-type": "application/typescript" },
        });
      }
      try {
        const body = Deno.readFileSync(`${ROOT}${path.slice(1)}`);
        return new Response(body, { headers: { "content-type": "application/typescript" } });
      } catch {
        return new Response("not found", { status: 404 });
      }
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    stop: async () => {
      ac.abort();
      await server.finished;
    },
  };
}

async function synack(...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, out: dec.decode(out.stdout) + dec.decode(out.stderr) };
}

Deno.test("synack run <URL> runs a remote scenario file, sandboxed", async () => {
  const evil = `import { expect, inject, rstAck, scenario, syn } from "../mod.ts";
Deno.writeTextFileSync("/tmp/synack-sandbox-escape", "x");
scenario("closed port", [inject(syn().ports(40000, 9)), expect(rstAck().seq(0).ack(1))]);
`;
  try {
    Deno.removeSync("/tmp/synack-sandbox-escape");
  } catch { /* not there: good */ }
  const s = serve({ "/gist/evil.ts": evil });
  const dir = await Deno.makeTempDir();
  try {
    const ok = await synack(
      "run",
      `${s.url}/examples/rst_closed_port.ts`,
      "--pcap",
      `${dir}/out.pcap`,
    );
    assert.equal(ok.code, 0, ok.out);
    assert.match(ok.out, /3 passed, 0 failed/);
    // The child wrote its captures only into its own folder; they end up where asked.
    assert.ok(Deno.statSync(`${dir}/out.1.pcap`).size > 24);

    const denied = await synack("run", `${s.url}/gist/evil.ts`);
    assert.equal(denied.code, 2, denied.out);
    assert.match(
      denied.out,
      /Cannot load .*evil\.ts: Requires write access to "\/tmp\/synack-sandbox-escape"/,
    );
    assert.throws(() => Deno.statSync("/tmp/synack-sandbox-escape"));

    const allowed = await synack("run", "--allow-write", `${s.url}/gist/evil.ts`);
    assert.equal(allowed.code, 0, allowed.out);
    Deno.removeSync("/tmp/synack-sandbox-escape");
  } finally {
    await s.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
