/**
 * The gVisor helper as a child process: started in a network namespace of
 * its own (`unshare --net`, with `--map-root-user` when not root), so that
 * even its empty network is private; datagrams and calls go over its stdin
 * and stdout as frames (`helper_protocol.ts`). It exits when its stdin
 * closes: when `close()` closes it, or when synack exits in any way, SIGKILL
 * included, since the pipe closes with the process.
 *
 * @example
 * ```ts ignore
 * const h = await HelperProcess.start(binary, { v4: "192.168.0.1/16", v6: "fd3d:a0b:17d6::1/48", mtu: 1500 });
 * h.onPacket = (bytes) => console.log(bytes.length);
 * await h.close();
 * ```
 */
import { TargetUnavailable } from "../engine/target_unavailable.ts";
import {
  encodeFrame,
  FrameKind,
  FrameReader,
  type HelperResult,
  parseBlocked,
  parseResult,
} from "./helper_protocol.ts";

const enc = new TextEncoder(), dec = new TextDecoder();

/** This process's effective uid, from /proc (no --allow-sys needed); undefined if unreadable. */
function effectiveUid(): number | undefined {
  try {
    const m = /^Uid:\s+\d+\s+(\d+)/m.exec(Deno.readTextFileSync("/proc/self/status"));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The helper's addresses and MTU. */
export interface HelperOptions {
  v4: string;
  v6: string;
  mtu: number;
}

/** A running helper. */
export class HelperProcess {
  readonly #child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #waiting = new Map<number, (r: HelperResult) => void>();
  readonly #deciding = new Map<number, () => void>();
  #nextId = 1;
  #stderr = "";
  #closed = false;
  /** Set when the helper died or spoke nonsense: every later call fails with it. */
  #broken: string | undefined;
  /** Each datagram the stack sends. */
  onPacket: (bytes: Uint8Array) => void = () => {};
  /** Called once if the helper dies or breaks the protocol while in use. */
  onBroken: (why: string) => void = () => {};

  private constructor(child: Deno.ChildProcess) {
    this.#child = child;
    this.#writer = child.stdin.getWriter();
  }

  /** Starts the helper and waits for its ready frame. */
  static async start(binary: string, o: HelperOptions): Promise<HelperProcess> {
    const root = effectiveUid() === 0;
    const args = [
      "--net",
      ...(root ? [] : ["--map-root-user"]),
      "--",
      binary,
      "-v4",
      o.v4,
      "-v6",
      o.v6,
      "-mtu",
      String(o.mtu),
    ];
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command("unshare", {
        args,
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
    } catch (e) {
      throw new TargetUnavailable("gvisor", `cannot start the helper: ${(e as Error).message}`);
    }
    const h = new HelperProcess(child);
    const ready = Promise.withResolvers<void>();
    void h.#read(ready);
    void h.#readErr();
    const status = child.status.then((s) => {
      h.#fail(`the helper exited (${s.code})${h.#stderr ? `: ${h.#stderr.trim()}` : ""}`);
      ready.reject(
        new TargetUnavailable(
          "gvisor",
          `the helper did not start (exit ${s.code}): ${h.#stderr.trim() || "no message"}${
            root ? "" : " (unprivileged network namespaces may be off here)"
          }`,
        ),
      );
    });
    void status;
    await ready.promise;
    return h;
  }

  async #read(ready: PromiseWithResolvers<void>): Promise<void> {
    const frames = new FrameReader();
    try {
      for await (const chunk of this.#child.stdout) {
        for (const f of frames.push(chunk)) {
          if (f.kind === FrameKind.Packet) this.onPacket(f.payload);
          else if (f.kind === FrameKind.Result) {
            const r = parseResult(dec.decode(f.payload));
            const done = this.#waiting.get(r.id);
            this.#waiting.delete(r.id);
            done?.(r);
          } else if (f.kind === FrameKind.Blocked) {
            const id = parseBlocked(dec.decode(f.payload));
            this.#deciding.get(id)?.();
            this.#deciding.delete(id);
          } else if (f.kind === FrameKind.Ready) ready.resolve();
          else throw new RangeError(`gVisor helper: a frame of unknown kind ${f.kind}`);
        }
      }
    } catch (e) {
      this.#fail((e as Error).message);
    }
  }

  async #readErr(): Promise<void> {
    for await (const chunk of this.#child.stderr) {
      this.#stderr = (this.#stderr + dec.decode(chunk)).slice(-4000);
    }
  }

  #fail(why: string): void {
    if (this.#broken || this.#closed) return;
    this.#broken = why;
    for (const done of this.#waiting.values()) done({ id: 0, ok: false, error: why });
    this.#waiting.clear();
    this.onBroken(why);
  }

  #send(kind: number, payload: Uint8Array): void {
    if (this.#closed) throw new Error("the gVisor helper is closed");
    if (this.#broken) throw new Error(`the gVisor helper is gone: ${this.#broken}`);
    void this.#writer.write(encodeFrame(kind, payload)).catch((e) => this.#fail(String(e)));
  }

  /** One datagram into the stack. */
  inject(bytes: Uint8Array): void {
    this.#send(FrameKind.Packet, bytes);
  }

  /**
   * A request (a call or a setting) whose result comes back with its id;
   * `blocked` settles if the helper says the call waits in the netstack.
   */
  request(
    kind: typeof FrameKind.Call | typeof FrameKind.Setting,
    body: Record<string, unknown>,
  ): { result: Promise<HelperResult>; blocked: Promise<void> } {
    const id = this.#nextId++;
    const blocked = Promise.withResolvers<void>();
    this.#deciding.set(id, blocked.resolve);
    const result = new Promise<HelperResult>((resolve) =>
      this.#waiting.set(id, (r) => {
        this.#deciding.delete(id);
        resolve(r);
      })
    );
    if (this.#broken) this.#waiting.get(id)!({ id, ok: false, error: this.#broken });
    else this.#send(kind, enc.encode(JSON.stringify({ id, ...body })));
    return { result, blocked: blocked.promise };
  }

  /** Closes its stdin, so it exits; kills it if it has not after a second. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#writer.close().catch(() => {});
    const t = setTimeout(() => {
      try {
        this.#child.kill("SIGKILL");
      } catch { /* gone already */ }
    }, 1000);
    await this.#child.status;
    clearTimeout(t);
  }
}
