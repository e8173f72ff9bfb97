/**
 * The field-by-field view of a packet, one field per line in Scapy's
 * `show()` layout, with checksum verdicts and decoded extras.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatVerbose } from "./verbose.ts";
 * import { parsePacket, emitPacket } from "./packet.ts";
 * import { parseLine } from "./line_parse.ts";
 * const p = parsePacket(emitPacket(parseLine("192.0.2.1:40000 > 192.168.0.1:8080 S 0:0(0) win 65535 <mss 1460>").packet));
 * const text = formatVerbose(p);
 * assert.match(text, /###\[ TCP \]###/);
 * assert.match(text, /  flags\s+= 0x002 \[S\]/);
 * assert.match(text, /  checksum\s+= 0x[0-9a-f]{4} \(ok\)/);
 * ```
 */
import { address } from "./address.ts";
import { assertNever } from "./assert_never.ts";
import { hex } from "./hex.ts";
import { icmpNames } from "./icmp_names.ts";
import { formatOption } from "./option_list.ts";
import type { Packet } from "./packet.ts";
import { formatTcpFlags } from "./tcp.ts";

function section(name: string, rows: Array<[string, string | number]>): string {
  return [`###[ ${name} ]###`, ...rows.map(([k, v]) => `  ${k.padEnd(14)}= ${v}`)].join("\n");
}

function verdict(sum: number, ok: boolean | undefined): string {
  const h = `0x${sum.toString(16).padStart(4, "0")}`;
  return ok === undefined ? h : `${h} (${ok ? "ok" : "BAD"})`;
}

function bytesRow(b: Uint8Array): string {
  if (!b.length) return "(0 bytes)";
  const shown = b.length > 64 ? `${hex.encode(b.subarray(0, 64))}…` : hex.encode(b);
  return `(${b.length} bytes) ${shown}`;
}

/** Prints every field of `p`, layer by layer. */
export function formatVerbose(p: Packet): string {
  const out: string[] = [];
  if (p.link) {
    const mac = (m: Uint8Array) => Array.from(m, (x) => x.toString(16).padStart(2, "0")).join(":");
    out.push(section("Ethernet", [
      ["dst", mac(p.link.dst)],
      ["src", mac(p.link.src)],
      ...p.link.vlans.map((
        v,
      ): [string, string] => ["vlan", `tpid 0x${v.tpid.toString(16)} tci ${v.tci}`]),
      ["type", `0x${p.link.etherType.toString(16).padStart(4, "0")}`],
    ]));
  }
  const ip = p.ip;
  if (ip.kind === "ipv4") {
    const flags = [ip.reservedFlag && "evil", ip.df && "DF", ip.mf && "MF"].filter(Boolean).join(
      ",",
    );
    out.push(section("IPv4", [
      ["version", ip.version],
      ["ihl", `${ip.ihl} (${ip.ihl * 4} bytes)`],
      ["dscp", ip.dscp],
      ["ecn", ip.ecn],
      ["total length", ip.totalLength],
      ["id", ip.id],
      ["flags", flags || "none"],
      ["frag offset", ip.fragmentOffset],
      ["ttl", ip.ttl],
      ["protocol", ip.protocol],
      ["checksum", verdict(ip.checksum, ip.checksumOk)],
      ["src", address.format(ip.src)],
      ["dst", address.format(ip.dst)],
      ["options", bytesRow(ip.options)],
    ]));
  } else {
    out.push(section("IPv6", [
      ["version", ip.version],
      ["traffic class", `0x${ip.trafficClass.toString(16).padStart(2, "0")}`],
      ["flow label", `0x${ip.flowLabel.toString(16).padStart(5, "0")}`],
      ["payload len", ip.payloadLength],
      ["next header", ip.nextHeader],
      ["hop limit", ip.hopLimit],
      ["src", address.format(ip.src)],
      ["dst", address.format(ip.dst)],
      ...ip.extensions.map((e): [string, string] => [
        `ext ${e.type}`,
        e.fragment
          ? `fragment offset ${e.fragment.offset} more ${e.fragment.more} id ${e.fragment.id}`
          : bytesRow(e.bytes),
      ]),
    ]));
  }
  const t = p.transport;
  switch (t.kind) {
    case "tcp":
      out.push(section("TCP", [
        ["src port", t.srcPort],
        ["dst port", t.dstPort],
        ["seq", t.seq],
        ["ack", t.ack],
        ["data offset", `${t.dataOffset} (${t.dataOffset * 4} bytes)`],
        ["reserved", t.reserved],
        ["flags", `0x${t.flags.toString(16).padStart(3, "0")} [${formatTcpFlags(t.flags)}]`],
        ["window", t.window],
        ["checksum", verdict(t.checksum, t.checksumOk)],
        ["urgent", t.urgent],
        ...t.options.map((o, i): [string, string] => [
          `option ${i}`,
          formatOption(o) +
          (o.kind === "raw" && o.malformed ? ` (malformed: ${o.malformed})` : "") +
          (o.kind === "malformed" ? ` (${o.reason})` : ""),
        ]),
        ["payload", bytesRow(t.payload)],
      ]));
      break;
    case "udp":
      out.push(section("UDP", [
        ["src port", t.srcPort],
        ["dst port", t.dstPort],
        ["length", t.length],
        ["checksum", verdict(t.checksum, t.checksumOk)],
        ["payload", bytesRow(t.payload)],
      ]));
      break;
    case "icmpv4":
    case "icmpv6": {
      const rows: Array<[string, string | number]> = [
        ["type", `${t.type} (${icmpNames.type(t.kind, t.type)})`],
        [
          "code",
          `${t.code}${
            icmpNames.code(t.kind, t.type, t.code)
              ? ` (${icmpNames.code(t.kind, t.type, t.code)})`
              : ""
          }`,
        ],
        ["checksum", verdict(t.checksum, t.checksumOk)],
        ["rest", `0x${t.rest.toString(16).padStart(8, "0")}`],
      ];
      if (t.echo) rows.push(["echo", `id ${t.echo.id} seq ${t.echo.seq}`]);
      if (t.mtu !== undefined) rows.push(["mtu", t.mtu]);
      const q = t.quoted;
      if (q) {
        if (q.src && q.dst) {
          rows.push([
            "quoted",
            `${address.format(q.src)} > ${address.format(q.dst)} proto ${q.protocol}`,
          ]);
        }
        if (q.srcPort !== undefined) rows.push(["quoted ports", `${q.srcPort} > ${q.dstPort}`]);
        if (q.seq !== undefined) rows.push(["quoted seq", q.seq]);
        if (q.ack !== undefined) rows.push(["quoted ack", q.ack]);
        if (q.flags !== undefined) rows.push(["quoted flags", `[${formatTcpFlags(q.flags)}]`]);
        if (q.stopped) rows.push(["quoted stops", q.stopped]);
      }
      rows.push(["body", bytesRow(t.body)]);
      out.push(section(t.kind === "icmpv4" ? "ICMPv4" : "ICMPv6", rows));
      break;
    }
    case "raw":
      out.push(
        section("Raw", [["protocol", t.protocol ?? "?"], ["why", t.why ?? "-"], [
          "data",
          bytesRow(t.data),
        ]]),
      );
      break;
    default:
      assertNever(t, "transport");
  }
  if (p.trailer?.length) out.push(section("Trailer", [["bytes", bytesRow(p.trailer)]]));
  return out.join("\n");
}
