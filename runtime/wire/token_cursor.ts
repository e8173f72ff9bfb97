/**
 * A cursor over the whitespace-separated words of the line syntax, each with
 * its 1-based column, whose reads throw `LineSyntaxError`s naming the column,
 * what was wanted and what was found. The line parser and the option-list
 * parser both read through it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TokenCursor } from "./token_cursor.ts";
 * const c = new TokenCursor(TokenCursor.words("mss 1460", 5), 13, "\">\"");
 * c.expect("mss");
 * assert.equal(c.int(0xffff), 1460);
 * assert.throws(() => c.int(1), /col 13: want an integer 0\.\.1, got ">"/);
 * ```
 */
import { hex } from "./hex.ts";
import { LineSyntaxError } from "./line_syntax_error.ts";

/** A word and its 1-based column. */
export interface Token {
  text: string;
  col: number;
}

/** Reads tokens in order; `endCol` and `endFound` describe running out. */
export class TokenCursor {
  i = 0;
  constructor(readonly toks: Token[], readonly endCol: number, readonly endFound: string) {}

  /** Splits `text` at whitespace; `col` is the column of its first character. */
  static words(text: string, col: number): Token[] {
    const out: Token[] = [];
    const re = /\S+/g;
    let m: RegExpExecArray | null;
    while ((m = re.exec(text))) out.push({ text: m[0], col: col + m.index });
    return out;
  }

  peek(): Token | undefined {
    return this.toks[this.i];
  }

  next(want: string): Token {
    const t = this.toks[this.i++];
    if (!t) throw new LineSyntaxError(this.endCol, want, this.endFound);
    return t;
  }

  /** A decimal or 0x-hex integer from 0 to `max`. */
  int(max: number, want = `an integer 0..${max}`): number {
    const t = this.next(want);
    const n = /^(0x[0-9a-fA-F]+|\d+)$/.test(t.text) ? Number(t.text) : NaN;
    if (!Number.isSafeInteger(n) || n > max) {
      throw new LineSyntaxError(t.col, want, JSON.stringify(t.text));
    }
    return n;
  }

  /** Hex bytes, with or without `0x`. */
  bytes(want: string): Uint8Array {
    const t = this.next(want);
    try {
      return hex.decode(t.text);
    } catch {
      throw new LineSyntaxError(t.col, want, JSON.stringify(t.text));
    }
  }

  /** Exactly `word`. */
  expect(word: string): void {
    const t = this.next(`"${word}"`);
    if (t.text !== word) throw new LineSyntaxError(t.col, `"${word}"`, JSON.stringify(t.text));
  }
}
