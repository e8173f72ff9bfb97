/**
 * What the kernel and raw-socket targets share: packetdrill's addresses as
 * validated options, and the assembly of a `Target` from a datagram fd, the
 * namespace whose kernel answers socket calls, and what to release at the
 * end, in the order that lets no FFI call outlive its fds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseLiveOptions } from "./live_target.ts";
 * assert.equal(parseLiveOptions({}).v4.local, "192.168.0.1");
 * assert.throws(() => parseLiveOptions({ v4: { local: "fd3d::1" } }), /v4\.local: want an IPv4 address/);
 * ```
 */
import { z } from "zod";
import { REAL_STACK_TOLERANCE, RealClock, type Tolerance } from "../engine/clock.ts";
import type { Endpoints, Target, TargetSetting } from "../engine/target.ts";
import { ScenarioSkipped } from "../engine/failure.ts";
import { notLinux } from "../stack/profile.ts";
import { address } from "../wire/address.ts";
import { FdWaiter } from "./fd_waiter.ts";
import { KernelSockets } from "./kernel_sockets.ts";
import type { KernelReasons } from "./kernel_reasons.ts";
import type { PrivateNetns } from "./netns.ts";
import { type DatagramIo, FdBackend } from "./tun_backend.ts";

const ip = (v: 4 | 6) =>
  z.string().refine((s) => address.isValid(s) && address.parse(s).length === (v === 4 ? 4 : 16), {
    message: `want an IPv${v} address`,
  });

const LiveOptions = z.strictObject({
  v4: z.strictObject({
    local: ip(4).default("192.168.0.1"),
    remote: ip(4).default("192.0.2.1"),
    prefix: z.number().int().min(1).max(32).default(16),
  }).default({ local: "192.168.0.1", remote: "192.0.2.1", prefix: 16 }),
  v6: z.strictObject({
    local: ip(6).default("fd3d:a0b:17d6::1"),
    remote: ip(6).default("fd3d:fa7b:d17d::1"),
    prefix: z.number().int().min(1).max(128).default(48),
  }).default({ local: "fd3d:a0b:17d6::1", remote: "fd3d:fa7b:d17d::1", prefix: 48 }),
  /** The device's MTU; IPv6 needs at least 1280 (RFC 8200 §5). */
  mtu: z.number().int().min(1280).max(65535).default(1500),
  /** Sysctls applied inside the stack's namespace before the scenario starts. */
  sysctls: z.record(z.string(), z.union([z.number(), z.string()])).default({}),
  /**
   * Read the kernel's RST and drop reasons from its tracepoints (see
   * `tracefs.ts`); false saves the tracing instance's setup (about 60 ms).
   */
  reasons: z.boolean().default(true),
  /**
   * Capture the stack's device with tcpdump, inside its namespace, into this
   * pcap file: what the kernel's own tools see, for `synack explain` or
   * Wireshark, beside synack's trace.
   */
  tcpdump: z.string().min(1).optional(),
});

/** Options of the kernel and raw targets: addresses (packetdrill's by default), MTU, sysctls. */
export type LiveOptions = z.output<typeof LiveOptions>;

/** Validates target options; a `RangeError` names the field, what was wanted and what came. */
export function parseLiveOptions(o: unknown): LiveOptions {
  const r = LiveOptions.safeParse(o);
  if (r.success) return r.data;
  const i = r.error.issues[0];
  throw new RangeError(`target options: ${i.path.join(".") || "options"}: ${i.message}`);
}

/** Timing tolerance on a real kernel (see `REAL_STACK_TOLERANCE`). */
export const KERNEL_TOLERANCE: Tolerance = REAL_STACK_TOLERANCE;

/**
 * The `ip -batch` lines that give the stack's device its addresses, and routes
 * to the script's addresses; with `peerMac`, permanent neighbour entries too
 * (an Ethernet device, where nothing must wait on ARP or neighbour discovery).
 */
export function stackSideBatch(dev: string, o: LiveOptions, peerMac?: string): string {
  const neigh = (addr: string) =>
    peerMac ? [`neigh replace ${addr} lladdr ${peerMac} dev ${dev} nud permanent`] : [];
  return [
    "link set lo up",
    `link set ${dev} mtu ${o.mtu} up`,
    `addr add ${o.v4.local}/${o.v4.prefix} dev ${dev}`,
    `route add ${o.v4.remote}/32 dev ${dev}`,
    ...neigh(o.v4.remote),
    `addr add ${o.v6.local}/${o.v6.prefix} dev ${dev} nodad`,
    `route add ${o.v6.remote}/128 dev ${dev}`,
    ...neigh(o.v6.remote),
    "",
  ].join("\n");
}

/**
 * Waits until the kernel routes to the stack's IPv6 address. Even with
 * `nodad`, addrconf installs an address's local route from its workqueue,
 * after `ip addr add` returns: a segment injected before then is dropped
 * (IP_INADDRERRORS), seen once in some hundred runs on a busy machine.
 * Reads the namespace's /proc/net/ipv6_route.
 */
