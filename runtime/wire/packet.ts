/**
 * A whole packet: optional Ethernet, IPv4 or IPv6, and the transport on top.
 * `parsePacket` and `emitPacket` are inverse: for every byte string that
 * `parsePacket` accepts, `emitPacket(parsePacket(b))` returns `b` again.
 *
 * Byte fields of a parsed packet (addresses, options, payload) are views into
 * the input, not copies: parsing allocates no buffers. Copy the input first
 * if its memory will be reused. `emitPacket` returns a fresh region that
 * nothing else shares.
 *
 * A transport that cannot be decoded (a truncated TCP header, a data offset
 * below 5, a later fragment) is kept as `raw` with the reason, so a crafted
 * or damaged packet still shows its IP header instead of failing whole.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { emitPacket, parsePacket } from "./packet.ts";
 * import { address } from "./address.ts";
 * const bytes = emitPacket({
 *   ip: {
 *     kind: "ipv4", version: 4, dscp: 0, ecn: 0, id: 0, reservedFlag: false, df: true, mf: false,
 *     fragmentOffset: 0, ttl: 64, src: address.parse("192.0.2.1"), dst: address.parse("192.168.0.1"),
 *     options: new Uint8Array(0),
 *   },
 *   transport: {
 *     kind: "tcp", srcPort: 40000, dstPort: 8080, seq: 0, ack: 0, flags: 0x002, window: 65535,
 *     urgent: 0, options: [{ kind: "mss", value: 1460 }], payload: new Uint8Array(0),
 *   },
 * });
 * assert.equal(bytes.length, 44);
 * const p = parsePacket(bytes);
 * assert.equal(p.transport.kind, "tcp");
 * assert.deepEqual(emitPacket(p), bytes);
 * ```
 */
import { assertNever } from "./assert_never.ts";
import { allocBytes } from "./byte_pool.ts";
import { DecodeError } from "./decode_error.ts";
import {
  emitEthernet,
  type EthernetFields,
  ethernetLength,
  EtherType,
  parseEthernet,
} from "./ethernet.ts";
import {
  emitIcmp,
  type IcmpFields,
  type IcmpSpec,
  ICMPV4_PROTOCOL,
  ICMPV6_PROTOCOL,
  parseIcmp,
} from "./icmp.ts";
import {
  emitIpv4Header,
  type Ipv4Fields,
  ipv4Header,
  ipv4HeaderLength,
  type Ipv4Spec,
  parseIpv4,
} from "./ipv4.ts";
import {
  emitIpv6Header,
  type Ipv6Fields,
  ipv6HeaderLength,
  type Ipv6Spec,
  parseIpv6,
} from "./ipv6.ts";
import {
  emitTcp,
  parseTcp,
  type PseudoHeader,
  TCP_PROTOCOL,
  type TcpFields,
  tcpLength,
  type TcpSpec,
} from "./tcp.ts";
import { emitUdp, parseUdp, UDP_PROTOCOL, type UdpFields, type UdpSpec } from "./udp.ts";

/** Transport bytes that were not (or could not be) decoded. */
export interface RawTransport {
  kind: "raw";
  /** The upper-layer protocol number these bytes belong to. */
  protocol?: number;
  data: Uint8Array;
  /** Why the bytes were left raw: an unknown protocol, a fragment, or a decode failure. */
  why?: string;
}

/** The IP layer of a packet. */
export type IpFields = Ipv4Fields | Ipv6Fields;
/** The transport layer of a packet. */
export type Transport = TcpFields | UdpFields | IcmpFields | RawTransport;

/** A decoded packet. */
export interface Packet {
  link?: EthernetFields;
  ip: IpFields;
  transport: Transport;
  /** Bytes after the IP datagram, such as Ethernet minimum-frame padding. */
  trailer?: Uint8Array;
}

/** What `emitPacket` takes: every computed field may be left out. */
export interface PacketSpec {
  link?: EthernetFields;
  ip: (Ipv4Spec & { kind: "ipv4" }) | (Ipv6Spec & { kind: "ipv6" });
  transport: (TcpSpec & { kind: "tcp" }) | (UdpSpec & { kind: "udp" }) | IcmpSpec | RawTransport;
  trailer?: Uint8Array;
}

/** How the first bytes should be read: a bare IP datagram or an Ethernet frame. */
export type LinkKind = "raw" | "ethernet";

