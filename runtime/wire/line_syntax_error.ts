/**
 * A parse error in the line syntax, with the 1-based column where it was
 * found, what was expected and what was there. Callers that know the file and
 * line (a scenario or `.pkt` reader) prefix those.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LineSyntaxError } from "./line_syntax_error.ts";
 * const e = new LineSyntaxError(7, "a window size", "\"wnd\"");
 * assert.equal(e.message, "Cannot parse line at col 7: want a window size, got \"wnd\"");
 * assert.equal(e.at("s.pkt", 3).message, "s.pkt:3:7: want a window size, got \"wnd\"");
 * ```
 */
export class LineSyntaxError extends RangeError {
  /** 1-based column. */
  readonly col: number;
  readonly expected: string;
  readonly found: string;

  constructor(col: number, expected: string, found: string, message?: string) {
    super(message ?? `Cannot parse line at col ${col}: want ${expected}, got ${found}`);
    this.name = "LineSyntaxError";
    this.col = col;
    this.expected = expected;
    this.found = found;
  }

  /** The same error located in a file: `file:line:col: want …, got …`. */
  at(file: string, line: number): LineSyntaxError {
    return new LineSyntaxError(
      this.col,
      this.expected,
      this.found,
      `${file}:${line}:${this.col}: want ${this.expected}, got ${this.found}`,
    );
  }
}
