/**
 * The Ethernet II header (IEEE 802.3 clause 3.2.6) with 802.1Q tags (IEEE 802.1Q §9.6).
 *
 * ```text
 *    +------------------+------------------+-------------+-----------+
 *    | Destination (6)  |   Source (6)     | [TPID|TCI]* | EtherType |
 *    +------------------+------------------+-------------+-----------+
 * ```
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { emitEthernet, parseEthernet } from "./ethernet.ts";
 * const buf = new Uint8Array(14);
 * emitEthernet({ dst: new Uint8Array(6), src: new Uint8Array(6).fill(2), vlans: [], etherType: 0x0800 }, buf, 0);
 * const { header, payloadStart } = parseEthernet(buf);
 * assert.equal(header.etherType, 0x0800);
 * assert.equal(payloadStart, 14);
 * ```
 */
import { DecodeError } from "./decode_error.ts";

/** EtherType values synack decodes. */
export const EtherType = { IPV4: 0x0800, IPV6: 0x86dd, VLAN: 0x8100, QINQ: 0x88a8 } as const;

/** Raw Ethernet header values. */
export interface EthernetFields {
  dst: Uint8Array;
  src: Uint8Array;
  /** 802.1Q / 802.1ad tags in wire order. */
  vlans: Array<{ tpid: number; tci: number }>;
  etherType: number;
}

/** Decodes the header at `bytes[start, end)`. */
export function parseEthernet(
  bytes: Uint8Array,
  start = 0,
  end = bytes.length,
): { header: EthernetFields; payloadStart: number } {
  const b = bytes;
  if (end - start < 14) {
    throw new DecodeError("Ethernet header", `need 14 bytes, got ${end - start}`);
  }
  const vlans: Array<{ tpid: number; tci: number }> = [];
  let p = start + 12;
  let type = (b[p] << 8) | b[p + 1];
  while (type === EtherType.VLAN || type === EtherType.QINQ) {
    if (p + 6 > end) throw new DecodeError("Ethernet header", "802.1Q tag is truncated");
    vlans.push({ tpid: type, tci: (b[p + 2] << 8) | b[p + 3] });
    p += 4;
    type = (b[p] << 8) | b[p + 1];
  }
  return {
    header: {
      dst: b.subarray(start, start + 6),
      src: b.subarray(start + 6, start + 12),
      vlans,
      etherType: type,
    },
    payloadStart: p + 2,
  };
}

/** Bytes the header takes. */
export function ethernetLength(h: EthernetFields): number {
  return 14 + 4 * h.vlans.length;
}

/** Writes the header; returns bytes written. */
export function emitEthernet(h: EthernetFields, buf: Uint8Array, at: number): number {
  buf.set(h.dst, at);
  buf.set(h.src, at + 6);
  let p = at + 12;
  for (const v of h.vlans) {
    buf[p] = v.tpid >>> 8;
    buf[p + 1] = v.tpid;
    buf[p + 2] = v.tci >>> 8;
    buf[p + 3] = v.tci;
    p += 4;
  }
  buf[p] = h.etherType >>> 8;
  buf[p + 1] = h.etherType;
  return p + 2 - at;
}
