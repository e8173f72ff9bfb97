/**
 * Text in SVG and HTML: the five characters markup gives meaning to,
 * escaped, so that a segment's payload or a scenario's name can never
 * become markup in a report.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { esc } from "./svg_text.ts";
 * assert.equal(esc(`<ts:false> & "x" 'y'`), "&lt;ts:false&gt; &amp; &quot;x&quot; &#39;y&#39;");
 * ```
 */

const ENTITIES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** `s` safe inside an element or an attribute value. */
export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ENTITIES[c]);
}
