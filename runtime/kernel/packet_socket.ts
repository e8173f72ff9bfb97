/**
 * AF_PACKET sockets (packet(7)): one bound to an interface, SOCK_DGRAM, sees
 * every datagram that crosses it without link headers; the raw target sends
 * through one and the packetdrill runner sniffs with one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ETH_P_IP, sockaddrLl } from "./packet_socket.ts";
 * const sll = sockaddrLl(2, ETH_P_IP);
 * assert.deepEqual([...sll.subarray(0, 8)], [17, 0, 0x08, 0x00, 2, 0, 0, 0]);
 * ```
 */
import { K, libc, sysError } from "./libc.ts";

/** Ethertypes (linux/if_ether.h). */
export const ETH_P_ALL = 0x0003;
export const ETH_P_IP = 0x0800;
export const ETH_P_IPV6 = 0x86dd;

/** An AF_PACKET, SOCK_DGRAM socket bound to `ifindex`: datagrams without link headers. */
export function openPacketSocket(ifindex: number): number {
  const c = libc();
  const fd = c.socket(
    K.AF_PACKET,
    K.SOCK_DGRAM | K.SOCK_NONBLOCK | K.SOCK_CLOEXEC,
    htons(ETH_P_ALL),
  );
  if (fd < 0) throw sysError("socket(AF_PACKET)", c);
  const sll = sockaddrLl(ifindex, ETH_P_ALL);
  if (c.bind(fd, sll, sll.length) !== 0) {
    const e = sysError(`bind(AF_PACKET, ifindex ${ifindex})`, c);
    c.close(fd);
    throw e;
  }
  return fd;
}

/** A 16-bit value in network byte order. */
export function htons(v: number): number {
  return ((v & 0xff) << 8) | (v >> 8);
}

/** struct sockaddr_ll (linux/if_packet.h), 20 bytes. */
export function sockaddrLl(ifindex: number, proto: number, mac?: Uint8Array): Uint8Array {
  const b = new Uint8Array(20);
  const v = new DataView(b.buffer);
  v.setUint16(0, K.AF_PACKET, true);
  v.setUint16(2, proto, false);
  v.setInt32(4, ifindex, true);
  if (mac) {
    b[11] = mac.length;
    b.set(mac, 12);
  }
  return b;
}
