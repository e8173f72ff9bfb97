/**
 * Reads the line syntax that `formatLine` prints back into a `PacketSpec`.
 * Computed fields (lengths, checksums, data offset) are left undefined unless
 * the line sets them, so `emitPacket` fills them in.
 *
 * ```text
 * [time] [ether SRC > DST [vlan 0xTPID/TCI]… |] SRC > DST BODY [key value]… [[annotation]]
 *   BODY := FLAGS SEQ:END(LEN)            TCP; FLAGS from "FSRP.UEWe" or "none"
 *         | udp (LEN)
 *         | icmp TYPE [CODE] (LEN)
 *         | proto N (LEN)
 * ```
 *
 * Errors are `LineSyntaxError`s naming the column, what was wanted and what
 * was found.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseLine } from "./line_parse.ts";
 * const { packet, time } = parseLine("0.100 192.168.0.1:8080 > 192.0.2.1:40000 S. 0:0(0) ack 1 win 65535");
 * assert.equal(time, 0.1);
 * assert.equal(packet.transport.kind, "tcp");
 * assert.throws(
 *   () => parseLine("192.0.2.1:1 > 192.168.0.1:2 S 0:0(0) wnd 5"),
 *   /col 38: want a field name .*, got "wnd"/,
 * );
 * ```
 */
import { address } from "./address.ts";
import type { EthernetFields } from "./ethernet.ts";
import { hex } from "./hex.ts";
import { seq } from "./seq.ts";
import { icmpNames } from "./icmp_names.ts";
import { icmpRest } from "./icmp.ts";
import { ipv4Header } from "./ipv4.ts";
import type { Ipv6Extension, Ipv6Spec } from "./ipv6.ts";
import { ECN, LINE_DEFAULT_TTL } from "./line_format.ts";
import { LineSyntaxError } from "./line_syntax_error.ts";
import { parseOptionList } from "./option_list.ts";
import type { PacketSpec } from "./packet.ts";
import { parseTcpFlags, type TcpSpec } from "./tcp.ts";
import { type Token, TokenCursor } from "./token_cursor.ts";
import type { TcpOption } from "./tcp_options.ts";

/** What `parseLine` returns. */
export interface ParsedLine {
  /** The leading time in seconds, when the line has one. */
  time?: number;
  packet: PacketSpec;
}

function tokenize(line: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i];
    if (c === " " || c === "\t") {
      i++;
      continue;
    }
    const close = c === "<"
      ? ">"
      : c === "[" && !/^\[[0-9a-fA-F:.]+\]:\d/.test(line.slice(i))
      ? "]"
      : undefined;
    if (close) {
      const j = line.indexOf(close, i + 1);
      if (j < 0) {
        throw new LineSyntaxError(
          line.length + 1,
          `"${close}" to close the "${c}" at col ${i + 1}`,
          "end of line",
        );
      }
      out.push({ text: line.slice(i, j + 1), col: i + 1 });
      i = j + 1;
      continue;
    }
    let j = i;
    while (j < line.length && line[j] !== " " && line[j] !== "\t") j++;
    out.push({ text: line.slice(i, j), col: i + 1 });
    i = j;
  }
  return out;
}

interface Endpoint {
  addr: Uint8Array;
  port?: number;
}

function parseEndpoint(t: Token): Endpoint {
  const bad = () =>
    new LineSyntaxError(
      t.col,
      "an address such as 192.0.2.1:40000 or [fd3d::1]:40000",
      JSON.stringify(t.text),
    );
  let host = t.text;
  let port: string | undefined;
  const v6 = /^\[(.+)\]:(\d+)$/.exec(t.text);
  if (v6) {
    host = v6[1];
    port = v6[2];
  } else if (!t.text.includes("::") && (t.text.match(/:/g) ?? []).length === 1) {
    [host, port] = t.text.split(":");
  }
  let addr: Uint8Array;
  try {
    addr = address.parse(host);
  } catch {
    throw bad();
  }
  if (port === undefined) return { addr };
  const n = Number(port);
  if (!/^\d+$/.test(port) || n > 0xffff) {
    throw new LineSyntaxError(t.col, "a port 0..65535", JSON.stringify(port));
  }
  return { addr, port: n };
}

