/**
 * One packet per line, packetdrill/tcpdump style:
 *
 * ```text
 * 192.0.2.1:40000 > 192.168.0.1:8080 S 0:0(0) win 65535 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>
 * ```
 *
 * Fields that `parseLine` would fill in by itself (computed lengths and
 * checksums, TTL 64, id 0, no DF) are left out; anything else is printed as a
 * trailing `key value` token, so `parseLine` rebuilds the same bytes. The
 * payload is printed only with `{ data: true }` (as `data 0x…`); without it,
 * `parseLine` fills `(len)` zero bytes. `[…]` groups are annotations for the
 * reader (a checksum verdict, a quoted datagram) that the parser skips.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatLine } from "./line_format.ts";
 * import { parseLine } from "./line_parse.ts";
 * import { emitPacket } from "./packet.ts";
 * const line = "192.0.2.1:40000 > 192.168.0.1:8080 S 0:0(0) win 65535 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>";
 * const { packet } = parseLine(line);
 * assert.equal(formatLine(packet), line);
 * assert.equal(emitPacket(packet).length, 60);
 * ```
 */
import { address } from "./address.ts";
import { assertNever } from "./assert_never.ts";
import type { EthernetFields } from "./ethernet.ts";
import { hex } from "./hex.ts";
import { seq } from "./seq.ts";
import { icmpNames } from "./icmp_names.ts";
import { icmpRest, type IcmpSpec } from "./icmp.ts";
import { formatOptionList } from "./option_list.ts";
import { type PacketSpec, protocolOf, transportLength } from "./packet.ts";
import { formatTcpFlags, TcpFlag, tcpHeaderLength, type TcpSpec } from "./tcp.ts";
import { tcpOptionsLength } from "./tcp_options.ts";

/** Options for `formatLine`. */
export interface FormatLineOptions {
  /** Print the payload as `data 0x…` (needed for a byte-exact round trip of non-zero payloads). */
  data?: boolean;
  /** A time in seconds to print first, as packetdrill does (`0.100`). */
  time?: number;
  /** Add `[…]` annotations: checksum verdicts, decode reasons, quoted datagrams. */
  annotate?: boolean;
}

/** Default IPv4 TTL / IPv6 hop limit that the line syntax leaves unprinted. */
export const LINE_DEFAULT_TTL = 64;

/** Like `transportLength`, but an over-long TCP option list counts as written rather than throwing. */
function lineTransportLength(t: PacketSpec["transport"]): number {
  return t.kind === "tcp" ? safeTcpHeader(t) + t.payload.length : transportLength(t);
}

function safeTcpHeader(t: TcpSpec): number {
  try {
    return tcpHeaderLength(t);
  } catch {
    return 20 + tcpOptionsLength(t.options);
  }
}

function autoDataOffset(t: TcpSpec): number | undefined {
  try {
    return tcpHeaderLength({ ...t, dataOffset: undefined }) / 4;
  } catch {
    return undefined;
  }
}

function endpoint(a: Uint8Array, port?: number): string {
  const s = address.format(a);
  if (port === undefined) return s;
  return a.length === 16 ? `[${s}]:${port}` : `${s}:${port}`;
}

const HEX2 = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

function mac(b: Uint8Array): string {
  // A lookup per byte: a capture of millions of frames prints two of these per line.
  let s = HEX2[b[0]];
  for (let i = 1; i < b.length; i++) s += `:${HEX2[b[i]]}`;
  return s;
}

function linkPrefix(e: EthernetFields): string {
  const tags = e.vlans.map((v) => ` vlan 0x${v.tpid.toString(16)}/${v.tci}`).join("");
  return `ether ${mac(e.src)} > ${mac(e.dst)}${tags} | `;
}

function wrong(value: number | "bad" | undefined, ok: boolean | undefined): boolean {
  return value !== undefined && ok !== true;
}

/** `cksum 0x1234` for a checksum set by hand or failing to verify; `cksum bad` for a crafted wrong one. */
function cksum(value: number | "bad" | undefined): string {
  return `cksum ${value === "bad" ? "bad" : h16(value!)}`;
}

