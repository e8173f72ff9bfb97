/**
 * The Linux kernel as the stack under test, as packetdrill drives it: a TUN
 * device in a private network namespace carries the script's packets, and
 * socket calls go to the kernel through libc. Each target is a fresh
 * namespace (see `netns.ts` for how it stays private and how it is removed):
 *
 * ```text
 *   lo    up
 *   tun0  192.168.0.1/16, fd3d:a0b:17d6::1/48   the kernel's addresses
 *         192.0.2.1/32, fd3d:fa7b:d17d::1/128   the script, routed via tun0
 * ```
 *
 * With `tcpdump: "file.pcap"`, tcpdump captures tun0 inside the namespace
 * for as long as the target is open.
 *
 * Time is real (`RealClock`); timing checks use the scenario's tolerance.
 * Sequence numbers and timestamps are the kernel's own random ones: flows
 * learn them from its SYN or SYN-ACK, as for every target.
 *
 * @example
 * ```ts ignore
 * import { kernelTarget } from "./kernel_target.ts";
 * const t = await kernelTarget({ sysctls: { "net.ipv4.tcp_timestamps": 0 } }); // root
 * await t.close();
 * ```
 */
import type { Target } from "../engine/target.ts";
import { TargetUnavailable } from "../engine/target_unavailable.ts";
import { KernelReasons } from "./kernel_reasons.ts";
import { kernelUnavailable } from "./kernel_support.ts";
import { libc } from "./libc.ts";
import {
  liveTarget,
  parseLiveOptions,
  stackSideBatch,
  startCapture,
  untilIpv6Routed,
} from "./live_target.ts";
import { PrivateNetns } from "./netns.ts";
import { openTun } from "./tun_backend.ts";

/** Opens a kernel target in a new private namespace. Throws with the reason when it cannot. */
export async function kernelTarget(options: unknown = {}): Promise<Target> {
  const o = parseLiveOptions(options);
  const why = kernelUnavailable();
  if (why) throw new TargetUnavailable("kernel", why);
  // The tracing instance is made while the namespace is set up.
  const reasons = o.reasons
    ? KernelReasons.open()
    : Promise.resolve(KernelReasons.off("reasons: false"));
  const ns = PrivateNetns.create();
  let tun: number | undefined;
  let capture: { stop(atLeast: number): Promise<void> } | undefined;
  try {
    tun = ns.inside(() => openTun("tun0"));
    await ns.exec(["ip", "-batch", "-"], stackSideBatch("tun0", o));
    await untilIpv6Routed(ns, o.v6.local);
    for (const [k, v] of Object.entries(o.sysctls)) ns.writeSysctl(k, v);
    if (o.tcpdump !== undefined) capture = await startCapture(ns, "tun0", o.tcpdump);
  } catch (e) {
    if (tun !== undefined) libc().close(tun);
    ns.close();
    await (await reasons).close();
    throw e;
  }
  return liveTarget({
    name: "kernel",
    fd: tun,
    stackNs: ns,
    options: o,
    release: () => ns.close(),
    reasons: await reasons,
    dev: "tun0",
    capture,
  });
}
