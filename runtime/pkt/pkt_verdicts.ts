/**
 * Verdicts side by side with packetdrill's. An oracle file (tab-separated:
 * script, ipv4 verdict, ipv6 verdict, packetdrill's first error) says what
 * packetdrill gives; a synack run agrees when both pass, or both fail at the
 * same line for the same kind of reason (a timing error, a payload length,
 * a packet field, Python code…). Timing errors are the one exception to the
 * line: where the kernel's own pacing is what is late (BBR here, 5 to 18 ms),
 * which line first leaves the tolerance moves from run to run, for
 * packetdrill as for synack (lines 28 and 31, 36 and 42 of the same script,
 * each with synack on time), so a timing error at another line agrees, and
 * says where packetdrill's was. The kind is read from packetdrill's own
 * error text by the phrases its sources use (`run.c`, `run_packet.c`,
 * `code.c`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { failureOf, parseOracle } from "./pkt_verdicts.ts";
 * assert.deepEqual(failureOf("a.pkt:36: error handling packet: timing error: expected outbound packet at 0.3 sec"),
 *   { line: 36, kind: "timing" });
 * assert.deepEqual(failureOf("a.pkt:27: error in Python code"), { line: 27, kind: "python" });
 * const o = parseOracle("# script\tipv4\tipv6\terror\na.pkt\tPASS\tFAIL\ta.pkt:3: error handling packet: live packet payload: expected 1 bytes vs actual 2 bytes\n");
 * assert.equal(o.get("a.pkt")?.ipv6, "FAIL");
 * assert.deepEqual(o.get("a.pkt")?.failure, { line: 3, kind: "payload" });
 * ```
 */
import type { PktFailureKind, PktResult } from "./pkt_runner.ts";

/** packetdrill's verdict on one script, per family. */
export interface OracleRow {
  ipv4: "PASS" | "FAIL";
  ipv6: "PASS" | "FAIL";
  /** Where and why it failed (the ipv4 run's first error). */
  failure?: { line: number; kind: PktFailureKind } | undefined;
  text?: string | undefined;
}

/** The kind of a packetdrill error, from its message. */
export function failureOf(message: string): { line: number; kind: PktFailureKind } | undefined {
  const m = /^[^:]+:(\d+): (.*)$/s.exec(message.trim());
  if (!m) return undefined;
  const text = m[2];
  const kind: PktFailureKind = /timing error/.test(text)
    ? "timing"
    : /live packet payload/.test(text)
    ? "payload"
    : /error in Python code/.test(text)
    ? "python"
    : /Timed out waiting for packet/.test(text)
    ? "timeout"
    : /packet is not for expected socket|no matching socket/.test(text)
    ? "socket"
    : /live packet field|bad outbound|incorrect outbound|live packet header/.test(text)
    ? "packet"
    : /error executing/.test(text)
    ? "command"
    : "syscall";
  return { line: Number(m[1]), kind };
}

/** Reads the oracle's rows by script name. */
export function parseOracle(tsv: string): Map<string, OracleRow> {
  const rows = new Map<string, OracleRow>();
  for (const line of tsv.split("\n")) {
    if (!line.trim() || line.startsWith("#")) continue;
    const [script, ipv4, ipv6, text] = line.split("\t");
    const verdict = (v: string | undefined, col: string) => {
      if (v !== "PASS" && v !== "FAIL") {
        throw new RangeError(
          `oracle: ${script}: want PASS or FAIL for ${col}, got ${JSON.stringify(v)}`,
        );
      }
      return v;
    };
    rows.set(script, {
      ipv4: verdict(ipv4, "ipv4"),
      ipv6: verdict(ipv6, "ipv6"),
      failure: text ? failureOf(text) : undefined,
      text: text || undefined,
    });
  }
  return rows;
}

/** Whether a synack result agrees with packetdrill's verdict; the reason when not. */
export function agrees(
  result: PktResult,
  want: "PASS" | "FAIL",
  row: OracleRow,
): { ok: boolean; why?: string; note?: string } {
  if (want === "PASS") {
    return result.passed
      ? { ok: true }
      : { ok: false, why: `packetdrill passes; synack: ${result.failure!.message}` };
  }
  if (result.passed) {
    return {
      ok: false,
      why: `packetdrill fails (${row.text ?? "no error recorded"}); synack passes`,
    };
  }
  if (!row.failure) return { ok: true };
  const f = result.failure!;
  if (f.kind === "timing" && row.failure.kind === "timing" && f.line !== row.failure.line) {
    return {
      ok: true,
      note: `timing at line ${f.line} here, ${row.failure.line} in packetdrill's run`,
    };
  }
  if (f.line !== row.failure.line || f.kind !== row.failure.kind) {
    return {
      ok: false,
      why:
        `packetdrill fails at line ${row.failure.line} (${row.failure.kind}); synack at line ${f.line} (${f.kind}): ${f.message}`,
    };
  }
  return { ok: true };
}