function h16(v: number): string {
  return `0x${v.toString(16).padStart(4, "0")}`;
}

/** Prints `p` as one line. */
export function formatLine(p: PacketSpec, opts: FormatLineOptions = {}): string {
  const parts: string[] = [];
  if (opts.time !== undefined) parts.push(opts.time.toFixed(6));
  const t = p.transport;
  const ip = p.ip;
  const ports = t.kind === "tcp" || t.kind === "udp";
  const head = `${endpoint(ip.src, ports ? t.srcPort : undefined)} > ${
    endpoint(ip.dst, ports ? t.dstPort : undefined)
  }`;
  parts.push(p.link ? linkPrefix(p.link) + head : head);
  const notes: string[] = [];
  const ok = (t as { checksumOk?: boolean }).checksumOk;
  switch (t.kind) {
    case "tcp": {
      const len = t.payload.length;
      parts.push(formatTcpFlags(t.flags), `${t.seq}:${seq.add(t.seq, len)}(${len})`);
      if (t.flags & TcpFlag.ACK || t.ack !== 0) parts.push(`ack ${t.ack}`);
      parts.push(`win ${t.window}`);
      if (t.flags & TcpFlag.URG || t.urgent !== 0) parts.push(`urg ${t.urgent}`);
      if (t.options.length) parts.push(formatOptionList(t.options));
      if (t.dataOffset !== undefined && t.dataOffset !== autoDataOffset(t)) {
        parts.push(`doff ${t.dataOffset}`);
      }
      if (t.reserved) parts.push(`rsv ${t.reserved}`);
      if (wrong(t.checksum, ok)) parts.push(cksum(t.checksum));
      if (opts.data && t.payload.some((b) => b !== 0)) {
        parts.push(`data 0x${hex.encode(t.payload)}`);
      }
      break;
    }
    case "udp": {
      parts.push(`udp (${t.payload.length})`);
      if (t.length !== undefined && t.length !== 8 + t.payload.length) {
        parts.push(`ulen ${t.length}`);
      }
      if (wrong(t.checksum, ok)) parts.push(cksum(t.checksum));
      if (opts.data && t.payload.some((b) => b !== 0)) {
        parts.push(`data 0x${hex.encode(t.payload)}`);
      }
      break;
    }
    case "icmpv4":
    case "icmpv6":
      parts.push(...icmpParts(t, opts));
      if (wrong(t.checksum, ok)) parts.push(cksum(t.checksum));
      if (opts.annotate) {
        const q = (t as { quoted?: import("./icmp.ts").QuotedDatagram }).quoted;
        if (q?.src && q.dst) {
          const port = q.srcPort !== undefined;
          notes.push(
            `quoting ${endpoint(q.src, port ? q.srcPort : undefined)} > ${
              endpoint(q.dst, port ? q.dstPort : undefined)
            }` +
              (q.seq !== undefined ? ` seq ${q.seq}` : "") + (q.stopped ? `; ${q.stopped}` : ""),
          );
        }
      }
      break;
    case "raw":
      parts.push(
        `proto ${t.protocol ?? (ip.kind === "ipv4" ? ip.protocol ?? 0 : 59)} (${t.data.length})`,
      );
      if (opts.data && t.data.some((b) => b !== 0)) parts.push(`data 0x${hex.encode(t.data)}`);
      if (opts.annotate && t.why) notes.push(t.why);
      break;
    default:
      assertNever(t, "transport");
  }
  parts.push(...ipParts(p));
  if (p.trailer?.length) parts.push(`trailer 0x${hex.encode(p.trailer)}`);
  if (opts.annotate && ok === false) notes.push("bad checksum");
  if (
    opts.annotate && ip.kind === "ipv4" && (ip as { checksumOk?: boolean }).checksumOk === false
  ) {
    notes.push("bad IP checksum");
  }
  if (notes.length) parts.push(`[${notes.join("; ")}]`);
  return parts.join(" ");
}