export async function untilIpv6Routed(ns: PrivateNetns, local: string): Promise<void> {
  const want = ipv6Hex(local);
  const deadline = performance.now() + 2000;
  for (;;) {
    const table = ns.readNetFile("ipv6_route");
    if (table.split("\n").some((l) => l.startsWith(`${want} 80 `))) return;
    if (performance.now() > deadline) {
      throw new Error(`the namespace's kernel has no route to ${local} 2 s after it was added`);
    }
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** An IPv6 address as /proc/net/ipv6_route writes it: 32 hex digits. */
function ipv6Hex(a: string): string {
  return [...address.parse(a)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The parts of a live target. */
export interface LiveParts {
  name: string;
  /** The fd datagrams go through (TUN, or a packet socket with `io`). */
  fd: number;
  io?: DatagramIo;
  /** The namespace whose kernel is the stack under test. */
  stackNs: PrivateNetns;
  options: LiveOptions;
  /** Released last, after every fd and wait is done (namespaces, helper processes). */
  release: () => void | Promise<void>;
  /** The kernel's reasons. */
  reasons?: KernelReasons;
  /** A running tcpdump (`startCapture`), stopped before the namespace goes. */
  capture?: { stop(atLeast: number): Promise<void> };
  /** The stack's device in `stackNs` (what its received datagrams show, what tcpdump listens on). */
  dev: string;
}

/** Assembles a target on the real clock from its parts. */
export function liveTarget(p: LiveParts): Target {
  const o = p.options;
  const v4: Endpoints = { local: address.parse(o.v4.local), remote: address.parse(o.v4.remote) };
  const v6: Endpoints = { local: address.parse(o.v6.local), remote: address.parse(o.v6.remote) };
  const clock = new RealClock();
  const waiter = new FdWaiter();
  const backend = new FdBackend(p.fd, clock, waiter, [v4.local, v6.local], p.io);
  const sockets = new KernelSockets(p.stackNs, waiter, clock);
  const reasons = p.reasons;
  /** Datagrams that crossed the device: a capture holds at least these before it stops. */
  let crossed = 0;
  backend.tap = {
    injected: (b) => {
      crossed++;
      reasons?.injected(p.dev, b);
    },
    received: (b) => {
      crossed++;
      reasons?.received(b);
    },
  };
  let closed = false;
  return {
    name: p.name,
    clock,
    tolerance: KERNEL_TOLERANCE,
    backend,
    sockets,
    v4,
    v6,
    reasons,
    configure(s: TargetSetting): string | undefined {
      if (s.kind === "sysctl") {
        p.stackNs.writeSysctl(s.name, s.value);
        return undefined;
      }
      const why = notLinux(s.profile);
      if (why) throw new ScenarioSkipped(why);
      return undefined;
    },
    async close() {
      if (closed) return;
      closed = true;
      clock.stop();
      waiter.cancel();
      await sockets.close();
      // Every poll has returned before the fd closes (the backend's pump among them).
      await waiter.close();
      try {
        // Before the device goes with the fd: tcpdump stops reading a device that disappears,
        // and what its ring still holds is lost.
        await p.capture?.stop(crossed);
      } finally {
        backend.close();
        await reasons?.close();
        await p.release();
      }
    },
  };
}

/**
 * Starts tcpdump on `dev` inside `ns`, writing `file` packet by packet, and
 * resolves once it listens; `stop(n)` waits (up to 20 s) until the file
 * holds `n` packets, what crossed the device, and ends it (SIGINT: it
 * flushes and closes the file; packets it had not yet read would be lost,
 * so a file still short then is an error). It dies with the namespace's last holder otherwise:
 * nsenter's child is ours, and SIGKILL of this process leaves it reading a
 * device that is gone.
 */
export async function startCapture(
  ns: PrivateNetns,
  dev: string,
  file: string,
): Promise<{ stop(atLeast: number): Promise<void> }> {
  const child = new Deno.Command("nsenter", {
    args: [
      `--net=${ns.path}`,
      "--",
      "tcpdump",
      "-i",
      dev,
      "-w",
      file,
      "-U",
      "--immediate-mode",
      "-Z",
      "root",
      "-s",
      "0",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let said = "";
  while (!/listening on/.test(said)) {
    const { value, done } = await reader.read();
    if (done) {
      await child.status;
      throw new Error(`tcpdump on ${dev} did not start: ${said.trim()}`);
    }
    said += value;
  }
  // The rest of what it says: its counts at the end, for a capture that comes up short.
  const drain = (async () => {
    let rest = "";
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest += r.value;
    return rest.trim().replaceAll("\n", "; ");
  })();
  return {
    async stop(atLeast: number) {
      // tcpdump is a process of its own: on a busy machine it may be seconds behind.
      const deadline = Date.now() + CAPTURE_CATCH_UP_MS;
      while (pcapCount(file) < atLeast && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      try {
        child.kill("SIGINT");
      } catch { /* already gone */ }
      await child.status;
      const counts = await drain;
      const held = pcapCount(file);
      if (held < atLeast) {
        throw new Error(
          `tcpdump on ${dev}: ${file} holds ${held} of the ${atLeast} packets that crossed the device (${counts})`,
        );
      }
    },
  };
}

/** How long a capture may take to write what already crossed its device. */
const CAPTURE_CATCH_UP_MS = 20_000;

/** How many packets a pcap file holds so far (tcpdump -U writes each whole). */
function pcapCount(file: string): number {
  let b: Uint8Array;
  try {
    b = Deno.readFileSync(file);
  } catch {
    return 0;
  }
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const le = v.getUint32(0, true) === 0xa1b2c3d4 || v.getUint32(0, true) === 0xa1b23c4d;
  let n = 0;
  for (let off = 24; off + 16 <= b.length; n++) off += 16 + v.getUint32(off + 8, le);
  return n;
}
