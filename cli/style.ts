/**
 * Colors for the terminal, off when NO_COLOR is set (https://no-color.org)
 * or when the output is not a terminal (piped, redirected, in CI).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { paint } from "./style.ts";
 * assert.equal(paint("x", "red", false), "x");
 * assert.equal(paint("x", "red", true), "\x1b[31mx\x1b[0m");
 * ```
 */

const CODES = { red: 31, green: 32, yellow: 33, blue: 34, cyan: 36, dim: 2, bold: 1 } as const;

/** A color name. */
export type Color = keyof typeof CODES;

/** Whether stdout should get colors: a terminal, and NO_COLOR unset or empty. */
export function colorsWanted(): boolean {
  let noColor = "";
  try {
    noColor = Deno.env.get("NO_COLOR") ?? "";
  } catch {
    /* no --allow-env: colors stay off */
    return false;
  }
  return noColor === "" && Deno.stdout.isTerminal();
}

/** `text` in `color` when `on`, else as it is. */
export function paint(text: string, color: Color, on: boolean): string {
  return on ? `\x1b[${CODES[color]}m${text}\x1b[0m` : text;
}
