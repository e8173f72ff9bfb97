/** Below this many bytes the byte loop is cheaper than a 32-bit view. */
const WIDE_FROM = 128;
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * The Internet checksum (RFC 1071) and the pseudo-headers it covers for TCP,
 * UDP and ICMPv6 (RFC 9293 §3.1, RFC 768, RFC 8200 §8.1).
 *
 * Sums are kept unfolded as plain numbers so that a pseudo-header, a header
 * and a payload can be added up in pieces and folded once at the end.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checksum } from "./checksum.ts";
 * // RFC 1071 §3's worked example: 0001 f203 f4f5 f6f7 sums to 0xddf2.
 * const bytes = new Uint8Array([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
 * assert.equal(checksum.fold(checksum.sum(bytes, 0, bytes.length, 0)), 0xddf2);
 * assert.equal(checksum.finish(checksum.sum(bytes, 0, bytes.length, 0)), 0x220d);
 * assert.equal(checksum.wrong(0x220d), 0x220c);
 * ```
 */
export const checksum = {
  /** Adds 16-bit big-endian words of `bytes[start, end)` to `acc`; an odd tail byte is padded with zero. */
  sum(bytes: Uint8Array, start: number, end: number, acc: number): number {
    let s = acc;
    let i = start;
    if (end - start >= WIDE_FROM && LITTLE_ENDIAN && ((bytes.byteOffset + start) & 1) === 0) {
      // Two words to the head until 4-aligned, then 32-bit native loads (RFC 1071 §2(B):
      // the sum is independent of byte order, so a little-endian sum is swapped once).
      while (((bytes.byteOffset + i) & 3) !== 0) {
        s += (bytes[i] << 8) | bytes[i + 1];
        i += 2;
      }
      const words = (end - i) >> 2;
      const w32 = new Int32Array(bytes.buffer, bytes.byteOffset + i, words);
      let le = 0;
      for (let k = 0; k < words;) {
        // Halves of each word summed in small integers (no doubles), 8192 words at a time.
        const stop = Math.min(words, k + 8192);
        let part = 0;
        for (; k < stop; k++) {
          const w = w32[k];
          part += (w & 0xffff) + (w >>> 16);
        }
        le += part;
      }
      // Fold to 16 bits (2^16 ≡ 1 mod 0xffff), then swap: a swap is ×256 mod 0xffff.
      while (le > 0xffff) le = (le & 0xffff) + Math.floor(le / 0x10000);
      s += ((le & 0xff) << 8) | (le >> 8);
      i += words << 2;
    }
    // Eight bytes a round: the sum of four words stays far inside 2^53 for any datagram.
    const by8 = end - ((end - i) & 7);
    for (; i < by8; i += 8) {
      s += ((bytes[i] << 8) | bytes[i + 1]) + ((bytes[i + 2] << 8) | bytes[i + 3]) +
        ((bytes[i + 4] << 8) | bytes[i + 5]) + ((bytes[i + 6] << 8) | bytes[i + 7]);
    }
    const even = end - ((end - i) & 1);
    for (; i < even; i += 2) s += (bytes[i] << 8) | bytes[i + 1];
    if (i < end) s += bytes[i] << 8;
    // Folding every so often keeps the sum inside a small integer for huge payloads.
    return s > 0x3fffffff ? (s % 0x10000) + Math.floor(s / 0x10000) : s;
  },

  /** Folds a running sum to 16 bits with end-around carry (RFC 1071 §2). */
  fold(acc: number): number {
    let s = acc;
    while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
    return s;
  },

  /** The value to put on the wire: the one's complement of the folded sum. */
  finish(acc: number): number {
    return ~checksum.fold(acc) & 0xffff;
  },

  /**
   * A checksum that cannot verify, for a crafted packet's `checksum: "bad"`:
   * the right one with its low bit flipped. (Its complement would not do: 0x0000
   * and 0xffff are the same one's-complement number, and a UDP zero means "none".)
   */
  wrong(right: number): number {
    return right === 1 ? 3 : (right ^ 1) & 0xffff;
  },

  /**
   * Sum of the pseudo-header: source and destination addresses (4 or 16
   * bytes each), the protocol number and the upper-layer length.
   */
  pseudo(src: Uint8Array, dst: Uint8Array, protocol: number, length: number): number {
    let s = checksum.sum(src, 0, src.length, 0);
    s = checksum.sum(dst, 0, dst.length, s);
    // IPv6 carries the length as 32 bits (RFC 8200 §8.1); the high half adds in too.
    return s + protocol + (length & 0xffff) + (length >>> 16);
  },
} as const;
