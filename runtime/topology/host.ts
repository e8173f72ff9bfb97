/**
 * A host of a topology as the relays see it: it takes datagrams in from a
 * link (`deliver`) and hands the ones it sends to `emit`, naming the link.
 * The built-in kind is here; the kernel kind, which needs root and FFI, is
 * in `kernel_host.ts` and loaded only when a topology has one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { builtin, topology } from "../../dsl/topology_def.ts";
 * import { VirtualClock } from "../engine/clock.ts";
 * import { planTopology } from "./addressing.ts";
 * import { builtinHost } from "./host.ts";
 * const t = topology({ hosts: { a: builtin(), b: builtin() }, links: [["a", "b"]] });
 * const clock = new VirtualClock();
 * const a = builtinHost("a", builtin(), planTopology(t), clock);
 * const sent: string[] = [];
 * a.emit = (link) => sent.push(link);
 * a.sockets.call({ name: "socket", family: 4 });
 * a.sockets.call({ name: "connect", fd: 3, addr: "10.1.0.2", port: 80 });
 * assert.deepEqual(sent, ["a-b"]);
 * ```
 */
import type { HostDef } from "../../dsl/topology_def.ts";
import type { Clock } from "../engine/clock.ts";
import type { ConntrackView, SocketApi, StackReasons, TargetSetting } from "../engine/target.ts";
import { applySysctl, resolveProfile } from "../stack/profile.ts";
import { Stack } from "../stack/stack.ts";
import { datagramEnds } from "../wire/packet.ts";
import type { TopologyPlan } from "./addressing.ts";

/** A host, as the topology drives it. */
export interface TopoHost {
  readonly name: string;
  readonly kind: HostDef["kind"];
  readonly sockets: SocketApi;
  /** A sysctl (or, for a built-in host, a profile); a returned note is a warning. */
  configure(s: TargetSetting): string | undefined;
  /** One datagram arriving on `link`; `note` adds to its trace line what the host did with it. */
  deliver(link: string, bytes: Uint8Array, note?: (text: string) => void): void;
  /** Its conntrack table (a kernel host, real or modelled). */
  conntrack?(): Promise<ConntrackView>;
  /**
   * Set by the topology: takes each datagram the host sends, with the link it
   * goes out on, and what the host did to it on the way out, for its trace line.
   */
  emit?: (link: string, bytes: Uint8Array, time: number, notes?: string[]) => void;
  /** Why it reset or dropped what it did, by the datagrams as they crossed its links. */
  readonly reasons?: StackReasons;
  close(): Promise<void>;
}

/** A built-in stack with an address on each of its links; it does not forward. */
export function builtinHost(
  name: string,
  def: Extract<HostDef, { kind: "builtin" }>,
  plan: TopologyPlan,
  clock: Clock,
): TopoHost {
  const ifaces = plan.hosts[name].ifaces;
  const stack = new Stack({
    clock,
    addresses: ifaces.flatMap((i) => [i.v4, i.v6]),
    profile: resolveProfile(def.profile),
    seed: def.seed,
  });
  const host: TopoHost = {
    name,
    kind: "builtin",
    sockets: stack,
    reasons: stack.reasons,
    configure(s) {
      stack.profile = s.kind === "profile"
        ? resolveProfile(s.profile)
        : applySysctl(stack.profile, s.name, s.value);
      return undefined;
    },
    deliver(_link, bytes) {
      // Deferred, so that no stack is re-entered from another's output.
      clock.setTimer(clock.now(), () => stack.input(bytes));
    },
    close: () => Promise.resolve(),
  };
  stack.output = (bytes) => {
    const link = plan.linkToward(name, datagramEnds(bytes).dst);
    // Nothing routes it: dropped, as a host without a route drops (no link to trace it on).
    if (link) host.emit?.(link, bytes, clock.now());
  };
  return host;
}
