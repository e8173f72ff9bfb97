/**
 * A Linux host with netfilter, played by models, for a topology run on the
 * built-in target: where the kernel target builds `kernel({ forward, nft })`
 * as a namespace with real netfilter, this host tracks TCP with the
 * conntrack model (`runtime/middlebox`), translates as the same `nft` text
 * says (or the same host's `iptables` lines), drops INVALID where a rule says so, forwards by the topology's routes
 * when it forwards, and delivers what is addressed to itself to a built-in
 * stack of its own (a router's answers a segment for no socket with a RST).
 *
 * The order is netfilter's (`nf_nat_core.c`, `nf_nat_proto.c`):
 * - PREROUTING: conntrack; a new connection's DNAT; a reply's un-SNAT
 *   (its destination back to the inside host) and un-DNAT;
 * - the routing decision; `ct state invalid drop` at INPUT or FORWARD;
 * - a new connection's source binding at LOCAL_IN or POSTROUTING:
 *   masquerade out of a masqueraded device, or else the null binding, which
 *   keeps the source unless the reply tuple would clash with another entry's,
 *   and then takes another port as Linux does (`nat_port.ts`). With DNAT to
 *   this host, that is seed 2's case: a second flow from a client ip:port
 *   that already has a connection to the port DNAT leads to;
 * - the host's own segments: conntrack at OUTPUT, a reply's translation back.
 *
 * An INVALID segment is not translated. Each decision is written on the
 * segment's trace line: `conntrack ESTABLISHED, SNAT 10.1.0.1:40000 ->
 * 10.2.0.2:40000`, `conntrack INVALID (SEQ is over upper bound …), not
 * translated`. NAT is IPv4 only; IPv6 segments are tracked and forwarded.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { kernel, builtin, topology } from "../../dsl/topology_def.ts";
 * import { VirtualClock } from "../engine/clock.ts";
 * import { planTopology } from "./addressing.ts";
 * import { netfilterHost } from "./netfilter_host.ts";
 * const t = topology({
 *   hosts: { a: builtin(), r: kernel({ forward: true }), b: builtin() },
 *   links: [["a", "r"], ["r", "b"]],
 * });
 * const r = netfilterHost("r", t.hosts.r as ReturnType<typeof kernel>, planTopology(t), new VirtualClock());
 * assert.equal(r.kind, "kernel");
 * assert.deepEqual(await r.conntrack!(), { entries: [], invalid: 0 });
 * ```
 */
import type { HostDef } from "../../dsl/topology_def.ts";
import type { Clock } from "../engine/clock.ts";
import { mulberry32 } from "../engine/mulberry32.ts";
import type { ConntrackView } from "../engine/target.ts";
import { address } from "../wire/address.ts";
import { datagramEnds, type Packet, parsePacket } from "../wire/packet.ts";
import {
  applyConntrackSysctl,
  CONNTRACK_DEFAULTS,
  type ConntrackSettings,
} from "../middlebox/conntrack_settings.ts";
import { CT_STATE_NAMES } from "../middlebox/conntrack_states.ts";
import { ConntrackTable, type TableVerdict, type Tuple } from "../middlebox/conntrack_table.ts";
import { pickSourcePort } from "../middlebox/nat_port.ts";
import { forwarded, rewriteEnds } from "../middlebox/nat_rewrite.ts";
import { parseIptablesRules } from "../middlebox/iptables_rules.ts";
import { parseNftRules } from "../middlebox/nft_rules.ts";
import { type CtStateName, describeVerdict, filterVerdict } from "../middlebox/filter_chain.ts";
import { rejectReset, rejectUnreachable } from "../middlebox/reject.ts";
import type { TcpTracker } from "../middlebox/tcp_tracker.ts";
import { applySysctl, resolveProfile } from "../stack/profile.ts";
import { Stack } from "../stack/stack.ts";
import { ReasonBook } from "../engine/reason_book.ts";
import type { TopologyPlan } from "./addressing.ts";
import type { TopoHost } from "./host.ts";

