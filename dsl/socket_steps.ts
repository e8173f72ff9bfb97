/**
 * Socket calls as scenario steps. A call runs on the stack under test (or,
 * through `peer.*`, on the script's own built-in stack) and its result is
 * checked as packetdrill checks it: `.returns(v)`, `.fails("ECONNREFUSED")`,
 * or by default that it did not fail. The fd defaults to the scenario's
 * current socket: the last one `socket()` or `accept()` returned, and for
 * `accept()` the listening one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { accept, connect, listen, setsockopt } from "./socket_steps.ts";
 * import { toSteps } from "./steps.ts";
 * const steps = toSteps([listen(8080), accept().returns(4), connect(80).fails("ECONNREFUSED")]);
 * assert.deepEqual(steps.map((s) => s.kind === "call" && s.call.name), ["socket", "bind", "listen", "accept", "connect"]);
 * assert.deepEqual(steps[4].kind === "call" && steps[4].want, { kind: "errno", errno: "ECONNREFUSED" });
 * assert.throws(() => connect(80).fails("ECONFUSED"), /want an errno name such as ECONNREFUSED, got "ECONFUSED"/);
 * assert.equal(setsockopt("SO_LINGER", { onoff: true, linger: 0 }).step.call.name, "setsockopt");
 * ```
 */
import { z } from "zod";
import {
  formatPollEvents,
  type GetSockOptName,
  isErrnoName,
  parsePollEvents,
  type SockOpt,
} from "../runtime/wire/socket_call.ts";
import { type Duration, parseDuration } from "./duration.ts";
import { checkFields, fieldSchemas } from "./field_schema.ts";
import type { FieldMatch } from "./matcher.ts";
import { callerLocation } from "./source_location.ts";
import type { CallDef, Side, Step, StepSource } from "./steps.ts";

type CallStep = Extract<Step, { kind: "call" }>;

const port = fieldSchemas.tcp.shape.srcPort;
const enc = new TextEncoder();

/**
 * A socket call step. Immutable: each method returns a new builder.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { accept, CallBuilder } from "./socket_steps.ts";
 * import { toSteps } from "./steps.ts";
 * const b = accept().fails("EAGAIN");
 * assert.ok(b instanceof CallBuilder);
 * const [s] = toSteps([b]);
 * assert.ok(s.kind === "call" && s.want.kind === "errno");
 * ```
 */
