/**
 * A forwarding host played by models, for a topology run on the built-in
 * target: where the kernel target builds `kernel({ forward: true, nft })` as
 * a namespace with real netfilter, this host tracks TCP with the conntrack
 * model (`runtime/middlebox`), translates destinations, masquerades and
 * drops INVALID as the same `nft` text says, forwards by the topology's routes, and delivers what is
 * addressed to itself to a built-in stack of its own, which answers as a
 * host with no such socket does: with a RST.
 *
 * The order is netfilter's: conntrack and de-NAT of replies at
 * PREROUTING, the routing decision, `ct state invalid drop` at INPUT or
 * FORWARD, masquerade at POSTROUTING for a connection's first segment.
 * An INVALID segment is not translated. The host's own segments, and what is
 * not TCP, are not tracked. Each decision is written on the segment's trace
 * line: `conntrack ESTABLISHED, SNAT 10.1.0.1:40000 -> 10.2.0.2:40000`,
 * `conntrack INVALID (SEQ is over upper bound …), not translated`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { kernel, builtin, topology } from "../../dsl/topology_def.ts";
 * import { VirtualClock } from "../engine/clock.ts";
 * import { planTopology } from "./addressing.ts";
 * import { modelRouter } from "./model_router.ts";
 * const t = topology({
 *   hosts: { a: builtin(), r: kernel({ forward: true }), b: builtin() },
 *   links: [["a", "r"], ["r", "b"]],
 * });
 * const r = modelRouter("r", t.hosts.r as ReturnType<typeof kernel>, planTopology(t), new VirtualClock());
 * assert.equal(r.kind, "kernel");
 * ```
 */
import type { HostDef } from "../../dsl/topology_def.ts";
import type { Clock } from "../engine/clock.ts";
import { address } from "../wire/address.ts";
import { datagramEnds, type Packet, parsePacket } from "../wire/packet.ts";
import {
  applyConntrackSysctl,
  CONNTRACK_DEFAULTS,
  type ConntrackSettings,
} from "../middlebox/conntrack_settings.ts";
import { CT_STATE_NAMES } from "../middlebox/conntrack_states.ts";
import { ConntrackTable, type TableVerdict, type Tuple } from "../middlebox/conntrack_table.ts";
import { forwarded, rewriteEnds } from "../middlebox/nat_rewrite.ts";
import { parseNftRules } from "../middlebox/nft_rules.ts";
import type { TcpTracker } from "../middlebox/tcp_tracker.ts";
import { applySysctl, resolveProfile } from "../stack/profile.ts";
import { Stack } from "../stack/stack.ts";
import type { TopologyPlan } from "./addressing.ts";
import type { TopoHost } from "./host.ts";

/** Where a masqueraded connection's two ends are, before and after translation. */
interface Binding {
  inside: { addr: Uint8Array; port: number };
  outside: { addr: Uint8Array; port: number };
}

/** A connection whose destination was translated: the address it asked for, and where it went. */
interface DnatBinding {
  service: { addr: Uint8Array; port: number };
  backend: { addr: Uint8Array; port: number };
}

const tupleOf = (p: Packet): Tuple | undefined =>
  p.transport.kind === "tcp"
    ? {
      src: p.ip.src,
      dst: p.ip.dst,
      srcPort: p.transport.srcPort,
      dstPort: p.transport.dstPort,
    }
    : undefined;

const ep = (a: Uint8Array, port: number) => `${address.format(a)}:${port}`;

