/**
 * The character-level reader under the `.pkt` parser. packetdrill's lexer
 * (`lexer.l`) is context-free, but its tokens overlap (`.5` is a float and
 * also the flags of an AccECN ACK; `S.` is a word and a dot); reading by
 * context avoids that. The scanner knows where it is (line, column), skips
 * spaces and both comment forms, and turns every "not what I wanted" into
 * one `PktSyntaxError` line: `file.pkt:12:7: expected X, found Y`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PktScanner, PktSyntaxError } from "./pkt_scanner.ts";
 * const s = new PktScanner("  // note\n  mss 1460", "a.pkt");
 * s.skipSpace();
 * assert.equal(s.word(), "mss");
 * assert.equal(s.integer("the MSS"), 1460);
 * assert.throws(() => new PktScanner("x", "a.pkt").integer("a port"), (e: unknown) =>
 *   e instanceof PktSyntaxError && e.message === "a.pkt:1:1: expected a port, found \"x\"");
 * ```
 */

/** A syntax error with its place: one line, as the CLI prints it. */
export class PktSyntaxError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly col: number,
    readonly detail: string,
  ) {
    super(`${file}:${line}:${col}: ${detail}`);
    this.name = "PktSyntaxError";
  }
}

const WORD = /[A-Za-z0-9_]/;

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
  return starts;
}

/** A cursor over one script's text. */
export class PktScanner {
  pos = 0;
  constructor(readonly text: string, readonly file: string) {}

  #lineStarts: number[] | undefined;

  /** 1-based line and column of `pos` (or of `at`). */
  where(at = this.pos): { line: number; col: number } {
    const starts = this.#lineStarts ??= lineStarts(this.text);
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= at) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: at - starts[lo] + 1 };
  }

  get eof(): boolean {
    return this.pos >= this.text.length;
  }

  peek(n = 0): string {
    return this.text[this.pos + n] ?? "";
  }

  startsWith(s: string): boolean {
    return this.text.startsWith(s, this.pos);
  }

  /** Skips spaces, newlines and comments. */
  skipSpace(): void {
    for (;;) {
      const c = this.peek();
      if (c === " " || c === "\t" || c === "\n" || c === "\r") this.pos++;
      else if (this.startsWith("//")) {
        const nl = this.text.indexOf("\n", this.pos);
        this.pos = nl < 0 ? this.text.length : nl;
      } else if (this.startsWith("/*")) {
        const end = this.text.indexOf("*/", this.pos + 2);
        if (end < 0) this.error("no */ closes the comment that opens here");
        this.pos = end + 2;
      } else return;
    }
  }

  /** Skips spaces and comments, then takes `s` if it comes next. */
  eat(s: string): boolean {
    this.skipSpace();
    if (!this.startsWith(s)) return false;
    this.pos += s.length;
    return true;
  }

  /** Like `eat`, but the text must be there. */
  expect(s: string, what = JSON.stringify(s)): void {
    if (!this.eat(s)) this.fail(what);
  }

  /** True when the next thing (after space) is the whole word `w`. */
  atWord(w: string): boolean {
    this.skipSpace();
    return this.startsWith(w) && !WORD.test(this.peek(w.length));
  }

  /** Reads `[A-Za-z0-9_]+`, or fails. */
  word(what = "a word"): string {
    this.skipSpace();
    const start = this.pos;
    while (WORD.test(this.peek())) this.pos++;
    if (this.pos === start) this.fail(what);
    return this.text.slice(start, this.pos);
  }

  /** Reads a decimal or 0x integer, optionally negative. */
  integer(what = "an integer"): number {
    this.skipSpace();
    const m = /^-?(0x[0-9a-fA-F]+|[0-9]+)(?![A-Za-z0-9_.])/.exec(
      this.text.slice(this.pos, this.pos + 40),
    );
    if (!m) this.fail(what);
    this.pos += m[0].length;
    const neg = m[0].startsWith("-");
    const v = Number(neg ? m[0].slice(1) : m[0]);
    return neg ? -v : v;
  }

  /** True when an integer comes next. */
  atInteger(): boolean {
    this.skipSpace();
    return /^-?[0-9]/.test(this.text.slice(this.pos, this.pos + 2));
  }

  /** Reads seconds (`1`, `.1`, `0.052`) as microseconds. */
  seconds(what = "a time in seconds"): number {
    this.skipSpace();
    const m = /^([0-9]+(\.[0-9]*)?|\.[0-9]+)/.exec(this.text.slice(this.pos, this.pos + 40));
    // "0...1": the first dot belongs to the ellipsis.
    let t = m?.[0];
    if (t?.endsWith(".") && this.text.startsWith("..", this.pos + t.length - 1)) t = t.slice(0, -1);
    if (!t) this.fail(what);
    this.pos += t.length;
    return Math.round(Number(t) * 1e6);
  }

  /** Reads up to the next whitespace (or one of `stops`). */
  raw(stops = ""): string {
    this.skipSpace();
    const start = this.pos;
    while (!this.eof && !/\s/.test(this.peek()) && !stops.includes(this.peek())) this.pos++;
    return this.text.slice(start, this.pos);
  }

  /** Reads a `"…"` string with backslash escapes. */
  string(): string {
    this.skipSpace();
    if (this.peek() !== '"') this.fail("a string");
    let out = "";
    const open = this.pos++;
    for (;;) {
      if (this.eof || this.peek() === "\n") {
        this.error('no " closes the string that opens here', open);
      }
      const c = this.text[this.pos++];
      if (c === '"') return out;
      if (c === "\\") {
        const e = this.text[this.pos++];
        out += e === "n" ? "\n" : e === "t" ? "\t" : e === "0" ? "\0" : e;
      } else out += c;
    }
  }

  /**
   * Reads text up to `close` (not included) and past it; `open` is the
   * opening text just read, for the error when nothing closes it.
   */
  until(close: string, open: string, what: string): string {
    const end = this.text.indexOf(close, this.pos);
    if (end < 0) {
      this.error(`no ${close} closes the ${what} that opens here`, this.pos - open.length);
    }
    const s = this.text.slice(this.pos, end);
    this.pos = end + close.length;
    return s;
  }

  /** What comes next, for an error message. */
  found(): string {
    const save = this.pos;
    this.skipSpace();
    const rest = this.text.slice(this.pos);
    this.pos = save;
    if (!rest) return "the end of the file";
    const tok = /^([A-Za-z0-9_.:]+|\S)/.exec(rest)![0];
    return JSON.stringify(tok.length > 24 ? tok.slice(0, 24) + "…" : tok);
  }

  /** Throws `file:line:col: expected <what>, found <next>`. */
  fail(what: string, at?: number): never {
    const found = this.found();
    let p = at ?? this.pos;
    if (at === undefined) {
      while (/\s/.test(this.text[p] ?? "")) p++;
      // Nothing follows: point just after the last thing written, not past the final newline.
      if (p >= this.text.length) p = this.text.trimEnd().length;
    }
    const { line, col } = this.where(p);
    throw new PktSyntaxError(this.file, line, col, `expected ${what}, found ${found}`);
  }

  /** Throws a semantic error at `at`: `file:line:col: <message>`. */
  error(message: string, at = this.pos): never {
    const { line, col } = this.where(at);
    throw new PktSyntaxError(this.file, line, col, message);
  }
}
