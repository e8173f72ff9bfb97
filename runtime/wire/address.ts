/**
 * IPv4 and IPv6 addresses as text and as bytes. Codecs keep addresses as
 * bytes (4 or 16) so that parsing never pays for string formatting; the line
 * syntax and the DSL convert at the edge.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { address } from "./address.ts";
 * assert.deepEqual(address.parse("192.0.2.1"), new Uint8Array([192, 0, 2, 1]));
 * assert.equal(address.format(address.parse("fd3d:0a0b:17d6:0:0:0:0:1")), "fd3d:a0b:17d6::1");
 * assert.equal(address.format(address.parse("::ffff:192.0.2.1")), "::ffff:192.0.2.1");
 * assert.throws(() => address.parse("256.1.1.1"), /octet 256 is above 255/);
 * ```
 */
export const address = {
  /** Parses dotted-quad IPv4 or RFC 4291 §2.2 IPv6 text; throws `RangeError` naming what is wrong. */
  parse(text: string): Uint8Array {
    return text.includes(":") ? parseV6(text) : parseV4(text);
  },
  /** Formats 4 bytes as dotted quad and 16 bytes per RFC 5952 (compressed, lower case). */
  format(bytes: Uint8Array): string {
    if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
    if (bytes.length === 16) return formatV6(bytes);
    throw new RangeError(`Cannot format address: want 4 or 16 bytes, got ${bytes.length}`);
  },
  /** True for text that `parse` accepts. */
  isValid(text: string): boolean {
    try {
      address.parse(text);
      return true;
    } catch {
      return false;
    }
  },
  /** Byte-wise equality of two addresses. */
  equal(a: Uint8Array, b: Uint8Array): boolean {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  },
} as const;

function parseV4(text: string): Uint8Array {
  const parts = text.split(".");
  if (parts.length !== 4) {
    throw new RangeError(
      `Cannot parse IPv4 address "${text}": want 4 dotted octets, got ${parts.length}`,
    );
  }
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    if (!/^\d{1,3}$/.test(parts[i])) {
      throw new RangeError(
        `Cannot parse IPv4 address "${text}": octet "${parts[i]}" is not a number`,
      );
    }
    const n = Number(parts[i]);
    if (n > 255) {
      throw new RangeError(`Cannot parse IPv4 address "${text}": octet ${n} is above 255`);
    }
    out[i] = n;
  }
  return out;
}

function parseV6(text: string): Uint8Array {
  const fail = (why: string): never => {
    throw new RangeError(`Cannot parse IPv6 address "${text}": ${why}`);
  };
  let body = text;
  let tail: number[] = [];
  // An embedded IPv4 tail (RFC 4291 §2.2 form 3) supplies the last 32 bits.
  const lastColon = body.lastIndexOf(":");
  if (body.slice(lastColon + 1).includes(".")) {
    const v4 = parseV4(body.slice(lastColon + 1));
    tail = [(v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]];
    body = body.slice(0, lastColon);
    if (body.endsWith(":")) body += ":";
  }
  const want = 8 - tail.length;
  const halves = body.split("::");
  if (halves.length > 2) fail("'::' appears more than once");
  const toWord = (g: string) => {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) fail(`group "${g}" is not 1 to 4 hex digits`);
    return parseInt(g, 16);
  };
  const groups = (s: string) => (s === "" ? [] : s.split(":").map(toWord));
  const head = groups(halves[0]);
  const rest = halves.length === 2 ? groups(halves[1]) : [];
  const have = head.length + rest.length;
  let words: number[];
  if (halves.length === 1) {
    if (have !== want) fail(`want ${want} groups, got ${have}`);
    words = head;
  } else {
    if (have >= want) fail(`'::' must stand for at least one group, but ${have} are given`);
    words = [...head, ...new Array(want - have).fill(0), ...rest];
  }
  words.push(...tail);
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = words[i] >> 8;
    out[2 * i + 1] = words[i] & 0xff;
  }
  return out;
}

function formatV6(b: Uint8Array): string {
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push((b[2 * i] << 8) | b[2 * i + 1]);
  // RFC 5952 §5: IPv4-mapped addresses keep their dotted tail.
  if (w[0] === 0 && w[1] === 0 && w[2] === 0 && w[3] === 0 && w[4] === 0 && w[5] === 0xffff) {
    return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  }
  // RFC 5952 §4.2: compress the longest run of two or more zero groups, the first on a tie.
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]) => ws.map((x) => x.toString(16)).join(":");
  if (best < 0) return hex(w);
  return `${hex(w.slice(0, best))}::${hex(w.slice(best + bestLen))}`;
}
