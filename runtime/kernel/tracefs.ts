/**
 * The kernel's own tracepoints, read without touching the machine's tracing.
 *
 * Tracefs and its instances are shared by the whole machine, so synack never
 * uses the top-level buffer or the host's mount:
 * - A helper shell runs in a mount namespace of its own (`unshare --mount
 *   --propagation private`) and mounts tracefs there, on
 *   `/sys/kernel/tracing`; the host's mount table never sees it.
 * - It makes a tracing instance of its own, `instances/synack-<its pid>`,
 *   enables four events in it (below) and streams its `trace_pipe` to us.
 *   Other tracers (another synack run, perf, bpftrace) have their own buffers
 *   and filters; nothing of theirs is read or changed.
 * - It removes the instance when its stdin closes: when we close it, and
 *   when this process dies in any way, SIGKILL included (the kernel closes
 *   the pipe). On SIGINT, SIGTERM or SIGHUP to the helper itself it removes
 *   it too. If the helper itself is SIGKILLed, the next helper to start
 *   removes every `synack-<pid>` instance whose pid is gone.
 *
 * The events:
 * - `net:netif_receive_skb` (dev, skb address, length), filtered in the
 *   kernel to the thread running JS (the main one, or `deno test`'s): the datagrams synack writes to a
 *   TUN device are received in the writing thread, so each write has one,
 *   and its skb address names the segment for the next two;
 * - `skb:kfree_skb` (skb address, `enum skb_drop_reason`), same filter;
 * - `tcp:tcp_send_reset` (skb address of the segment answered or 0, the
 *   socket's state, addresses, `enum sk_rst_reason`), unfiltered: an RST
 *   sent from a timer runs in whatever task the interrupt found;
 * - markers: `sync()` writes one through the helper and waits for it to come
 *   back, so every event that happened before it has been read.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseTraceLine } from "./tracefs.ts";
 * const e = parseTraceLine(
 *   "  deno-4242 [001] b..1. 1234.567890: kfree_skb: skbaddr=0000000012345678 rx_sk=0000000000000000 protocol=2048 location=tcp_v4_rcv+0x1c reason: NO_SOCKET",
 * );
 * assert.deepEqual(e, { pid: 4242, kind: "drop", skb: "0000000012345678", reason: "NO_SOCKET", location: "tcp_v4_rcv+0x1c" });
 * const r = parseTraceLine(
 *   "  <idle>-0 [000] ..s1. 9.5: tcp_send_reset: skbaddr=0000000000000000 skaddr=00000000abcdef01 src=[fd3d:a0b:17d6::1]:8080 dest=[fd3d:fa7b:d17d::1]:40000 state=TCP_ESTABLISHED reason=TCP_ABORT_ON_CLOSE",
 * );
 * assert.ok(r?.kind === "reset" && r.src === "[fd3d:a0b:17d6::1]:8080" && r.state === "ESTABLISHED" && r.skb === undefined);
 * ```
 */

/** One event this reader uses. `skb` is the kernel's hashed pointer, as printed. */
export type KernelEvent =
  | { pid: number; kind: "receive"; dev: string; skb: string; len: number }
  | { pid: number; kind: "drop"; skb: string; reason: string; location: string }
  | {
    pid: number;
    kind: "reset";
    /** The segment answered; undefined for an RST a socket sends on its own. */
    skb?: string;
    src: string;
    dst: string;
    /** The socket's TCP state without `TCP_`; undefined where there is no socket. */
    state?: string;
    reason: string;
  }
  | { pid: number; kind: "marker"; text: string };

import { libc } from "./libc.ts";

const HEAD = /^\s*(.*)-(\d+)\s+(?:\(\s*[-\d]+\)\s+)?\[\d+\]\s+\S+\s+[\d.]+:\s+(\w+):\s(.*)$/;
const NULL_PTR = /^0+$/;

/** One line of `trace_pipe`, or undefined for one of another event. */
export function parseTraceLine(line: string): KernelEvent | undefined {
  const m = HEAD.exec(line);
  if (!m) return undefined;
  const pid = Number(m[2]), event = m[3], rest = m[4];
  const field = (k: string) => new RegExp(`(?:^|\\s)${k}[=:]\\s?(\\S+)`).exec(rest)?.[1] ?? "";
  switch (event) {
    case "netif_receive_skb":
      return {
        pid,
        kind: "receive",
        dev: field("dev"),
        skb: field("skbaddr"),
        len: Number(field("len")),
      };
    case "kfree_skb":
      return {
        pid,
        kind: "drop",
        skb: field("skbaddr"),
        reason: field("reason"),
        location: field("location"),
      };
    case "tcp_send_reset": {
      const skb = field("skbaddr"), state = field("state");
      return {
        pid,
        kind: "reset",
        skb: NULL_PTR.test(skb) ? undefined : skb,
        src: field("src"),
        dst: field("dest"),
        state: state === "UNKNOWN" || state === "" ? undefined : state.replace(/^TCP_/, ""),
        reason: field("reason"),
      };
    }
    case "tracing_mark_write":
      return { pid, kind: "marker", text: rest.trim() };
    default:
      return undefined;
  }
}

