/**
 * The built-in stack as a target: a `Stack` on a clock (virtual by default),
 * joined to the script by a `MemoryLink`. No root, no devices, no sockets of
 * the host. Addresses are packetdrill's: the stack under test is
 * 192.168.0.1 / fd3d:a0b:17d6::1 and the script 192.0.2.1 / fd3d:fa7b:d17d::1.
 * `builtinPeer` gives the script a stack of its own for `peer.auto()`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { builtinTarget } from "./builtin_target.ts";
 * const t = builtinTarget({ profile: "rfc7323-strict" });
 * assert.equal(t.name, "builtin:rfc7323-strict");
 * t.configure({ kind: "sysctl", name: "net.ipv4.tcp_timestamps", value: 0 });
 * assert.throws(() => t.configure({ kind: "sysctl", name: "net.ipv4.nope", value: 1 }), /not modelled/);
 * ```
 */
import { MemoryLink } from "../backend/memory_link.ts";
import { type Clock, RealClock, VirtualClock } from "../engine/clock.ts";
import type { Endpoints, Peer, PeerFactory, Target, TargetSetting } from "../engine/target.ts";
import { address } from "../wire/address.ts";
import { applySysctl, resolveProfile } from "./profile.ts";
import { Stack } from "./stack.ts";

/** packetdrill's default addresses (the kernel target uses the same). */
export const DEFAULT_ADDRESSES: Readonly<{ v4: Endpoints; v6: Endpoints }> = Object.freeze({
  v4: { local: address.parse("192.168.0.1"), remote: address.parse("192.0.2.1") },
  v6: { local: address.parse("fd3d:a0b:17d6::1"), remote: address.parse("fd3d:fa7b:d17d::1") },
});

/** Options of the built-in target. */
export interface BuiltinTargetOptions {
  /** A profile name or object. Default `linux`. */
  profile?: string | Readonly<Record<string, unknown>>;
  /** `virtual` (default) or `real`. */
  clock?: "virtual" | "real";
  seed?: number;
}

/** The built-in stack, ready for one scenario. */
export function builtinTarget(o: BuiltinTargetOptions = {}): Target {
  const clock: Clock = o.clock === "real" ? new RealClock() : new VirtualClock();
  const { v4, v6 } = DEFAULT_ADDRESSES;
  const stack = new Stack({
    clock,
    addresses: [v4.local, v6.local],
    profile: resolveProfile(o.profile ?? "linux"),
    seed: o.seed,
  });
  // The stack emits through synack's encoder: its checksums are right by construction.
  const link = new MemoryLink(clock, (b) => stack.input(b), true);
  stack.output = (b) => link.fromStack(b);
  return {
    get name() {
      return `builtin:${stack.profile.name}`;
    },
    clock,
    backend: link,
    sockets: stack,
    reasons: stack.reasons,
    v4,
    v6,
    configure(s: TargetSetting) {
      stack.profile = s.kind === "profile"
        ? resolveProfile(s.profile)
        : applySysctl(stack.profile, s.name, s.value);
    },
    close() {
      if (clock instanceof RealClock) clock.stop();
      link.close();
      return Promise.resolve();
    },
  };
}

/** A `PeerFactory` that plays the script's end with a built-in `linux` stack. */
export const builtinPeer: PeerFactory = (clock, send, addrs): Peer => {
  const stack = new Stack({ clock, addresses: [addrs.v4.remote, addrs.v6.remote], seed: 0x7ee4 });
  stack.output = send;
  return { input: (b) => stack.input(b), sockets: stack };
};