interface End {
  addr: Uint8Array;
  port: number;
}

/** A connection's translations, decided on its first segment, as nf_nat's bindings are. */
interface Nat {
  /** DNAT: the address and port it asked for, and where it goes. */
  dnat?: { service: End; backend: End };
  /** The source binding: where it came from, and what it leaves as (the same, unless NATed). */
  snat?: { inside: End; outside: End; masquerade: boolean };
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

const ep = (e: End) => `${address.format(e.addr)}:${e.port}`;
const sameEnd = (a: End, b: End) => a.port === b.port && address.equal(a.addr, b.addr);

/** The host, as a topology host. */
export function netfilterHost(
  name: string,
  def: Extract<HostDef, { kind: "kernel" }>,
  plan: TopologyPlan,
  clock: Clock,
): TopoHost {
  const nft = parseNftRules(def.nft ?? ""), ipt = parseIptablesRules(def.iptables ?? []);
  const rules = {
    masquerade: [...nft.masquerade, ...ipt.masquerade],
    dnat: [...nft.dnat, ...ipt.dnat],
    filter: {
      input: [...nft.filter.input, ...ipt.filter.input],
      forward: [...nft.filter.forward, ...ipt.filter.forward],
    },
  };
  const ifaces = plan.hosts[name].ifaces;
  const own = ifaces.flatMap((i) => [i.v4, i.v6]);
  const devOf = new Map(ifaces.map((i) => [i.link, i.dev]));
  let settings: ConntrackSettings = CONNTRACK_DEFAULTS;
  const stack = new Stack({ clock, addresses: own, profile: resolveProfile("linux") });
  // Reasons by the datagrams as they crossed the links: netfilter's own drops, and the
  // stack's words on the (translated) datagrams it took and sent.
  const dropped = new ReasonBook();
  const stackBytes = new WeakMap<Uint8Array, Uint8Array>();
  const table = new ConntrackTable(settings);
  const nats = new WeakMap<TcpTracker, Nat>();
  const random = mulberry32(0x6e66);
  const dnatRules = rules.dnat.map((r) => ({
    match: {
      addr: r.match.addr === undefined ? undefined : address.parse(r.match.addr),
      port: r.match.port,
    },
    to: { addr: r.to.addr === undefined ? undefined : address.parse(r.to.addr), port: r.to.port },
  }));
  /** The address of this host on `link`, of the family of `like`. */
  const addressOn = (link: string, like: Uint8Array) => {
    const i = ifaces.find((x) => x.link === link)!;
    return like.length === 4 ? i.v4 : i.v6;
  };

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
      // Whether it forwards is the host's `forward`, fixed when the topology is built.
    } else stack.profile = applySysctl(stack.profile, n, v);
  };
  for (const [k, v] of Object.entries(def.sysctls)) configure(k, v);

  /** Conntrack of one TCP segment, and the first words of its trace note. */
  const track = (p: Packet) => {
    const t = p.transport.kind === "tcp" ? p.transport : undefined;
    const v: TableVerdict = table.track(tupleOf(p)!, {
      seq: t!.seq,
      ack: t!.ack,
      flags: t!.flags,
      window: t!.window,
      payloadLength: t!.payload.length,
      options: t!.options,
      checksumOk: t!.checksumOk,
    }, clock.now());
    const state = CT_STATE_NAMES[v.state];
    const how = v.kind === "invalid"
      ? `conntrack INVALID (${v.reason}), not translated`
      : v.kind === "ignore"
      ? `conntrack ${state}, ignored (${v.reason})`
      : `conntrack ${state}`;
    return { v, how };
  };

  /** PREROUTING's NAT: a new connection's DNAT; a reply's un-SNAT and un-DNAT. */
  const prerouting = (
    bytes: Uint8Array,
    p: Packet,
    v: TableVerdict,
    link: string,
    notes: string[],
  ) => {
    if (v.kind === "invalid" || !v.tracker || p.ip.src.length !== 4) return bytes;
    const t = tupleOf(p)!;
    let nat = nats.get(v.tracker);
    if (!nat && v.dir === "original") {
      nat = {};
      const rule = dnatRules.find((r) =>
        (r.match.addr === undefined || address.equal(r.match.addr, t.dst)) &&
        r.match.port === t.dstPort
      );
      if (rule) {
        nat.dnat = {
          service: { addr: t.dst, port: t.dstPort },
          // REDIRECT: to this host, at its address on the device the segment came in on.
          backend: { addr: rule.to.addr ?? addressOn(link, t.dst), port: rule.to.port },
        };
      }
      nats.set(v.tracker, nat);
    }
    if (v.dir === "original" && nat?.dnat) {
      notes.push(`DNAT ${ep(nat.dnat.service)} -> ${ep(nat.dnat.backend)}`);
      return rewriteEnds(bytes, { dst: nat.dnat.backend.addr, dstPort: nat.dnat.backend.port });
    }
    if (v.dir === "reply") return unNat(bytes, nat, notes);
    return bytes;
  };

  /** A reply, back to the ends its connection was opened with. */
  const unNat = (bytes: Uint8Array, nat: Nat | undefined, notes: string[]) => {
    let b = bytes;
    const s = nat?.snat;
    if (s && !sameEnd(s.inside, s.outside)) {
      notes.push(`de-NAT ${ep(s.outside)} -> ${ep(s.inside)}`);
      b = rewriteEnds(b, { dst: s.inside.addr, dstPort: s.inside.port });
    }
    const d = nat?.dnat;
    if (d) {
      notes.push(`un-DNAT ${ep(d.backend)} -> ${ep(d.service)}`);
      b = rewriteEnds(b, { src: d.service.addr, srcPort: d.service.port });
    }
    return b;
  };

  /**
   * LOCAL_IN or POSTROUTING: a new connection's source binding (masquerade
   * out of `link` if a rule says so, else the null binding), which files its
   * reply tuple; then the original direction's source translation.
   */
  const sourceNat = (
    bytes: Uint8Array,
    p: Packet,
    v: TableVerdict,
    link: string | undefined,
    notes: string[],
  ) => {
    if (v.kind === "invalid" || v.dir !== "original" || !v.tracker || p.ip.src.length !== 4) {
      return bytes;
    }
    let nat = nats.get(v.tracker);
    if (!nat) nats.set(v.tracker, nat = {});
    const t = tupleOf(p)!;
    if (!nat.snat) {
      const masquerade = link !== undefined && rules.masquerade.includes(devOf.get(link)!);
      const addr = masquerade ? ifaces.find((i) => i.link === link)!.v4 : t.src;
      // The reply comes from where the segment now goes, to the translated source.
      const reply = (q: number): Tuple => ({
        src: t.dst,
        dst: addr,
        srcPort: t.dstPort,
        dstPort: q,
      });
      const port = pickSourcePort(
        t.srcPort,
        (q) => !table.taken(reply(q), clock.now(), v.tracker),
        random,
      );
      nat.snat = { inside: { addr: t.src, port: t.srcPort }, outside: { addr, port }, masquerade };
      const original: Tuple = nat.dnat
        ? { ...t, dst: nat.dnat.service.addr, dstPort: nat.dnat.service.port }
        : t;
      table.natReply(original, reply(port));
    }
    const s = nat.snat;
    if (sameEnd(s.inside, s.outside)) return bytes;
    notes.push(`SNAT ${ep(s.inside)} -> ${ep(s.outside)}`);
    return rewriteEnds(bytes, { src: s.outside.addr, srcPort: s.outside.port });
  };

  /**
   * The filter chains on `hook`: whether the segment goes on. A reject
   * answers it from here, through this host's own output (tracked, routed).
   */
  const filter = (
    hook: "input" | "forward",
    bytes: Uint8Array,
    p: Packet,
    v: TableVerdict,
    from: string,
    notes: string[],
  ) => {
    const state: CtStateName = v.kind === "invalid"
      ? "invalid"
      : v.dir === "original" && !v.tracker?.seenReply
      ? "new"
      : "established";
    const verdict = filterVerdict(rules.filter[hook], state);
    if (verdict === "accept") return true;
    notes.push(describeVerdict(verdict, state, hook));
    if (verdict === "reject-tcp-reset") send(rejectReset(p));
    else if (verdict === "reject") {
      const icmp = rejectUnreachable(bytes, addressOn(from, p.ip.src));
      host.emit?.(from, icmp, clock.now());
    }
    return false;
  };

  const arrive = (from: string, bytes: Uint8Array, note: (t: string) => void) => {
    let p: Packet;
    try {
      p = parsePacket(bytes, "raw", { verify: true });
    } catch {
      return; // not IP: nothing here handles it
    }
    if (p.transport.kind !== "tcp") {
      if (isOwn(p.ip.dst)) stack.input(bytes);
      else if (def.forward) {
        const f = forwarded(bytes);
        if (f) out(f, p.ip.dst);
      }
      return;
    }
    const { v, how } = track(p);
    const notes = [how];
    const say = () => note(notes.join(", "));
    const pre = prerouting(bytes, p, v, from, notes);
    const after = pre === bytes ? p : parsePacket(pre, "raw", { verify: false });
    if (isOwn(after.ip.dst)) {
      if (!filter("input", pre, after, v, from, notes)) {
        dropped.drop(bytes, "NETFILTER_DROP");
        return say();
      }
      const local = sourceNat(pre, after, v, undefined, notes);
      say();
      stackBytes.set(bytes, local);
      return stack.input(local);
    }
    if (!def.forward) {
      notes.push("not forwarded (forwarding is off)");
      return say();
    }
    if (!filter("forward", pre, after, v, from, notes)) {
      dropped.drop(bytes, "NETFILTER_DROP");
      return say();
    }
    const link = plan.linkToward(name, after.ip.dst);
    const f = link && forwarded(pre);
    if (!link || !f) return say();
    const sent = sourceNat(f, after, v, link, notes);
    say();
    host.emit?.(link, sent, clock.now());
  };

  /** The host's own segments: conntrack at OUTPUT, a reply translated back, a new one bound. */
  const send = (bytes: Uint8Array) => {
    const dst = datagramEnds(bytes).dst;
    const link = plan.linkToward(name, dst);
    if (!link) return;
    let p: Packet;
    try {
      p = parsePacket(bytes, "raw", { verify: false });
    } catch {
      return;
    }
    if (p.transport.kind !== "tcp") return host.emit?.(link, bytes, clock.now());
    const { v, how } = track(p);
    const notes = [how.replace(/^conntrack/, "conntrack (output)")];
    let b = bytes;
    if (v.kind !== "invalid" && v.tracker && p.ip.src.length === 4) {
      if (v.dir === "reply") b = unNat(b, nats.get(v.tracker), notes);
      else b = sourceNat(b, p, v, link, notes);
    }
    stackBytes.set(b, bytes);
    host.emit?.(link, b, clock.now(), [notes.join(", ")]);
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
    deliver(link, bytes, note) {
      // Deferred, so that no stack is re-entered from another's output.
      clock.setTimer(clock.now(), () => arrive(link, bytes, note ?? (() => {})));
    },
    conntrack: () => Promise.resolve(view()),
    reasons: {
      of: (b) => dropped.of(b) ?? stack.reasons.of(stackBytes.get(b) ?? b),
      settle: () => undefined,
    },
    close: () => Promise.resolve(),
  };
  const view = (): ConntrackView => ({
    entries: table.entries(clock.now()).map((e) => ({
      state: CT_STATE_NAMES[e.tracker.state],
      orig: ends(e.original),
      reply: ends(e.reply),
    })),
    invalid: table.invalid,
  });
  stack.output = send;
  return host;
}

function ends(t: Tuple) {
  return {
    src: address.format(t.src),
    sport: t.srcPort,
    dst: address.format(t.dst),
    dport: t.dstPort,
  };
}
