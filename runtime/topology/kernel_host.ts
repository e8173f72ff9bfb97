/**
 * A Linux kernel host of a topology: a private network namespace (see
 * `../kernel/netns.ts` for how it stays private and goes away with the
 * process), with one TUN device per link. synack relays each device's
 * datagrams to the far end of its link, so every link passes the script.
 *
 * ```text
 *   lo     up
 *   sy1    10.1.0.1/24, fd00:0:0:1::1/64   link 1 (routes to links beyond, by dev)
 *   sy2    …                               with forward: true, ip_forward and
 *                                          IPv6 forwarding on, rp_filter off
 *   nft    the host's ruleset, if it has one (NAT, ct state rules), loaded last
 * ```
 *
 * @example
 * ```ts ignore
 * import { kernelHost } from "./kernel_host.ts";
 * const h = await kernelHost("router", { kind: "kernel", forward: true, sysctls: {} }, plan, clock); // root
 * await h.close();
 * ```
 */
import type { HostDef } from "../../dsl/topology_def.ts";
import type { RealClock } from "../engine/clock.ts";
import type { TargetSetting } from "../engine/target.ts";
import { ScenarioSkipped } from "../engine/failure.ts";
import { address } from "../wire/address.ts";
import { datagramEnds } from "../wire/packet.ts";
import { notLinux } from "../stack/profile.ts";
import { FdWaiter } from "../kernel/fd_waiter.ts";
import { listenInvalid } from "../kernel/nflog.ts";
import { KernelReasons } from "../kernel/kernel_reasons.ts";
import { KernelSockets } from "../kernel/kernel_sockets.ts";
import { readConntrack } from "../kernel/conntrack_tool.ts";
import { missingTool } from "../kernel/kernel_support.ts";
import { iptablesWords } from "../middlebox/iptables_rules.ts";
import { libc } from "../kernel/libc.ts";
import { PrivateNetns } from "../kernel/netns.ts";
import { FdBackend, notLinkLocal, openTun } from "../kernel/tun_backend.ts";
import type { HostPlan } from "./addressing.ts";
import type { TopoHost } from "./host.ts";
import { TargetUnavailable } from "../engine/target_unavailable.ts";

/** The `ip -batch` lines for a host's devices, addresses and routes. */
export function hostBatch(plan: HostPlan): string {
  const dev = (link: string) => plan.ifaces.find((i) => i.link === link)!.dev;
  return [
    "link set lo up",
    ...plan.ifaces.flatMap((i) => [
      `link set ${i.dev} mtu ${i.mtu} up`,
      `addr add ${address.format(i.v4)}/${i.v4Prefix} dev ${i.dev}`,
      `addr add ${address.format(i.v6)}/${i.v6Prefix} dev ${i.dev} nodad`,
    ]),
    ...plan.routes.flatMap((r) => [
      `route add ${r.v4} dev ${dev(r.link)}`,
      `route add ${r.v6} dev ${dev(r.link)}`,
    ]),
    "",
  ].join("\n");
}

/** Builds the host: namespace, devices, addresses, routes, sysctls. Root only. */
export async function kernelHost(
  name: string,
  def: Extract<HostDef, { kind: "kernel" }>,
  plan: HostPlan,
  clock: RealClock,
): Promise<TopoHost> {
  const noTool = (def.nft === undefined ? undefined : missingTool("nft", "nftables")) ??
    (def.iptables?.length ? missingTool("iptables", "iptables") : undefined);
  if (noTool) throw new TargetUnavailable(`topology host ${name}`, noTool);
  // What this host sends comes from one of its addresses; what it forwards does not.
  const own = plan.ifaces.flatMap((i) => [i.v4, i.v6]);
  const tracing = KernelReasons.open((b) => own.some((a) => address.equal(a, datagramEnds(b).src)));
  const ns = PrivateNetns.create();
  const fds: number[] = [];
  const waiter = new FdWaiter();
  try {
    for (const i of plan.ifaces) fds.push(ns.inside(() => openTun(i.dev)));
    await ns.exec(["ip", "-batch", "-"], hostBatch(plan));
    if (def.forward) {
      ns.writeSysctl("net.ipv4.ip_forward", 1);
      ns.writeSysctl("net.ipv6.conf.all.forwarding", 1);
    }
    // Replies come back on the link they left by, but a router's are checked per device.
    ns.writeSysctl("net.ipv4.conf.all.rp_filter", 0);
    ns.writeSysctl("net.ipv4.conf.default.rp_filter", 0);
    for (const i of plan.ifaces) ns.writeSysctl(`net.ipv4.conf.${i.dev}.rp_filter`, 0);
    for (const [k, v] of Object.entries(def.sysctls)) ns.writeSysctl(k, v);
    // nft takes the namespace from the process: its rules live and die with this one.
    if (def.nft !== undefined) await ns.exec(["nft", "-f", "-"], def.nft);
    for (const line of def.iptables ?? []) await ns.exec(["iptables", ...iptablesWords(line)]);
  } catch (e) {
    for (const fd of fds) libc().close(fd);
    await waiter.close();
    ns.close();
    await (await tracing).close();
    throw e;
  }
  const kernelReasons = await tracing;
  const sockets = new KernelSockets(ns, waiter, clock);
  const backends = new Map<string, FdBackend>();
  const filtered = def.nft !== undefined || (def.iptables?.length ?? 0) > 0;
  const reasons = filtered ? invalidReasons(ns, waiter) : undefined;
  const host: TopoHost = {
    name,
    kind: "kernel",
    sockets,
    reasons: kernelReasons,
    configure(s: TargetSetting) {
      if (s.kind === "sysctl") {
        ns.writeSysctl(s.name, s.value);
        return undefined;
      }
      const why = notLinux(s.profile);
      if (why) throw new ScenarioSkipped(why);
      return undefined;
    },
    deliver(link, bytes, note) {
      if (note) reasons?.delivered(bytes, note);
      backends.get(link)?.send(bytes);
    },
    conntrack() {
      const why = missingTool("conntrack", "conntrack");
      if (why) throw new ScenarioSkipped(why);
      return readConntrack(ns);
    },
    async close() {
      waiter.cancel();
      reasons?.close();
      await sockets.close();
      await waiter.close();
      for (const b of backends.values()) b.close();
      await kernelReasons.close();
      ns.close();
    },
  };
  plan.ifaces.forEach((i, n) => {
    const b = new FdBackend(fds[n], clock, waiter, notLinkLocal);
    b.tap = {
      injected: (x) => kernelReasons.injected(i.dev, x),
      received: (x) => kernelReasons.received(x),
    };
    b.onPacket = (bytes, time) => host.emit?.(i.link, bytes, time, reasons?.sent(bytes));
    backends.set(i.link, b);
  });
  return host;
}

