/**
 * `synack show --filter`: which packets of a capture to print, in words close
 * to tcpdump's:
 *
 * ```text
 * host 192.0.2.1          src host 192.0.2.1      dst host fd3d:fa7b:d17d::1
 * port 8080               src port 40000          dst port 8080
 * flags R                 (RST set; letters S F R P U E W and . for ACK)
 * stream 17               (the connection packet #17 belongs to, both ways)
 * tcp   udp   icmp
 * … and …   … or …   not …   ( … )
 * ```
 *
 * A filter that does not parse gets one line: `filter:1:6: want a port
 * number, got "http"`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseFilter } from "./capture_filter.ts";
 * import { parseLine } from "../runtime/wire/line_parse.ts";
 * import { emitPacket, parsePacket } from "../runtime/wire/packet.ts";
 * const p = parsePacket(emitPacket(parseLine("192.0.2.1:40000 > 192.168.0.1:8080 R. 1:1(0) ack 1 win 0").packet));
 * const f = parseFilter("port 8080 and flags R and not host 10.0.0.1");
 * assert.equal(f.test(p, 1), true);
 * assert.equal(parseFilter("src port 8080").test(p, 1), false);
 * assert.throws(() => parseFilter("port http"), /^RangeError: filter:1:6: want a port number, got "http"$/);
 * ```
 */
import { address } from "../runtime/wire/address.ts";
import type { Packet } from "../runtime/wire/packet.ts";
import { parseTcpFlags } from "../runtime/wire/tcp.ts";

/** A parsed filter. */
export interface CaptureFilter {
  /** Whether packet number `index` (from 1) passes. */
  test(p: Packet, index: number): boolean;
  /** The packet numbers `stream N` terms name: the caller finds their connections first. */
  readonly streams: readonly number[];
  /** Tells the filter which connection packet `index` is in. */
  setStream(index: number, p: Packet): void;
}

type Node = (p: Packet, index: number) => boolean;

interface Token {
  text: string;
  col: number;
}

/** A connection's key, the same both ways. */
export function connectionKey(p: Packet): string | undefined {
  const t = p.transport;
  if (t.kind !== "tcp" && t.kind !== "udp") return undefined;
  const a = `${address.format(p.ip.src)}|${t.srcPort}`,
    b = `${address.format(p.ip.dst)}|${t.dstPort}`;
  return `${t.kind} ${a < b ? `${a} ${b}` : `${b} ${a}`}`;
}

function ports(p: Packet): [number, number] | undefined {
  const t = p.transport;
  return t.kind === "tcp" || t.kind === "udp" ? [t.srcPort, t.dstPort] : undefined;
}

/** Parses `text`; throws a `RangeError` naming the column. */
export function parseFilter(text: string): CaptureFilter {
  const tokens: Token[] = [];
  for (const m of text.matchAll(/\(|\)|[^\s()]+/g)) tokens.push({ text: m[0], col: m.index! + 1 });
  let i = 0;
  const streams = new Map<number, string | undefined>();
  const fail = (want: string): never => {
    const t = tokens[i];
    throw new RangeError(
      `filter:1:${t ? t.col : text.length + 1}: want ${want}, got ${
        t ? JSON.stringify(t.text) : "the end"
      }`,
    );
  };
  const peek = () => tokens[i]?.text;
  const next = () => tokens[i++]?.text;

  const hostTerm = (side: "src" | "dst" | undefined): Node => {
    const t = tokens[i];
    let want: Uint8Array;
    try {
      want = address.parse(t?.text ?? "");
    } catch {
      return fail("an IPv4 or IPv6 address");
    }
    i++;
    const eq = (a: Uint8Array) => a.length === want.length && a.every((x, k) => x === want[k]);
    return (p) => (side !== "dst" && eq(p.ip.src)) || (side !== "src" && eq(p.ip.dst));
  };
  const portTerm = (side: "src" | "dst" | undefined): Node => {
    const t = peek();
    if (t === undefined || !/^\d+$/.test(t) || Number(t) > 65535) return fail("a port number");
    i++;
    const n = Number(t);
    return (p) => {
      const pp = ports(p);
      return !!pp && ((side !== "dst" && pp[0] === n) || (side !== "src" && pp[1] === n));
    };
  };
  const primary = (): Node => {
    const t = peek();
    if (t === "(") {
      i++;
      const e = or();
      if (next() !== ")") {
        i--;
        return fail('")"');
      }
      return e;
    }
    if (t === "src" || t === "dst") {
      i++;
      const what = next();
      if (what === "host") return hostTerm(t);
      if (what === "port") return portTerm(t);
      i--;
      return fail(`host or port after ${t}`);
    }
    if (t === "host") return (i++, hostTerm(undefined));
    if (t === "port") return (i++, portTerm(undefined));
    if (t === "flags") {
      i++;
      let want: number;
      try {
        want = parseTcpFlags(peek() ?? "");
      } catch {
        return fail("TCP flags such as S, R, F. or P.");
      }
      i++;
      return (p) => p.transport.kind === "tcp" && (p.transport.flags & want) === want;
    }
    if (t === "stream") {
      i++;
      const n = peek();
      if (n === undefined || !/^[1-9]\d*$/.test(n)) return fail("a packet number from 1");
      i++;
      const index = Number(n);
      streams.set(index, undefined);
      return (p) => {
        const key = streams.get(index);
        return key !== undefined && connectionKey(p) === key;
      };
    }
    if (t === "tcp" || t === "udp") return (i++, (p) => p.transport.kind === t);
    if (t === "icmp") {
      i++;
      return (p) => p.transport.kind === "icmpv4" || p.transport.kind === "icmpv6";
    }
    return fail("host, port, src, dst, flags, stream, tcp, udp, icmp, not or (");
  };
  const not = (): Node => {
    if (peek() === "not") {
      i++;
      const e = not();
      return (p, n) => !e(p, n);
    }
    return primary();
  };
  const and = (): Node => {
    let e = not();
    while (peek() === "and") {
      i++;
      const l = e, r = not();
      e = (p, n) => l(p, n) && r(p, n);
    }
    return e;
  };
  const or = (): Node => {
    let e = and();
    while (peek() === "or") {
      i++;
      const l = e, r = and();
      e = (p, n) => l(p, n) || r(p, n);
    }
    return e;
  };
  if (!tokens.length) fail("a filter such as port 8080");
  const root = or();
  if (i < tokens.length) fail("and, or, or the end");
  return {
    test: root,
    streams: [...streams.keys()],
    setStream(index, p) {
      if (streams.has(index)) streams.set(index, connectionKey(p));
    },
  };
}