/**
 * Decodes a whole packet. Throws `DecodeError` only when the link or IP layer
 * is unusable. `verify: false` skips the transport checksum (for bytes just
 * emitted, whose checksum is known); `checksumOk` is then left unset.
 */
export function parsePacket(
  bytes: Uint8Array,
  link: LinkKind = "raw",
  o: { verify?: boolean } = {},
): Packet {
  let start = 0;
  let eth: EthernetFields | undefined;
  if (link === "ethernet") {
    const e = parseEthernet(bytes);
    eth = e.header;
    start = e.payloadStart;
    if (eth.etherType !== EtherType.IPV4 && eth.etherType !== EtherType.IPV6) {
      throw new DecodeError(
        "Ethernet frame",
        `EtherType 0x${eth.etherType.toString(16).padStart(4, "0")} is not IP`,
      );
    }
  }
  if (bytes.length <= start) throw new DecodeError("IP header", "no bytes");
  const version = bytes[start] >>> 4;
  let ip: IpFields;
  let protocol: number;
  let from: number;
  let to: number;
  let fragmentWhy: string | undefined;
  if (version === 4) {
    const r = parseIpv4(bytes, start);
    ip = r.header;
    protocol = r.header.protocol;
    from = r.payloadStart;
    to = r.payloadEnd;
    if (r.header.mf || r.header.fragmentOffset !== 0) fragmentWhy = "IPv4 fragment";
  } else if (version === 6) {
    const r = parseIpv6(bytes, start);
    ip = r.header;
    protocol = r.protocol;
    from = r.payloadStart;
    to = r.payloadEnd;
    if (r.fragmented) fragmentWhy = "IPv6 fragment";
  } else {
    throw new DecodeError("IP header", `version ${version} is neither 4 nor 6`);
  }
  const pseudo: PseudoHeader | undefined = o.verify === false
    ? undefined
    : { src: ip.src, dst: ip.dst };
  const transport = fragmentWhy
    ? { kind: "raw" as const, protocol, data: bytes.subarray(from, to), why: fragmentWhy }
    : decodeTransport(bytes, from, to, protocol, ip.kind === "ipv6", pseudo);
  const packet: Packet = { ip, transport };
  if (eth) packet.link = eth;
  if (to < bytes.length) packet.trailer = bytes.subarray(to);
  return packet;
}

function decodeTransport(
  b: Uint8Array,
  from: number,
  to: number,
  protocol: number,
  v6: boolean,
  pseudo: PseudoHeader | undefined,
): Transport {
  try {
    if (protocol === TCP_PROTOCOL) return parseTcp(b, from, to, pseudo);
    if (protocol === UDP_PROTOCOL) return parseUdp(b, from, to, pseudo);
    if (protocol === ICMPV4_PROTOCOL && !v6) return parseIcmp(b, from, to, "icmpv4");
    if (protocol === ICMPV6_PROTOCOL && v6) return parseIcmp(b, from, to, "icmpv6", pseudo);
  } catch (e) {
    if (e instanceof DecodeError) {
      return { kind: "raw", protocol, data: b.subarray(from, to), why: e.message };
    }
    throw e;
  }
  return {
    kind: "raw",
    protocol,
    data: b.subarray(from, to),
    why: `protocol ${protocol} is not decoded`,
  };
}

/** Bytes the transport takes on the wire; throws as `tcpLength` does for over-long options. */
export function transportLength(t: PacketSpec["transport"]): number {
  switch (t.kind) {
    case "tcp":
      return tcpLength(t);
    case "udp":
      return 8 + t.payload.length;
    case "icmpv4":
    case "icmpv6":
      return 8 + t.body.length;
    case "raw":
      return t.data.length;
    default:
      return assertNever(t, "transport");
  }
}

/** The IP protocol number a transport belongs to. */
export function protocolOf(t: PacketSpec["transport"]): number | undefined {
  switch (t.kind) {
    case "tcp":
      return TCP_PROTOCOL;
    case "udp":
      return UDP_PROTOCOL;
    case "icmpv4":
      return ICMPV4_PROTOCOL;
    case "icmpv6":
      return ICMPV6_PROTOCOL;
    case "raw":
      return t.protocol;
    default:
      return assertNever(t, "transport");
  }
}

function checkAddress(a: Uint8Array, want: number, which: string): void {
  if (a.length !== want) {
    throw new RangeError(
      `Cannot emit packet: ${which} address has ${a.length} bytes, want ${want}`,
    );
  }
}

