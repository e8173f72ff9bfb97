/**
 * `struct sockaddr_in` and `sockaddr_in6` as bytes, for bind and connect
 * through FFI (netinet/in.h). Ports are in network byte order, the family in
 * host order.
 *
 * ```text
 * sockaddr_in  (16): family u16 | port be16 | addr[4]  | zero[8]
 * sockaddr_in6 (28): family u16 | port be16 | flowinfo u32 | addr[16] | scope_id u32
 * ```
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeSockaddr } from "./sockaddr.ts";
 * assert.deepEqual(
 *   [...encodeSockaddr(4, "192.0.2.1", 8080).subarray(0, 8)],
 *   [2, 0, 0x1f, 0x90, 192, 0, 2, 1],
 * );
 * assert.equal(encodeSockaddr(6, undefined, 80).length, 28);
 * assert.throws(() => encodeSockaddr(4, "fd3d::1", 80), /want an IPv4 address for an AF_INET socket, got "fd3d::1"/);
 * ```
 */
import { address } from "../wire/address.ts";

/** A sockaddr for `family`; `addr` undefined is the wildcard (INADDR_ANY / in6addr_any). */
export function encodeSockaddr(family: 4 | 6, addr: string | undefined, port: number): Uint8Array {
  let a: Uint8Array | undefined;
  if (addr !== undefined) {
    try {
      a = address.parse(addr);
    } catch {
      a = undefined;
    }
    if (!a || a.length !== (family === 4 ? 4 : 16)) {
      throw new RangeError(
        `want an IPv${family} address for an AF_INET${family === 6 ? "6" : ""} socket, got ${
          JSON.stringify(addr)
        }`,
      );
    }
  }
  const b = new Uint8Array(family === 4 ? 16 : 28);
  const v = new DataView(b.buffer);
  v.setUint16(0, family === 4 ? 2 : 10, true);
  v.setUint16(2, port, false);
  if (a) b.set(a, family === 4 ? 4 : 8);
  return b;
}
