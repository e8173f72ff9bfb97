/**
 * Packet lines against live packets, with packetdrill's rules
 * (`run_packet.c`, `tcp_packet.c`):
 *
 * - **Numbers.** SYNs carry absolute sequence numbers, everything else is
 *   relative to the ISN. An injected segment's seq is shifted by the remote
 *   ISN (the scripted SYN's own seq), its ACK and SACK blocks by the live
 *   local ISN; a sniffed one is shifted back the same way before comparing.
 * - **Timestamps.** An injected TS ecr becomes the live TS val that was seen
 *   for that scripted val. A sniffed TS val is compared only with
 *   `--tcp_ts_tick_usecs`; its ecr never.
 * - **What is compared** on a sniffed packet, in packetdrill's order: IP
 *   version, protocol, header length and total length; ECN bits, TOS and TTL
 *   only when written; TCP data offset, each flag, reserved bits, seq, ack,
 *   window (if written), urgent pointer; options kind by kind in order
 *   (values byte for byte, TS val only with a tick); then the payload (zeros,
 *   as packetdrill writes them). Not compared: the TCP checksum, the IPv4 ID
 *   and fragment bits.
 *
 * Error texts start as packetdrill's do (`live packet field tcp_ack_seq:
 * expected: 1 (0x1) vs actual: 2 (0x2)`), so verdicts can be compared.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { optionBytes } from "./pkt_packet.ts";
 * assert.deepEqual([...optionBytes([{ kind: "mss", value: 1460 }, { kind: "nop" }, { kind: "wscale", value: 7 }], (s) => s, (v) => v)],
 *   [2, 4, 5, 180, 1, 3, 3, 7]);
 * ```
 */
import type { PktIpInfo, PktOption, PktPacket, PktTransport } from "../../dsl/pkt/pkt_ast.ts";
import { checksum } from "../wire/checksum.ts";
import type { PktConfig } from "./pkt_config.ts";
import { ipv6Bytes } from "./pkt_structs.ts";
import { ICMP_NAMES } from "./pkt_symbols.ts";

/** One connection as packetdrill follows it (`struct socket`). */
export interface PktConn {
  /** A UDP socket's "connection": its ports; no ISNs. */
  proto?: "udp" | undefined;
  state:
    | "listening"
    | "synReceived"
    | "synackSent"
    | "established"
    | "connecting"
    | "synSent";
  scriptFd?: number | undefined;
  listenFd?: number | undefined;
  localPort: number;
  remotePort: number;
  script: { localIsn: number; remoteIsn: number };
  live: { localIsn: number; remoteIsn: number };
  /** Scripted TS val → live TS val, from sniffed packets. */
  tsVals: Map<number, number>;
  firstTs?: { script: number; live: number } | undefined;
}

type Tcp = Extract<PktTransport, { kind: "tcp" }>;

const FLAG_BITS: Record<string, number> = {
  F: 0x01,
  S: 0x02,
  R: 0x04,
  P: 0x08,
  ".": 0x10,
  U: 0x20,
  E: 0x40,
  W: 0x80,
};

/** Flag bits of a flags word; `ace` when a digit (AccECN's ACE field) was written. */
export function flagBits(flags: string): { bits: number; ae: boolean; ace: number | undefined } {
  let bits = 0;
  let ae = false;
  let ace: number | undefined;
  if (flags === "-") return { bits, ae, ace };
  for (const ch of flags) {
    if (/[0-7]/.test(ch)) {
      ace = Number(ch);
      if (ace & 1) bits |= 0x40;
      if (ace & 2) bits |= 0x80;
      if (ace & 4) ae = true;
    } else if (ch === "A") ae = true;
    else bits |= FLAG_BITS[ch];
  }
  return { bits, ae, ace };
}

const u32 = (n: number) => n >>> 0;

