/**
 * packetdrill scripts on the command line:
 *
 * - `synack run [packetdrill flags] file.pkt…` runs each script against the
 *   kernel in a private namespace and prints packetdrill's verdict, with the
 *   failing line of the script and both packets when one differs.
 * - `synack test --pkt <dir> [--oracle verdicts.tsv] [--jobs N] [flags]`
 *   runs every script under `dir` once per family (the kernel's
 *   `ksft_runner.sh` arguments for ipv4 and ipv6), in parallel namespaces,
 *   and prints one line per run; with an oracle, whether each agrees with
 *   packetdrill's verdict, failing on any difference. `--pkt kernel` is the
 *   kernel's own corpus from Debian's linux-source-6.12, checked against
 *   packetdrill's verdicts recorded on this machine kind
 *   (`runtime/pkt/oracle/`).
 *
 * packetdrill's own flags (`--tolerance_usecs=7000`, `-D TFO_COOKIE=…`,
 * `--ip_version=ipv6`) are taken as packetdrill takes them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { splitPktArgs } from "./pkt_command.ts";
 * assert.deepEqual(splitPktArgs(["--ip_version=ipv6", "-D", "A=B", "x.pkt"]),
 *   { files: ["x.pkt"], argv: ["--ip_version=ipv6", "-D", "A=B"], own: {} });
 * assert.deepEqual(splitPktArgs(["--pkt", "dir", "--jobs", "4"]).own, { pkt: "dir", jobs: "4" });
 * ```
 */
import { convertPkt } from "../dsl/pkt/pkt_convert.ts";
import { parsePkt } from "../dsl/pkt/pkt_parser.ts";
import { pktScriptSource } from "../dsl/pkt/pkt_source.ts";
import { kernelCorpus } from "../runtime/pkt/kernel_corpus.ts";
import { KSFT_FAMILIES, pktConfig } from "../runtime/pkt/pkt_config.ts";
import type { PktResult } from "../runtime/pkt/pkt_runner.ts";
import {
  loadPktScript,
  pktFiles,
  type PktJob,
  runPktFile,
  runPktJobs,
} from "../runtime/pkt/pkt_suite.ts";
import { agrees, parseOracle } from "../runtime/pkt/pkt_verdicts.ts";

/** synack's own flags in a pkt command line. */
const OWN = new Set(["--pkt", "--oracle", "--jobs", "--family", "--target", "-t"]);
/** synack's own switches (no value) in a pkt command line. */
const SWITCHES = new Set(["--sandbox", "--converted"]);

/** Splits a command line into .pkt files, packetdrill flags and synack's own flags. */
export function splitPktArgs(
  args: readonly string[],
): { files: string[]; argv: string[]; own: Record<string, string | undefined> } {
  const files: string[] = [];
  const argv: string[] = [];
  const own: Record<string, string | undefined> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const [flag, inline] = a.includes("=")
      ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)]
      : [a, undefined];
    if (OWN.has(flag)) {
      const v = inline ?? args[++i];
      if (v === undefined) throw new RangeError(`${flag}: want a value`);
      own[flag === "-t" ? "target" : flag.slice(2)] = v;
    } else if (SWITCHES.has(a)) {
      own[a.slice(2)] = "true";
    } else if (a === "-D" || a === "--define") {
      argv.push(a, args[++i] ?? "");
    } else if (a.startsWith("-")) argv.push(a);
    else files.push(a);
  }
  return { files, argv, own };
}

