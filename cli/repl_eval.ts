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
 * const methods = (root: string) => root === "syn" ? ["ack(", "opts(", "optsInclude("] : [];
 * assert.deepEqual(complete("syn().op", ["syn"], methods), [["syn().opts(", "syn().optsInclude("], "syn().op"]);
 * assert.deepEqual(complete("syn().seq(1).on", ["syn"], methods), [[], "syn().seq(1).on"]);
 * assert.deepEqual(complete("listen(8080).on", ["listen"], methods), [[], "listen(8080).on"]);
 * ```
 */

/** Names `opts(...)` takes: the object form's keys and packetdrill's list names. */
const OPTIONS = [
  "mss",
  "wscale",
  "sackOK",
  "sackOk",
  "sack",
  "ts",
  "md5",
  "fastOpen",
  "nop",
  "eol",
];
const DOT_COMMANDS = [
  ".help",
  ".trace",
  ".pcap",
  ".diagram",
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

/** The methods `o` answers to, as `name(`, from its class up (not Object's own). */
export function methodNames(o: unknown): string[] {
  const out = new Set<string>();
  if (typeof o !== "object" || o === null) return [];
  for (
    let p = Object.getPrototypeOf(o);
    p && p !== Object.prototype;
    p = Object.getPrototypeOf(p)
  ) {
    for (const k of Object.getOwnPropertyNames(p)) {
      const d = Object.getOwnPropertyDescriptor(p, k);
      if (k !== "constructor" && typeof d?.value === "function" && !k.startsWith("_")) {
        out.add(`${k}(`);
      }
    }
  }
  return [...out].sort();
}

/**
 * What each DSL function's result answers to. `dsl` holds only the modules
 * of builders and steps (dsl/packet_builder.ts, steps.ts, socket_steps.ts):
 * each is made once without arguments (they are data: making one sends
 * nothing), and those that need an argument are looked up by their class
 * (`expect` → ExpectBuilder).
 */
export function methodTable(dsl: Readonly<Record<string, unknown>>): Map<string, string[]> {
  const table = new Map<string, string[]>();
  for (const [name, v] of Object.entries(dsl)) {
    if (typeof v !== "function" || /^[A-Z]/.test(name)) continue;
    let made: unknown;
    try {
      made = (v as () => unknown)();
    } catch {
      const cls = dsl[`${name[0].toUpperCase()}${name.slice(1)}Builder`];
      made = typeof cls === "function" ? Object.create(cls.prototype) : undefined;
    }
    const m = methodNames(made);
    if (m.length) table.set(name, m);
  }
  return table;
}

/** A call chain ending in a dot: `syn().seq(1).` or `a.`; its first name. */
const CHAIN =
  /(?:^|[^\w$.])([A-Za-z_$][\w$]*)(?:\((?:[^()]|\([^()]*\))*\))?(?:\.[A-Za-z_$][\w$]*\((?:[^()]|\([^()]*\))*\))*\.([A-Za-z_$][\w$]*)?$/;

/**
 * readline's completer: candidates for the word being typed, and that word.
 * After a dot, only methods the value has: `methodsOf` names them for the
 * chain's first name (a DSL function, or a variable holding a builder).
 */
export function complete(
  line: string,
  names: readonly string[],
  methodsOf: (root: string) => readonly string[] = () => [],
): [string[], string] {
  if (line.startsWith(".")) {
    return [DOT_COMMANDS.filter((c) => c.startsWith(line)), line];
  }
  const inOpts = /opts(?:Include)?\(\s*["'<{]?[^)]*$/.exec(line);
  const word = /[A-Za-z_$][\w$]*$/.exec(line)?.[0] ?? "";
  if (inOpts) {
    const hits = OPTIONS.filter((o) => o.startsWith(word));
    return [hits, word];
  }
  const chain = CHAIN.exec(line);
  if (chain) {
    const typed = chain[2] ?? "";
    const head = line.slice(0, line.length - typed.length);
    const hits = methodsOf(chain[1]).filter((m) => m.startsWith(typed)).map((m) => head + m);
    return [hits, line];
  }
  if (/\.([A-Za-z_$][\w$]*)?$/.test(line)) return [[], line];
  const hits = names.filter((n) => n.startsWith(word));
  return [hits, word];
}
