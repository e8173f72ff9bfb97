/**
 * What `reject` sends back, as Linux builds it:
 * - `reject with tcp reset` (`nf_reject_ipv4.c`, `nf_send_reset()`): a RST
 *   from the segment's destination to its source, ports swapped; if the
 *   segment had ACK, `seq` is its ack and the RST has no ACK; otherwise
 *   seq 0 and ACK of everything it carried (SYN and FIN count one). TTL 64,
 *   DF, window 0.
 * - plain `reject` (nftables' inet default, iptables REJECT's default):
 *   ICMP port unreachable (v4 type 3 code 3, v6 type 1 code 4) from `from`,
 *   quoting as much of the datagram as fits a 576-byte (IPv6: 1280) error,
 *   as `icmp_send()` does.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseLine } from "../wire/line_parse.ts";
 * import { emitPacket, parsePacket } from "../wire/packet.ts";
 * import { rejectReset, rejectUnreachable } from "./reject.ts";
 * const seg = parsePacket(emitPacket(parseLine("10.2.0.1:80 > 10.2.0.2:40000 . 7:7(0) ack 1001 win 100").packet));
 * const rst = parsePacket(rejectReset(seg));
 * assert.ok(rst.transport.kind === "tcp");
 * assert.deepEqual([rst.transport.srcPort, rst.transport.dstPort, rst.transport.seq, rst.transport.flags], [40000, 80, 1001, 0x04]);
 * const icmp = parsePacket(rejectUnreachable(emitPacket(parseLine("10.2.0.1:80 > 10.2.0.2:40000 S 7:7(0) win 100").packet), new Uint8Array([10, 2, 0, 2])));
 * assert.ok(icmp.transport.kind === "icmpv4" && icmp.transport.type === 3 && icmp.transport.code === 3);
 * ```
 */
import { emitPacket, ipHeader, type Packet } from "../wire/packet.ts";
import { segmentLength, TcpFlag } from "../wire/tcp.ts";

/** DF on a RST (TCP's path MTU discovery), not on an ICMP error (its socket's is off). */
const header = (src: Uint8Array, dst: Uint8Array, df = true) => ipHeader(src, dst, df);

/** The RST `reject with tcp reset` answers a TCP segment with. */
export function rejectReset(p: Packet): Uint8Array {
  const t = p.transport;
  if (t.kind !== "tcp") throw new RangeError("reject with tcp reset: want a TCP segment");
  const hasAck = (t.flags & TcpFlag.ACK) !== 0;
  return emitPacket({
    ip: header(p.ip.dst, p.ip.src),
    transport: {
      kind: "tcp",
      srcPort: t.dstPort,
      dstPort: t.srcPort,
      seq: hasAck ? t.ack : 0,
      ack: hasAck ? 0 : (t.seq + segmentLength(t)) >>> 0,
      flags: hasAck ? TcpFlag.RST : TcpFlag.RST | TcpFlag.ACK,
      window: 0,
      urgent: 0,
      options: [],
      payload: new Uint8Array(0),
    },
  });
}

/** ICMP port unreachable from `from`, quoting `bytes` (the datagram as the hook saw it). */
export function rejectUnreachable(bytes: Uint8Array, from: Uint8Array): Uint8Array {
  const v4 = bytes[0] >> 4 === 4;
  const src = v4 ? bytes.subarray(12, 16) : bytes.subarray(8, 24);
  // RFC 1812 §4.3.2.3 / RFC 4443 §2.4(c): the error fits in 576 (IPv6: 1280) bytes.
  const room = v4 ? 576 - 20 - 8 : 1280 - 40 - 8;
  const ip = header(from, src.slice(), false);
  // icmp_send(): an error's TOS is the datagram's TOS bits with precedence "internetwork
  // control" (IPTOS_PREC_INTERNETCONTROL, 0xc0): DSCP 48 when the datagram had none.
  if (ip.kind === "ipv4") ip.dscp = 48 | ((bytes[1] >> 2) & 0x07);
  return emitPacket({
    ip,
    transport: {
      kind: v4 ? "icmpv4" : "icmpv6",
      type: v4 ? 3 : 1,
      code: v4 ? 3 : 4,
      rest: 0,
      body: bytes.slice(0, room),
    },
  });
}