function icmpParts(t: IcmpSpec, opts: FormatLineOptions): string[] {
  const out = ["icmp", icmpNames.type(t.kind, t.type)];
  const code = icmpNames.code(t.kind, t.type, t.code);
  if (code) out.push(code);
  let canon = 0;
  if (icmpNames.isEcho(t.kind, t.type)) {
    out.push(`id ${t.rest >>> 16}`, `seq ${t.rest & 0xffff}`);
    canon = t.rest;
  } else if (icmpNames.hasMtu(t.kind, t.type, t.code)) {
    const mtu = icmpRest.mtu(t.rest, t.kind === "icmpv6");
    out.push(`mtu ${mtu}`);
    canon = mtu;
  }
  if (canon !== t.rest) out.push(`rest 0x${t.rest.toString(16).padStart(8, "0")}`);
  out.push(`(${t.body.length})`);
  if (opts.data && t.body.some((b) => b !== 0)) out.push(`data 0x${hex.encode(t.body)}`);
  return out;
}

function ipParts(p: PacketSpec): string[] {
  const out: string[] = [];
  const ip = p.ip;
  const tLen = lineTransportLength(p.transport);
  const proto = protocolOf(p.transport);
  if (ip.kind === "ipv4") {
    if (ip.version !== 4) out.push(`ipver ${ip.version}`);
    if (ip.ttl !== LINE_DEFAULT_TTL) out.push(`ttl ${ip.ttl}`);
    if (ip.dscp) out.push(`dscp ${ip.dscp}`);
    if (ip.ecn) out.push(`ecn ${ECN[ip.ecn]}`);
    if (ip.id) out.push(`id ${ip.id}`);
    if (ip.reservedFlag) out.push("evil");
    if (ip.df) out.push("DF");
    if (ip.mf) out.push("MF");
    if (ip.fragmentOffset) out.push(`frag ${ip.fragmentOffset}`);
    if (ip.options.length) out.push(`ipopt 0x${hex.encode(ip.options)}`);
    const hdr = 20 + ((ip.options.length + 3) & ~3);
    if (ip.ihl !== undefined && ip.ihl * 4 !== hdr) out.push(`ihl ${ip.ihl}`);
    if (ip.totalLength !== undefined && ip.totalLength !== 20 + ip.options.length + tLen) {
      out.push(`iplen ${ip.totalLength}`);
    }
    if (ip.protocol !== undefined && ip.protocol !== (proto ?? 0)) {
      out.push(`ipproto ${ip.protocol}`);
    }
    if (wrong(ip.checksum, (ip as { checksumOk?: boolean }).checksumOk)) {
      out.push(`ipcksum ${h16(ip.checksum!)}`);
    }
  } else {
    if (ip.version !== 6) out.push(`ipver ${ip.version}`);
    if (ip.hopLimit !== LINE_DEFAULT_TTL) out.push(`hlim ${ip.hopLimit}`);
    if (ip.trafficClass >>> 2) out.push(`dscp ${ip.trafficClass >>> 2}`);
    if (ip.trafficClass & 3) out.push(`ecn ${ECN[ip.trafficClass & 3]}`);
    if (ip.flowLabel) out.push(`flow 0x${ip.flowLabel.toString(16)}`);
    let extLen = 0;
    for (const e of ip.extensions) {
      out.push(`ext ${e.type} 0x${hex.encode(e.bytes)}`);
      extLen += e.bytes.length;
    }
    if (ip.payloadLength !== undefined && ip.payloadLength !== extLen + tLen) {
      out.push(`plen ${ip.payloadLength}`);
    }
    const firstNh = ip.extensions.length ? ip.extensions[0].type : proto ?? 59;
    if (ip.nextHeader !== undefined && ip.nextHeader !== firstNh) out.push(`nh ${ip.nextHeader}`);
  }
  return out;
}

/** RFC 3168 §5 codepoint names, as packetdrill spells them. */
export const ECN = ["noecn", "ect1", "ect0", "ce"] as const;