/** TCP option bytes; `seq` maps a SACK edge, `ecr` a TS echo reply. */
export function optionBytes(
  opts: readonly PktOption[],
  seq: (s: number) => number,
  ecr: (v: number) => number,
): Uint8Array {
  const out: number[] = [];
  const be = (n: number, bytes: number) => {
    for (let i = bytes - 1; i >= 0; i--) out.push(Math.floor(u32(n) / 2 ** (8 * i)) & 0xff);
  };
  for (const o of opts) {
    switch (o.kind) {
      case "nop":
        out.push(1);
        break;
      case "eol":
        out.push(0);
        break;
      case "mss":
        out.push(2, 4);
        be(o.value, 2);
        break;
      case "wscale":
        out.push(3, 3, o.value);
        break;
      case "sackOK":
        out.push(4, 2);
        break;
      case "sack":
        out.push(5, 2 + 8 * o.blocks.length);
        for (const [a, b] of o.blocks) {
          be(seq(a), 4);
          be(seq(b), 4);
        }
        break;
      case "ts":
        out.push(8, 10);
        be(o.val, 4);
        be(ecr(o.ecr), 4);
        break;
      case "md5":
        out.push(19, 18, ...hexBytes(o.hex).subarray(0, 16));
        break;
      case "fo": {
        const c = hexBytes(o.cookie);
        if (o.exp) out.push(254, 4 + c.length, 0xf9, 0x89, ...c);
        else out.push(34, 2 + c.length, ...c);
        break;
      }
      case "accecn":
        out.push(o.fields[0].name === "e1b" ? 174 : 172, 2 + 3 * o.fields.length);
        for (const f of o.fields) be(f.value, 3);
        break;
    }
  }
  return new Uint8Array(out);
}