/** Serializes a packet, computing every length and checksum left out. */
export function emitPacket(spec: PacketSpec): Uint8Array {
  const ip = spec.ip;
  const t = spec.transport;
  const linkLen = spec.link ? ethernetLength(spec.link) : 0;
  const tLen = transportLength(t);
  const v4 = ip.kind === "ipv4";
  const want = v4 ? 4 : 16;
  checkAddress(ip.src, want, "source");
  checkAddress(ip.dst, want, "destination");
  const ipLen = v4 ? ipv4HeaderLength(ip) : ipv6HeaderLength(ip);
  const trailer = spec.trailer;
  const buf = allocBytes(linkLen + ipLen + tLen + (trailer ? trailer.length : 0));
  if (spec.link) emitEthernet(spec.link, buf, 0);
  const tAt = linkLen + ipLen;
  const pseudo: PseudoHeader = { src: ip.src, dst: ip.dst };
  switch (t.kind) {
    case "tcp":
      emitTcp(t, buf, tAt, pseudo);
      break;
    case "udp":
      emitUdp(t, buf, tAt, pseudo);
      break;
    case "icmpv4":
    case "icmpv6":
      emitIcmp(t, buf, tAt, pseudo);
      break;
    case "raw":
      buf.set(t.data, tAt);
      break;
    default:
      assertNever(t, "transport");
  }
  const proto = protocolOf(t);
  if (v4) {
    emitIpv4Header(
      ip.protocol === undefined && proto !== undefined ? { ...ip, protocol: proto } : ip,
      buf,
      linkLen,
      tLen,
    );
  } else {
    emitIpv6Header(ip, buf, linkLen, tLen, proto ?? 59);
  }
  if (trailer) buf.set(trailer, linkLen + ipLen + tLen);
  return buf;
}

/**
 * A raw IPv4 or IPv6 datagram's source and destination addresses, as views
 * into it, without parsing the rest (a relay routing it, a checksum's
 * pseudo-header).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { datagramEnds, emitPacket } from "./packet.ts";
 * import { parseLine } from "./line_parse.ts";
 * const b = emitPacket(parseLine("10.1.0.1:1 > 10.2.0.1:2 S 0:0(0) win 1").packet);
 * assert.deepEqual([...datagramEnds(b).dst], [10, 2, 0, 1]);
 * ```
 */
export function datagramEnds(bytes: Uint8Array): { src: Uint8Array; dst: Uint8Array } {
  return bytes[0] >> 4 === 4
    ? { src: bytes.subarray(12, 16), dst: bytes.subarray(16, 20) }
    : { src: bytes.subarray(8, 24), dst: bytes.subarray(24, 40) };
}

/**
 * Where the TCP header of a raw datagram starts, or undefined when it is not
 * TCP (or an IPv6 extension header comes first) or is too short to hold a
 * whole TCP header: for a look at a few fields without parsing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { emitPacket, tcpStart } from "./packet.ts";
 * import { parseLine } from "./line_parse.ts";
 * assert.equal(tcpStart(emitPacket(parseLine("10.1.0.1:1 > 10.2.0.1:2 S 0:0(0) win 1").packet)), 20);
 * assert.equal(tcpStart(new Uint8Array([0x45])), undefined);
 * ```
 */
export function tcpStart(bytes: Uint8Array): number | undefined {
  const v4 = bytes[0] >> 4 === 4;
  const at = v4 ? (bytes[0] & 0xf) * 4 : 40;
  if ((v4 ? bytes[9] : bytes[6]) !== 6 || bytes.length < at + 20) return undefined;
  return at;
}

/**
 * The IP header a host puts on what it sends: TTL (hop limit) 64, and DF as
 * told (set on TCP, which does path MTU discovery, RFC 1191; a stack clears
 * it where it must).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ipHeader } from "./packet.ts";
 * const h = ipHeader(new Uint8Array([10, 0, 0, 1]), new Uint8Array([10, 0, 0, 2]));
 * assert.ok(h.kind === "ipv4" && h.df && h.ttl === 64);
 * assert.equal(ipHeader(new Uint8Array(16), new Uint8Array(16)).kind, "ipv6");
 * ```
 */
export function ipHeader(src: Uint8Array, dst: Uint8Array, df = true): PacketSpec["ip"] {
  if (src.length === 4) return { ...ipv4Header(src, dst), df };
  return {
    kind: "ipv6",
    version: 6,
    trafficClass: 0,
    flowLabel: 0,
    hopLimit: 64,
    src,
    dst,
    extensions: [],
  };
}