/** The same segment: addresses, ports, seq, ack, flags and window (TTL and checksums may differ). */
function sameSegment(a: Uint8Array, b: Uint8Array): boolean {
  const at = (x: Uint8Array) => (x[0] >> 4 === 4 ? (x[0] & 0xf) * 4 : 40);
  const ea = datagramEnds(a), eb = datagramEnds(b);
  if (!address.equal(ea.src, eb.src) || !address.equal(ea.dst, eb.dst)) return false;
  const ta = a.subarray(at(a), at(a) + 16), tb = b.subarray(at(b), at(b) + 16);
  return ta.length === 16 && tb.length === 16 && ta.every((x, i) => x === tb[i]);
}

/**
 * The kernel's INVALID reasons on the trace lines of the segments they are
 * about, in the model's words: `conntrack INVALID (SEQ is over upper bound
 * …), not translated`, or `conntrack (output) INVALID (…)` for one the host
 * sent. Each segment delivered to the host or sent by it is remembered for a
 * while (the last 256 each way), and a reason goes to the latest one that is
 * the same segment. Where the kernel cannot say (no nfnetlink_log), the first
 * segment's line says that instead.
 */
function invalidReasons(ns: PrivateNetns, waiter: FdWaiter) {
  const inbound: { bytes: Uint8Array; note: (t: string) => void }[] = [];
  const outbound: { bytes: Uint8Array; notes: string[] }[] = [];
  const keep = <T>(list: T[], x: T) => {
    list.push(x);
    if (list.length > 256) list.shift();
  };
  // A segment the host sends is logged at OUTPUT, before synack reads it from the device:
  // its reason waits here for it.
  const early: { payload: Uint8Array; reason: string }[] = [];
  const outputNote = (reason: string) => `conntrack (output) INVALID (${reason}), not translated`;
  let why: string | undefined;
  let listener: { close(): void } | undefined;
  try {
    listener = listenInvalid(ns, waiter, (e) => {
      const reason = e.prefix.replace(/^nf_ct_proto_\d+:\s*/, "");
      for (let i = inbound.length - 1; i >= 0; i--) {
        if (sameSegment(inbound[i].bytes, e.payload)) {
          return inbound[i].note(`conntrack INVALID (${reason}), not translated`);
        }
      }
      for (let i = outbound.length - 1; i >= 0; i--) {
        if (sameSegment(outbound[i].bytes, e.payload)) {
          return void outbound[i].notes.push(outputNote(reason));
        }
      }
      keep(early, { payload: e.payload, reason });
    });
  } catch (e) {
    why = `the kernel's INVALID reasons are not available here: ${(e as Error).message}`;
  }
  return {
    delivered(bytes: Uint8Array, note: (t: string) => void) {
      if (why) {
        note(why);
        why = undefined;
      }
      keep(inbound, { bytes, note });
    },
    /** A segment the host sent: the notes its trace line will show. */
    sent(bytes: Uint8Array): string[] {
      const notes: string[] = [];
      const i = early.findIndex((x) => sameSegment(bytes, x.payload));
      if (i >= 0) notes.push(outputNote(early.splice(i, 1)[0].reason));
      keep(outbound, { bytes, notes });
      return notes;
    },
    close: () => listener?.close(),
  };
}
