/**
 * Checks a socket call's result against what the scenario wants: success,
 * a value (a number or matcher; bytes or text for read(); named fields for
 * getsockopt), or an errno. Returns the mismatch as one line, or undefined.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkResult } from "./call_check.ts";
 * assert.equal(checkResult({ kind: "errno", errno: "EAGAIN" }, { ok: false, errno: "EAGAIN" }), undefined);
 * assert.equal(checkResult({ kind: "value", value: 4 }, { ok: true, value: 5 }), "result: want 4, got 5");
 * assert.equal(checkResult({ kind: "ok" }, { ok: false, errno: "ECONNREFUSED" }), "result: want success, got -1 ECONNREFUSED");
 * assert.equal(
 *   checkResult({ kind: "value", value: { state: "ESTABLISHED" } }, { ok: true, value: { state: "SYN_RECV" } as never }),
 *   "result.state: want ESTABLISHED, got SYN_RECV",
 * );
 * assert.equal(
 *   checkResult({ kind: "value", value: { backoff: 3 } }, { ok: true, value: { state: "ESTABLISHED" } as never }),
 *   "result.backoff: want 3, got nothing: this stack does not report it",
 * );
 * ```
 */
import type { CallWant } from "../../dsl/steps.ts";
import { describeValue, type FieldMatch, isMatcher, matches } from "../../dsl/matcher.ts";
import { formatResult, type SysResult } from "../wire/socket_call.ts";

const enc = new TextEncoder();

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let i = 0;
  // A read of kilobytes is compared four bytes a load when both start 4-aligned.
  if (a.length >= 64 && ((a.byteOffset | b.byteOffset) & 3) === 0) {
    const n = a.length >> 2;
    const wa = new Uint32Array(a.buffer, a.byteOffset, n);
    const wb = new Uint32Array(b.buffer, b.byteOffset, n);
    for (let k = 0; k < n; k++) if (wa[k] !== wb[k]) return false;
    i = n << 2;
  }
  for (; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function text(b: Uint8Array): string {
  return JSON.stringify(new TextDecoder().decode(b.subarray(0, 40)) + (b.length > 40 ? "…" : ""));
}

function field(name: string, want: unknown, got: unknown): string | undefined {
  if (typeof want === "number" || isMatcher(want)) {
    return typeof got === "number" && matches(want as FieldMatch, got)
      ? undefined
      : `${name}: want ${describeValue(want as FieldMatch)}, got ${JSON.stringify(got)}`;
  }
  const show = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));
  return want === got ? undefined : `${name}: want ${show(want)}, got ${show(got)}`;
}

/** The mismatch between `want` and `r`, or undefined when they agree. */
export function checkResult(want: CallWant, r: SysResult): string | undefined {
  switch (want.kind) {
    case "any":
      return undefined;
    case "ok":
      return r.ok ? undefined : `result: want success, got ${formatResult(r)}`;
    case "errno":
      return !r.ok && r.errno === want.errno
        ? undefined
        : `result: want -1 ${want.errno}, got ${formatResult(r)}`;
    case "value": {
      if (!r.ok) return `result: want ${show(want.value)}, got ${formatResult(r)}`;
      const w = want.value;
      const v = r.value;
      if (typeof w === "string" || w instanceof Uint8Array) {
        const wb = typeof w === "string" ? enc.encode(w) : w;
        if (!(v instanceof Uint8Array)) {
          return `result: want ${wb.length} bytes, got ${formatResult(r)}`;
        }
        return sameBytes(wb, v)
          ? undefined
          : `result: want ${
            v.length === wb.length ? text(wb) : `${wb.length} bytes ${text(wb)}`
          }, got ${v.length} bytes ${text(v)}`;
      }
      if (typeof w === "number" || isMatcher(w)) {
        const n = v instanceof Uint8Array ? v.length : v;
        return field("result", w, n);
      }
      if (typeof v !== "object" || v instanceof Uint8Array) {
        return `result: want ${show(w)}, got ${formatResult(r)}`;
      }
      for (const [k, x] of Object.entries(w)) {
        const got = v as unknown as Record<string, unknown>;
        // A stack that keeps fewer TCP_INFO fields (gVisor's netstack) leaves the rest out.
        if (!(k in got)) {
          return `result.${k}: want ${show(x)}, got nothing: this stack does not report it`;
        }
        const problem = field(`result.${k}`, x, got[k]);
        if (problem) return problem;
      }
      return undefined;
    }
  }
}

function show(w: unknown): string {
  if (typeof w === "number" || isMatcher(w)) return describeValue(w as FieldMatch);
  if (w instanceof Uint8Array) return `${w.length} bytes`;
  return JSON.stringify(w);
}
