/**
 * Topologies as data: named hosts (a Linux kernel in a private namespace, or
 * synack's built-in stack) joined by point-to-point links, with the script on
 * a link of its choice (its tap) and able to act on every link's segments.
 *
 * ```text
 * topology({
 *   hosts: { client: kernel(), router: kernel({ forward: true }), server: builtin() },
 *   links: [["client", "router"], ["router", "server"]],
 *   tap: "router-server",
 * })
 * ```
 *
 * Each link is a subnet of its own: link n (from 1) is 10.n.0.0/24 and
 * fd00:0:0:n::/64 unless it says otherwise; its first host gets .1 / ::1 and
 * its second .2 / ::2. Routes to every other link are made along the
 * shortest path, so a kernel host with `forward: true` carries traffic
 * between its links. A link is named `a-b` after its hosts.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { builtin, kernel, topology } from "./topology_def.ts";
 * const t = topology({
 *   hosts: { client: kernel(), router: kernel({ forward: true }), server: builtin() },
 *   links: [["client", "router"], { between: ["router", "server"], mtu: 1400 }],
 * });
 * assert.deepEqual(t.links.map((l) => [l.name, l.mtu]), [["client-router", 1500], ["router-server", 1400]]);
 * assert.equal(t.tap, "client-router");
 * assert.throws(
 *   () => topology({ hosts: { a: builtin() }, links: [["a", "b"]] }),
 *   /topology\.links\.0: want two hosts of the topology, got \["a","b"\]/,
 * );
 * ```
 */
import { z } from "zod";
import { checkFields } from "./field_schema.ts";
import { type StepInput, type StepSource, toSteps } from "./steps.ts";

const name = z.string().regex(/^[a-z][a-z0-9_]{0,14}$/, {
  message: "a host name: a lower-case letter, then up to 14 letters, digits or _",
});

const KernelHost = z.strictObject({
  kind: z.literal("kernel"),
  /** IP forwarding between its links (net.ipv4.ip_forward, net.ipv6.conf.all.forwarding). */
  forward: z.boolean().default(false),
  /** Sysctls set in its namespace before the scenario starts. */
  sysctls: z.record(z.string(), z.union([z.number(), z.string()])).default({}),
  /**
   * An nftables ruleset (`nft -f` text) loaded in its namespace before the
   * scenario starts: NAT, `ct state invalid drop`, … Link n's device is `syn`.
   */
  nft: z.string().optional(),
  /**
   * iptables rules, one per line without the `iptables` word, as the seeds
   * write them: `-A INPUT -m conntrack --ctstate INVALID -j DROP`. Run in
   * its namespace after the `nft` text.
   */
  iptables: z.array(
    z.string().regex(/^[\w\s.:,/-]*$/, {
      message: "iptables options, without the iptables word or shell syntax",
    }),
  ).optional(),
});
const BuiltinHost = z.strictObject({
  kind: z.literal("builtin"),
  profile: z.union([z.string(), z.record(z.string(), z.unknown())]).default("linux"),
  seed: z.number().int().optional(),
});
const Host = z.discriminatedUnion("kind", [KernelHost, BuiltinHost]);

const LinkInput = z.union([
  z.tuple([name, name]),
  z.strictObject({
    between: z.tuple([name, name]),
    mtu: z.number().int().min(1280).max(65535).optional(),
    /** The link's IPv4 subnet (`10.9.0.0/24`). */
    v4: z.string().optional(),
    /** The link's IPv6 subnet (`fd00:9::/64`). */
    v6: z.string().optional(),
  }),
]);

const TopologyInput = z.strictObject({
  hosts: z.record(name, Host).refine((h) => Object.keys(h).length > 0, {
    message: "at least one host",
  }),
  links: z.array(LinkInput),
  /** The link the script's inject() and expect() use (`a-b`); by default the first. */
  tap: z.string().optional(),
});

/** A host of a topology. */
export type HostDef = z.output<typeof Host>;

/** A link of a topology, with its defaults decided. */
export interface LinkDef {
  readonly name: string;
  readonly a: string;
  readonly b: string;
  readonly mtu: number;
  readonly v4: string;
  readonly v6: string;
}

/** A topology, validated. */
export interface TopologyDef {
  readonly hosts: Readonly<Record<string, HostDef>>;
  readonly links: readonly LinkDef[];
  /** The script's link. */
  readonly tap: string;
}