export class CallBuilder implements StepSource {
  readonly step: CallStep;
  readonly #before: readonly CallStep[];
  constructor(step: CallStep, before: readonly CallStep[] = []) {
    this.step = Object.freeze(step);
    this.#before = before;
  }
  #with(s: Partial<CallStep>): CallBuilder {
    return new CallBuilder({ ...this.step, ...s }, this.#before);
  }
  /** The call must return `v`: a number (or matcher), bytes or text for read(), fields for getsockopt. */
  returns(v: FieldMatch | Uint8Array | string | Readonly<Record<string, unknown>>): CallBuilder {
    if (
      this.step.call.name === "poll" && typeof v === "object" && v !== null && "revents" in v &&
      typeof v.revents === "string"
    ) {
      // Compared as text: written in any order, checked in the order synack prints.
      v = { ...v, revents: formatPollEvents(parsePollEvents(v.revents)) };
    }
    return this.#with({ want: { kind: "value", value: v } });
  }
  /** The call must fail with this errno (`-1 ECONNREFUSED`). */
  fails(errno: string): CallBuilder {
    if (!isErrnoName(errno)) {
      throw new RangeError(`want an errno name such as ECONNREFUSED, got ${JSON.stringify(errno)}`);
    }
    return this.#with({ want: { kind: "errno", errno } });
  }
  /** Any result is fine. */
  anyResult(): CallBuilder {
    return this.#with({ want: { kind: "any" } });
  }
  /** The call acts on this fd instead of the current socket. */
  on(fd: number): CallBuilder {
    checkFields(z.number().int().min(0), fd, "fd");
    return this.#with({ call: { ...this.step.call, fd } as CallDef });
  }
  /** Must return no later than `d` after the previous step. */
  within(d: Duration): CallBuilder {
    return this.#with({ timing: { kind: "within", ms: parseDuration(d) } });
  }
  /** Must return `d` after the previous step. */
  after(d: Duration): CallBuilder {
    return this.#with({ timing: { kind: "after", ms: parseDuration(d) } });
  }
  toSteps(): Step[] {
    return [...this.#before, this.step];
  }
}

function call(side: Side, c: CallDef, before: CallStep[] = []): CallBuilder {
  const at = callerLocation();
  return new CallBuilder(
    { kind: "call", at, side, call: c, want: { kind: "ok" } },
    before.map((b) => ({ ...b, at })),
  );
}

function plain(side: Side, c: CallDef): CallStep {
  return { kind: "call", at: callerLocation(), side, call: c, want: { kind: "ok" } };
}

function bytes(d: Uint8Array | string): Uint8Array {
  return typeof d === "string" ? enc.encode(d) : d;
}

/** The calls, for one side. */
function calls(side: Side) {
  return {
    /** socket(AF_INET or AF_INET6, SOCK_STREAM); `nonblock` adds O_NONBLOCK. */
    socket: (o: { family?: 4 | 6; nonblock?: boolean } = {}) =>
      call(side, { name: "socket", ...o }),
    /** bind(fd, addr:port). */
    bind: (p: number, addr?: string) => {
      checkFields(port, p, "bind.port");
      return call(side, { name: "bind", port: p, addr });
    },
    /**
     * listen(fd, backlog). With a port, the socket() and bind() before it are
     * included: `listen(8080)`.
     */
    listen: (p?: number, backlog?: number) => {
      if (p === undefined) return call(side, { name: "listen", backlog });
      checkFields(port, p, "listen.port");
      return call(side, { name: "listen", backlog }, [
        plain(side, { name: "socket" }),
        plain(side, { name: "bind", port: p }),
      ]);
    },
    /** accept(listening fd). Returns the new fd, which becomes the current socket. */
    accept: () => call(side, { name: "accept" }),
    /** connect(fd, addr:port); the address defaults to the other end. */
    connect: (p: number, addr?: string) => {
      checkFields(port, p, "connect.port");
      return call(side, { name: "connect", port: p, addr });
    },
    /** write(fd, data). */
    write: (d: Uint8Array | string) => call(side, { name: "write", data: bytes(d) }),
    /**
     * read(fd, count). With `{ all: true }`, recv(fd, count, MSG_WAITALL):
     * blocks until `count` bytes have come, or the stream ends.
     */
    read: (count = 65536, o: { all?: boolean } = {}) =>
      call(side, o.all ? { name: "read", count, all: true } : { name: "read", count }),
    /** shutdown(fd, how). */
    shutdown: (how: "SHUT_RD" | "SHUT_WR" | "SHUT_RDWR" = "SHUT_WR") =>
      call(side, { name: "shutdown", how }),
    /** close(fd). */
    close: () => call(side, { name: "close" }),
    /** setsockopt(fd, …): SO_LINGER, TCP_NODELAY, SO_RCVBUF, SO_SNDBUF, SO_REUSEADDR, SO_KEEPALIVE, TCP_MAXSEG. */
    setsockopt: <N extends SockOpt["name"]>(
      name: N,
      value: Omit<Extract<SockOpt, { name: N }>, "name"> | number | boolean,
    ) => {
      const opt = (typeof value === "object" ? { name, ...value } : { name, value }) as SockOpt;
      return call(side, { name: "setsockopt", opt });
    },
    /** getsockopt(fd, name); TCP_INFO returns named fields. */
    getsockopt: (name: GetSockOptName) => call(side, { name: "getsockopt", opt: name }),
    /** fcntl(fd, F_SETFL, O_NONBLOCK or 0). */
    fcntl: (nonblock: boolean) => call(side, { name: "fcntl", nonblock }),
    /**
     * poll() on the current socket for `events` (`"POLLIN|POLLOUT"`), waiting
     * up to `timeout` (0: just look). Returns `{ revents: "POLLIN" }`, or
     * `{ revents: "0" }` when the time ran out.
     */
    poll: (events: string, timeout: Duration = 0) => {
      const mask = parsePollEvents(events);
      return call(side, { name: "poll", events: mask, timeoutMs: parseDuration(timeout) });
    },
  };
}

const target = calls("target");
/**
 * socket() on the stack under test.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { socket } from "./socket_steps.ts";
 * import { toSteps } from "./steps.ts";
 * const [s] = toSteps([socket()]);
 * assert.ok(s.kind === "call" && s.call.name === "socket");
 * ```
 */
export const socket = target.socket;
/**
 * bind() on the stack under test.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bind } from "./socket_steps.ts";
 * import { toSteps } from "./steps.ts";
 * const [s] = toSteps([bind(8080)]);
 * assert.ok(s.kind === "call" && s.call.name === "bind");
 * ```
 */
export const bind = target.bind;
/**
 * listen() on the stack under test; `listen(8080)` also creates and binds the socket.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { listen } from "./socket_steps.ts";
 * import { toSteps } from "./steps.ts";
 * assert.deepEqual(toSteps([listen(8080)]).map((s) => s.kind === "call" && s.call.name), ["socket", "bind", "listen"]);
 * ```
 */
export const listen = target.listen;
/**
 * accept() on the stack under test.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { accept } from "./socket_steps.ts";
 * import { toSteps } from "./steps.ts";
 * const [s] = toSteps([accept().returns(4)]);
 * assert.ok(s.kind === "call" && s.want.kind === "value");
 * ```
 */
export const accept = target.accept;
/**
 * connect() on the stack under test.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect } from "./socket_steps.ts";
 * import { toSteps } from "./steps.ts";
 * const [s] = toSteps([connect(8080)]);
 * assert.ok(s.kind === "call" && s.call.name === "connect");
 * ```
 */
export const connect = target.connect;
/**
 * write() on the stack under test.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { write } from "./socket_steps.ts";
 * import { toSteps } from "./steps.ts";
 * const [s] = toSteps([write("hi").returns(2)]);
 * assert.ok(s.kind === "call" && s.call.name === "write");
 * ```
 */
export const write = target.write;
/**
 * read() on the stack under test.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { read } from "./socket_steps.ts";
 * import { toSteps } from "./steps.ts";
 * const [s] = toSteps([read(100).returns("hi")]);
 * assert.ok(s.kind === "call" && s.call.name === "read");
 * ```
 */
export const read = target.read;
/**
 * shutdown() on the stack under test.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { shutdown } from "./socket_steps.ts";
 * import { toSteps } from "./steps.ts";
 * const [s] = toSteps([shutdown("SHUT_WR")]);
 * assert.ok(s.kind === "call" && s.call.name === "shutdown");
 * ```
 */
export const shutdown = target.shutdown;
/**
 * close() on the stack under test.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { close } from "./socket_steps.ts";
 * import { toSteps } from "./steps.ts";
 * const [s] = toSteps([close()]);
 * assert.ok(s.kind === "call" && s.call.name === "close");
 * ```
 */
export const close = target.close;
/**
 * setsockopt() on the stack under test.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { setsockopt } from "./socket_steps.ts";
 * import { toSteps } from "./steps.ts";
 * const [s] = toSteps([setsockopt("TCP_NODELAY", 1)]);
 * assert.ok(s.kind === "call" && s.call.name === "setsockopt");
 * ```
 */
export const setsockopt = target.setsockopt;
/**
 * getsockopt() on the stack under test.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getsockopt } from "./socket_steps.ts";
 * import { toSteps } from "./steps.ts";
 * const [s] = toSteps([getsockopt("TCP_INFO")]);
 * assert.ok(s.kind === "call" && s.call.name === "getsockopt");
 * ```
 */
export const getsockopt = target.getsockopt;
/**
 * fcntl() on the stack under test.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fcntl } from "./socket_steps.ts";
 * import { toSteps } from "./steps.ts";
 * const [s] = toSteps([fcntl(true)]);
 * assert.ok(s.kind === "call" && s.call.name === "fcntl");
 * ```
 */
export const fcntl = target.fcntl;
/**
 * poll() on the stack under test.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { poll } from "./socket_steps.ts";
 * import { toSteps } from "./steps.ts";
 * const [s] = toSteps([poll("POLLIN", "1s")]);
 * assert.ok(s.kind === "call" && s.call.name === "poll");
 * ```
 */
export const poll = target.poll;

/**
 * The script's own end, played by a built-in stack. `peer.auto()` hands the
 * packets the stack under test sends to it, so `peer.connect(8080)`,
 * `peer.write("hi")` and `peer.close()` do the handshake, data and close,
 * while single segments can still be injected by hand.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { peer } from "./socket_steps.ts";
 * import { toSteps } from "./steps.ts";
 * assert.equal(peer.auto().kind, "peer");
 * const [s] = toSteps([peer.connect(8080)]);
 * assert.ok(s.kind === "call" && s.side === "peer");
 * ```
 */
export const peer = {
  ...calls("peer"),
  /** From here on, the peer stack answers the stack under test. */
  auto: (): Step => Object.freeze({ kind: "peer", at: callerLocation(), mode: "auto" }),
  /** From here on, only the script answers. */
  manual: (): Step => Object.freeze({ kind: "peer", at: callerLocation(), mode: "manual" }),
};
