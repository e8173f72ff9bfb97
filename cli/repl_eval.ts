/**
 * What the REPL does with a line of text before and after JavaScript sees
 * it: the bare option literal (`syn().opts(<ts:false>)`, as packetdrill
 * writes options) becomes a string, unbalanced brackets ask for another
 * line, `const x = …` keeps `x` for later lines, and Tab completes DSL names,
 * builder methods and option names.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { complete, evaluate, isComplete, preprocess } from "./repl_eval.ts";
 * assert.equal(preprocess("syn().opts(<ts:false>)"), 'syn().opts("<ts:false>")');
 * assert.equal(preprocess("a < b"), "a < b");
 * assert.equal(isComplete("expect(synAck()"), false);
 * const vars = new Map<string, unknown>();
 * assert.equal(evaluate("const n = 1 + 2", { x: 1 }, vars), 3);
 * assert.equal(evaluate("n * 2", {}, vars), 6);
 * assert.deepEqual(complete("syn().op", ["syn"]), [["syn().opts(", "syn().optsInclude("], "syn().op"]);
 * ```
 */

/** Builder methods and option names offered after a dot or inside `opts(`. */
const METHODS = [
  "seq(",
  "ack(",
  "win(",
  "urg(",
  "ports(",
  "flags(",
  "payload(",
  "opts(",
  "optsInclude(",
  "anyOpts(",
  "ttl(",
  "tos(",
  "ecn(",
  "df(",
  "src(",
  "dst(",
  "checksum(",
  "named(",
  "quote(",
  "returns(",
  "fails(",
  "on(",
  "within(",
  "after(",
  "seqEquals(",
  "ackEquals(",
  "answers(",
];
const OPTIONS = ["mss", "wscale", "sackOK", "sack", "ts", "nop", "eol", "md5", "tfo"];
const DOT_COMMANDS = [
  ".help",
  ".trace",
  ".pcap",
  ".reset",
  ".target",
  ".save",
  ".load",
  ".exit",
];

/**
 * Turns packetdrill's bare option list, written right inside a call's
 * parentheses (`opts(<mss 1460,nop>)`), into a string literal. A `<` that
 * does not open a call's only argument (a comparison) is left alone.
 */
export function preprocess(source: string): string {
  return source.replace(
    /\(\s*(<[^<>()"'`]*>)\s*\)/g,
    (_m, lit: string) => `(${JSON.stringify(lit)})`,
  );
}

/** False while brackets, braces or a string are still open: the REPL asks for more. */
export function isComplete(source: string): boolean {
  let depth = 0;
  let quote: string | undefined;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (quote) {
      if (c === "\\") i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"' || c === "'" || c === "`") quote = c;
    else if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") depth--;
  }
  return depth <= 0 && quote === undefined;
}

const DECLARATION = /^\s*(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*=\s*([\s\S]+?);?\s*$/;

/** True for `const x = …` (and let, var): the REPL stores it rather than sending it. */
export function isDeclaration(source: string): boolean {
  return DECLARATION.test(preprocess(source).trim());
}

/**
 * Evaluates one expression with the DSL's names and the session's variables
 * in scope. `const x = expr` stores `x` and returns its value.
 */
export function evaluate(
  source: string,
  scope: Readonly<Record<string, unknown>>,
  vars: Map<string, unknown>,
): unknown {
  const code = preprocess(source).trim().replace(/;\s*$/, "");
  const decl = DECLARATION.exec(code);
  const expr = decl ? decl[2] : code;
  const names = [...Object.keys(scope), ...vars.keys()];
  const values = [...Object.values(scope), ...vars.values()];
  const fn = new Function(...names, `"use strict"; return (${expr}\n);`);
  const value = fn(...values);
  if (decl) vars.set(decl[1], value);
  return value;
}

/** readline's completer: candidates for the word being typed, and that word. */
export function complete(line: string, names: readonly string[]): [string[], string] {
  if (line.startsWith(".")) {
    return [DOT_COMMANDS.filter((c) => c.startsWith(line)), line];
  }
  const inOpts = /opts(?:Include)?\(\s*["'<]?[^)]*$/.exec(line);
  const word = /[A-Za-z_$][\w$]*$/.exec(line)?.[0] ?? "";
  if (inOpts) {
    const hits = OPTIONS.filter((o) => o.startsWith(word));
    return [hits, word];
  }
  const dot = /\.([A-Za-z_$][\w$]*)?$/.exec(line);
  if (dot) {
    const head = line.slice(0, dot.index + 1);
    const hits = METHODS.filter((m) => m.startsWith(dot[1] ?? "")).map((m) => head + m);
    return [hits, line];
  }
  const hits = names.filter((n) => n.startsWith(word));
  return [hits, word];
}
