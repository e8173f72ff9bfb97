/**
 * The contract between the runner and a stack under test. A target is a
 * backend that carries packets (`send` injects one, `receive` returns the
 * next one the stack sent), a socket API that makes calls on the stack, and
 * the clock both run on. The built-in stack implements it over an in-memory
 * link; the kernel (TUN) and a remote host (raw socket) implement it too.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Backend, Received } from "./target.ts";
 * const queue: Received[] = [{ bytes: new Uint8Array([0x45]), time: 0 }];
 * const loop: Backend = {
 *   send: (bytes) => void queue.push({ bytes, time: 0 }),
 *   receive: () => Promise.resolve(queue.shift()),
 *   pending: () => queue.length,
 *   close: () => {},
 * };
 * assert.equal((await loop.receive(0))?.bytes[0], 0x45);
 * ```
 */
import type { Packet } from "../wire/packet.ts";
import type { PacketReason } from "../wire/stack_reasons.ts";
import type { SocketCall, SysResult } from "../wire/socket_call.ts";
import type { Clock, Tolerance } from "./clock.ts";
import type { Endpoints } from "./endpoints.ts";
import type { Mark, Path } from "./path.ts";
import type { Trace } from "./trace.ts";

/** A packet the stack under test sent, with the clock time it was seen. */
export interface Received {
  bytes: Uint8Array;
  time: number;
}

/** Carries packets to and from the stack under test. */
export interface Backend {
  /** Hands one IP datagram to the stack under test. */
  send(bytes: Uint8Array): void | Promise<void>;
  /** The next datagram the stack sent, waiting until `deadline` (clock ms); undefined if none came. */
  receive(deadline: number, signal?: AbortSignal): Promise<Received | undefined>;
  /** How many datagrams are waiting to be received right now. */
  pending(): number;
  /**
   * The next datagram if one is waiting now, taken without a wait (what
   * `receive` would return at once). A backend in this process offers it, so
   * that an expect() of what the stack already sent costs no promise.
   */
  takeNow?(): Received | undefined;
  /** Releases the link. */
  close(): void | Promise<void>;
  /**
   * When set, takes every datagram as the stack sends it, with its arrival
   * time, instead of `receive` (a run whose peer stack answers live takes
   * them here). Must not re-enter the stack.
   */
  onPacket?: ((bytes: Uint8Array, time: number) => void) | undefined;
  /**
   * The stack's datagrams come from synack's own encoder, so their checksums
   * need no second look (the built-in stack). A kernel or remote host leaves
   * this unset and every checksum it sends is verified.
   */
  readonly checksumsTrusted?: boolean;
}

/**
 * A call in progress. `result` and `time` are set when the call returns;
 * a call that blocks (accept with an empty queue, a blocking connect)
 * returns later, when the stack's state allows.
 */
export interface CallHandle {
  result?: SysResult;
  time?: number;
  /**
   * A stack in another process (gVisor's helper) answers later: this settles
   * once the call has either returned or is known to wait, so that "blocks"
   * is the stack's word, not a guess from timing.
   */
  decided?: Promise<void>;
}

/** Makes socket calls on a stack. */
export interface SocketApi {
  call(c: SocketCall): CallHandle;
  /**
   * Lets blocked calls that could return by now return, before the runner's
   * next step (a kernel reports them from another thread, a little later).
   */
  recheck?(): void;
}

/** A setting a scenario applies to the stack under test. */
export type TargetSetting =
  | { kind: "sysctl"; name: string; value: number | string }
  | { kind: "profile"; profile: string | Readonly<Record<string, unknown>> };

export type { Endpoints } from "./endpoints.ts";

/** One end pair of a conntrack entry, as `conntrack -L` prints it. */
export interface CtEnds {
  src: string;
  sport: number;
  dst: string;
  dport: number;
}

/** A host's conntrack table at one moment: its TCP entries and the INVALID counter. */
export interface ConntrackView {
  entries: { state: string; orig: CtEnds; reply: CtEnds }[];
  /** `conntrack -S`'s `invalid`, summed over CPUs. */
  invalid: number;
}

/**
 * What the runner drives in a topology besides its tap: hosts by name, a
 * path per link, and what crosses the tap from either end.
 */
export interface TopologyControl {
  /** The script's link: it speaks as `a` to `b`. */
  readonly tap: { link: string; a: string; b: string };
  readonly hosts: readonly string[];
  readonly links: readonly string[];
  /** Starts recording: every relayed datagram goes into `trace`; `mark` hears what paths stop. */
  start(trace: Trace, mark: Mark): void;
  /** A host's socket calls, or undefined for no such host. */
  sockets(host: string): SocketApi | undefined;
  /** A sysctl or profile on one host. */
  configure(host: string, s: TargetSetting): string | undefined;
  /** A link's path, or undefined for no such link. */
  path(link: string): Path | undefined;
  /** The next datagram crossing the tap from `host`, until `deadline`. */
  receive(
    host: string,
    deadline: number,
    signal: AbortSignal,
  ): Promise<(Received & { packet: Packet }) | undefined>;
  /** A host name or an address, as an address of `family`. */
  resolve(addr: string, family: 4 | 6): string;
  /** Every address of a host, as text (all its links, both families); empty for no such host. */
  addresses(host: string): string[];
  /** A host's conntrack table; throws a `RangeError` for a host without one. */
  conntrack(host: string): Promise<ConntrackView>;
}

/**
 * Why the stack under test sent an RST or dropped a segment, by datagram:
 * the kernel's tracepoints, or the built-in stack's own account, in the
 * kernel's reason names (`../wire/stack_reasons.ts`).
 */
export interface StackReasons {
  /** The reason known for a datagram the stack sent (an RST) or was given (a drop). */
  of(bytes: Uint8Array): PacketReason | undefined;
  /**
   * Resolves once the reasons of everything that has happened so far are known;
   * undefined when they are known already (a stack in this process), so that no
   * timer is set for every run.
   */
  settle(): Promise<void> | undefined;
  /** Set when this stack cannot say: why (said once; reason checks then warn). */
  readonly unavailable?: string;
}

/** A stack under test, ready to run one scenario. */
export interface Target {
  /** `builtin:linux`, `kernel`, … */
  readonly name: string;
  readonly clock: Clock;
  readonly backend: Backend;
  readonly sockets: SocketApi;
  readonly v4: Endpoints;
  readonly v6: Endpoints;
  /** How far real events may stray from their scripted times, unless a scenario says. */
  readonly tolerance?: Tolerance;
  /**
   * Applies a sysctl or profile; throws a `RangeError` naming what is
   * supported, or `ScenarioSkipped` when the scenario does not apply to this
   * target (a profile that models another stack, on the real kernel). A
   * returned note is a warning; the run goes on.
   */
  configure(s: TargetSetting): string | undefined | void | Promise<string | undefined | void>;
  close(): Promise<void>;
  /** Set when the stack under test is a topology of hosts and links. */
  readonly topology?: TopologyControl;
  /** Why the stack reset or dropped what it did; unset for a stack that cannot say. */
  readonly reasons?: StackReasons;
}

/** The script side's own built-in stack, for `peer.auto()`. */
export interface Peer {
  /** Feeds one datagram that the stack under test sent. */
  input(bytes: Uint8Array): void;
  readonly sockets: SocketApi;
}

/** Builds a peer on the script side: `send` injects into the target. */
export type PeerFactory = (
  clock: Clock,
  send: (bytes: Uint8Array) => void,
  addrs: { v4: Endpoints; v6: Endpoints },
) => Peer;
