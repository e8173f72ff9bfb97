/**
 * gVisor's netstack as the stack under test: the real TCP/IP stack of
 * gVisor (Debian's golang-gvisor-gvisor-dev), run by a small Go helper
 * (`netstack/main.go`) in a network namespace of its own. The script's
 * datagrams reach the netstack's link, and the netstack's come back, over
 * the helper's pipes; socket calls too. The addresses are the kernel
 * target's (packetdrill's), so one scenario runs on both unchanged:
 *
 * ```text
 *   netstack  192.168.0.1/16, fd3d:a0b:17d6::1/48   the stack's addresses
 *   script    192.0.2.1,      fd3d:fa7b:d17d::1     everything is routed to the link
 * ```
 *
 * Time is real. Sysctls map to the netstack's options where it has them
 * (`tcp_sack`, `tcp_congestion_control`, …) and are refused with the reason
 * where it does not (`tcp_timestamps`: it always offers them). A scenario
 * pinned to a profile runs here if the profile models gVisor's netstack
 * (`gvisor`, alias `rfc7323-strict`) and is skipped otherwise.
 *
 * @example
 * ```ts ignore
 * import { gvisorTarget } from "./gvisor_target.ts";
 * const t = await gvisorTarget(); // needs go and golang-gvisor-gvisor-dev
 * await t.close();
 * ```
 */
import { REAL_STACK_TOLERANCE, RealClock } from "../engine/clock.ts";
import { ScenarioSkipped } from "../engine/failure.ts";
import { receiveQueued } from "../engine/queue_receive.ts";
import type { Backend, Endpoints, Received, Target, TargetSetting } from "../engine/target.ts";
import { parseLiveOptions } from "../kernel/live_target.ts";
import { notGvisor } from "../stack/profile.ts";
import { address } from "../wire/address.ts";
import { datagramEnds } from "../wire/packet.ts";
import { helperBinary } from "./helper_build.ts";
import { HelperProcess } from "./helper_process.ts";
import { FrameKind } from "./helper_protocol.ts";
import { GvisorSockets } from "./gvisor_sockets.ts";

/** Datagrams from the helper, queued for `receive` or handed to `onPacket` (a live peer). */
class HelperBackend implements Backend {
  readonly #helper: HelperProcess;
  readonly #clock: RealClock;
  readonly #queue: Received[] = [];
  readonly #sources: readonly Uint8Array[];
  #closed = false;
  onPacket?: ((bytes: Uint8Array, time: number) => void) | undefined;

  constructor(helper: HelperProcess, clock: RealClock, sources: readonly Uint8Array[]) {
    this.#helper = helper;
    this.#clock = clock;
    this.#sources = sources;
    helper.onPacket = (bytes) => this.#arrive(bytes);
  }

  #arrive(bytes: Uint8Array): void {
    if (this.#closed) return;
    // Only what the stack sends from its own addresses (not IPv6 neighbour discovery).
    const src = datagramEnds(bytes).src;
    if (!this.#sources.some((a) => address.equal(a, src))) return;
    if (this.onPacket) this.onPacket(bytes, this.#clock.now());
    else this.#queue.push({ bytes, time: this.#clock.now() });
    this.#clock.poke();
  }

  send(bytes: Uint8Array): void {
    this.#helper.inject(bytes);
  }

  receive(deadline: number, signal?: AbortSignal): Promise<Received | undefined> {
    return receiveQueued(this.#queue, this.#clock, deadline, signal, {
      stopped: () => this.#closed,
    });
  }

  pending(): number {
    return this.#queue.length;
  }

  close(): void {
    this.#closed = true;
  }
}

/** Opens a gvisor target. Throws `TargetUnavailable` with the reason when it cannot. */
export async function gvisorTarget(options: unknown = {}): Promise<Target> {
  const o = parseLiveOptions(options);
  const { path } = await helperBinary();
  const helper = await HelperProcess.start(path, {
    v4: `${o.v4.local}/${o.v4.prefix}`,
    v6: `${o.v6.local}/${o.v6.prefix}`,
    mtu: o.mtu,
  });
  const v4: Endpoints = { local: address.parse(o.v4.local), remote: address.parse(o.v4.remote) };
  const v6: Endpoints = { local: address.parse(o.v6.local), remote: address.parse(o.v6.remote) };
  const clock = new RealClock();
  const backend = new HelperBackend(helper, clock, [v4.local, v6.local]);
  const sockets = new GvisorSockets(helper, clock);
  const setting = async (name: string, value: number | string) => {
    const r = await helper.request(FrameKind.Setting, { sysctl: name, value }).result;
    if (!r.ok) {
      throw new RangeError(`sysctl ${name}: ${"error" in r ? r.error : `errno ${r.errno}`}`);
    }
  };
  for (const [k, v] of Object.entries(o.sysctls)) await setting(k, v);
  let closed = false;
  return {
    name: "gvisor",
    clock,
    tolerance: REAL_STACK_TOLERANCE,
    backend,
    sockets,
    v4,
    v6,
    configure(s: TargetSetting) {
      if (s.kind === "sysctl") return setting(s.name, s.value).then(() => undefined);
      const why = notGvisor(s.profile);
      if (why) throw new ScenarioSkipped(why);
      return undefined;
    },
    async close() {
      if (closed) return;
      closed = true;
      clock.stop();
      backend.close();
      await helper.close();
    },
  };
}
