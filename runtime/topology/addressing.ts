/**
 * The addresses and routes of a topology, decided before anything is built:
 * each link is a subnet (its first host .1, its second .2), and each host
 * routes every subnet it is not on along the shortest path of links. Paths
 * go on only through hosts that forward (a kernel with `forward: true`; a
 * built-in stack never does): beyond a host that does not, only that host's
 * own addresses answer, as on a real network.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { builtin, kernel, topology } from "../../dsl/topology_def.ts";
 * import { address } from "../wire/address.ts";
 * import { planTopology } from "./addressing.ts";
 * const p = planTopology(topology({
 *   hosts: { client: kernel(), router: kernel({ forward: true }), server: builtin() },
 *   links: [["client", "router"], ["router", "server"]],
 * }));
 * assert.equal(address.format(p.hosts.client.ifaces[0].v4), "10.1.0.1");
 * assert.deepEqual(p.hosts.client.routes.map((r) => [r.link, r.v4]), [["client-router", "10.2.0.0/24"]]);
 * assert.equal(address.format(p.address("server", 6)), "fd00:0:0:2::2");
 * assert.equal(p.linkToward("server", address.parse("10.1.0.1")), "router-server");
 * ```
 */
import type { TopologyDef } from "../../dsl/topology_def.ts";
import { address } from "../wire/address.ts";

/** One end of a link on a host. */
export interface Iface {
  link: string;
  /** The TUN device's name inside a kernel host. */
  dev: string;
  v4: Uint8Array;
  v4Prefix: number;
  v6: Uint8Array;
  v6Prefix: number;
  mtu: number;
}

/** A subnet reached through one of the host's links. */
export interface Route {
  link: string;
  v4: string;
  v6: string;
}

/** One host's interfaces and routes. */
export interface HostPlan {
  ifaces: Iface[];
  routes: Route[];
}

/** The whole plan. */
export interface TopologyPlan {
  hosts: Record<string, HostPlan>;
  /** A host's address on its first link, for `connect(port, "server")`. */
  address(host: string, family: 4 | 6): Uint8Array;
  /** The link a host sends a datagram for `dst` on, or undefined when nothing routes it. */
  linkToward(host: string, dst: Uint8Array): string | undefined;
}

/** `10.1.0.0/24` as its network bytes and prefix length. */
export function parseSubnet(cidr: string, family: 4 | 6): { net: Uint8Array; prefix: number } {
  const m = /^([^/]+)\/(\d+)$/.exec(cidr);
  const bits = family === 4 ? 32 : 128;
  const net = m && address.isValid(m[1]) ? address.parse(m[1]) : undefined;
  const prefix = m ? Number(m[2]) : NaN;
  if (!net || net.length !== bits / 8 || !(prefix >= 8 && prefix <= bits - 2)) {
    throw new RangeError(
      `topology: want an IPv${family} subnet such as ${
        family === 4 ? "10.9.0.0/24" : "fd00:9::/64"
      }, got ${JSON.stringify(cidr)}`,
    );
  }
  return { net, prefix };
}

/** The `n`th address of a subnet (n small). */
function nth(net: Uint8Array, n: number): Uint8Array {
  const a = net.slice();
  a[a.length - 1] += n;
  return a;
}

/** True when `a` lies in `net/prefix`. */
export function inSubnet(a: Uint8Array, net: Uint8Array, prefix: number): boolean {
  if (a.length !== net.length) return false;
  for (let bit = 0; bit < prefix; bit += 8) {
    const i = bit >> 3;
    const mask = prefix - bit >= 8 ? 0xff : (0xff << (8 - (prefix - bit))) & 0xff;
    if ((a[i] & mask) !== (net[i] & mask)) return false;
  }
  return true;
}

/** Decides addresses and routes; throws a `RangeError` when a host cannot reach a link. */
export function planTopology(t: TopologyDef): TopologyPlan {
  const hosts: Record<string, HostPlan> = {};
  for (const h of Object.keys(t.hosts)) hosts[h] = { ifaces: [], routes: [] };
  const subnets = new Map<
    string,
    { v4: ReturnType<typeof parseSubnet>; v6: ReturnType<typeof parseSubnet> }
  >();
  t.links.forEach((l, i) => {
    const v4 = parseSubnet(l.v4, 4), v6 = parseSubnet(l.v6, 6);
    subnets.set(l.name, { v4, v6 });
    for (const [host, n] of [[l.a, 1], [l.b, 2]] as const) {
      hosts[host].ifaces.push({
        link: l.name,
        dev: `sy${i + 1}`,
        v4: nth(v4.net, n),
        v4Prefix: v4.prefix,
        v6: nth(v6.net, n),
        v6Prefix: v6.prefix,
        mtu: l.mtu,
      });
    }
  });
  const forwards = (h: string) => {
    const d = t.hosts[h];
    return d.kind === "kernel" && d.forward;
  };
  for (const h of Object.keys(t.hosts)) {
    // Breadth first from h: the first link of the shortest path to each host.
    const first = new Map<string, string>([[h, ""]]);
    const queue = [h];
    while (queue.length) {
      const at = queue.shift()!;
      if (at !== h && !forwards(at)) continue;
      for (const l of t.links) {
        const other = l.a === at ? l.b : l.b === at ? l.a : undefined;
        if (other === undefined || first.has(other)) continue;
        first.set(other, at === h ? l.name : first.get(at)!);
        queue.push(other);
      }
    }
    const own = new Set(hosts[h].ifaces.map((i) => i.link));
    for (const l of t.links) {
      if (own.has(l.name)) continue;
      const via = first.get(l.a) ?? first.get(l.b);
      if (via) hosts[h].routes.push({ link: via, v4: l.v4, v6: l.v6 });
    }
  }
  return {
    hosts,
    address(host, family) {
      const i = hosts[host]?.ifaces[0];
      if (!i) throw new RangeError(`topology: host ${host} has no link, so no address`);
      return family === 4 ? i.v4 : i.v6;
    },
    linkToward(host, dst) {
      const p = hosts[host];
      for (const i of p.ifaces) {
        const s = subnets.get(i.link)!;
        const sub = dst.length === 4 ? s.v4 : s.v6;
        if (inSubnet(dst, sub.net, sub.prefix)) return i.link;
      }
      for (const r of p.routes) {
        const sub = dst.length === 4 ? parseSubnet(r.v4, 4) : parseSubnet(r.v6, 6);
        if (inSubnet(dst, sub.net, sub.prefix)) return r.link;
      }
      return undefined;
    },
  };
}
