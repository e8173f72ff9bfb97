/**
 * How Linux's NAT picks a source port (`nf_nat_core.c`,
 * `get_unique_tuple()` and `nf_nat_l4proto_unique_tuple()`): the original
 * port when the translated tuple is still free; otherwise a port in the
 * original's class (1–511, 600–1023, or 1024–65535), from a random offset
 * (`get_random_u16()`), trying up to 128 in a row, then, with a new random
 * offset, half as many, and so on down to 16; if every try is taken it
 * keeps the last one, as Linux does (the clash then fails at confirmation).
 * The model draws from a seeded generator, so a run repeats; the kernel's
 * choice is random, so a scenario asserts the port with `*`, not a number.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mulberry32 } from "../engine/mulberry32.ts";
 * import { pickSourcePort } from "./nat_port.ts";
 * const rnd = mulberry32(7);
 * assert.equal(pickSourcePort(40000, () => true, rnd), 40000);
 * const p = pickSourcePort(40000, (q) => q !== 40000, rnd);
 * assert.ok(p >= 1024 && p <= 65535 && p !== 40000);
 * const low = pickSourcePort(700, (q) => q !== 700, rnd);
 * assert.ok(low >= 600 && low <= 1023);
 * ```
 */

/** Linux's NF_NAT_MAX_ATTEMPTS: a first round tries at most this many ports. */
const MAX_ATTEMPTS = 128;

/** The port class of `port` when no range is given: [first, size]. */
function portClass(port: number): [number, number] {
  if (port < 512) return [1, 511];
  if (port < 1024) return [600, 1023 - 600 + 1];
  return [1024, 65535 - 1024 + 1];
}

/**
 * The source port NAT gives a new connection from `port`; `free(q)` says
 * whether the tuple with source port q is unused; `random()` gives 32 bits.
 */
export function pickSourcePort(
  port: number,
  free: (q: number) => boolean,
  random: () => number,
): number {
  if (free(port)) return port;
  const [min, size] = portClass(port);
  let attempts = Math.min(size, MAX_ATTEMPTS);
  let q = port;
  for (;;) {
    // get_random_u16(): the offset is 16 bits, taken modulo the class's size.
    let off = random() & 0xffff;
    for (let i = 0; i < attempts; i++, off++) {
      q = min + (off % size);
      if (free(q)) return q;
    }
    if (attempts >= size || attempts < 16) return q;
    attempts >>= 1;
  }
}