function hexBytes(hex: string): Uint8Array {
  const b = new Uint8Array(hex.length / 2);
  for (let i = 0; i < b.length; i++) b[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return b;
}

function ecnBits(ip: PktIpInfo): number {
  return ({ noecn: 0, ect1: 1, ect0: 2, ce: 3, ect01: 0 } as const)[ip.ecn ?? "noecn"];
}

/** Addresses of the wire, as bytes. */
export function wireAddrs(c: PktConfig): { v6: boolean; local: Uint8Array; remote: Uint8Array } {
  const v6 = c.ipVersion === "ipv6";
  const enc = (ip: string) => v6 ? ipv6Bytes(ip) : new Uint8Array(ip.split(".").map(Number));
  return { v6, local: enc(c.localIp), remote: enc(c.remoteIp) };
}

/** Wraps a transport header + payload in the wire's IP header, checksums filled. */
function ipWrap(
  c: PktConfig,
  ip: PktIpInfo,
  proto: number,
  l4: Uint8Array,
  l4Checksum: number | undefined,
): Uint8Array {
  const { v6, local, remote } = wireAddrs(c);
  const tos = ((ip.tos ?? 0) & ~3) | ecnBits(ip);
  const hl = v6 ? 40 : 20;
  const b = new Uint8Array(hl + l4.length);
  const v = new DataView(b.buffer);
  if (v6) {
    v.setUint32(0, (6 << 28) | (tos << 20) | ((ip.flowlabel ?? 0) & 0xfffff));
    v.setUint16(4, l4.length);
    b[6] = proto;
    b[7] = ip.ttl ?? 64;
    b.set(remote, 8);
    b.set(local, 24);
  } else {
    b[0] = 0x45;
    b[1] = tos;
    v.setUint16(2, b.length);
    b[8] = ip.ttl ?? 64;
    b[9] = proto;
    b.set(remote, 12);
    b.set(local, 16);
    v.setUint16(10, checksum.finish(checksum.sum(b, 0, 20, 0)));
  }
  b.set(l4, hl);
  if (l4Checksum !== undefined) {
    let acc = checksum.sum(remote, 0, remote.length, 0);
    acc = checksum.sum(local, 0, local.length, acc);
    acc += proto + l4.length;
    acc = checksum.sum(b, hl, b.length, acc);
    v.setUint16(hl + l4Checksum, checksum.finish(acc));
  }
  return b;
}

/** Bytes to inject for an inbound TCP line on `conn`. Throws a message for packetdrill-style errors. */
export function inboundTcp(c: PktConfig, p: PktPacket, conn: PktConn): Uint8Array {
  const t = p.transport as Tcp;
  const { bits, ae } = flagBits(t.flags);
  const syn = (bits & 0x02) !== 0;
  const seq = syn ? t.seq : u32(t.seq + conn.live.remoteIsn);
  const shiftLocal = (s: number) =>
    syn ? u32(s - conn.script.localIsn + conn.live.localIsn) : u32(s + conn.live.localIsn);
  const ack = t.ack === undefined ? 0 : shiftLocal(t.ack);
  const ecr = (v: number) => {
    if (v === 0) return 0;
    const live = conn.tsVals.get(v);
    if (live !== undefined) return live;
    if (c.tsEcrScaled && conn.firstTs) return u32(conn.firstTs.live + (v - conn.firstTs.script));
    throw new Error(
      `unable to infer live TS ecr for script TS ecr ${v}: no outbound packet had TS val ${v}`,
    );
  };
  const opts = Array.isArray(t.options)
    ? optionBytes(t.options, (s) => u32(s + conn.live.localIsn), ecr)
    : new Uint8Array();
  if (opts.length % 4) {
    throw new Error(`TCP options are ${opts.length} bytes: not a multiple of 4 (add nop or eol)`);
  }
  const l4 = new Uint8Array(20 + opts.length + t.len);
  const v = new DataView(l4.buffer);
  v.setUint16(0, conn.remotePort);
  v.setUint16(2, conn.localPort);
  v.setUint32(4, seq);
  v.setUint32(8, ack);
  l4[12] = ((5 + opts.length / 4) << 4) | (ae ? 1 : 0);
  l4[13] = bits;
  v.setUint16(14, t.win ?? 0);
  v.setUint16(18, t.urg ?? 0);
  l4.set(opts, 20);
  return ipWrap(c, p.ip, 6, l4, 16);
}

/** Bytes to inject for an inbound `udp (N)` line on a UDP socket: N zero bytes. */
export function inboundUdp(c: PktConfig, p: PktPacket, conn: PktConn): Uint8Array {
  const t = p.transport as Extract<PktTransport, { kind: "udp" }>;
  const l4 = new Uint8Array(8 + t.len);
  const v = new DataView(l4.buffer);
  // Ports written on the line (`udp 1234 > 9 (10)`) are used as they are: a datagram for a closed port.
  v.setUint16(0, t.ports?.[0] ?? conn.remotePort);
  v.setUint16(2, t.ports?.[1] ?? conn.localPort);
  v.setUint16(4, l4.length);
  return ipWrap(c, p.ip, 17, l4, 6);
}

/** An inbound ICMP error quoting a segment of `conn` (`< icmp unreachable frag_needed mtu 1200 [1:1461(1460)]`). */
export function inboundIcmp(c: PktConfig, p: PktPacket, conn: PktConn | undefined): Uint8Array {
  const t = p.transport as Extract<PktTransport, { kind: "icmp" }>;
  const v6 = c.ipVersion === "ipv6";
  const names = v6 ? ICMP_NAMES.v6 : ICMP_NAMES.v4;
  const num = (w: string | undefined, table: Record<string, number>, what: string) => {
    if (w === undefined) return 0;
    if (/^\d+$/.test(w)) return Number(w);
    const n = table[w];
    if (n === undefined) throw new Error(`unknown ICMP ${what} ${w}`);
    return n;
  };
  const type = num(t.type, names.types, "type");
  const code = num(t.code, names.codes, "code");
  // The quoted datagram: our own segment, local → remote, as the kernel sent it.
  const { local, remote } = wireAddrs(c);
  const seg = new Uint8Array(20);
  const sv = new DataView(seg.buffer);
  if (conn) {
    sv.setUint16(0, conn.localPort);
    sv.setUint16(2, conn.remotePort);
    sv.setUint32(4, u32((t.echoed?.kind === "tcp" ? t.echoed.seq : 0) + conn.live.localIsn));
  }
  seg[12] = 0x50;
  const len = t.echoed?.kind === "tcp" || t.echoed?.kind === "udp" ? t.echoed.len : 0;
  const quoted = new Uint8Array((v6 ? 40 : 20) + seg.length);
  const qv = new DataView(quoted.buffer);
  if (v6) {
    qv.setUint32(0, 6 << 28);
    qv.setUint16(4, 20 + len);
    quoted[6] = 6;
    quoted[7] = 64;
    quoted.set(local, 8);
    quoted.set(remote, 24);
  } else {
    quoted[0] = 0x45;
    qv.setUint16(2, 20 + 20 + len);
    quoted[8] = 64;
    quoted[9] = 6;
    quoted.set(local, 12);
    quoted.set(remote, 16);
    qv.setUint16(10, checksum.finish(checksum.sum(quoted, 0, 20, 0)));
  }
  quoted.set(seg, v6 ? 40 : 20);
  const l4 = new Uint8Array(8 + quoted.length);
  const lv = new DataView(l4.buffer);
  l4[0] = type;
  l4[1] = code;
  if (t.mtu !== undefined) {
    if (v6) lv.setUint32(4, t.mtu);
    else lv.setUint16(6, t.mtu);
  }
  if (t.id !== undefined) lv.setUint16(4, t.id);
  l4.set(quoted, 8);
  if (v6) return ipWrap(c, p.ip, 58, l4, 2);
  lv.setUint16(2, checksum.finish(checksum.sum(l4, 0, l4.length, 0)));
  return ipWrap(c, p.ip, 1, l4, undefined);
}

/** A sniffed datagram's parts. */
export interface LivePacket {
  bytes: Uint8Array;
  v6: boolean;
  /** IP protocol: 6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6 (the tcp* fields then describe its header). */
  proto: number;
  ipHl: number;
  tcp: number;
  tcpHl: number;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  payloadLen: number;
}

/** Parses an outgoing TCP, UDP or ICMP datagram, or undefined for anything else. */
export function parseLive(bytes: Uint8Array): LivePacket | undefined {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ver = bytes[0] >> 4;
  let ipHl: number;
  let total: number;
  let proto: number;
  if (ver === 4) {
    proto = bytes[9];
    ipHl = (bytes[0] & 0xf) * 4;
    total = v.getUint16(2);
  } else if (ver === 6) {
    proto = bytes[6];
    ipHl = 40;
    total = 40 + v.getUint16(4);
  } else return undefined;
  if (proto !== 6 && proto !== 17 && proto !== 1 && proto !== 58) return undefined;
  const end = Math.min(total, bytes.length);
  if (end < ipHl + 8 || (proto === 6 && end < ipHl + 20)) return undefined;
  const l4Hl = proto === 6 ? (bytes[ipHl + 12] >> 4) * 4 : 8;
  const ports = proto === 6 || proto === 17;
  return {
    bytes: bytes.subarray(0, end),
    v6: ver === 6,
    proto,
    ipHl,
    tcp: ipHl,
    tcpHl: l4Hl,
    srcPort: ports ? v.getUint16(ipHl) : 0,
    dstPort: ports ? v.getUint16(ipHl + 2) : 0,
    seq: proto === 6 ? v.getUint32(ipHl + 4) : 0,
    ack: proto === 6 ? v.getUint32(ipHl + 8) : 0,
    flags: proto === 6 ? bytes[ipHl + 13] : 0,
    payloadLen: end - ipHl - l4Hl,
  };
}

/** Compares a sniffed UDP datagram with its `udp (N)` line (packetdrill's verify_udp: its length). */
export function verifyUdp(p: PktPacket, live: LivePacket): string | undefined {
  const t = p.transport as Extract<PktTransport, { kind: "udp" }>;
  const v = new DataView(live.bytes.buffer, live.bytes.byteOffset, live.bytes.byteLength);
  return field(live.v6 ? "ipv6_next_header" : "ipv4_protocol", 17, live.proto) ??
    field("udp_len", 8 + t.len, v.getUint16(live.ipHl + 4)) ??
    (live.bytes.subarray(live.ipHl + 8).some((x) => x !== 0)
      ? "incorrect outbound data payload"
      : undefined);
}

/** Compares a sniffed ICMP message with its line: type and code, as packetdrill does. */
export function verifyIcmp(c: PktConfig, p: PktPacket, live: LivePacket): string | undefined {
  const t = p.transport as Extract<PktTransport, { kind: "icmp" }>;
  const names = c.ipVersion === "ipv6" ? ICMP_NAMES.v6 : ICMP_NAMES.v4;
  const num = (w: string | undefined, table: Record<string, number>) =>
    w === undefined ? 0 : /^\d+$/.test(w) ? Number(w) : table[w] ?? -1;
  const b = live.bytes;
  return field(live.v6 ? "ipv6_next_header" : "ipv4_protocol", live.v6 ? 58 : 1, live.proto) ??
    field("icmp_type", num(t.type, names.types), b[live.ipHl]) ??
    field("icmp_code", num(t.code, names.codes), b[live.ipHl + 1]);
}

const field = (name: string, want: number, got: number) =>
  want === got
    ? undefined
    : `live packet field ${name}: expected: ${want} (0x${want.toString(16)}) vs actual: ${got} (0x${
      got.toString(16)
    })`;

/**
 * Compares a sniffed TCP packet (already aggregated) with its line; returns
 * packetdrill's error text, or undefined. Also records TS vals for later ecr mapping.
 */
export function verifyTcp(
  c: PktConfig,
  p: PktPacket,
  live: LivePacket,
  conn: PktConn,
): string | undefined {
  const t = p.transport as Tcp;
  const b = live.bytes;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const { bits, ae, ace } = flagBits(t.flags);
  const syn = (bits & 0x02) !== 0;
  const liveOpts = b.subarray(live.tcp + 20, live.tcp + live.tcpHl);
  const anyOpts = t.options === "any";
  const scriptOpts = Array.isArray(t.options)
    ? optionBytes(t.options, (s) => s, (x) => x)
    : new Uint8Array();
  // Record TS vals first: a later injected ecr needs them even if this packet fails.
  const liveTs = tsOf(liveOpts);
  const scriptTs = Array.isArray(t.options) ? t.options.find((o) => o.kind === "ts") : undefined;
  if (liveTs && scriptTs?.kind === "ts") {
    conn.tsVals.set(scriptTs.val, liveTs.val);
    conn.firstTs ??= { script: scriptTs.val, live: liveTs.val };
  }
  const allowance = anyOpts ? liveOpts.length : 0;
  const wantTotal = (live.v6 ? 0 : 20) + 20 + scriptOpts.length + t.len + allowance;
  const liveEcn = live.v6 ? (v.getUint32(0) >>> 20) & 3 : b[1] & 3;
  const liveTos = live.v6 ? (v.getUint32(0) >>> 20) & 0xff : b[1];
  const tcpFlags = b[live.tcp + 13];
  const liveAe = b[live.tcp + 12] & 1;
  const bit = (m: number) => ((tcpFlags & m) ? 1 : 0);
  const want = (m: number) => ((bits & m) ? 1 : 0);
  const liveSeq = syn
    ? u32(live.seq - conn.live.localIsn + conn.script.localIsn)
    : u32(live.seq - conn.live.localIsn);
  const ackOn = (tcpFlags & 0x10) !== 0;
  const liveAck = !ackOn ? live.ack : syn ? live.ack : u32(live.ack - conn.live.remoteIsn);
  const checks: (() => string | undefined)[] = [
    () =>
      !live.v6 && checksum.fold(checksum.sum(b, 0, live.ipHl, 0)) !== 0xffff
        ? "bad outbound IP checksum"
        : undefined,
    () => field(live.v6 ? "ipv6_version" : "ipv4_version", live.v6 ? 6 : 4, b[0] >> 4),
    () => live.v6 ? undefined : field("ipv4_protocol", 6, b[9]),
    () => live.v6 ? undefined : field("ipv4_header_length", 5, b[0] & 0xf),
    () =>
      live.v6
        ? field("ipv6_payload_len", wantTotal, v.getUint16(4))
        : field("ipv4_total_length", wantTotal, v.getUint16(2)),
    () => live.v6 ? field("ipv6_next_header", 6, b[6]) : undefined,
    () =>
      p.ip.ecn === "ect01"
        ? (liveEcn === 1 || liveEcn === 2
          ? undefined
          : `live packet field ip_ecn: expected: 0x1 or 0x2 vs actual: 0x${liveEcn.toString(16)}`)
        : p.ip.ecn
        ? field("ip_ecn", ecnBits(p.ip), liveEcn)
        : p.ip.tos !== undefined
        ? field("tos", p.ip.tos, liveTos)
        : undefined,
    () => p.ip.ttl !== undefined ? field("ttl", p.ip.ttl, live.v6 ? b[7] : b[8]) : undefined,
    () => field("tcp_data_offset", 5 + (scriptOpts.length + allowance) / 4, b[live.tcp + 12] >> 4),
    () => field("tcp_fin", want(0x01), bit(0x01)),
    () => field("tcp_syn", want(0x02), bit(0x02)),
    () => field("tcp_rst", want(0x04), bit(0x04)),
    () => field("tcp_psh", want(0x08), bit(0x08)),
    () => field("tcp_ack", want(0x10), bit(0x10)),
    () => field("tcp_urg", want(0x20), bit(0x20)),
    () =>
      ace !== undefined
        ? field("tcp_ace", ace, (liveAe ? 4 : 0) | (bit(0x80) << 1) | bit(0x40))
        : undefined,
    () => ace === undefined ? field("tcp_ece", want(0x40), bit(0x40)) : undefined,
    () => ace === undefined ? field("tcp_cwr", want(0x80), bit(0x80)) : undefined,
    () => ace === undefined ? field("tcp_ae", ae ? 1 : 0, liveAe) : undefined,
    () => field("tcp_reserved_bits", 0, (b[live.tcp + 12] >> 1) & 7),
    () => field("tcp_seq", t.seq, liveSeq),
    () => field("tcp_ack_seq", t.ack ?? 0, liveAck),
    () => t.win === undefined ? undefined : field("tcp_window", t.win, v.getUint16(live.tcp + 14)),
    () => field("tcp_urg_ptr", t.urg ?? 0, v.getUint16(live.tcp + 18)),
    () =>
      anyOpts ? undefined : compareOptions(
        c,
        t.options === undefined ? [] : t.options as PktOption[],
        liveOpts,
        conn,
        scriptOpts,
      ),
    () => {
      const payload = b.subarray(live.tcp + live.tcpHl);
      return payload.some((x) => x !== 0) ? "incorrect outbound data payload" : undefined;
    },
  ];
  for (const ch of checks) {
    const e = ch();
    if (e) return e;
  }
  return undefined;
}

function tsOf(opts: Uint8Array): { val: number; ecr: number } | undefined {
  for (const o of optionList(opts)) {
    if (o.kind === 8 && o.data.length === 8) {
      const v = new DataView(o.data.buffer, o.data.byteOffset, 8);
      return { val: v.getUint32(0), ecr: v.getUint32(4) };
    }
  }
  return undefined;
}

export function optionList(b: Uint8Array): { kind: number; data: Uint8Array; len: number }[] {
  const out: { kind: number; data: Uint8Array; len: number }[] = [];
  for (let i = 0; i < b.length;) {
    const kind = b[i];
    if (kind === 0 || kind === 1) {
      out.push({ kind, data: new Uint8Array(), len: 1 });
      i++;
      continue;
    }
    const len = b[i + 1] ?? 0;
    if (len < 2) break;
    out.push({ kind, data: b.subarray(i + 2, i + len), len });
    i += len;
  }
  return out;
}

function compareOptions(
  c: PktConfig,
  script: PktOption[],
  liveOpts: Uint8Array,
  conn: PktConn,
  scriptBytes: Uint8Array,
): string | undefined {
  const a = optionList(liveOpts);
  const s = optionList(scriptBytes);
  for (let i = 0; i < Math.max(a.length, s.length); i++) {
    if (!a[i] || !s[i] || a[i].kind !== s[i].kind) return "bad outbound TCP options";
    if (s[i].kind === 0 || s[i].kind === 1) continue;
    if (s[i].kind === 8) {
      if (c.tsTickUsecs) {
        const sv = new DataView(s[i].data.buffer, s[i].data.byteOffset, 8).getUint32(0);
        const av = new DataView(a[i].data.buffer, a[i].data.byteOffset, 8).getUint32(0);
        const mapped = conn.firstTs ? u32(conn.firstTs.script + (av - conn.firstTs.live)) : av;
        if (Math.abs(mapped - sv) * c.tsTickUsecs > c.toleranceUsecs) {
          return `bad outbound TCP timestamp value, tolerance ${c.toleranceUsecs}`;
        }
      }
      continue;
    }
    if (s[i].len !== a[i].len) return `bad lengths for outbound TCP option ${s[i].kind}`;
    if (s[i].kind === 5) {
      // SACK blocks are relative to the remote ISN on the wire.
      const sv = new DataView(s[i].data.buffer, s[i].data.byteOffset, s[i].data.length);
      const av = new DataView(a[i].data.buffer, a[i].data.byteOffset, a[i].data.length);
      for (let j = 0; j < s[i].data.length; j += 4) {
        if (u32(av.getUint32(j) - conn.live.remoteIsn) !== sv.getUint32(j)) {
          return `bad value outbound TCP option 5`;
        }
      }
      continue;
    }
    if (s[i].data.some((x, j) => x !== a[i].data[j])) {
      return `bad value outbound TCP option ${s[i].kind}`;
    }
  }
  void script;
  return undefined;
}

/** Segments of one scripted packet as one: the first's headers, every payload, PSH or FIN from any. */
export function aggregate(parts: LivePacket[]): LivePacket {
  const first = parts[0];
  const payload = parts.reduce((n, p) => n + p.payloadLen, 0);
  const head = first.bytes.subarray(0, first.tcp + first.tcpHl);
  const bytes = new Uint8Array(head.length + payload);
  bytes.set(head);
  let at = head.length;
  let flags = first.flags;
  for (const p of parts) {
    bytes.set(p.bytes.subarray(p.tcp + p.tcpHl), at);
    at += p.payloadLen;
    flags |= p.flags & 0x09;
  }
  const v = new DataView(bytes.buffer);
  if (first.v6) v.setUint16(4, bytes.length - 40);
  else {
    v.setUint16(2, bytes.length);
    v.setUint16(10, 0);
    // The merged header is ours: its IP checksum is made valid again.
    v.setUint16(10, checksum.finish(checksum.sum(bytes, 0, first.ipHl, 0)));
  }
  bytes[first.tcp + 13] = flags;
  return { ...first, bytes, flags, payloadLen: payload };
}
