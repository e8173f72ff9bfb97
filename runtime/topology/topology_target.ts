/**
 * A topology as a target: its hosts built (kernel hosts each in a private
 * namespace, built-in hosts in this process), and every link relayed by
 * synack through a `Path`, so the script's path steps can act on any link
 * and every datagram on every link is in the trace, named by link and sender.
 *
 * The script's tap is one link, `a-b`: `inject()` speaks to `b` as `a`
 * would, `expect()` watches what crosses it (from `b` unless `.from("a")`),
 * and calls and sysctls without a host go to `b`. A topology of built-in
 * hosts only runs on the virtual clock, deterministic and fast; one with a
 * kernel host runs on the real clock.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { builtin, topology } from "../../dsl/topology_def.ts";
 * import { Trace } from "../engine/trace.ts";
 * import { openTopology } from "./topology_target.ts";
 * const t = await openTopology(topology({ hosts: { a: builtin(), b: builtin() }, links: [["a", "b"]] }));
 * assert.equal(t.clock.kind, "virtual");
 * assert.equal(t.name, "topology a:builtin b:builtin");
 * t.topology.start(new Trace(), () => {});
 * await t.close();
 * ```
 */
import type { TopologyDef } from "../../dsl/topology_def.ts";
import { type Clock, RealClock, VirtualClock } from "../engine/clock.ts";
import { keepRecent } from "../engine/packet_log.ts";
import { Path } from "../engine/path.ts";
import type {
  Backend,
  Endpoints,
  Received,
  StackReasons,
  Target,
  TopologyControl,
} from "../engine/target.ts";
import { TargetUnavailable } from "../engine/target_unavailable.ts";
import type { Trace, TraceEvent } from "../engine/trace.ts";
import { address } from "../wire/address.ts";
import { parsePacket } from "../wire/packet.ts";
import { planTopology, type TopologyPlan } from "./addressing.ts";
import { builtinHost, type TopoHost } from "./host.ts";
import { netfilterHost } from "./netfilter_host.ts";

type PacketEvent = Extract<TraceEvent, { kind: "packet" }>;

/** A target whose stack under test is a whole topology. */
export type TopologyTarget = Target & { readonly topology: TopologyControl };

/**
 * Builds the hosts and links; throws `TargetUnavailable` when a kernel host
 * cannot be had. With `model`, kernel hosts are played by models instead
 * (the built-in target): one that forwards or has nft rules by the
 * netfilter model (`netfilter_host.ts`), any other by a built-in stack; what cannot be modelled is `TargetUnavailable`
 * with the reason.
 */
export async function openTopology(
  def: TopologyDef,
  o: { model?: boolean } = {},
): Promise<TopologyTarget> {
  const plan = planTopology(def);
  const kernels = o.model ? [] : Object.entries(def.hosts).filter(([, h]) => h.kind === "kernel");
  const clock: Clock = kernels.length ? new RealClock() : new VirtualClock();
  const hosts = new Map<string, TopoHost>();
  const close = async () => {
    if (clock instanceof RealClock) clock.stop();
    for (const h of hosts.values()) await h.close();
  };
  try {
    if (kernels.length) {
      const { kernelUnavailable } = await import("../kernel/kernel_support.ts");
      const why = kernelUnavailable();
      if (why) throw new TargetUnavailable(`topology host ${kernels[0][0]}`, why);
    }
    for (const [name, h] of Object.entries(def.hosts)) {
      if (h.kind === "builtin") hosts.set(name, builtinHost(name, h, plan, clock));
      else if (o.model) hosts.set(name, modelled(name, h, plan, clock));
      else {
        const { kernelHost } = await import("./kernel_host.ts");
        hosts.set(name, await kernelHost(name, h, plan.hosts[name], clock as RealClock));
      }
    }
  } catch (e) {
    await close();
    throw e;
  }
  return assemble(def, plan, clock, hosts, close);
}

