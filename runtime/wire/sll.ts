/**
 * Linux "cooked" capture headers, what `tcpdump -i any` writes instead of an
 * Ethernet header: LINKTYPE_LINUX_SLL (113, 16 bytes) and LINKTYPE_LINUX_SLL2
 * (276, 20 bytes). Both say which way the packet went (the kernel's
 * `PACKET_*` type), its link-layer type and source address, and the protocol
 * of what follows (an EtherType); SLL2 adds the interface index.
 *
 * ```text
 * SLL:   | pkttype(2) | ARPHRD(2) | addr len(2) | addr(8) | protocol(2) |
 * SLL2:  | protocol(2) | reserved(2) | ifindex(4) | ARPHRD(2) | pkttype(1) | addr len(1) | addr(8) |
 * ```
 *
 * https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL.html and
 * https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL2.html.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSll, SllPacketType } from "./sll.ts";
 * const sll2 = new Uint8Array(20);
 * sll2.set([0x08, 0x00], 0); // IPv4
 * sll2.set([0, 0, 0, 3], 4); // ifindex 3
 * sll2[10] = SllPacketType.OUTGOING;
 * const h = parseSll(sll2, 276);
 * assert.deepEqual([h.protocol, h.ifindex, h.direction, h.payloadStart], [0x0800, 3, "Out", 20]);
 * assert.throws(() => parseSll(new Uint8Array(10), 113), /SLL header: 10 bytes, want 16/);
 * ```
 */
import { DecodeError } from "./decode_error.ts";

/** The kernel's PACKET_* types (linux/if_packet.h), as SLL headers carry them. */
export enum SllPacketType {
  HOST = 0,
  BROADCAST = 1,
  MULTICAST = 2,
  OTHERHOST = 3,
  OUTGOING = 4,
}

/** A cooked header, decoded. */
export interface SllHeader {
  /** The EtherType of what follows (0x0800 IPv4, 0x86dd IPv6). */
  protocol: number;
  packetType: number;
  /** `In` (to this host, or seen by it), `Out` (sent by it), as tcpdump says. */
  direction: "In" | "Out";
  /** ARPHRD_* of the interface (1 Ethernet, 772 loopback). */
  hardwareType: number;
  /** The link-layer source address, as many bytes as its length says (at most 8). */
  address: Uint8Array;
  /** SLL2 only. */
  ifindex?: number;
  /** Where the network-layer packet starts. */
  payloadStart: number;
}

/** One field: where it sits in each version. */
const FIELDS = {
  sll: {
    size: 16,
    packetType: [0, 2],
    hardwareType: [2, 2],
    addrLen: [4, 2],
    addr: 6,
    protocol: 14,
  },
  sll2: {
    size: 20,
    packetType: [10, 1],
    hardwareType: [8, 2],
    addrLen: [11, 1],
    addr: 12,
    protocol: 0,
  },
} as const;

function read(b: Uint8Array, [at, width]: readonly [number, number]): number {
  return width === 1 ? b[at] : (b[at] << 8) | b[at + 1];
}

/** The header of a LINUX_SLL (113) or LINUX_SLL2 (276) record. */
export function parseSll(b: Uint8Array, linkType: 113 | 276): SllHeader {
  const f = linkType === 113 ? FIELDS.sll : FIELDS.sll2;
  const name = linkType === 113 ? "SLL header" : "SLL2 header";
  if (b.length < f.size) throw new DecodeError(name, `${b.length} bytes, want ${f.size}`);
  const packetType = read(b, f.packetType);
  const addrLen = Math.min(read(b, f.addrLen), 8);
  return {
    protocol: read(b, [f.protocol, 2]),
    packetType,
    direction: packetType === SllPacketType.OUTGOING ? "Out" : "In",
    hardwareType: read(b, f.hardwareType),
    address: b.slice(f.addr, f.addr + addrLen),
    ...(linkType === 276
      ? { ifindex: ((b[4] << 24) | (b[5] << 16) | (b[6] << 8) | b[7]) >>> 0 }
      : {}),
    payloadStart: f.size,
  };
}
