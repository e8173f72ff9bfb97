/**
 * Reading packetdrill's system-call expressions: numbers and symbols
 * (`O_RDWR|O_NONBLOCK`), `[1]` int arrays, and `{name=value}` structs, with
 * errors that name the call and what was wrong.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fieldsOf, numberOf } from "./pkt_values.ts";
 * assert.equal(numberOf({ kind: "or", terms: [{ kind: "word", name: "O_RDWR" }, { kind: "word", name: "O_NONBLOCK" }] }, "flags"), 0o4002);
 * const f = fieldsOf({ kind: "struct", items: [{ kind: "field", name: "onoff", value: { kind: "int", value: 1 } }] }, "linger");
 * assert.equal(f.get("onoff")?.value.kind, "int");
 * assert.throws(() => numberOf({ kind: "word", name: "SO_NOPE" }, "optname"), /optname: unknown symbol SO_NOPE/);
 * ```
 */
import type { PktExpr } from "../../dsl/pkt/pkt_ast.ts";
import { symbolValue } from "./pkt_symbols.ts";

/** A mistake in how a call was written (not a failing call): the run stops with it. */
export class PktCallError extends Error {
  override name = "PktCallError";
}

/** The number an expression stands for: an integer, a symbol, `A|B`, `htons(N)`. */
export function numberOf(e: PktExpr, what: string): number {
  switch (e.kind) {
    case "int":
      return e.value;
    case "word": {
      const v = symbolValue(e.name);
      if (v === undefined) throw new PktCallError(`${what}: unknown symbol ${e.name}`);
      return v;
    }
    case "or":
      return e.terms.reduce((acc, t) => (acc | numberOf(t, what)) >>> 0, 0);
    case "call":
      if (e.name === "htons" && e.args.length === 1) return numberOf(e.args[0], what);
      throw new PktCallError(`${what}: want a number, got ${e.name}(…)`);
    case "array":
      if (e.items.length === 1) return numberOf(e.items[0], what);
      throw new PktCallError(`${what}: want a number, got a list of ${e.items.length}`);
    default:
      throw new PktCallError(`${what}: want a number, got ${describe(e)}`);
  }
}

/** Fields of a `{name=value, …}` struct by name; positional items under "#0", "#1"…. */
export function fieldsOf(
  e: PktExpr,
  what: string,
): Map<string, { arg?: PktExpr | undefined; value: PktExpr }> {
  if (e.kind !== "struct") throw new PktCallError(`${what}: want {…}, got ${describe(e)}`);
  const m = new Map<string, { arg?: PktExpr | undefined; value: PktExpr }>();
  e.items.forEach((it, i) => {
    if (it.kind === "field") m.set(it.name, { arg: it.arg, value: it.value });
    else m.set(`#${i}`, { value: it });
  });
  return m;
}

/** How an expression reads in an error message. */
export function describe(e: PktExpr): string {
  switch (e.kind) {
    case "ellipsis":
      return "...";
    case "int":
      return String(e.value);
    case "word":
      return e.name;
    case "string":
      return JSON.stringify(e.value);
    case "array":
      return `[${e.items.map(describe).join(", ")}]`;
    case "or":
      return e.terms.map(describe).join("|");
    case "struct":
      return `{${e.items.map(describe).join(", ")}}`;
    case "call":
      return `${e.name}(${e.args.map(describe).join(", ")})`;
    case "field":
      return `${e.name}${e.arg ? `(${describe(e.arg)})` : ""}=${describe(e.value)}`;
  }
}
