/**
 * What the parts of the built-in stack ask of the stack that holds them:
 * the socket layer (listeners, ports, opening connections) and ICMP input
 * (finding the connection a quoted segment belongs to). `Stack` implements
 * it; the parts depend on this, not on `stack.ts`, so that imports point one
 * way (stack → socket layer → host), never in a circle.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Stack } from "./stack.ts";
 * import { VirtualClock } from "../engine/clock.ts";
 * import type { StackHost } from "./stack_host.ts";
 * const host: StackHost = new Stack({ clock: new VirtualClock(), addresses: ["192.168.0.1"] });
 * assert.equal(host.listeners.size, 0);
 * assert.equal(host.counters.icmpIgnored, 0);
 * ```
 */
import type { Clock } from "../engine/clock.ts";
import type { StackProfile } from "./profile.ts";
import type { Tcb, TcbOptions, Tuple } from "./tcb.ts";

/** A passive open in progress or waiting for accept(). */
export interface Listener {
  port: number;
  addr: Uint8Array | undefined;
  backlog: number;
  /** Established connections not yet accepted. */
  queue: Tcb[];
  opts: TcbOptions;
  /** When the last SYN was answered with a cookie (tcp_synq_overflow): cookies are checked for 2 min. */
  lastOverflow?: number;
}

/** Counters of segments the stack did not take. */
export interface StackCounters {
  malformed: number;
  badChecksum: number;
  notOurs: number;
  passiveResets: number;
  /** SYNs dropped because the accept queue was full (LINUX_MIB_LISTENOVERFLOWS). */
  listenDrops: number;
  /** Challenge ACKs not sent because the stack-wide budget was spent (RFC 5961 §7). */
  challengeAcksSkipped: number;
  /** ICMP errors that matched no connection or quoted a sequence number outside the window. */
  icmpIgnored: number;
}

/** The stack, as its socket layer and ICMP input see it. */
export interface StackHost {
  readonly clock: Clock;
  readonly profile: StackProfile;
  readonly counters: StackCounters;
  readonly listeners: Map<number, Listener>;
  /** Every connection, in creation order. */
  connections(): Tcb[];
  /** Whether `a` is one of the stack's addresses. */
  owns(a: Uint8Array): boolean;
  /** The stack's address of a family (4 or 16 bytes), if it has one. */
  addressFor(family: 4 | 16): Uint8Array | undefined;
  /** A new connection sending its SYN; undefined when the tuple is taken. */
  openActive(tuple: Tuple, opts: TcbOptions): Tcb | undefined;
  portInUse(port: number): boolean;
  ephemeralPort(): number | undefined;
  /** The connection an ICMP error's quoted segment belongs to. */
  connectionFor(
    local: Uint8Array,
    lport: number,
    remote: Uint8Array,
    rport: number,
  ): Tcb | undefined;
}
