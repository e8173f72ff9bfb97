/**
 * NAT's edit of a datagram: new source or destination address and port, the
 * IPv4 header checksum and the TCP checksum made right again, on a copy.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rewriteEnds } from "./nat_rewrite.ts";
 * import { emitPacket, parsePacket } from "../wire/packet.ts";
 * import { parseLine } from "../wire/line_parse.ts";
 * const b = emitPacket(parseLine("10.1.0.1:40000 > 10.2.0.1:80 S 1:1(0) win 100").packet);
 * const out = rewriteEnds(b, { src: new Uint8Array([10, 2, 0, 2]), srcPort: 61000 });
 * const p = parsePacket(out);
 * assert.equal(p.ip.src.join("."), "10.2.0.2");
 * assert.ok(p.transport.kind === "tcp" && p.transport.srcPort === 61000 && p.transport.checksumOk);
 * ```
 */
import { Ipv4View } from "../wire/ipv4.ts";
import { TcpView } from "../wire/tcp.ts";

/** What NAT changes. */
export interface Ends {
  src?: Uint8Array;
  srcPort?: number;
  dst?: Uint8Array;
  dstPort?: number;
}

/** A copy of an IPv4 TCP datagram with its ends changed and its checksums right. */
export function rewriteEnds(bytes: Uint8Array, e: Ends): Uint8Array {
  const b = bytes.slice();
  if (b[0] >> 4 !== 4) throw new RangeError("NAT is modelled for IPv4 only");
  const ihl = (b[0] & 0xf) * 4;
  if (e.src) b.set(e.src, 12);
  if (e.dst) b.set(e.dst, 16);
  if (b[9] === 6) {
    const t = new TcpView(b.subarray(ihl));
    if (e.srcPort !== undefined) t.srcPort = e.srcPort;
    if (e.dstPort !== undefined) t.dstPort = e.dstPort;
    t.fillChecksum({ src: b.subarray(12, 16), dst: b.subarray(16, 20) });
  }
  new Ipv4View(b).fillChecksum();
  return b;
}

/** A copy with the TTL (hop limit) one lower, as a router forwards it; undefined at zero. */
export function forwarded(bytes: Uint8Array): Uint8Array | undefined {
  const b = bytes.slice();
  if (b[0] >> 4 === 4) {
    if (b[8] <= 1) return undefined;
    b[8]--;
    new Ipv4View(b).fillChecksum();
  } else {
    if (b[7] <= 1) return undefined;
    b[7]--;
  }
  return b;
}
