/**
 * A run's trace as a packetdrill script, for the REPL's `.save file.pkt`: a
 * session goes back to packetdrill users as the script they would have
 * written. Each event becomes a line at its time relative to the one before
 * (`+0.01`): what synack injected a `<` line, what the stack sent a `>`
 * line, each call with packetdrill's argument forms (`bind(3, ..., ...)`,
 * `setsockopt(4, SOL_SOCKET, SO_LINGER, {onoff=1, linger=0}, 8)`).
 *
 * packetdrill writes zeros where a script says `...`, so data a session
 * wrote as text is written as that many bytes (a comment says what it was).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { callLine } from "./pkt_save.ts";
 * assert.equal(callLine({ name: "accept", fd: 3 }, { ok: true, value: 4 }), "accept(3, ..., ...) = 4");
 * assert.equal(callLine({ name: "connect", fd: 3, port: 8080 }, { ok: false, errno: "EINPROGRESS" }),
 *   "connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)");
 * assert.equal(callLine({ name: "setsockopt", fd: 4, opt: { name: "SO_LINGER", onoff: true, linger: 0 } }, { ok: true, value: 0 }),
 *   "setsockopt(4, SOL_SOCKET, SO_LINGER, {onoff=1, linger=0}, 8) = 0");
 * ```
 */
import type { TraceEvent } from "../engine/trace.ts";
import { assertNever } from "../wire/assert_never.ts";
import { formatPollEvents, type SocketCall, type SysResult } from "../wire/socket_call.ts";
import { errnoText } from "./pkt_lines.ts";

function result(r: SysResult | undefined): string {
  if (!r) return "...";
  if (!r.ok) return `-1 ${errnoText(r.errno)}`;
  const v = r.value;
  if (typeof v === "number") return String(v);
  if (v instanceof Uint8Array) return String(v.length);
  return "0";
}

const level = (name: string) => (name.startsWith("TCP_") ? "SOL_TCP" : "SOL_SOCKET");

/** One call in packetdrill's syntax, with what it returned. */
export function callLine(c: SocketCall, r: SysResult | undefined): string {
  const ret = result(r);
  switch (c.name) {
    case "socket":
      return `socket(${c.family === 6 ? "AF_INET6" : "..."}, SOCK_STREAM${
        c.nonblock ? "|SOCK_NONBLOCK" : ""
      }, IPPROTO_TCP) = ${ret}`;
    case "bind":
      return `bind(${c.fd}, ..., ...) = ${ret}`;
    case "listen":
      return `listen(${c.fd}, ${c.backlog ?? 128}) = ${ret}`;
    case "accept":
      return `accept(${c.fd}, ..., ...) = ${ret}`;
    case "connect":
      return `connect(${c.fd}, ..., ...) = ${ret}`;
    case "write":
      return `write(${c.fd}, ..., ${c.data.length}) = ${ret}`;
    case "read":
      return c.all
        ? `recv(${c.fd}, ..., ${c.count}, MSG_WAITALL) = ${ret}`
        : `read(${c.fd}, ..., ${c.count}) = ${ret}`;
    case "shutdown":
      return `shutdown(${c.fd}, ${c.how}) = ${ret}`;
    case "close":
      return `close(${c.fd}) = ${ret}`;
    case "setsockopt": {
      const o = c.opt;
      if (o.name === "SO_LINGER") {
        return `setsockopt(${c.fd}, SOL_SOCKET, SO_LINGER, {onoff=${
          o.onoff ? 1 : 0
        }, linger=${o.linger}}, 8) = ${ret}`;
      }
      const v = typeof o.value === "boolean" ? (o.value ? 1 : 0) : o.value;
      return `setsockopt(${c.fd}, ${level(o.name)}, ${o.name}, [${v}], 4) = ${ret}`;
    }
    case "getsockopt": {
      const v = r?.ok && typeof r.value === "number" ? r.value : undefined;
      return `getsockopt(${c.fd}, ${level(c.opt)}, ${c.opt}, [${v ?? "..."}], [4]) = ${
        r?.ok ? 0 : ret
      }`;
    }
    case "fcntl":
      return `fcntl(${c.fd}, F_SETFL, O_RDWR${c.nonblock ? "|O_NONBLOCK" : ""}) = ${ret}`;
    case "poll": {
      const revents = r?.ok && typeof r.value === "object" && r.value && "revents" in r.value
        ? String(r.value.revents)
        : "0";
      return `poll([{fd=${c.fd}, events=${
        formatPollEvents(c.events)
      }, revents=${revents}}], 1, ${c.timeoutMs}) = ${revents === "0" ? 0 : 1}`;
    }
    default:
      return assertNever(c);
  }
}

/**
 * A packet line of synack's trace (`0.010000 > 192.0.2.1:40000 > 192.168.0.1:8080 P. 1:11(10) ack 1
 * win 502 <…> DF`) as packetdrill's: the direction its way round (`<` into the stack), no addresses.
 */
export function packetLine(dir: "in" | "out", traceLine: string): string {
  const body = traceLine
    .replace(/^\s*[\d.]+\s+[<>]\s+/, "")
    .replace(/^\S+ > \S+ /, "")
    .replace(/\s+#.*$/, "")
    .replace(/\s+DF$/, "");
  return `${dir === "in" ? "<" : ">"} ${body}`;
}

const secs = (ms: number) => {
  const s = (ms / 1000).toFixed(6).replace(/0+$/, "").replace(/\.$/, "");
  return s === "0" ? "0" : s;
};

/** The events as a script; `describe` gives a packet event's trace line. */
export function pktScript(
  events: readonly TraceEvent[],
  describe: (e: Extract<TraceEvent, { kind: "packet" }>) => string,
  header: string,
): string {
  const lines = [
    `// ${header}`,
    "// Run: sudo synack run <this file>, or packetdrill <this file>",
    "",
  ];
  let last: number | undefined;
  let ports: { bind?: number; connect?: number } = {};
  for (const e of events) {
    if (e.kind !== "packet" && e.kind !== "call") continue;
    if (e.kind === "packet" && e.stopped) continue;
    const t = last === undefined ? "0" : `+${secs(e.time - last)}`;
    last = e.time;
    if (e.kind === "call") {
      if (e.side !== "target") continue;
      if (e.call.name === "bind") ports = { ...ports, bind: e.call.port };
      if (e.call.name === "connect") ports = { ...ports, connect: e.call.port };
      const note = e.call.name === "write" && e.call.data.some((b) => b !== 0)
        ? `  // the session wrote ${
          JSON.stringify(new TextDecoder().decode(e.call.data.subarray(0, 32)))
        }; packetdrill writes zeros`
        : "";
      lines.push(`${t.padStart(9)} ${callLine(e.call, e.result)}${note}`);
    } else {
      lines.push(`${t.padStart(9)} ${packetLine(e.dir, describe(e))}`);
    }
  }
  const flags = [
    ports.bind !== undefined && ports.bind !== 8080 ? `--bind_port=${ports.bind}` : undefined,
    ports.connect !== undefined && ports.connect !== 8080
      ? `--connect_port=${ports.connect}`
      : undefined,
  ].filter((f): f is string => f !== undefined);
  return [...flags, ...lines, ""].join("\n");
}