/** The helper: mount, instance, events, stream; clean up when stdin closes. `$1` is our pid. */
const HELPER = [
  "set -eu",
  "T=/sys/kernel/tracing",
  "# Instances a SIGKILLed helper left: synack-<pid> whose pid is gone.",
  'for d in "$T"/instances/synack-*; do',
  '  [ -d "$d" ] || continue',
  "  p=${d##*synack-}",
  "  # Alive, and not a zombie awaiting its reaper: still someone's.",
  `  if kill -0 "$p" 2>/dev/null && ! grep -q '^State:.*Z' "/proc/$p/status" 2>/dev/null; then continue; fi`,
  '  rmdir "$d" 2>/dev/null || true',
  "done",
  'I="$T/instances/synack-$$"',
  "cat_pid=",
  "cleanup() {",
  "  trap - EXIT INT TERM HUP",
  '  echo 0 > "$I/tracing_on" 2>/dev/null || true',
  '  if [ -n "$cat_pid" ]; then kill "$cat_pid" 2>/dev/null || true; wait "$cat_pid" 2>/dev/null || true; fi',
  '  rmdir "$I" 2>/dev/null || { sleep 0.1; rmdir "$I" 2>/dev/null; } || true',
  "}",
  'mkdir "$I"',
  "trap cleanup EXIT",
  "trap 'exit 1' INT TERM HUP",
  'echo 1024 > "$I/buffer_size_kb"',
  'echo "common_pid == $1" > "$I/events/net/netif_receive_skb/filter"',
  'echo "common_pid == $1" > "$I/events/skb/kfree_skb/filter"',
  'for e in net/netif_receive_skb skb/kfree_skb tcp/tcp_send_reset; do echo 1 > "$I/events/$e/enable"; done',
  'cat "$I/trace_pipe" &',
  "cat_pid=$!",
  'while read -r line; do echo "$line" > "$I/trace_marker"; done',
].join("\n");

/**
 * `unshare` arguments that run the shell `script` (with `args`) in a mount
 * namespace of its own, tracefs mounted there on /sys/kernel/tracing: what
 * the helper does, and what tests use to look at the machine's tracing
 * without mounting anything the host sees.
 */
export function inPrivateTracefs(script: string, ...args: string[]): string[] {
  const mount = "mount -t tracefs nodev /sys/kernel/tracing || exit 1";
  return ["--mount", "--propagation", "private", "--", "sh", "-c", `${mount}\n${script}`, ...args];
}

/** A reader of this process's kernel events; one per process, shared by its targets. */
export class KernelTracer {
  readonly #child: Deno.ChildProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  readonly #listeners = new Set<(e: KernelEvent) => void>();
  readonly #waiting = new Map<string, () => void>();
  readonly #done: Promise<void>;
  #marks = 0;
  #stderr = "";
  #ended = false;

  private constructor(child: Deno.ChildProcess) {
    this.#child = child;
    this.#stdin = child.stdin.getWriter();
    this.#done = this.#read();
    void this.#collectStderr();
  }

  async #read(): Promise<void> {
    let rest = "";
    for await (const chunk of this.#child.stdout.pipeThrough(new TextDecoderStream())) {
      const lines = (rest + chunk).split("\n");
      rest = lines.pop()!;
      for (const line of lines) this.#line(line);
    }
    this.#ended = true;
    for (const w of this.#waiting.values()) w();
    this.#waiting.clear();
  }

  #line(line: string): void {
    const e = parseTraceLine(line);
    if (!e) return;
    if (e.kind === "marker") {
      const k = e.text.replace(/^synack-sync /, "");
      this.#waiting.get(k)?.();
      this.#waiting.delete(k);
      return;
    }
    for (const l of this.#listeners) l(e);
  }

  async #collectStderr(): Promise<void> {
    for await (const chunk of this.#child.stderr.pipeThrough(new TextDecoderStream())) {
      this.#stderr += chunk;
    }
  }

  /** Starts the helper and waits until its events are on; throws with the reason it cannot. */
  static async start(): Promise<KernelTracer> {
    const child = new Deno.Command("unshare", {
      args: inPrivateTracefs(HELPER, "synack-trace", `${libc().gettid()}`),
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const t = new KernelTracer(child);
    await Promise.race([t.sync(), t.#done]);
    if (t.#ended) {
      await child.status;
      throw new Error(t.#stderr.trim().split("\n").at(-1) || "the tracing helper ended at once");
    }
    return t;
  }

  /** Calls `fn` with every event until the returned function is called. */
  listen(fn: (e: KernelEvent) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** Resolves once every event that happened before this call has been passed to the listeners. */
  sync(): Promise<void> {
    if (this.#ended) return Promise.resolve();
    const k = `${++this.#marks}`;
    const p = new Promise<void>((resolve) => this.#waiting.set(k, resolve));
    this.#stdin.write(new TextEncoder().encode(`synack-sync ${k}\n`)).catch(() => {
      this.#waiting.get(k)?.();
    });
    return p;
  }

  /** Ends the helper: it disables the events, removes the instance and exits. */
  async close(): Promise<void> {
    await this.#stdin.close().catch(() => {});
    await this.#done.catch(() => {});
    await this.#child.status;
  }
}

let shared: { tracer: Promise<KernelTracer>; users: number } | undefined;
let warned = false;

/**
 * The process's tracer, started by the first user and ended when the last
 * one lets go. Resolves to a string (why not, said once on stderr) where
 * tracefs cannot be used.
 */
export async function acquireTracer(): Promise<KernelTracer | string> {
  if (!shared) shared = { tracer: KernelTracer.start(), users: 0 };
  const s = shared;
  s.users++;
  try {
    return await s.tracer;
  } catch (e) {
    s.users--;
    if (shared === s) shared = undefined;
    const why = `the kernel's RST and drop reasons are not available: ${(e as Error).message}`;
    if (!warned) console.error(`synack: ${why}`);
    warned = true;
    return why;
  }
}

/** Lets go of the tracer; the last user ends it. */
export async function releaseTracer(): Promise<void> {
  const s = shared;
  if (!s || --s.users > 0) return;
  shared = undefined;
  await (await s.tracer).close();
}
