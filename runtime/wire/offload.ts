/**
 * Checksums a sender left to its NIC. With checksum offload (Linux's
 * CHECKSUM_PARTIAL), a TCP or UDP header leaves the stack holding only the
 * folded pseudo-header sum; the NIC completes it. A capture on the sending
 * host, or a packet socket on a veth (which never completes it), sees the
 * partial value. `isPartialChecksum` recognises one; `completeChecksum` puts
 * in the checksum the wire would have carried.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checksum } from "./checksum.ts";
 * import { completeChecksum, isPartialChecksum } from "./offload.ts";
 * import { parseLine } from "./line_parse.ts";
 * import { emitPacket, parsePacket } from "./packet.ts";
 * const bytes = emitPacket(parseLine("192.0.2.1:40000 > 192.168.0.1:8080 . 1:1(0) ack 1 win 502").packet);
 * const p = parsePacket(bytes);
 * // What a sender with offload hands its NIC: the folded pseudo-header sum.
 * const partial = checksum.fold(checksum.pseudo(p.ip.src, p.ip.dst, 6, bytes.length - 20));
 * bytes[36] = partial >> 8;
 * bytes[37] = partial & 0xff;
 * assert.equal(isPartialChecksum(parsePacket(bytes)), true);
 * assert.equal(completeChecksum(bytes), true);
 * const t = parsePacket(bytes).transport;
 * assert.ok(t.kind === "tcp" && t.checksumOk === true);
 * assert.equal(completeChecksum(bytes), false);
 * ```
 */
import { checksum } from "./checksum.ts";
import type { Packet } from "./packet.ts";

const TCP = 6, UDP = 17;

/** The folded pseudo-header sum for `p`'s transport segment. */
function pseudoSum(p: Packet, protocol: number, length: number): number {
  return checksum.fold(checksum.pseudo(p.ip.src, p.ip.dst, protocol, length));
}

/** Whether `p`'s TCP or UDP checksum is a sender's unfinished (offloaded) one. */
export function isPartialChecksum(p: Packet): boolean {
  const t = p.transport;
  if (
    (t.kind !== "tcp" && t.kind !== "udp") || t.checksum === undefined || t.checksumOk !== false
  ) {
    return false;
  }
  const hdr = t.kind === "tcp" ? (t.dataOffset ?? 5) * 4 : 8;
  const sum = pseudoSum(p, t.kind === "tcp" ? TCP : UDP, hdr + t.payload.length);
  return t.checksum === sum || t.checksum === (~sum & 0xffff);
}

/**
 * Writes the right TCP or UDP checksum into an IPv4 or IPv6 datagram (no
 * extension headers) whose checksum does not verify; returns whether it did.
 * For what a packet socket reads off a veth, where offload is never done.
 */
export function completeChecksum(bytes: Uint8Array): boolean {
  const v = bytes[0] >> 4;
  const [hdr, proto, total] = v === 4
    ? [(bytes[0] & 0xf) * 4, bytes[9], (bytes[2] << 8) | bytes[3]]
    : v === 6
    ? [40, bytes[6], 40 + ((bytes[4] << 8) | bytes[5])]
    : [0, 0, 0];
  if ((proto !== TCP && proto !== UDP) || total > bytes.length || total <= hdr) return false;
  const at = hdr + (proto === TCP ? 16 : 6);
  if (at + 2 > total) return false;
  const src = v === 4 ? bytes.subarray(12, 16) : bytes.subarray(8, 24);
  const dst = v === 4 ? bytes.subarray(16, 20) : bytes.subarray(24, 40);
  const len = total - hdr;
  const sum = (field: number) => {
    const was = [bytes[at], bytes[at + 1]];
    bytes[at] = field >> 8, bytes[at + 1] = field & 0xff;
    const s = checksum.fold(checksum.sum(bytes, hdr, total, checksum.pseudo(src, dst, proto, len)));
    bytes[at] = was[0], bytes[at + 1] = was[1];
    return s;
  };
  // A checksum that verifies sums to 0xffff with itself in place.
  if (sum((bytes[at] << 8) | bytes[at + 1]) === 0xffff) return false;
  let c = ~sum(0) & 0xffff;
  // UDP sends a computed 0 as 0xffff (RFC 768).
  if (proto === UDP && c === 0) c = 0xffff;
  bytes[at] = c >> 8, bytes[at + 1] = c & 0xff;
  return true;
}
