/**
 * Backtick commands of a packetdrill script, run where the script's stack
 * is: inside its network namespace, from the script's folder, through
 * `/bin/sh -c` as packetdrill's `system()` runs them.
 *
 * One helper process per run is the commands' parent, so that `${PPID}` in
 * a command and `$PACKETDRILL_PID` (which `set_sysctls.py` reads) name the
 * same process for the whole run, as they name packetdrill itself there:
 * `set_sysctls.py` writes `/tmp/sysctl_restore_${PACKETDRILL_PID}.sh` and a
 * cleanup command runs `/tmp/sysctl_restore_${PPID}.sh`. Runs side by side
 * get different helpers, so they never share that file; synack removes it
 * when the run ends.
 *
 * The helper has a mount namespace of its own in which /proc/sys is
 * read-only except /proc/sys/net: a script's `sysctl` reaches its own
 * network namespace and nothing of the host's. It exits when its stdin
 * closes, that is when synack exits, however it exits.
 *
 * @example
 * ```ts ignore
 * // root only
 * const sh = await PktShell.start(netns.path, "/path/to/scripts");
 * assert.equal((await sh.run("echo $PPID")).out.trim(), String(sh.pid));
 * await sh.close();
 * ```
 */

const HELPER = `
import ctypes, json, os, subprocess, sys
libc = ctypes.CDLL(None, use_errno=True)
def mount(path, flags):
    if libc.mount(path.encode(), path.encode(), None, flags, None) != 0:
        sys.exit("mount %s: %s" % (path, os.strerror(ctypes.get_errno())))
# /proc/sys read-only, its net part writable again (resolved per network namespace at open):
# MS_BIND 4096, MS_REMOUNT 32, MS_RDONLY 1.
mount("/proc/sys", 4096)
mount("/proc/sys", 4096 | 32 | 1)
mount("/proc/sys/net", 4096)
mount("/proc/sys/net", 4096 | 32)
os.environ["PACKETDRILL_PID"] = str(os.getpid())
print(json.dumps({"pid": os.getpid()}), flush=True)
for line in sys.stdin:
    req = json.loads(line)
    p = subprocess.run(["/bin/sh", "-c", req["cmd"]], cwd=req["cwd"], capture_output=True)
    print(json.dumps({"status": p.returncode,
                      "out": p.stdout.decode("utf-8", "replace")[-4000:],
                      "err": p.stderr.decode("utf-8", "replace")[-4000:]}), flush=True)
`;

/** What one command did. */
export interface ShellResult {
  status: number;
  out: string;
  err: string;
}

/** The per-run command runner. */
export class PktShell {
  #lines: AsyncIterator<string>;
  #writer: WritableStreamDefaultWriter<Uint8Array>;

  private constructor(
    readonly child: Deno.ChildProcess,
    readonly pid: number,
    readonly cwd: string,
    lines: AsyncIterator<string>,
    writer: WritableStreamDefaultWriter<Uint8Array>,
  ) {
    this.#lines = lines;
    this.#writer = writer;
  }

  /** Starts the helper inside the namespace at `netnsPath`. */
  static async start(netnsPath: string, cwd: string): Promise<PktShell> {
    const child = new Deno.Command("nsenter", {
      args: [
        `--net=${netnsPath}`,
        "--",
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "python3",
        "-c",
        HELPER,
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const lines = child.stdout.pipeThrough(new TextDecoderStream()).pipeThrough(lineSplitter())
      [Symbol.asyncIterator]();
    const first = await lines.next();
    if (first.done) {
      const err = new TextDecoder().decode((await child.output()).stderr).trim();
      throw new Error(
        `the shell helper for backtick commands did not start: ${err || "no output"}`,
      );
    }
    void collect(child.stderr);
    const { pid } = JSON.parse(first.value) as { pid: number };
    return new PktShell(child, pid, cwd, lines, child.stdin.getWriter());
  }

  /** Runs `cmd` with /bin/sh -c and waits for it. */
  async run(cmd: string): Promise<ShellResult> {
    await this.#writer.write(
      new TextEncoder().encode(JSON.stringify({ cmd, cwd: this.cwd }) + "\n"),
    );
    const r = await this.#lines.next();
    if (r.done) throw new Error("the shell helper exited");
    return JSON.parse(r.value) as ShellResult;
  }

  /** Ends the helper and removes the sysctl restore file its commands may have left. */
  async close(): Promise<void> {
    await this.#writer.close().catch(() => {});
    await this.child.status;
    await Deno.remove(`/tmp/sysctl_restore_${this.pid}.sh`).catch(() => {});
  }
}

function lineSplitter(): TransformStream<string, string> {
  let buf = "";
  return new TransformStream({
    transform(chunk, ctl) {
      buf += chunk;
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        ctl.enqueue(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      }
    },
  });
}

async function collect(s: ReadableStream<Uint8Array>): Promise<void> {
  for await (const _ of s) {
    // The helper's own stderr (a python traceback) only matters if it stops answering.
  }
}
