/**
 * Running `.pkt` files: one with packetdrill-style arguments, or many at
 * once, each in a namespace of its own, `jobs` at a time. The families are
 * the kernel runner's (`ksft_runner.sh`): each script once with the IPv4
 * arguments and once with the IPv6 ones.
 *
 * @example
 * ```ts ignore
 * // root only
 * const r = await runPktFile("tcp_inq_client.pkt", KSFT_FAMILIES.ipv4);
 * const all = await runPktJobs(jobs, 6, (job, r) => console.log(job.path, r.passed));
 * ```
 */
import { dirname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { PktScript } from "../../dsl/pkt/pkt_ast.ts";
import { parsePkt } from "../../dsl/pkt/pkt_parser.ts";
import { isPktScenario, toPktScript } from "../../dsl/pkt/pkt_steps.ts";
import { pktConfig } from "./pkt_config.ts";
import { type PktResult, runPkt } from "./pkt_runner.ts";
import { lineSplitter } from "./pkt_shell.ts";

/** One run: a file with the arguments packetdrill would get. */
export interface PktJob {
  path: string;
  /** Shown in tables: ipv4, ipv6, or the --ip_version given. */
  family: string;
  argv: readonly string[];
}

/**
 * Parses and runs one file. Syntax errors and bad flags throw (a
 * `PktSyntaxError` or `RangeError`, one line each); everything after
 * parsing is the run's verdict.
 *
 * `untrusted` (a script from a URL, or `--sandbox`): packets and system
 * calls act only inside the run's own namespace, but backtick commands and
 * Python would run as root on this machine, so a script with any is refused,
 * with each such line named.
 */
export async function runPktFile(
  path: string,
  argv: readonly string[],
  o: { untrusted?: boolean } = {},
): Promise<PktResult> {
  const remote = /^https?:\/\//.test(path);
  const script = await loadPktScript(path, argv, remote || (o.untrusted ?? false));
  if (remote || o.untrusted) refuseCode(script);
  const config = pktConfig(argv, script.options);
  // --dry_run: packetdrill parses the script and its flags and stops there.
  if (config.dryRun) {
    return { file: script.file, passed: true, events: 0, elapsedMs: 0, dryRun: true };
  }
  const dir = remote ? Deno.cwd() : dirname(resolve(path));
  // A run in which synack itself was late (the machine was busy: its thread woke or injected
  // after its time) says nothing certain about the stack; it is run again, and says so.
  const reruns: { usecs: number; line: number }[] = [];
  for (;;) {
    const r = await runPkt(script, config, { dir });
    if (!r.late || r.late.usecs <= LATE_USECS || reruns.length === RERUNS) {
      return reruns.length ? { ...r, reruns } : r;
    }
    reruns.push(r.late);
  }
}

/**
 * A script from a `.pkt` file, or from a `.pkt.ts` module of steps (what
 * `synack convert` writes), with the `-D` symbols of `argv` applied. A
 * module is code: one from a URL or under --sandbox is refused.
 */
export async function loadPktScript(
  path: string,
  argv: readonly string[],
  untrusted: boolean,
): Promise<PktScript> {
  const { defines } = pktConfig(argv);
  if (!path.endsWith(".ts")) {
    const text = /^https?:\/\//.test(path) ? await fetchText(path) : await Deno.readTextFile(path);
    return parsePkt(text, path.split("/").at(-1)!, defines);
  }
  if (untrusted) {
    throw new RangeError(
      `${path}: a module of packetdrill steps is code, and code from a URL or under --sandbox ` +
        "does not run with the privileges a .pkt run needs; run the .pkt file, or download and read the module",
    );
  }
  let mod: Record<string, unknown>;
  try {
    mod = await import(pathToFileURL(resolve(path)).href);
  } catch (e) {
    if (e instanceof RangeError) throw e;
    throw new RangeError(`Cannot load ${path}: ${(e as Error).message}`, { cause: e });
  }
  if (!isPktScenario(mod.default)) {
    throw new RangeError(
      `${path}: expected a default export made with pkt.script(...) (what synack convert writes)`,
    );
  }
  return toPktScript(mod.default, defines);
}

/** How late synack may be (µs) before a run is not trusted: half the 4 ms default tolerance. */
export const LATE_USECS = 2000;
/** Runs thrown away at most before the verdict of the next one stands. */
const RERUNS = 2;

async function fetchText(url: string): Promise<string> {
  const r = await fetch(url);
  if (!r.ok) throw new RangeError(`${url}: ${r.status} ${r.statusText}`);
  return await r.text();
}

/** Throws, naming every line that would run code on this machine. */
function refuseCode(script: PktScript): void {
  const lines: string[] = [];
  if (script.init) lines.push(`${script.file}:${script.init.line}: a shell command`);
  for (const e of script.events) {
    if (e.action.kind === "command") lines.push(`${script.file}:${e.line}: a shell command`);
    if (e.action.kind === "code") lines.push(`${script.file}:${e.line}: Python code`);
  }
  if (script.cleanup) lines.push(`${script.file}:${script.cleanup.line}: a shell command`);
  if (lines.length) {
    throw new RangeError(
      `${lines.join("; ")}: a script from a URL or under --sandbox may not run shell commands or ` +
        "Python (they would run as root here); download it, read it, and run the file",
    );
  }
}

/**
 * Runs `jobs`, at most `concurrency` at a time; results in the jobs' order.
 * `onDone` hears each first result; a timing failure among parallel runs is
 * then run again alone, and its result replaced (`underLoad` says so when the
 * verdict changed).
 */
export async function runPktJobs(
  jobs: readonly PktJob[],
  concurrency: number,
  onDone?: (job: PktJob, r: PktResult) => void,
  isolated = false,
): Promise<PktResult[]> {
  const results: PktResult[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    const child = isolated ? new PktWorker() : undefined;
    while (next < jobs.length) {
      const i = next++;
      const job = jobs[i];
      let r: PktResult;
      try {
        r = child ? await child.run(job) : await runPktFile(job.path, job.argv);
      } catch (e) {
        const message = `${job.path.split("/").at(-1)}: ${(e as Error).message}`;
        r = {
          file: job.path,
          passed: false,
          failure: { line: 0, kind: "setup", message, detail: [] },
          events: 0,
          elapsedMs: 0,
        };
      }
      results[i] = r;
      onDone?.(job, r);
    }
    await child?.close();
  };
  const width = Math.max(1, Math.min(concurrency, jobs.length));
  await Promise.all(Array.from({ length: width }, worker));
  if (width === 1) return results;
  // A timing failure while other runs shared the machine may be the machine's (the kernel's own
  // timers wait for a CPU too): each is run again alone, and that verdict stands.
  const again = results.flatMap((r, i) => r.failure?.kind === "timing" ? [i] : []);
  if (again.length) {
    const alone = await runPktJobs(again.map((i) => jobs[i]), 1, undefined, isolated);
    again.forEach((i, n) => {
      const [first, solo] = [results[i].failure!, alone[n].failure];
      const same = solo?.line === first.line && solo.kind === first.kind;
      results[i] = same ? alone[n] : { ...alone[n], underLoad: first.message };
    });
  }
  return results;
}

/** The `.pkt` files under `dir`, sorted. */
export async function pktFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile && e.name.endsWith(".pkt")) out.push(`${dir.replace(/\/$/, "")}/${e.name}`);
    else if (e.isDirectory) out.push(...await pktFiles(`${dir.replace(/\/$/, "")}/${e.name}`));
  }
  return out.sort();
}