/** What `topology()` takes. */
export type TopologyInput = z.input<typeof TopologyInput>;

/**
 * A Linux kernel host: a private network namespace of its own.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { kernel } from "./topology_def.ts";
 * assert.deepEqual(kernel({ forward: true }), { kind: "kernel", forward: true, sysctls: {} });
 * ```
 */
export function kernel(
  o: {
    forward?: boolean;
    sysctls?: Record<string, number | string>;
    nft?: string;
    iptables?: string[];
  } = {},
) {
  return checkFields(KernelHost, { kind: "kernel", ...o }, "kernel");
}

/**
 * A host played by synack's built-in stack.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { builtin } from "./topology_def.ts";
 * assert.equal(builtin().profile, "linux");
 * ```
 */
export function builtin(
  o: { profile?: string | Readonly<Record<string, unknown>>; seed?: number } = {},
) {
  return checkFields(BuiltinHost, { kind: "builtin", ...o }, "builtin");
}

/**
 * Validates a topology and decides its defaults (link names, subnets, MTUs, the tap).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { builtin, topology } from "./topology_def.ts";
 * const t = topology({ hosts: { a: builtin(), b: builtin() }, links: [["a", "b"]] });
 * assert.deepEqual([t.links[0].v4, t.links[0].v6], ["10.1.0.0/24", "fd00:0:0:1::/64"]);
 * ```
 */
export function topology(input: TopologyInput): TopologyDef {
  const v = checkFields(TopologyInput, input, "topology");
  const hosts = v.hosts as Record<string, HostDef>;
  const links: LinkDef[] = v.links.map((l, i) => {
    const o = Array.isArray(l) ? { between: l } : l;
    const [a, b] = o.between;
    if (!(a in hosts) || !(b in hosts) || a === b) {
      throw new RangeError(
        `topology.links.${i}: want two hosts of the topology, got ${JSON.stringify(o.between)}`,
      );
    }
    return {
      name: `${a}-${b}`,
      a,
      b,
      mtu: "mtu" in o && o.mtu !== undefined ? o.mtu : 1500,
      v4: "v4" in o && o.v4 !== undefined ? o.v4 : `10.${i + 1}.0.0/24`,
      v6: "v6" in o && o.v6 !== undefined ? o.v6 : `fd00:0:0:${(i + 1).toString(16)}::/64`,
    };
  });
  const names = new Set<string>();
  for (const l of links) {
    if (names.has(l.name)) throw new RangeError(`topology.links: want one link ${l.name}, got two`);
    names.add(l.name);
  }
  const tap = v.tap ?? links[0]?.name;
  if (tap === undefined || !names.has(tap)) {
    throw new RangeError(
      `topology.tap: want one of the links (${[...names].join(", ") || "none"}), got ${
        JSON.stringify(v.tap)
      }`,
    );
  }
  return { hosts, links, tap };
}

/** The schema of a validated topology, for scenario options that arrive as data. */
export const topologySchema = z.strictObject({
  hosts: z.record(z.string(), Host),
  links: z.array(z.strictObject({
    name: z.string(),
    a: z.string(),
    b: z.string(),
    mtu: z.number().int(),
    v4: z.string(),
    v6: z.string(),
  })),
  tap: z.string(),
});

/**
 * Socket calls and sysctls on a host of the topology:
 * `on("client", socket(), connect(8080, "server"))`. A host name as a
 * call's address stands for that host's address.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect, socket } from "./socket_steps.ts";
 * import { sysctl, toSteps } from "./steps.ts";
 * import { on } from "./topology_def.ts";
 * const steps = toSteps([on("client", socket(), connect(80, "server"), sysctl("net.ipv4.tcp_sack", 0))]);
 * assert.deepEqual(steps.map((s) => s.kind === "call" ? s.side : s.kind === "sysctl" ? s.host : ""), ["client", "client", "client"]);
 * assert.throws(() => toSteps([on("client", { kind: "wait", at: steps[0].at, ms: 1 })]), /on\("client"\): want socket calls and sysctls, got wait/);
 * ```
 */
export function on(host: string, ...steps: StepInput[]): StepSource {
  return {
    toSteps: () =>
      toSteps(steps).map((s) => {
        if (s.kind === "call") return { ...s, side: host };
        if (s.kind === "sysctl") return { ...s, host };
        throw new RangeError(`on("${host}"): want socket calls and sysctls, got ${s.kind}`);
      }),
  };
}
