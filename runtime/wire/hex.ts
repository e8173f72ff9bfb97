/**
 * Hex text for byte strings, as the line syntax and the verbose view print them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hex } from "./hex.ts";
 * assert.equal(hex.encode(new Uint8Array([0, 0xab])), "00ab");
 * assert.deepEqual(hex.decode("0x00ab"), new Uint8Array([0, 0xab]));
 * assert.throws(() => hex.decode("0xabc"), /odd number of hex digits/);
 * ```
 */
export const hex = {
  /** Lower-case hex digits, two per byte, no prefix. */
  encode(bytes: Uint8Array): string {
    let s = "";
    for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]];
    return s;
  },
  /** Reads hex digits, with or without a `0x` prefix. */
  decode(text: string): Uint8Array {
    const t = text.startsWith("0x") || text.startsWith("0X") ? text.slice(2) : text;
    if (t.length % 2 !== 0) {
      throw new RangeError(`Cannot parse hex "${text}": odd number of hex digits`);
    }
    if (!/^[0-9a-fA-F]*$/.test(t)) {
      throw new RangeError(`Cannot parse hex "${text}": want hex digits only`);
    }
    const out = new Uint8Array(t.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(t.slice(2 * i, 2 * i + 2), 16);
    return out;
  },
} as const;

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