/** True when a `run` command line names .pkt files (or `.pkt.ts` modules of their steps). */
export function isPktRun(args: readonly string[]): boolean {
  return args.some((a) => /\.pkt(\.ts)?(#.*)?$/.test(a) && !a.startsWith("-"));
}

const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** The lines that explain a failure: packetdrill's message, the packets, the script line itself. */
export async function failureLines(path: string, r: PktResult): Promise<string[]> {
  const f = r.failure!;
  const out = [`  ${f.message}`, ...f.detail.map((d) => `    ${d}`)];
  if (f.line > 0) {
    const text = await Deno.readTextFile(path).catch(() => "");
    const src = text.split("\n")[f.line - 1];
    if (src !== undefined) out.push(`  line ${f.line}: ${src.trim()}`);
  }
  return out;
}

/** Reads a .pkt file (or a .pkt.ts module) with packetdrill's flags. */
async function parseFile(path: string, argv: readonly string[]) {
  const script = await loadPktScript(path, argv, false);
  return { script, config: pktConfig(argv, script.options) };
}

/** A .pkt file as `synack convert` writes it: a module of its steps, its `-D` words kept. */
async function moduleOf(path: string, argv: readonly string[]) {
  const text = await Deno.readTextFile(path);
  const { defines } = pktConfig(argv);
  const script = parsePkt(text, path.split("/").at(-1)!, defines, { symbolic: true });
  return pktScriptSource(script, text, defines);
}

/**
 * `synack convert [flags] file.pkt`: a module of the script's steps
 * (`pkt.script`) on stdout, 0; it runs with the script's verdict. With
 * `--native`, a scenario in the DSL's own steps (inject, expect, calls),
 * for the built-in stack, when the DSL can say every line; each line it
 * cannot is printed instead, 1.
 */
export async function pktConvertCommand(
  args: readonly string[],
  print = (l: string) => console.log(l),
): Promise<number> {
  const native = args.includes("--native");
  const { files, argv } = splitPktArgs(args.filter((a) => a !== "--native"));
  if (files.length !== 1) throw new RangeError(`convert: want one .pkt file, got ${files.length}`);
  if (!native) {
    const out = await moduleOf(files[0], argv);
    for (const p of out.problems) print(p);
    if (out.problems.length) return 1;
    print(out.source.trimEnd());
    return 0;
  }
  const { script, config } = await parseFile(files[0], argv);
  const out = convertPkt(script, {
    bindPort: config.bindPort,
    connectPort: config.connectPort,
    toleranceUsecs: config.toleranceUsecs,
  });
  if (out.problems.length) {
    for (const p of out.problems) print(p);
    print(
      `${files[0]}: ${out.problems.length} line${
        out.problems.length === 1 ? "" : "s"
      } synack's DSL cannot say yet; nothing converted`,
    );
    return 1;
  }
  print(out.source.trimEnd());
  return 0;
}

/** Why a run was thrown away and run again: synack itself was late. */
export function rerunLines(r: PktResult): string[] {
  const load = r.underLoad === undefined ? [] : [
    `run again alone: beside the other runs it failed on timing (${
      r.underLoad.replace(/^[^:]+:\d+: /, "")
    }), which a busy machine can cause`,
  ];
  return [
    ...load,
    ...(r.reruns ?? []).map((x) =>
      `run again: synack was ${(x.usecs / 1000).toFixed(1)} ms late at line ${x.line} ` +
      "(a busy machine), so that run said nothing certain about the stack"
    ),
  ];
}

/**
 * `synack run … file.pkt`: 0 when every script passes, 1 otherwise, 2 for
 * bad input. `--target kernel` (the default) runs the script itself with
 * packetdrill's semantics; `--target builtin` runs its conversion on the
 * built-in stack, and says which lines it cannot model.
 */
export async function pktRunCommand(
  args: readonly string[],
  print = (l: string) => console.log(l),
): Promise<number> {
  const { files, argv, own } = splitPktArgs(args);
  const target = own.target ?? "kernel";
  const untrusted = own.sandbox === "true";
  delete own.target;
  delete own.sandbox;
  if (Object.keys(own).length) {
    throw new RangeError(`--${Object.keys(own)[0]} is for synack test --pkt`);
  }
  if (target !== "kernel" && target !== "builtin") {
    throw new RangeError(
      `--target: .pkt files run on kernel or builtin, got ${JSON.stringify(target)}`,
    );
  }
  pktConfig(argv); // bad flags are refused before anything runs
  if (target === "builtin") return await runOnBuiltin(files, argv, print);
  let passed = 0;
  for (const path of files) {
    const r = await runPktFile(path, argv, { untrusted });
    const family = pktConfig(argv).ipVersion;
    print(
      r.dryRun
        ? `PARSED ${path} (--dry_run: ${family}, not run)`
        : `${r.passed ? "PASS" : "FAIL"} ${path} (${family}, ${secs(r.elapsedMs)})`,
    );
    for (const w of r.warnings ?? []) print(`  ${w}`);
    for (const l of rerunLines(r)) print(`  ${l}`);
    if (r.passed) passed++;
    else for (const l of await failureLines(path, r)) print(l);
  }
  print(`${passed} passed, ${files.length - passed} failed`);
  return passed === files.length ? 0 : 1;
}

/** What became of a .pkt file on the built-in stack. */
type BuiltinOutcome =
  | { kind: "pass" }
  | { kind: "fail"; lines: string[] }
  | { kind: "unmodelled"; problems: string[] };

/** Each file converted, then run on the built-in stack; a file that does not convert says which lines. */
async function onBuiltin(
  files: readonly string[],
  argv: readonly string[],
): Promise<BuiltinOutcome[]> {
  const { runCommand } = await import("./run_command.ts");
  const dir = await Deno.makeTempDir({ prefix: "synack-pkt-" });
  const out: BuiltinOutcome[] = [];
  try {
    for (const path of files) {
      const { script, config } = await parseFile(path, argv);
      const c = convertPkt(script, {
        bindPort: config.bindPort,
        connectPort: config.connectPort,
        toleranceUsecs: config.toleranceUsecs,
      });
      if (c.problems.length) {
        out.push({ kind: "unmodelled", problems: c.problems });
        continue;
      }
      const ts = `${dir}/${path.split("/").at(-1)!.replace(/\.pkt(\.ts)?$/, "")}.ts`;
      await Deno.writeTextFile(ts, c.source);
      const lines: string[] = [];
      const code = await runCommand([ts], { target: "builtin", print: (l) => lines.push(l) });
      const shown = path.replace(/\.pkt(\.ts)?$/, ".ts");
      out.push(
        code === 0 ? { kind: "pass" } : {
          kind: "fail",
          lines: lines.slice(1, -1).map((l) => l.replaceAll(ts, shown)),
        },
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  return out;
}

/** `synack run --target builtin x.pkt`: a file that does not convert fails, with its lines. */
async function runOnBuiltin(
  files: readonly string[],
  argv: readonly string[],
  print: (l: string) => void,
): Promise<number> {
  const outcomes = await onBuiltin(files, argv);
  outcomes.forEach((o, i) => {
    if (o.kind === "unmodelled") {
      print(`FAIL ${files[i]} (builtin): the built-in stack cannot run what these lines say`);
      for (const p of o.problems) print(`  ${p}`);
    } else {
      print(`${o.kind === "pass" ? "PASS" : "FAIL"} ${files[i]} (builtin, converted)`);
      if (o.kind === "fail") { for (const l of o.lines) print(`  ${l}`); }
    }
  });
  const passed = outcomes.filter((o) => o.kind === "pass").length;
  print(`${passed} passed, ${files.length - passed} failed`);
  return passed === files.length ? 0 : 1;
}

/**
 * `synack test --pkt <dir> --target builtin`: what the built-in stack models
 * runs (converted); what it does not is said, a line each, and not counted
 * as a failure.
 */
async function testOnBuiltin(
  paths: readonly string[],
  argv: readonly string[],
  print: (l: string) => void,
) {
  const outcomes = await onBuiltin(paths, argv);
  const width = Math.max(...paths.map((p) => p.split("/").at(-1)!.length));
  outcomes.forEach((o, i) => {
    const name = paths[i].split("/").at(-1)!.padEnd(width);
    if (o.kind === "unmodelled") {
      const first = o.problems[0].replace(/^[^:]+:/, "line ");
      const more = o.problems.length > 1 ? ` (and ${o.problems.length - 1} more)` : "";
      print(`skip   ${name}  not modelled: ${first}${more}`);
    } else {
      print(`${o.kind === "pass" ? "ok    " : "FAIL  "} ${name}  converted`);
      if (o.kind === "fail") { for (const l of o.lines) print(`  ${l}`); }
    }
  });
  const n = (k: BuiltinOutcome["kind"]) => outcomes.filter((o) => o.kind === k).length;
  print(
    `${n("pass")} passed, ${n("fail")} failed, ${
      n("unmodelled")
    } not modelled by the built-in stack`,
  );
  return n("fail") ? 1 : 0;
}

/**
 * Each script converted (`synack convert`) into a copy of its folder, next
 * to the files its commands use (`./defaults.sh`); a script that does not
 * convert is an error naming its lines.
 */
async function convertAll(
  scripts: readonly string[],
  dir: string,
  argv: readonly string[],
): Promise<{ dir: string; paths: string[] }> {
  const tmp = await Deno.makeTempDir({ prefix: "synack-converted-" });
  try {
    const paths: string[] = [];
    await copyTree(dir, tmp);
    for (const path of scripts) {
      const name = path.split("/").at(-1)!;
      const out = await moduleOf(path, argv);
      if (out.problems.length) throw new RangeError(out.problems.join("; "));
      const rel = path.startsWith(`${dir.replace(/\/$/, "")}/`)
        ? path.slice(dir.replace(/\/$/, "").length + 1)
        : name;
      await Deno.writeTextFile(`${tmp}/${rel}.ts`, out.source);
      paths.push(`${tmp}/${rel}.ts`);
    }
    return { dir: tmp, paths };
  } catch (e) {
    await Deno.remove(tmp, { recursive: true });
    throw e;
  }
}

async function copyTree(from: string, to: string): Promise<void> {
  for await (const e of Deno.readDir(from)) {
    if (e.isDirectory) {
      await Deno.mkdir(`${to}/${e.name}`);
      await copyTree(`${from}/${e.name}`, `${to}/${e.name}`);
    } else if (e.isFile) await Deno.copyFile(`${from}/${e.name}`, `${to}/${e.name}`);
  }
}

/** A converted module's result in its script's lines: each step's comment names its `.pkt` line. */
async function scriptLines(module: string, r: PktResult): Promise<PktResult> {
  const lines = (await Deno.readTextFile(module)).split("\n");
  const of = (n: number) => {
    const m = /\/\/ [^\s]+\.pkt:(\d+)$/.exec(lines[n - 1] ?? "");
    return m ? Number(m[1]) : n;
  };
  return {
    ...r,
    failure: r.failure && { ...r.failure, line: of(r.failure.line) },
    reruns: r.reruns?.map((x) => ({ ...x, line: of(x.line) })),
  };
}

/** `synack test --pkt <dir>`: every script, both families, in parallel; against an oracle if given. */
export async function pktTestCommand(
  args: readonly string[],
  print = (l: string) => console.log(l),
): Promise<number> {
  const { files, argv, own } = splitPktArgs(args);
  if (!own.pkt) throw new RangeError("--pkt: want a folder of .pkt files, or kernel");
  // `--pkt kernel`: the kernel's own scripts, with packetdrill's recorded verdicts as the oracle.
  const kernel = own.pkt === "kernel";
  const dir = kernel ? await kernelCorpus() : own.pkt;
  own.oracle ??= kernel
    ? new URL("../runtime/pkt/oracle/linux-6.12.tsv", import.meta.url).pathname
    : undefined;
  const jobsN = own.jobs === undefined ? 6 : Number(own.jobs);
  if (!Number.isInteger(jobsN) || jobsN < 1) {
    throw new RangeError(`--jobs: want a whole number ≥ 1, got ${own.jobs}`);
  }
  const target = own.target ?? "kernel";
  if (target !== "kernel" && target !== "builtin") {
    throw new RangeError(
      `--target: .pkt files run on kernel or builtin, got ${JSON.stringify(target)}`,
    );
  }
  if (target === "builtin") {
    return await testOnBuiltin([...files, ...await pktFiles(dir)], argv, print);
  }
  const families = (own.family ?? "ipv4,ipv6").split(",") as ("ipv4" | "ipv6")[];
  for (const f of families) {
    if (f !== "ipv4" && f !== "ipv6") {
      throw new RangeError(`--family: want ipv4 and/or ipv6, got ${f}`);
    }
  }
  pktConfig(argv);
  const oracle = own.oracle ? parseOracle(await Deno.readTextFile(own.oracle)) : undefined;
  const scripts = [...files, ...await pktFiles(dir)];
  if (!scripts.length) throw new RangeError(`${dir}: no .pkt files`);
  // --converted: each script through `synack convert`, and its module run in its place.
  const converted = own.converted === "true" ? await convertAll(scripts, dir, argv) : undefined;
  const paths = converted?.paths ?? scripts;
  const jobs: PktJob[] = paths.flatMap((path) =>
    families.map((family) => ({ path, family, argv: [...KSFT_FAMILIES[family], ...argv] }))
  );
  const started = performance.now();
  let results: PktResult[];
  try {
    results = await runPktJobs(jobs, jobsN, undefined, true);
    if (converted) {
      results = await Promise.all(results.map(async (r, i) => await scriptLines(jobs[i].path, r)));
    }
  } finally {
    if (converted) await Deno.remove(converted.dir, { recursive: true });
  }
  const wall = performance.now() - started;
  let differ = 0;
  let failed = 0;
  const width = Math.max(...scripts.map((p) => p.split("/").at(-1)!.length));
  for (let i = 0; i < jobs.length; i++) {
    const job = jobs[i];
    const r = results[i];
    const name = job.path.split("/").at(-1)!.replace(/\.ts$/, "");
    const verdict = r.passed ? "PASS" : `FAIL line ${r.failure!.line} ${r.failure!.kind}`;
    if (!r.passed) failed++;
    let mark = r.passed ? "ok" : "FAIL";
    let extra = "";
    if (oracle) {
      const row = oracle.get(name);
      if (!row) {
        mark = "new";
        extra = "(not in the oracle)";
      } else {
        const want = row[job.family as "ipv4" | "ipv6"];
        const a = agrees(r, want, row);
        mark = a.ok ? "agree" : "DIFFER";
        if (!a.ok) differ++;
        extra = `packetdrill ${want}${
          want === "FAIL" && row.failure ? ` line ${row.failure.line} ${row.failure.kind}` : ""
        }${a.note ? ` (${a.note}: the kernel's pacing varies)` : ""}`;
      }
    }
    print(
      `${mark.padEnd(6)} ${name.padEnd(width)}  ${job.family}  ${verdict.padEnd(24)} ${extra}`
        .trimEnd(),
    );
    for (const l of rerunLines(r)) print(`  ${l}`);
    if ((oracle ? mark === "DIFFER" : !r.passed)) {
      for (const l of await failureLines(scripts[Math.floor(i / families.length)], r)) {
        print(l);
      }
    }
  }
  const serial = results.reduce((n, r) => n + r.elapsedMs, 0);
  const timing = `wall ${secs(wall)} with ${jobsN} at a time (the runs took ${
    secs(serial)
  } together)`;
  if (oracle) {
    print(
      `${jobs.length} runs: ${
        jobs.length - differ
      } agree with packetdrill, ${differ} differ; ${timing}`,
    );
    return differ ? 1 : 0;
  }
  print(`${jobs.length - failed} passed, ${failed} failed; ${timing}`);
  return failed ? 1 : 0;
}
