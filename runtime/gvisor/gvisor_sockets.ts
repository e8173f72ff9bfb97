/**
 * Socket calls on gVisor's netstack, made by the helper process, answered
 * with the same `SysResult`s as the kernel and the built-in stack. A call
 * goes out as a frame and its handle fills when the answer comes back: a
 * call that blocks in the netstack (accept, a blocking connect, read,
 * write, poll with a timeout) answers when it returns. The helper numbers
 * fds as the kernel would, lowest free from 3.
 *
 * TCP_INFO has the fields the netstack keeps (state, caState, rto, rtt,
 * rttvar, sndCwnd, sndSsthresh, totalRetrans, segsOut, segsIn); a scenario
 * that asks for another is told the netstack does not report it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toSysResult } from "./gvisor_sockets.ts";
 * assert.deepEqual(toSysResult({ id: 1, ok: true, value: { bytes: "aGk=" } }), { ok: true, value: new Uint8Array([104, 105]) });
 * assert.deepEqual(toSysResult({ id: 1, ok: false, errno: 104 }), { ok: false, errno: "ECONNRESET" });
 * assert.deepEqual(toSysResult({ id: 1, ok: true, value: { revents: 5 } }), { ok: true, value: { revents: "POLLIN|POLLOUT" } });
 * ```
 */
import type { Clock } from "../engine/clock.ts";
import type { CallHandle, SocketApi } from "../engine/target.ts";
import {
  type ErrnoName,
  errnoName,
  formatPollEvents,
  type SocketCall,
  type SysResult,
} from "../wire/socket_call.ts";
import { FrameKind, type HelperResult } from "./helper_protocol.ts";
import type { HelperProcess } from "./helper_process.ts";

/** A helper's answer as a call's result. */
export function toSysResult(r: HelperResult): SysResult {
  if (!r.ok) {
    if ("errno" in r) {
      return { ok: false, errno: (errnoName(r.errno) ?? `E${r.errno}`) as ErrnoName };
    }
    throw new Error(r.error);
  }
  const v = r.value;
  if (typeof v === "number") return { ok: true, value: v };
  if ("bytes" in v) return { ok: true, value: Uint8Array.fromBase64(v.bytes as string) };
  if ("revents" in v) {
    return { ok: true, value: { revents: formatPollEvents(v.revents as number) } };
  }
  if ("tcpinfo" in v) return { ok: true, value: v.tcpinfo as never };
  return { ok: true, value: v as never };
}

/** The netstack's sockets, through its helper. */
export class GvisorSockets implements SocketApi {
  readonly #helper: HelperProcess;
  readonly #clock: Clock;
  /** Answers not yet in: the target waits for them before it closes. */
  readonly #open = new Set<Promise<unknown>>();

  constructor(helper: HelperProcess, clock: Clock) {
    this.#helper = helper;
    this.#clock = clock;
  }

  call(c: SocketCall): CallHandle {
    const h: CallHandle = {};
    const wire = c.name === "write" ? { ...c, data: c.data.toBase64() } : c;
    const req = this.#helper.request(FrameKind.Call, { call: wire });
    const p = req.result.then((r) => {
      let result: SysResult;
      try {
        result = toSysResult(r);
      } catch (e) {
        // The helper broke off: the call is interrupted, as a signal would interrupt it.
        result = { ok: false, errno: "EINTR" };
        void e;
      }
      h.result = result;
      h.time = this.#clock.now();
      this.#clock.poke();
    });
    // Decided when it returned (its result set first) or when the netstack says it waits.
    h.decided = Promise.race([p, req.blocked]);
    this.#open.add(p);
    void p.finally(() => this.#open.delete(p));
    return h;
  }
}
