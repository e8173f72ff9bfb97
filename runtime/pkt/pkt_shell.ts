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

/**
 * The helper: a shell (no interpreter to start: a few milliseconds). It
 * makes /proc/sys read-only but for its net part (resolved per network
 * namespace at open), goes to the script's folder, and then for each line
 * of base64 on stdin runs the command as its own child with `sh -c`, and
 * answers one line: the status, stdout and stderr in base64. Commands'
 * output goes through files in a private folder it removes on exit.
 */
const HELPER = `
set -u
mount --bind /proc/sys /proc/sys && mount -o remount,bind,ro /proc/sys &&
  mount --bind /proc/sys/net /proc/sys/net && mount -o remount,bind,rw /proc/sys/net || exit 1
cd "$1" || exit 1
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
export PACKETDRILL_PID=$$
echo "pid $$"
while IFS= read -r line; do
  cmd=$(printf %s "$line" | base64 -d)
  sh -c "$cmd" </dev/null >"$tmp/out" 2>"$tmp/err"
  echo "$? $(tail -c 4000 "$tmp/out" | base64 -w0) $(tail -c 4000 "$tmp/err" | base64 -w0)"
done
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
        "sh",
        "-c",
        HELPER,
        "pkt-shell",
        cwd,
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
    const pid = Number(/^pid (\d+)$/.exec(first.value)?.[1]);
    if (!pid) {
      throw new Error(`the shell helper for backtick commands said ${JSON.stringify(first.value)}`);
    }
    return new PktShell(child, pid, cwd, lines, child.stdin.getWriter());
  }

  /** Runs `cmd` with /bin/sh -c and waits for it. */
  async run(cmd: string): Promise<ShellResult> {
    await this.#writer.write(new TextEncoder().encode(encodeBase64(cmd) + "\n"));
    const r = await this.#lines.next();
    if (r.done) throw new Error("the shell helper exited");
    const [status, out, err] = r.value.split(" ");
    return { status: Number(status), out: decodeBase64(out ?? ""), err: decodeBase64(err ?? "") };
  }

  /** Ends the helper and removes the sysctl restore file its commands may have left. */
  async close(): Promise<void> {
    await this.#writer.close().catch(() => {});
    await this.child.status;
    await Deno.remove(`/tmp/sysctl_restore_${this.pid}.sh`).catch(() => {});
  }
}

function encodeBase64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

function decodeBase64(b64: string): string {
  const bin = atob(b64);
  return new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
}

/** Text in, one line (without its newline) out per newline: a child's line protocol. */
export function lineSplitter(): TransformStream<string, string> {
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
