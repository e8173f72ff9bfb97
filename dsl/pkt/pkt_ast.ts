/**
 * A packetdrill script as data: what `parsePkt` returns, and what the
 * packetdrill runner and `synack convert` read. The shapes follow
 * packetdrill's own grammar (google/packetdrill `gtests/net/packetdrill/
 * parser.y`): events with a time and an action, the action a packet, a
 * system call, a shell command or a Python snippet. Values stay as written
 * (sequence numbers relative, symbols unresolved) so that the runner can
 * apply packetdrill's own mapping rules and errors can quote the script.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type PktEvent, timeLabel } from "./pkt_ast.ts";
 * const e: PktEvent = {
 *   line: 3, col: 1,
 *   time: { kind: "relative", usecs: 100_000 },
 *   action: { kind: "command", text: "sysctl -q net.ipv4.tcp_ecn=1" },
 * };
 * assert.equal(timeLabel(e.time), "+0.1");
 * ```
 */

/** When an event happens (packetdrill's `event_time`), in microseconds. */
export type PktTime =
  | { kind: "absolute"; usecs: number }
  | { kind: "relative"; usecs: number }
  | { kind: "any" }
  | { kind: "absoluteRange"; usecs: number; endUsecs: number }
  | { kind: "relativeRange"; usecs: number; endUsecs: number };

/** A value in a system call: packetdrill's `expression`. */
export type PktExpr =
  | { kind: "ellipsis" }
  | { kind: "int"; value: number }
  | { kind: "word"; name: string }
  | { kind: "string"; value: string }
  | { kind: "array"; items: PktExpr[] }
  | { kind: "or"; terms: PktExpr[] }
  | { kind: "struct"; items: PktExpr[] }
  | { kind: "call"; name: string; args: PktExpr[] }
  /** `name=value` or `name(arg)=value` inside a struct (`msg_iov(1)=[...]`). */
  | { kind: "field"; name: string; arg?: PktExpr | undefined; value: PktExpr };

/** One TCP option as written (`mss 1460`, `TS val 100 ecr 0`, `FO abcd`). */
export type PktOption =
  | { kind: "nop" }
  | { kind: "eol" }
  | { kind: "mss"; value: number }
  | { kind: "wscale"; value: number }
  | { kind: "sackOK" }
  | { kind: "sack"; blocks: [number, number][] }
  | { kind: "ts"; val: number; ecr: number }
  | { kind: "md5"; hex: string }
  /** TCP Fast Open: kind 34 (`FO`) or the experimental kind 254 with magic 0xF989 (`FOEXP`). */
  | { kind: "fo"; exp: boolean; cookie: string }
  /** AccECN: kind 172 when e0b comes first, 174 when e1b does; counters in written order. */
  | { kind: "accecn"; fields: { name: "e0b" | "e1b" | "ceb"; value: number }[] };

/** IP-level marks on a packet line (`[ect0]`, `(tos 0x10)`, `[ttl 64]`). */
export interface PktIpInfo {
  ecn?: "noecn" | "ect0" | "ect1" | "ce" | "ect01";
  tos?: number;
  flowlabel?: number;
  ttl?: number;
}

/** An outer header written before the packet (`ipv4 a > b:`, `gre …:`, `mpls (…):`). */
export type PktOuter =
  | { kind: "ip"; version: 4 | 6; src: string; dst: string; info: PktIpInfo }
  | { kind: "gre"; fields: Record<string, number> }
  | { kind: "mpls"; labels: Record<string, number>[] };

/** The transport part of a packet line. */
export type PktTransport =
  | {
    kind: "tcp";
    ports?: [number, number] | undefined;
    /** Flags as written: `S.`, `P.`, `.`, `-`, `SEWA`, `P5.`. */
    flags: string;
    seq: number;
    len: number;
    ack?: number | undefined;
    win?: number | undefined;
    urg?: number | undefined;
    /** `undefined`: none written (the packet must have none); `"any"`: `<...>`. */
    options: PktOption[] | "any" | undefined;
  }
  | { kind: "udp"; ports?: [number, number] | undefined; len: number }
  | {
    kind: "icmp";
    type: string;
    code?: string | undefined;
    mtu?: number | undefined;
    id?: number | undefined;
    /** What the ICMP error quotes: a TCP range, a UDP length or raw bytes. */
    echoed?:
      | { kind: "tcp"; seq: number; len: number }
      | { kind: "udp"; len: number }
      | { kind: "raw"; len: number }
      | undefined;
  };

/** A packet line. */
export interface PktPacket {
  /** `<` injected into the stack, `>` expected from it. */
  dir: "in" | "out";
  outer: PktOuter[];
  ip: PktIpInfo;
  transport: PktTransport;
}

/** A system call line: `name(args) = result [ERRNO (note)]`. */
export interface PktSyscall {
  name: string;
  args: PktExpr[];
  result: PktExpr;
  errno?: string | undefined;
  note?: string | undefined;
  /** `+a...b`: the call may block; it must return at b (microseconds, same anchor as a). */
  endUsecs?: number | undefined;
}

/** What an event does. */
export type PktAction =
  | { kind: "packet"; packet: PktPacket }
  | { kind: "syscall"; call: PktSyscall }
  | { kind: "command"; text: string }
  | { kind: "code"; text: string };

/** One timed line of a script. */
export interface PktEvent {
  line: number;
  col: number;
  time: PktTime;
  action: PktAction;
}

/** A `--name=value` line at the top of a script, or on the command line. */
export interface PktOptionLine {
  name: string;
  value?: string | undefined;
  line: number;
}

/** A whole script. */
export interface PktScript {
  file: string;
  options: PktOptionLine[];
  /** The backtick command before the first event, run before time 0. */
  init?: { text: string; line: number } | undefined;
  events: PktEvent[];
  /** The backtick command after the last event, run however the script ends. */
  cleanup?: { text: string; line: number } | undefined;
}

/** A time as packetdrill writes it: `0.1`, `+0.1`, `*`, `+0~+0.2`. */
export function timeLabel(t: PktTime): string {
  const s = (u: number) => String(u / 1e6);
  switch (t.kind) {
    case "absolute":
      return s(t.usecs);
    case "relative":
      return `+${s(t.usecs)}`;
    case "any":
      return "*";
    case "absoluteRange":
      return `${s(t.usecs)}~${s(t.endUsecs)}`;
    case "relativeRange":
      return `+${s(t.usecs)}~+${s(t.endUsecs)}`;
  }
}