/** A kernel host as the built-in target plays it. */
function modelled(
  name: string,
  h: Extract<TopologyDef["hosts"][string], { kind: "kernel" }>,
  plan: TopologyPlan,
  clock: Clock,
): TopoHost {
  try {
    if (h.forward || h.nft !== undefined || h.iptables?.length) {
      return netfilterHost(name, h, plan, clock);
    }
    const stack = builtinHost(name, { kind: "builtin", profile: "linux" }, plan, clock);
    for (const [k, v] of Object.entries(h.sysctls)) {
      stack.configure({ kind: "sysctl", name: k, value: v });
    }
    return stack;
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    throw new TargetUnavailable("builtin", `host ${name} cannot be modelled: ${e.message}`);
  }
}

function assemble(
  def: TopologyDef,
  plan: TopologyPlan,
  clock: Clock,
  hosts: Map<string, TopoHost>,
  close: () => Promise<void>,
): TopologyTarget {
  const tapLink = def.links.find((l) => l.name === def.tap)!;
  const tap = { link: tapLink.name, a: tapLink.a, b: tapLink.b };
  const queues = new Map<string, Received[]>([[tap.a, []], [tap.b, []]]);
  const paths = new Map<string, Path>();
  const events = new WeakMap<Uint8Array, PacketEvent>();
  /** What a path made of a datagram before the far end took it (a rewrite's copy). */
  const crossed = new WeakMap<Uint8Array, Uint8Array>();
  let trace: Trace | undefined;
  let closed = false;
  const other = (link: string, from: string) => {
    const l = def.links.find((x) => x.name === link)!;
    return hosts.get(l.a === from ? l.b : l.a)!;
  };

  /** One datagram a host sent on a link: traced, kept for the tap, and across the link's path. */
  const relay = (
    from: string,
    link: string,
    bytes: Uint8Array,
    time: number,
    notes?: string[],
  ) => {
    if (closed) return;
    const e: PacketEvent = {
      kind: "packet",
      dir: from === tap.b ? "out" : "in",
      time,
      bytes,
      link,
      from,
      // By reference: a kernel host adds the kernel's words when they come.
      ...(notes && { path: notes }),
    };
    trace?.add(e);
    if (link === tap.link) {
      // Parsed when an expect() takes it: most of what crosses, no step looks at.
      keepRecent(queues.get(from)!, { bytes, time });
      clock.poke();
    }
    const to = other(link, from);
    const path = paths.get(link);
    const note = (text: string) => (e.path ??= []).push(text);
    const deliver = (b: Uint8Array) => {
      // A path that rewrote it delivered a copy: reasons are about the copy.
      if (b !== bytes) crossed.set(bytes, b);
      if (!closed) to.deliver(link, b, note);
    };
    if (!path?.active) {
      path?.cross(bytes, from, deliver);
      return;
    }
    events.set(bytes, e);
    void path.cross(bytes, from, (b, marks) => {
      if (marks.length) (e.path ??= []).push(...marks);
      // Held, then released: it did cross.
      delete e.stopped;
      deliver(b);
    });
  };
  for (const h of hosts.values()) {
    h.emit = (link, bytes, time, notes) => relay(h.name, link, bytes, time, notes);
  }

  const tapB = hosts.get(tap.b)!;
  const backend: Backend = {
    // The script speaks as the tap's `a` end: straight to `b`, past the path.
    send: (bytes) => tapB.deliver(tap.link, bytes),
    receive: (deadline, signal) =>
      control.receive(tap.b, deadline, signal ?? new AbortController().signal),
    pending: () => queues.get(tap.b)!.length,
    close: () => {},
  };
  const ends = (family: 4 | 6): Endpoints => ({
    local: addressOn(plan, tap.b, tap.link, family),
    remote: addressOn(plan, tap.a, tap.link, family),
  });
  const control: TopologyControl = {
    tap,
    hosts: [...hosts.keys()],
    links: def.links.map((l) => l.name),
    start(t, mark) {
      trace = t;
      for (const l of def.links) {
        paths.set(
          l.name,
          new Path(clock, (bytes, from, text) => {
            const e = events.get(bytes);
            if (e) {
              (e.path ??= []).push(text);
              e.stopped = true;
            } else mark(bytes, from, text);
          }),
        );
      }
    },
    sockets: (host) => hosts.get(host)?.sockets,
    configure(host, s) {
      const h = hosts.get(host);
      if (!h) {
        throw new RangeError(`no host ${host} in the topology (${[...hosts.keys()].join(", ")})`);
      }
      return h.configure(s);
    },
    path: (link) => paths.get(link),
    async receive(host, deadline, signal) {
      const q = queues.get(host);
      if (!q) return undefined;
      for (;;) {
        if (!q.length) await clock.waitFor(() => q.length > 0 || signal.aborted, deadline);
        const r = q.shift();
        if (!r) return undefined;
        try {
          return { ...r, packet: parsePacket(r.bytes, "raw", { verify: true }) };
        } catch {
          // Not a datagram an expect() can match: it is in the trace, as it crossed.
        }
      }
    },
    addresses: (host) =>
      (plan.hosts[host]?.ifaces ?? []).flatMap((i) => [address.format(i.v4), address.format(i.v6)]),
    conntrack(host) {
      const h = hosts.get(host);
      if (!h) {
        throw new RangeError(`no host ${host} in the topology (${[...hosts.keys()].join(", ")})`);
      }
      if (!h.conntrack) {
        throw new RangeError(
          `${host} is a builtin() host, which has no conntrack; a kernel() host has`,
        );
      }
      return h.conntrack();
    },
    resolve(addr, family) {
      if (address.isValid(addr)) return addr;
      if (!hosts.has(addr)) {
        throw new RangeError(
          `want an address or a host of the topology (${[...hosts.keys()].join(", ")}), got ${
            JSON.stringify(addr)
          }`,
        );
      }
      return address.format(plan.address(addr, family));
    },
  };
  const kinds = Object.entries(def.hosts).map(([n, h]) => `${n}:${h.kind}`).join(" ");
  return {
    name: `topology ${kinds}`,
    clock,
    backend,
    sockets: tapB.sockets,
    v4: ends(4),
    v6: ends(6),
    configure: (s) => tapB.configure(s),
    topology: control,
    reasons: hostReasons([...hosts.values()], crossed),
    async close() {
      if (closed) return;
      closed = true;
      await close();
    },
  };
}

/**
 * Every host's reasons as one: a datagram's is the first host's that has
 * one (each names what crossed its own links). Unavailable when a kernel
 * host cannot say (no tracefs): reason checks then warn instead of failing.
 */
function hostReasons(
  hosts: readonly TopoHost[],
  crossed: WeakMap<Uint8Array, Uint8Array>,
): StackReasons | undefined {
  const all = hosts.flatMap((h) => (h.reasons ? [h.reasons] : []));
  if (!all.length) return undefined;
  const unavailable = all.find((r) => r.unavailable)?.unavailable;
  return {
    ...(unavailable ? { unavailable } : {}),
    of: (b) => {
      const copy = crossed.get(b);
      for (const r of all) {
        const x = r.of(b) ?? (copy && r.of(copy));
        if (x) return x;
      }
      return undefined;
    },
    settle: () => {
      const pending = all.map((r) => r.settle()).filter((p) => p !== undefined);
      return pending.length ? Promise.all(pending).then(() => {}) : undefined;
    },
  };
}

function addressOn(plan: TopologyPlan, host: string, link: string, family: 4 | 6): Uint8Array {
  const i = plan.hosts[host].ifaces.find((x) => x.link === link)!;
  return family === 4 ? i.v4 : i.v6;
}
