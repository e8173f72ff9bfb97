/**
 * A remote host reached over a raw socket. Two private namespaces joined by
 * a veth pair:
 *
 * ```text
 *   script side (ns A)                         stack side (ns B)
 *   veth0: no addresses, IPv6 off   <-veth->   veth1: 192.168.0.1/16, fd3d:a0b:17d6::1/48
 *   AF_PACKET socket on veth0                  routes and permanent neighbour entries
 *                                              for 192.0.2.1 / fd3d:fa7b:d17d::1 via veth1
 *                                              socket calls; optionally an echo server
 * ```
 *
 * The script plays the client (or server) by hand through the packet
 * socket. The kernel of ns A never answers for the script: veth0 has no IP
 * address (and IPv6 is disabled on it), forwarding is off in a new
 * namespace, so every datagram from B is dropped by A's IP layer before TCP
 * sees it. No RST of A's own can be sent, and no drop rule is needed. B
 * resolves the script's addresses from permanent neighbour entries, so no
 * ARP or neighbour solicitation is left unanswered.
 *
 * @example
 * ```ts ignore
 * import { rawTarget } from "./raw_target.ts";
 * const t = await rawTarget({ echoPort: 7 }); // root; an echo server listens on port 7 in B
 * await t.close();
 * ```
 */
import { z } from "zod";
import type { Target } from "../engine/target.ts";
import { TargetUnavailable } from "../engine/target_unavailable.ts";
import { kernelUnavailable } from "./kernel_support.ts";
import { libc, readLink } from "./libc.ts";
import { KernelReasons } from "./kernel_reasons.ts";
import {
  liveTarget,
  parseLiveOptions,
  stackSideBatch,
  startCapture,
  untilIpv6Routed,
} from "./live_target.ts";
import { PrivateNetns } from "./netns.ts";
import { ETH_P_IP, ETH_P_IPV6, openPacketSocket, sockaddrLl } from "./packet_socket.ts";
import type { DatagramIo } from "./tun_backend.ts";
import { completeChecksum } from "../wire/offload.ts";

const RawOnly = z.strictObject({
  /** Starts a TCP echo server on this port in the stack's namespace. */
  echoPort: z.number().int().min(1).max(65535).optional(),
});

/** Opens the raw-socket target. Throws with the reason when it cannot. */
export async function rawTarget(options: Record<string, unknown> = {}): Promise<Target> {
  const { echoPort, ...rest } = options;
  const raw = RawOnly.safeParse({ echoPort });
  if (!raw.success) {
    throw new RangeError(`target options: echoPort: ${raw.error.issues[0].message}`);
  }
  const o = parseLiveOptions(rest);
  const why = kernelUnavailable();
  if (why) throw new TargetUnavailable("raw", why);
  const reasons = o.reasons
    ? KernelReasons.open()
    : Promise.resolve(KernelReasons.off("reasons: false"));
  const a = PrivateNetns.create();
  let b: PrivateNetns | undefined;
  let fd: number | undefined;
  let server: Deno.ChildProcess | undefined;
  const release = async () => {
    if (server) await stop(server);
    b?.close();
    a.close();
  };
  try {
    b = PrivateNetns.create();
    await joinWithVeth(a, b);
    await a.exec(["ip", "link", "set", "veth0", "up"]);
    a.writeSysctl("net.ipv6.conf.veth0.disable_ipv6", 1);
    const mac0 = await macOf(a, "veth0");
    const mac1 = await macOf(b, "veth1");
    await b.exec(["ip", "-batch", "-"], stackSideBatch("veth1", o, mac0));
    await untilIpv6Routed(b, o.v6.local);
    await a.exec(["ip", "link", "set", "veth0", "mtu", String(o.mtu)]);
    for (const [k, v] of Object.entries(o.sysctls)) b.writeSysctl(k, v);
    const ifindex = await ifindexOf(a, "veth0");
    fd = a.inside(() => openPacketSocket(ifindex));
    if (raw.data.echoPort !== undefined) server = await startEcho(b, raw.data.echoPort);
    return liveTarget({
      name: "raw",
      fd,
      io: packetIo(ifindex, macBytes(mac1)),
      stackNs: b,
      options: o,
      release,
      reasons: await reasons,
      dev: "veth1",
      capture: o.tcpdump === undefined ? undefined : await startCapture(b, "veth1", o.tcpdump),
    });
  } catch (e) {
    if (fd !== undefined) libc().close(fd);
    await release();
    await (await reasons).close();
    throw e;
  }
}

