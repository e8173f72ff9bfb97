/**
 * The UDP header (RFC 768).
 *
 * ```text
 *     0      7 8     15 16    23 24    31
 *    +--------+--------+--------+--------+
 *    |     Source      |   Destination   |
 *    |      Port       |      Port       |
 *    +--------+--------+--------+--------+
 *    |     Length      |    Checksum     |
 *    +--------+--------+--------+--------+
 *    |          data octets ...
 *    +---------------- ...
 * ```
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { emitUdp, parseUdp } from "./udp.ts";
 * const pseudo = { src: new Uint8Array([192, 0, 2, 1]), dst: new Uint8Array([192, 168, 0, 1]) };
 * const buf = new Uint8Array(12);
 * emitUdp({ srcPort: 53, dstPort: 4000, payload: new Uint8Array([1, 2, 3, 4]) }, buf, 0, pseudo);
 * const u = parseUdp(buf, 0, buf.length, pseudo);
 * assert.equal(u.length, 12);
 * assert.equal(u.checksumOk, true);
 * ```
 */
import { be } from "./big_endian.ts";
import { checksum } from "./checksum.ts";
import { DecodeError } from "./decode_error.ts";
import type { PseudoHeader } from "./tcp.ts";

/** IP protocol number of UDP. */
export const UDP_PROTOCOL = 17;

/** Raw UDP header values and payload. */
export interface UdpFields {
  kind: "udp";
  srcPort: number;
  dstPort: number;
  /** Header plus data, as on the wire. */
  length: number;
  checksum: number;
  payload: Uint8Array;
  /** Set by parsing when the pseudo-header was known. */
  checksumOk?: boolean;
}

/** What `emitUdp` takes: `length` and `checksum` are computed when left out. */
export type UdpSpec = Omit<UdpFields, "kind" | "length" | "checksum" | "checksumOk"> & {
  kind?: "udp";
  length?: number;
  /** The checksum to write; `"bad"` writes one that cannot verify. Computed when left out. */
  checksum?: number | "bad";
};

/** A mutable view over UDP header bytes. */
export class UdpView {
  readonly bytes: Uint8Array;
  constructor(bytes: Uint8Array) {
    if (bytes.length < 8) throw new DecodeError("UDP header", `need 8 bytes, got ${bytes.length}`);
    this.bytes = bytes;
  }
  get srcPort(): number {
    return be.u16(this.bytes, 0);
  }
  set srcPort(v: number) {
    be.put16(this.bytes, 0, v);
  }
  get dstPort(): number {
    return be.u16(this.bytes, 2);
  }
  set dstPort(v: number) {
    be.put16(this.bytes, 2, v);
  }
  get length(): number {
    return be.u16(this.bytes, 4);
  }
  set length(v: number) {
    be.put16(this.bytes, 4, v);
  }
  get checksum(): number {
    return be.u16(this.bytes, 6);
  }
  set checksum(v: number) {
    be.put16(this.bytes, 6, v);
  }
  /** Recomputes the checksum over the whole view; a computed zero is sent as all ones (RFC 768). */
  fillChecksum(pseudo: PseudoHeader): void {
    this.checksum = 0;
    const n = this.bytes.length;
    const sum = checksum.finish(
      checksum.sum(this.bytes, 0, n, checksum.pseudo(pseudo.src, pseudo.dst, UDP_PROTOCOL, n)),
    );
    this.checksum = sum === 0 ? 0xffff : sum;
  }
}

/**
 * Decodes a datagram from `bytes[start, end)`. Everything after the header is
 * payload, whatever the length field says, so a wrong length survives the
 * round trip.
 */
export function parseUdp(
  bytes: Uint8Array,
  start = 0,
  end = bytes.length,
  pseudo?: PseudoHeader,
): UdpFields {
  const b = bytes;
  const o = start;
  if (end - start < 8) throw new DecodeError("UDP header", `need 8 bytes, got ${end - start}`);
  const f: UdpFields = {
    kind: "udp",
    srcPort: be.u16(b, o),
    dstPort: be.u16(b, o + 2),
    length: be.u16(b, o + 4),
    checksum: be.u16(b, o + 6),
    payload: b.subarray(o + 8, end),
  };
  if (pseudo) {
    // RFC 768: zero means "no checksum" over IPv4; RFC 8200 §8.1 forbids that over IPv6.
    if (f.checksum === 0) f.checksumOk = pseudo.src.length === 4;
    else {
      const acc = checksum.pseudo(pseudo.src, pseudo.dst, UDP_PROTOCOL, end - start);
      f.checksumOk = checksum.fold(checksum.sum(b, start, end, acc)) === 0xffff;
    }
  }
  return f;
}

/** Writes the datagram; returns bytes written. */
export function emitUdp(spec: UdpSpec, buf: Uint8Array, at: number, pseudo?: PseudoHeader): number {
  const total = 8 + spec.payload.length;
  const b = buf;
  const o = at;
  const length = spec.length ?? total;
  be.put16(b, o, spec.srcPort);
  be.put16(b, o + 2, spec.dstPort);
  be.put16(b, o + 4, length);
  b[o + 6] = 0;
  b[o + 7] = 0;
  b.set(spec.payload, o + 8);
  let sum = spec.checksum;
  if (typeof sum !== "number") {
    const bad = sum === "bad";
    if (!pseudo) {
      throw new RangeError(
        "Cannot emit UDP checksum: the pseudo-header addresses are unknown; pass them or set checksum",
      );
    }
    sum = checksum.finish(
      checksum.sum(b, o, o + total, checksum.pseudo(pseudo.src, pseudo.dst, UDP_PROTOCOL, total)),
    );
    // RFC 768: a computed zero is sent as all ones.
    if (sum === 0) sum = 0xffff;
    if (bad) sum = checksum.wrong(sum);
  }
  be.put16(b, o + 6, sum);
  return total;
}