/**
 * A child process that runs jobs one after another (`pkt_child.ts`): runs
 * side by side then share no thread, each waits for its script's times on
 * its own real-time thread, and a worker starts once, not once per job.
 */
export class PktWorker {
  readonly #child: Deno.ChildProcess;
  readonly #lines: AsyncIterator<string>;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;

  constructor() {
    const child = new URL("./pkt_child.ts", import.meta.url).pathname;
    this.#child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", "--no-prompt", child],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#writer = this.#child.stdin.getWriter();
    this.#lines = this.#child.stdout.pipeThrough(new TextDecoderStream()).pipeThrough(
      lineSplitter(),
    )
      [Symbol.asyncIterator]();
  }

  /** Runs one job in the worker. */
  async run(job: PktJob): Promise<PktResult> {
    await this.#writer.write(new TextEncoder().encode(JSON.stringify(job) + "\n"));
    const line = await this.#lines.next();
    if (line.done) {
      return {
        file: job.path,
        passed: false,
        failure: {
          line: 0,
          kind: "setup",
          message: `${job.path.split("/").at(-1)}: the worker process ended without a verdict`,
          detail: [],
        },
        events: 0,
        elapsedMs: 0,
      };
    }
    return JSON.parse(line.value) as PktResult;
  }

  /** Ends the worker. */
  async close(): Promise<void> {
    await this.#writer.close().catch(() => {});
    await this.#child.status;
  }
}