/**
 * Makes veth0 in `a` and veth1 in `b`. iproute2 moves a link by the pid of a
 * process in the target namespace, so a `cat` holds `b` for that moment; it
 * reads our pipe and ends with it, so it cannot outlive us.
 */
async function joinWithVeth(a: PrivateNetns, b: PrivateNetns): Promise<void> {
  const holder = new Deno.Command("nsenter", {
    args: [`--net=${b.path}`, "--", "cat"],
    stdin: "piped",
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    // Until nsenter has entered b, the holder's pid still names the host's
    // namespace: moving the link then would put it there. Wait until it is in b.
    const want = readLink(b.path);
    if (!want) throw new Error(`Cannot read ${b.path}: the far namespace cannot be identified`);
    const until = performance.now() + 2000;
    while (readNs(holder.pid) !== want) {
      if (performance.now() > until) {
        throw new Error("The namespace holder did not enter its namespace");
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    await a.exec(
      ["ip", "-batch", "-"],
      [
        // One segment per GSO packet: the packet socket then sees the segments the
        // wire would carry, not a 64 KB super-packet that segmentation splits later.
        "link add veth0 gso_max_segs 1 type veth peer name veth1 gso_max_segs 1",
        `link set veth1 netns ${holder.pid}`,
        "",
      ].join("\n"),
    );
  } finally {
    await stop(holder);
  }
}

function readNs(pid: number): string | undefined {
  return readLink(`/proc/${pid}/ns/net`);
}

async function stop(p: Deno.ChildProcess): Promise<void> {
  try {
    await p.stdin.close();
  } catch { /* already closed */ }
  await p.status;
}

async function linkInfo(
  ns: PrivateNetns,
  dev: string,
): Promise<{ ifindex: number; address: string }> {
  const out = JSON.parse(await ns.exec(["ip", "-j", "link", "show", dev]));
  return out[0];
}

async function macOf(ns: PrivateNetns, dev: string): Promise<string> {
  return (await linkInfo(ns, dev)).address;
}

async function ifindexOf(ns: PrivateNetns, dev: string): Promise<number> {
  return (await linkInfo(ns, dev)).ifindex;
}

function macBytes(mac: string): Uint8Array {
  return new Uint8Array(mac.split(":").map((h) => parseInt(h, 16)));
}

/** sendto with the far end's MAC and the datagram's ethertype; recv for the rest. */
function packetIo(ifindex: number, peerMac: Uint8Array): DatagramIo {
  const to4 = sockaddrLl(ifindex, ETH_P_IP, peerMac);
  const to6 = sockaddrLl(ifindex, ETH_P_IPV6, peerMac);
  return {
    write(fd, bytes) {
      const to = bytes[0] >> 4 === 6 ? to6 : to4;
      return Number(libc().sendto(fd, bytes, BigInt(bytes.length), 0, to, to.length));
    },
    read(fd, buf) {
      const n = Number(libc().recv(fd, buf, BigInt(buf.length), 0));
      // The far kernel left TCP and UDP checksums to a NIC a veth does not have:
      // put in what the wire would carry, so traces and pcaps verify.
      if (n > 0) completeChecksum(buf.subarray(0, n));
      return n;
    },
  };
}

/** Starts the echo server inside `ns` and waits until it listens. */
async function startEcho(ns: PrivateNetns, port: number): Promise<Deno.ChildProcess> {
  const script = new URL("./echo_server.ts", import.meta.url).href;
  const p = new Deno.Command("nsenter", {
    args: [`--net=${ns.path}`, "--", Deno.execPath(), "run", "--allow-net", script, String(port)],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = p.stdout.getReader();
  const { value } = await reader.read();
  await reader.cancel();
  const line = new TextDecoder().decode(value ?? new Uint8Array());
  if (!line.startsWith("listening")) {
    await stop(p);
    const why = await new Response(p.stderr).text();
    throw new Error(
      `The echo server in the stack's namespace did not start: ${why.trim() || line}`,
    );
  }
  await p.stderr.cancel();
  return p;
}
