/**
 * Field matchers for expected packets and call results: a field may be an
 * exact number, `any`, a `range(lo, hi)`, or a predicate `where(fn, "why")`.
 * `any` and `range` are plain data and survive serialization; a predicate
 * serializes as its description only.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import {
 *   any,
 *   describeValue,
 *   matches,
 *   PredicatePending,
 *   range,
 *   where,
 *   withPredicates,
 * } from "./matcher.ts";
 * assert.ok(matches(any, 5));
 * assert.ok(matches(range(100, 200), 150));
 * assert.ok(!matches(range(100, 200), 201));
 * assert.ok(matches(where((v) => v % 2 === 0, "even"), 4));
 * assert.ok(matches(7, 7));
 * assert.equal(describeValue(range(1, 2)), "1..2");
 * // A predicate answered elsewhere: asked once, then known.
 * const known = new Map<number, boolean>();
 * const remote = where((v) => {
 *   if (known.has(v)) return known.get(v)!;
 *   throw new PredicatePending("odd", async () => void known.set(v, v % 2 === 1));
 * }, "odd");
 * assert.equal(await withPredicates(() => matches(remote, 3)), true);
 * ```
 */

/** A matcher that is not a plain value. */
export type Matcher =
  | { readonly matcher: "any" }
  | { readonly matcher: "range"; readonly min: number; readonly max: number }
  | { readonly matcher: "mask"; readonly value: number; readonly mask: number }
  | {
    readonly matcher: "where";
    readonly description: string;
    readonly test?: (v: number) => boolean;
  };

/** A field of a pattern: an exact number or a matcher. */
export type FieldMatch = number | Matcher;

/**
 * Matches any value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { any, matches } from "./matcher.ts";
 * assert.ok(matches(any, 12345));
 * ```
 */
export const any: Matcher = Object.freeze({ matcher: "any" });

/**
 * Matches `min <= v <= max`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { matches, range } from "./matcher.ts";
 * assert.ok(matches(range(60, 70), 64));
 * assert.throws(() => range(2, 1), /want min <= max/);
 * ```
 */
export function range(min: number, max: number): Matcher {
  if (!(min <= max)) throw new RangeError(`range(): want min <= max, got ${min} > ${max}`);
  return Object.freeze({ matcher: "range", min, max });
}

/**
 * Matches `(v & mask) === value`: some bits set, some clear, the rest free
 * (TCP flags "ACK, no SYN or RST, PSH either way").
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { masked, matches } from "./matcher.ts";
 * const ackNoSyn = masked(0x10, 0x12);
 * assert.ok(matches(ackNoSyn, 0x18) && !matches(ackNoSyn, 0x12));
 * assert.throws(() => masked(3, 1), /value has bits outside the mask/);
 * ```
 */
export function masked(value: number, mask: number): Matcher {
  if ((value & ~mask) !== 0) {
    throw new RangeError(`masked(): value has bits outside the mask, got ${value} & ~${mask}`);
  }
  return Object.freeze({ matcher: "mask", value, mask });
}

/**
 * Thrown by a predicate whose answer must be fetched first: one written in a
 * scenario file that runs in another process (`runtime/host`). The runner
 * awaits `fetch()` and compares again; matching has no side effects, so the
 * retry sees the same packet and asks only what is still unknown.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PredicatePending } from "./matcher.ts";
 * const p = new PredicatePending("even", async () => {});
 * assert.match(p.message, /predicate "even"/);
 * ```
 */
export class PredicatePending extends Error {
  readonly fetch: () => Promise<void>;
  constructor(description: string, fetch: () => Promise<void>) {
    super(`predicate "${description}" is being asked`);
    this.name = "PredicatePending";
    this.fetch = fetch;
  }
}

/**
 * Runs `compare` (which may call remote predicates) until every predicate it
 * asks has its answer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { withPredicates } from "./matcher.ts";
 * assert.equal(await withPredicates(() => 42), 42);
 * ```
 */
export function withPredicates<T>(compare: () => T): T | Promise<T> {
  // Synchronous when no predicate needs asking (the common case): no promise is made.
  try {
    return compare();
  } catch (e) {
    if (!(e instanceof PredicatePending)) throw e;
    return e.fetch().then(() => withPredicates(compare));
  }
}

/**
 * Matches when `test(v)` holds; `description` is shown in diffs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { matches, where } from "./matcher.ts";
 * assert.ok(matches(where((v) => v % 2 === 0, "even"), 4));
 * ```
 */
export function where(test: (v: number) => boolean, description: string): Matcher {
  return Object.freeze({ matcher: "where", description, test });
}

/**
 * Whether `x` is a matcher rather than a number.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isMatcher, range } from "./matcher.ts";
 * assert.ok(isMatcher(range(1, 2)) && !isMatcher(3));
 * ```
 */
export function isMatcher(x: unknown): x is Matcher {
  return typeof x === "object" && x !== null && "matcher" in x;
}

/**
 * Whether `v` satisfies `m`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { matches } from "./matcher.ts";
 * assert.ok(matches(7, 7) && !matches(7, 8));
 * ```
 */
export function matches(m: FieldMatch, v: number): boolean {
  if (typeof m === "number") return m === v;
  switch (m.matcher) {
    case "any":
      return true;
    case "range":
      return v >= m.min && v <= m.max;
    case "mask":
      return (v & m.mask) === m.value;
    case "where":
      if (!m.test) {
        throw new RangeError(
          `Cannot run predicate "${m.description}": it was loaded from a saved file`,
        );
      }
      return m.test(v);
  }
}

/**
 * Text for a field value in diffs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { any, describeValue } from "./matcher.ts";
 * assert.equal(describeValue(any), "any");
 * ```
 */
export function describeValue(m: FieldMatch): string {
  if (typeof m === "number") return String(m);
  switch (m.matcher) {
    case "any":
      return "any";
    case "range":
      return `${m.min}..${m.max}`;
    case "mask":
      return `0x${m.value.toString(16)}/0x${m.mask.toString(16)}`;
    case "where":
      return m.description;
  }
}
