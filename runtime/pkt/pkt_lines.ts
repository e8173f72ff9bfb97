/**
 * The text of a packetdrill run's failures: a sniffed packet and a script
 * line as packetdrill writes them (`P. 1:6001(6000) ack 1 win 1050`),
 * errno names with their C library text, a long call cut short.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { errnoLabel, short } from "./pkt_lines.ts";
 * assert.equal(errnoLabel(115), "EINPROGRESS (Operation now in progress)");
 * assert.equal(short("a\n  b"), "a b");
 * ```
 */
import type { PktPacket } from "../../dsl/pkt/pkt_ast.ts";
import { Errno } from "../wire/socket_call.ts";
import { type LivePacket, optionList, type PktConn } from "./pkt_packet.ts";

const u32 = (n: number) => n >>> 0;

/** A sniffed datagram's line, for failure output: `192.168.0.1:8080 > 192.0.2.1:40000 S. 0:0(0) ack 1 win 65535 <mss 1460,…>`. */
export function describeLive(live: LivePacket, conn: PktConn | undefined): string {
  const b = live.bytes;
  if (live.proto === 17) return `udp ${live.srcPort} > ${live.dstPort} (${live.payloadLen})`;
  if (live.proto !== 6) return `icmp type ${b[live.ipHl]} code ${b[live.ipHl + 1]}`;
  const flags =
    [["S", 0x02], ["F", 0x01], ["R", 0x04], ["P", 0x08], ["E", 0x40], ["W", 0x80], [".", 0x10]]
      .filter(([, m]) => live.flags & (m as number)).map(([f]) => f).join("") || "-";
  const syn = (live.flags & 2) !== 0;
  const seq = conn
    ? (syn
      ? u32(live.seq - conn.live.localIsn + conn.script.localIsn)
      : u32(live.seq - conn.live.localIsn))
    : live.seq;
  const ack = conn && !syn ? u32(live.ack - conn.live.remoteIsn) : live.ack;
  const win = new DataView(b.buffer, b.byteOffset, b.byteLength).getUint16(live.tcp + 14);
  const opts = optionList(b.subarray(live.tcp + 20, live.tcp + live.tcpHl)).map((o) => {
    const dv = new DataView(o.data.buffer, o.data.byteOffset, o.data.length);
    switch (o.kind) {
      case 0:
        return "eol";
      case 1:
        return "nop";
      case 2:
        return `mss ${dv.getUint16(0)}`;
      case 3:
        return `wscale ${o.data[0]}`;
      case 4:
        return "sackOK";
      case 8:
        return `TS val ${dv.getUint32(0)} ecr ${dv.getUint32(4)}`;
      case 34:
        return `FO ${[...o.data].map((x) => x.toString(16).padStart(2, "0")).join("")}`;
      default:
        return `kind ${o.kind}`;
    }
  });
  return `${flags} ${seq}:${u32(seq + live.payloadLen)}(${live.payloadLen})${
    live.flags & 0x10 ? ` ack ${ack}` : ""
  } win ${win}` +
    (opts.length ? ` <${opts.join(",")}>` : "");
}

/** A script's packet line, for failure output. */
export function scriptLine(p: PktPacket): string {
  const t = p.transport;
  if (t.kind !== "tcp") return t.kind;
  const opts = t.options === "any"
    ? " <...>"
    : t.options?.length
    ? ` <${
      t.options.map((o) =>
        o.kind === "ts"
          ? `TS val ${o.val} ecr ${o.ecr}`
          : "value" in o
          ? `${o.kind} ${o.value}`
          : o.kind
      ).join(",")
    }>`
    : "";
  return `${t.flags} ${t.seq}:${(t.seq + t.len) >>> 0}(${t.len})${
    t.ack !== undefined ? ` ack ${t.ack}` : ""
  }${t.win !== undefined ? ` win ${t.win}` : ""}${opts}`;
}

/** What the C library says for the errnos scripts name most (strerror(3)). */
const ERRNO_TEXT: Record<string, string> = {
  EAGAIN: "Resource temporarily unavailable",
  EINPROGRESS: "Operation now in progress",
  ECONNREFUSED: "Connection refused",
  ECONNRESET: "Connection reset by peer",
  EPIPE: "Broken pipe",
  ETIMEDOUT: "Connection timed out",
  ENOTCONN: "Transport endpoint is not connected",
  EISCONN: "Transport endpoint is already connected",
  EBADF: "Bad file descriptor",
  EINVAL: "Invalid argument",
  EADDRINUSE: "Address already in use",
};

/** `EAGAIN (Resource temporarily unavailable)` for an errno name; the bare name when the table has no text. */
export function errnoText(name: string): string {
  return Object.hasOwn(ERRNO_TEXT, name) ? `${name} (${ERRNO_TEXT[name]})` : name;
}

/** The same for an errno number. */
export function errnoLabel(n: number | undefined): string {
  return errnoText(Object.entries(Errno).find(([, v]) => v === n)?.[0] ?? `errno ${n}`);
}

/** A call's text on one line, at most 100 characters. */
export function short(s: string): string {
  const flat = s.replace(/\s+/g, " ");
  return flat.length > 100 ? flat.slice(0, 97) + "…" : flat;
}

/** The last three lines of a command's stderr. */
export function tail(text: string): string[] {
  return text.trim().split("\n").filter(Boolean).slice(-12);
}