function parseMac(t: Token): Uint8Array {
  if (!/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(t.text)) {
    throw new LineSyntaxError(t.col, "a MAC address aa:bb:cc:dd:ee:ff", JSON.stringify(t.text));
  }
  return hex.decode(t.text.replaceAll(":", ""));
}

const U32 = 0xffffffff;
const FIELD_NAMES =
  "a field name (ack, win, urg, <options>, doff, rsv, cksum, data, ttl, id, DF, …)";

/** Reads one line. */
export function parseLine(line: string): ParsedLine {
  const c = new TokenCursor(tokenize(line), line.length + 1, "end of line");
  let time: number | undefined;
  const first = c.peek();
  if (first && /^\d+(\.\d+)?$/.test(first.text)) {
    time = Number(first.text);
    c.i++;
  }
  let link: EthernetFields | undefined;
  if (c.peek()?.text === "ether") {
    c.i++;
    const src = parseMac(c.next("a source MAC address"));
    c.expect(">");
    const dst = parseMac(c.next("a destination MAC address"));
    const vlans: EthernetFields["vlans"] = [];
    while (c.peek()?.text === "vlan") {
      c.i++;
      const v = c.next("a tag 0xTPID/TCI");
      const m = /^0x([0-9a-fA-F]{1,4})\/(\d+)$/.exec(v.text);
      if (!m || Number(m[2]) > 0xffff) {
        throw new LineSyntaxError(v.col, "a tag 0xTPID/TCI", JSON.stringify(v.text));
      }
      vlans.push({ tpid: parseInt(m[1], 16), tci: Number(m[2]) });
    }
    c.expect("|");
    link = { src, dst, vlans, etherType: 0 };
  }
  const srcTok = c.next("a source address");
  const src = parseEndpoint(srcTok);
  c.expect(">");
  const dstTok = c.next("a destination address");
  const dst = parseEndpoint(dstTok);
  if (src.addr.length !== dst.addr.length) {
    throw new LineSyntaxError(
      dstTok.col,
      `an IPv${src.addr.length === 4 ? 4 : 6} address like the source`,
      JSON.stringify(dstTok.text),
    );
  }
  const v6 = src.addr.length === 16;
  if (link) link.etherType = v6 ? 0x86dd : 0x0800;
  const ip4 = { ...ipv4Header(src.addr, dst.addr), ttl: LINE_DEFAULT_TTL };
  const ip6: Ipv6Spec & { kind: "ipv6" } = {
    kind: "ipv6",
    version: 6,
    trafficClass: 0,
    flowLabel: 0,
    hopLimit: LINE_DEFAULT_TTL,
    src: src.addr,
    dst: dst.addr,
    extensions: [],
  };
  const needPorts = (yes: boolean, what: string) => {
    const has = src.port !== undefined && dst.port !== undefined;
    if (yes && !has) {
      throw new LineSyntaxError(
        srcTok.col,
        `addresses with ports for ${what}`,
        JSON.stringify(srcTok.text),
      );
    }
    if (!yes && (src.port !== undefined || dst.port !== undefined)) {
      throw new LineSyntaxError(
        srcTok.col,
        `addresses without ports for ${what}`,
        JSON.stringify(srcTok.text),
      );
    }
  };
  const bodyTok = c.next("TCP flags, udp, icmp or proto");
  let transport: PacketSpec["transport"];
  let payloadLen = 0;
  const lenGroup = (want: string) => {
    const t = c.next(want);
    const m = /^\((\d+)\)$/.exec(t.text);
    if (!m) throw new LineSyntaxError(t.col, want, JSON.stringify(t.text));
    return Number(m[1]);
  };
  if (bodyTok.text === "udp") {
    needPorts(true, "UDP");
    payloadLen = lenGroup("a payload length (N)");
    transport = {
      kind: "udp",
      srcPort: src.port!,
      dstPort: dst.port!,
      payload: new Uint8Array(payloadLen),
    };
  } else if (bodyTok.text === "icmp") {
    needPorts(false, "ICMP");
    const kind = v6 ? "icmpv6" : "icmpv4";
    const tt = c.next("an ICMP type name");
    const type = icmpNames.typeValue(kind, tt.text);
    if (type === undefined) {
      throw new LineSyntaxError(
        tt.col,
        "an ICMP type name such as echo_request or typeN",
        JSON.stringify(tt.text),
      );
    }
    let code = 0;
    const ct = c.peek();
    if (ct && !ct.text.startsWith("(") && !["id", "seq", "mtu", "rest"].includes(ct.text)) {
      const v = icmpNames.codeValue(kind, type, ct.text);
      if (v === undefined) {
        throw new LineSyntaxError(ct.col, "an ICMP code name or codeN", JSON.stringify(ct.text));
      }
      code = v;
      c.i++;
    }
    let id = 0, sq = 0, mtu: number | undefined, rest: number | undefined;
    for (let t = c.peek(); t && !t.text.startsWith("("); t = c.peek()) {
      c.i++;
      if (t.text === "id") id = c.int(0xffff);
      else if (t.text === "seq") sq = c.int(0xffff);
      else if (t.text === "mtu") mtu = c.int(U32);
      else if (t.text === "rest") rest = c.int(U32, "a 32-bit rest-of-header 0xNNNNNNNN");
      else throw new LineSyntaxError(t.col, "id, seq, mtu, rest or (N)", JSON.stringify(t.text));
    }
    payloadLen = lenGroup("a body length (N)");
    const canon = icmpNames.isEcho(kind, type)
      ? icmpRest.echo(id, sq)
      : mtu !== undefined
      ? icmpRest.mtu(mtu, v6)
      : 0;
    transport = { kind, type, code, rest: rest ?? canon, body: new Uint8Array(payloadLen) };
  } else if (bodyTok.text === "proto") {
    needPorts(false, "raw payloads");
    const protocol = c.int(0xff, "a protocol number 0..255");
    payloadLen = lenGroup("a payload length (N)");
    transport = { kind: "raw", protocol, data: new Uint8Array(payloadLen) };
  } else {
    needPorts(true, "TCP");
    let flags: number;
    try {
      flags = parseTcpFlags(bodyTok.text);
    } catch {
      throw new LineSyntaxError(
        bodyTok.col,
        'TCP flags from "FSRP.UEWe", udp, icmp or proto',
        JSON.stringify(bodyTok.text),
      );
    }
    const st = c.next("SEQ:END(LEN)");
    const m = /^(\d+):(\d+)\((\d+)\)$/.exec(st.text);
    if (!m || Number(m[1]) > U32 || Number(m[2]) > U32) {
      throw new LineSyntaxError(
        st.col,
        "SEQ:END(LEN) with 32-bit numbers",
        JSON.stringify(st.text),
      );
    }
    const sq = Number(m[1]);
    payloadLen = Number(m[3]);
    if (seq.add(sq, payloadLen) !== Number(m[2])) {
      throw new LineSyntaxError(
        st.col,
        `END = SEQ + LEN = ${seq.add(sq, payloadLen)}`,
        JSON.stringify(st.text),
      );
    }
    transport = {
      kind: "tcp",
      srcPort: src.port!,
      dstPort: dst.port!,
      seq: sq,
      ack: 0,
      flags,
      window: 0,
      urgent: 0,
      options: [] as TcpOption[],
      payload: new Uint8Array(payloadLen),
    } satisfies TcpSpec;
  }
  const ip: PacketSpec["ip"] = v6 ? ip6 : ip4;
  let trailer: Uint8Array | undefined;
  const tcp = transport.kind === "tcp" ? transport : undefined;
  const onlyFor = (t: Token, ok: unknown, what: string) => {
    if (!ok) {
      throw new LineSyntaxError(t.col, `a field that ${what} packets have`, JSON.stringify(t.text));
    }
  };
  for (let t = c.peek(); t; t = c.peek()) {
    c.i++;
    if (t.text.startsWith("<")) {
      onlyFor(t, tcp, "TCP");
      tcp!.options = parseOptionList(t.text, t.col);
      continue;
    }
    if (t.text.startsWith("[")) continue;
    switch (t.text) {
      case "ack":
        onlyFor(t, tcp, "TCP");
        tcp!.ack = c.int(U32);
        break;
      case "win":
        onlyFor(t, tcp, "TCP");
        tcp!.window = c.int(0xffff);
        break;
      case "urg":
        onlyFor(t, tcp, "TCP");
        tcp!.urgent = c.int(0xffff);
        break;
      case "doff":
        onlyFor(t, tcp, "TCP");
        tcp!.dataOffset = c.int(15);
        break;
      case "rsv":
        onlyFor(t, tcp, "TCP");
        tcp!.reserved = c.int(7);
        break;
      case "ulen":
        onlyFor(t, transport.kind === "udp", "UDP");
        (transport as { length?: number }).length = c.int(0xffff);
        break;
      case "cksum":
        (transport as { checksum?: number | "bad" }).checksum = c.peek()?.text === "bad"
          ? (c.next("bad"), "bad")
          : c.int(0xffff, "a checksum 0xNNNN or bad");
        break;
      case "data": {
        const d = c.bytes("payload bytes as 0x…");
        if (d.length !== payloadLen) {
          throw new LineSyntaxError(
            t.col,
            `${payloadLen} bytes of data, as the length says`,
            `${d.length}`,
          );
        }
        if (transport.kind === "tcp" || transport.kind === "udp") transport.payload = d;
        else if (transport.kind === "raw") transport.data = d;
        else transport.body = d;
        break;
      }
      case "trailer":
        trailer = c.bytes("trailer bytes as 0x…");
        break;
      case "ipver":
        ip.version = c.int(15);
        break;
      case "ttl":
      case "hlim":
        if (v6) ip6.hopLimit = c.int(255);
        else ip4.ttl = c.int(255);
        break;
      case "dscp":
        if (v6) ip6.trafficClass = (ip6.trafficClass & 3) | (c.int(63) << 2);
        else ip4.dscp = c.int(63);
        break;
      case "ecn": {
        const e = c.next("an ECN codepoint (noecn, ect0, ect1, ce)");
        const v = (ECN as readonly string[]).indexOf(e.text);
        if (v < 0) {
          throw new LineSyntaxError(
            e.col,
            "an ECN codepoint (noecn, ect0, ect1, ce)",
            JSON.stringify(e.text),
          );
        }
        if (v6) ip6.trafficClass = (ip6.trafficClass & ~3) | v;
        else ip4.ecn = v;
        break;
      }
      case "id":
        onlyFor(t, !v6, "IPv4");
        ip4.id = c.int(0xffff);
        break;
      case "evil":
      case "DF":
      case "MF":
        onlyFor(t, !v6, "IPv4");
        if (t.text === "evil") ip4.reservedFlag = true;
        else if (t.text === "DF") ip4.df = true;
        else ip4.mf = true;
        break;
      case "frag":
        onlyFor(t, !v6, "IPv4");
        ip4.fragmentOffset = c.int(0x1fff);
        break;
      case "ipopt":
        onlyFor(t, !v6, "IPv4");
        ip4.options = c.bytes("IP options as 0x…");
        break;
      case "ihl":
        onlyFor(t, !v6, "IPv4");
        ip4.ihl = c.int(15);
        break;
      case "iplen":
        onlyFor(t, !v6, "IPv4");
        ip4.totalLength = c.int(0xffff);
        break;
      case "ipproto":
        onlyFor(t, !v6, "IPv4");
        ip4.protocol = c.int(255);
        break;
      case "ipcksum":
        onlyFor(t, !v6, "IPv4");
        ip4.checksum = c.int(0xffff, "a checksum 0xNNNN");
        break;
      case "flow":
        onlyFor(t, v6, "IPv6");
        ip6.flowLabel = c.int(0xfffff);
        break;
      case "ext": {
        onlyFor(t, v6, "IPv6");
        const type = c.int(255, "an extension header type");
        const ext: Ipv6Extension = { type, bytes: c.bytes("extension header bytes as 0x…") };
        ip6.extensions.push(ext);
        break;
      }
      case "plen":
        onlyFor(t, v6, "IPv6");
        ip6.payloadLength = c.int(0xffff);
        break;
      case "nh":
        onlyFor(t, v6, "IPv6");
        ip6.nextHeader = c.int(255);
        break;
      default:
        throw new LineSyntaxError(t.col, FIELD_NAMES, JSON.stringify(t.text));
    }
  }
  const packet: PacketSpec = { ip, transport };
  if (link) packet.link = link;
  if (trailer) packet.trailer = trailer;
  return time === undefined ? { packet } : { time, packet };
}