/** The router, as a topology host. */
export function modelRouter(
  name: string,
  def: Extract<HostDef, { kind: "kernel" }>,
  plan: TopologyPlan,
  clock: Clock,
): TopoHost {
  const rules = parseNftRules(def.nft ?? "");
  const ifaces = plan.hosts[name].ifaces;
  const own = ifaces.flatMap((i) => [i.v4, i.v6]);
  const devOf = new Map(ifaces.map((i) => [i.link, i.dev]));
  let settings: ConntrackSettings = CONNTRACK_DEFAULTS;
  const stack = new Stack({ clock, addresses: own, profile: resolveProfile("linux") });
  const table = new ConntrackTable(settings);
  const bindings = new WeakMap<TcpTracker, Binding>();
  const dnats = new WeakMap<TcpTracker, DnatBinding>();
  const dnatRules = rules.dnat.map((r) => ({
    service: { addr: address.parse(r.match.addr), port: r.match.port },
    backend: { addr: address.parse(r.to.addr), port: r.to.port },
  }));

  const isOwn = (a: Uint8Array) => own.some((x) => address.equal(x, a));
  const out = (bytes: Uint8Array, dst: Uint8Array) => {
    const link = plan.linkToward(name, dst);
    if (link) host.emit?.(link, bytes, clock.now());
  };

  const configure = (n: string, v: number | string) => {
    if (n.startsWith("net.netfilter.")) {
      settings = applyConntrackSysctl(settings, n, v);
      table.settings = settings;
    } else if (n === "net.ipv4.ip_forward" || n === "net.ipv6.conf.all.forwarding") {
      // It forwards by being this host.
    } else stack.profile = applySysctl(stack.profile, n, v);
  };
  for (const [k, v] of Object.entries(def.sysctls)) configure(k, v);

  /** PREROUTING: conntrack, then de-NAT of a tracked reply. */
  const prerouting = (bytes: Uint8Array, p: Packet, note: (t: string) => void) => {
    const tuple = tupleOf(p)!;
    const t = p.transport.kind === "tcp" ? p.transport : undefined;
    const v: TableVerdict = table.track(tuple, {
      seq: t!.seq,
      ack: t!.ack,
      flags: t!.flags,
      window: t!.window,
      payloadLength: t!.payload.length,
      options: t!.options,
      checksumOk: t!.checksumOk,
    }, clock.now());
    const state = CT_STATE_NAMES[v.state];
    if (v.kind === "invalid") {
      note(`conntrack INVALID (${v.reason}), not translated`);
      return { bytes, v };
    }
    const how = v.kind === "ignore" ? `${state}, ignored (${v.reason})` : state;
    const d = v.tracker && destinationNat(v.tracker, tuple, v);
    if (d && v.dir === "original") {
      note(
        `conntrack ${how}, DNAT ${ep(d.service.addr, d.service.port)} -> ${
          ep(d.backend.addr, d.backend.port)
        }`,
      );
      return { bytes: rewriteEnds(bytes, { dst: d.backend.addr, dstPort: d.backend.port }), v };
    }
    if (d && v.dir === "reply") {
      note(
        `conntrack ${how}, un-DNAT ${ep(d.backend.addr, d.backend.port)} -> ${
          ep(d.service.addr, d.service.port)
        }`,
      );
      return { bytes: rewriteEnds(bytes, { src: d.service.addr, srcPort: d.service.port }), v };
    }
    const binding = v.tracker && bindings.get(v.tracker);
    if (binding && v.dir === "reply") {
      const back = rewriteEnds(bytes, { dst: binding.inside.addr, dstPort: binding.inside.port });
      note(
        `conntrack ${how}, de-NAT ${ep(binding.outside.addr, binding.outside.port)} -> ${
          ep(binding.inside.addr, binding.inside.port)
        }`,
      );
      return { bytes: back, v };
    }
    note(`conntrack ${how}`);
    return { bytes, v };
  };

  /**
   * The connection's DNAT, made on its first segment when a rule matches
   * (the reply then comes from the backend, and is filed so).
   */
  const destinationNat = (tr: TcpTracker, t: Tuple, v: TableVerdict) => {
    const known = dnats.get(tr);
    if (known || v.dir !== "original" || bindings.has(tr)) return known;
    const rule = dnatRules.find((r) =>
      address.equal(r.service.addr, t.dst) && r.service.port === t.dstPort
    );
    if (!rule) return undefined;
    dnats.set(tr, rule);
    table.natReply(t, {
      src: rule.backend.addr,
      dst: t.src,
      srcPort: rule.backend.port,
      dstPort: t.srcPort,
    });
    return rule;
  };

  /** POSTROUTING: masquerade a connection's first segment out of a masqueraded device. */
  const postrouting = (
    bytes: Uint8Array,
    p: Packet,
    v: TableVerdict,
    link: string,
    note: (t: string) => void,
  ) => {
    if (v.kind === "invalid" || v.dir !== "original" || !v.tracker || p.ip.src.length !== 4) {
      return bytes;
    }
    let binding = bindings.get(v.tracker);
    const t = tupleOf(p)!;
    if (!binding) {
      if (!rules.masquerade.includes(devOf.get(link)!)) return bytes;
      const addr = ifaces.find((i) => i.link === link)!.v4;
      // Linux keeps the source port when the translated tuple is free.
      let port = t.srcPort;
      const free = (q: number) =>
        !table.taken({ src: t.dst, dst: addr, srcPort: t.dstPort, dstPort: q }, clock.now());
      while (!free(port)) port = port >= 65535 ? 1024 : port + 1;
      binding = { inside: { addr: t.src, port: t.srcPort }, outside: { addr, port } };
      bindings.set(v.tracker, binding);
      table.natReply(t, { src: t.dst, dst: addr, srcPort: t.dstPort, dstPort: port });
    }
    note(
      `SNAT ${ep(binding.inside.addr, binding.inside.port)} -> ${
        ep(binding.outside.addr, binding.outside.port)
      }`,
    );
    return rewriteEnds(bytes, { src: binding.outside.addr, srcPort: binding.outside.port });
  };

  const arrive = (bytes: Uint8Array, note: (t: string) => void) => {
    let p: Packet;
    try {
      p = parsePacket(bytes, "raw", { verify: true });
    } catch {
      return; // not IP: nothing here handles it
    }
    if (p.transport.kind !== "tcp") {
      if (isOwn(p.ip.dst)) stack.input(bytes);
      else {
        const f = forwarded(bytes);
        if (f) out(f, p.ip.dst);
      }
      return;
    }
    const pre = prerouting(bytes, p, note);
    const after = parsePacket(pre.bytes, "raw", { verify: false });
    if (isOwn(after.ip.dst)) {
      if (pre.v.kind === "invalid" && rules.dropInvalid.includes("input")) {
        return note("dropped by ct state invalid drop (input)");
      }
      return stack.input(pre.bytes);
    }
    if (pre.v.kind === "invalid" && rules.dropInvalid.includes("forward")) {
      return note("dropped by ct state invalid drop (forward)");
    }
    const link = plan.linkToward(name, after.ip.dst);
    const f = link && forwarded(pre.bytes);
    if (!link || !f) return;
    host.emit?.(link, postrouting(f, after, pre.v, link, note), clock.now());
  };

  const host: TopoHost = {
    name,
    kind: "kernel",
    sockets: stack,
    configure(s) {
      if (s.kind === "sysctl") configure(s.name, s.value);
      else stack.profile = resolveProfile(s.profile);
      return undefined;
    },
    deliver(_link, bytes, note) {
      // Deferred, so that no stack is re-entered from another's output.
      clock.setTimer(clock.now(), () => arrive(bytes, note ?? (() => {})));
    },
    close: () => Promise.resolve(),
  };
  stack.output = (bytes) => out(bytes, datagramEnds(bytes).dst);
  return host;
}
