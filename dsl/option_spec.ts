/**
 * TCP options in the DSL, three equivalent ways:
 *
 * - an object, which overrides the defaults the connection would send:
 *   `{ mss: 1460, sackOk: true, ts: { val: 100, ecr: 0 }, wscale: 7 }`, and
 *   `{ ts: false }` removes one option;
 * - packetdrill's list as text: `"<mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>"`
 *   is an exact list, while `"<ts:false>"` or `"<mss:1400,wscale:false>"` are overrides;
 * - option factories, `opts(mss(1460), nop(), wscale(7))`: an exact list, in order.
 *
 * Overrides are laid out the way Linux lays out its options
 * (`tcp_options_write`): MSS, SACK-permitted and TS, window scale, then SACK blocks.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { applyOptionSpec, layoutOptions, mss, optionSpec, wscale } from "./option_spec.ts";
 * const defaults = layoutOptions({ mss: 1460, sackOk: true, ts: { val: 1, ecr: 0 }, wscale: 7 });
 * const noTs = applyOptionSpec(defaults, optionSpec(["<ts:false>"]));
 * assert.deepEqual(noTs.map((o) => o.kind), ["mss", "nop", "nop", "sackOk", "nop", "wscale"]);
 * const same = applyOptionSpec(defaults, optionSpec([{ ts: false }]));
 * assert.deepEqual(same, noTs);
 * assert.deepEqual(optionSpec([mss(1400), wscale(2)]), {
 *   mode: "exact",
 *   list: [{ kind: "mss", value: 1400 }, { kind: "wscale", shift: 2 }],
 * });
 * assert.throws(() => optionSpec(["<ts:maybe>"]), /col 5: want true, false or a number, got "maybe"/);
 * ```
 */
import { LineSyntaxError } from "../runtime/wire/line_syntax_error.ts";
import { parseOptionList } from "../runtime/wire/option_list.ts";
import type { TcpOption } from "../runtime/wire/tcp_options.ts";
import { checkFields, fieldSchemas } from "./field_schema.ts";

/** The object form. `false` removes an option; `true` adds it with values from the connection. */
export interface OptionOverride {
  mss?: number | false;
  wscale?: number | false;
  sackOk?: boolean;
  sack?: Array<[number, number]> | false;
  ts?: boolean | { val: number; ecr: number };
  md5?: Uint8Array | false;
  fastOpen?: Uint8Array | boolean;
}

/** What `opts(...)` holds: an exact list, or overrides on the connection's defaults. */
export type OptionSpec =
  | { readonly mode: "exact"; readonly list: readonly TcpOption[] }
  | { readonly mode: "override"; readonly set: Readonly<OptionOverride> };

/** One argument of `opts(...)`. */
export type OptionInput = string | OptionOverride | TcpOption;

/**
 * MSS option (RFC 9293 §3.7.1).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mss } from "./option_spec.ts";
 * assert.deepEqual(mss(1460), { kind: "mss", value: 1460 });
 * ```
 */
export const mss = (value: number): TcpOption => ({ kind: "mss", value });
/**
 * Window scale option (RFC 7323 §2.2).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { wscale } from "./option_spec.ts";
 * assert.deepEqual(wscale(7), { kind: "wscale", shift: 7 });
 * ```
 */
export const wscale = (shift: number): TcpOption => ({ kind: "wscale", shift });
/**
 * SACK-permitted (RFC 2018 §2).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sackOk } from "./option_spec.ts";
 * assert.deepEqual(sackOk(), { kind: "sackOk" });
 * ```
 */
export const sackOk = (): TcpOption => ({ kind: "sackOk" });
/**
 * SACK blocks (RFC 2018 §3).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sack } from "./option_spec.ts";
 * assert.deepEqual(sack([1001, 2001]), { kind: "sack", blocks: [[1001, 2001]] });
 * ```
 */
export const sack = (...blocks: Array<[number, number]>): TcpOption => ({ kind: "sack", blocks });
/**
 * Timestamps (RFC 7323 §3.2).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ts } from "./option_spec.ts";
 * assert.deepEqual(ts(100, 0), { kind: "ts", val: 100, ecr: 0 });
 * ```
 */
export const ts = (val: number, ecr: number): TcpOption => ({ kind: "ts", val, ecr });
/**
 * No-operation padding.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nop } from "./option_spec.ts";
 * assert.deepEqual(nop(), { kind: "nop" });
 * ```
 */
export const nop = (): TcpOption => ({ kind: "nop" });
/**
 * End of option list.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { eol } from "./option_spec.ts";
 * assert.deepEqual(eol(), { kind: "eol" });
 * ```
 */
export const eol = (): TcpOption => ({ kind: "eol" });

const OVERRIDE_KEYS: Record<string, keyof OptionOverride> = {
  mss: "mss",
  wscale: "wscale",
  sackOK: "sackOk",
  sackOk: "sackOk",
  ts: "ts",
  TS: "ts",
};

function parseOverrides(text: string, col: number): OptionOverride {
  const out: Record<string, unknown> = {};
  let at = col + 1;
  for (const item of text.slice(1, -1).split(",")) {
    const lead = item.length - item.trimStart().length;
    const m = /^\s*([A-Za-z]+)\s*:\s*(\S*)\s*$/.exec(item);
    const key = m ? OVERRIDE_KEYS[m[1]] : undefined;
    if (!m || !key) {
      throw new LineSyntaxError(
        at + lead,
        `an override name:value with name one of mss, wscale, sackOK, ts`,
        JSON.stringify(item.trim()),
      );
    }
    const raw = m[2];
    const valueCol = at + item.indexOf(":") + 1 + (item.slice(item.indexOf(":") + 1).length -
      item.slice(item.indexOf(":") + 1).trimStart().length);
    let v: unknown;
    if (raw === "false") v = false;
    else if (raw === "true") v = true;
    else if (/^\d+$/.test(raw)) v = Number(raw);
    else throw new LineSyntaxError(valueCol, "true, false or a number", JSON.stringify(raw));
    if (v === true && (key === "mss" || key === "wscale")) {
      throw new LineSyntaxError(valueCol, `a number or false for ${key}`, "true");
    }
    if (typeof v === "number" && (key === "sackOk" || key === "ts")) {
      throw new LineSyntaxError(valueCol, `true or false for ${m[1]}`, raw);
    }
    out[key] = v;
    at += item.length + 1;
  }
  return checkFields(fieldSchemas.tcpOptions, out, "opts") as OptionOverride;
}

function isTcpOption(x: unknown): x is TcpOption {
  return typeof x === "object" && x !== null && "kind" in x && !(x instanceof Uint8Array);
}

/**
 * Reads the arguments of `opts(...)`. Throws a `RangeError` or `LineSyntaxError` on bad input.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { optionSpec } from "./option_spec.ts";
 * assert.deepEqual(optionSpec(["<ts:false>"]), { mode: "override", set: { ts: false } });
 * ```
 */
export function optionSpec(items: readonly OptionInput[]): OptionSpec {
  let exact: TcpOption[] | undefined;
  let set: OptionOverride | undefined;
  for (const item of items) {
    if (typeof item === "string") {
      const text = item.trim();
      // An item such as `ts:false` (a word, then a colon) makes the list an override.
      if (
        /^<.*>$/.test(text) && text.slice(1, -1).split(",").some((i) => /^\s*[A-Za-z]+\s*:/.test(i))
      ) {
        set = { ...set, ...parseOverrides(text, 1) };
      } else {
        exact = [...(exact ?? []), ...parseOptionList(text, 1)];
      }
    } else if (isTcpOption(item)) {
      exact = [...(exact ?? []), item];
    } else {
      set = { ...set, ...(checkFields(fieldSchemas.tcpOptions, item, "opts") as OptionOverride) };
    }
  }
  if (exact && set) {
    throw new RangeError(
      "opts(): want either an exact list (a <...> list or option factories) or overrides " +
        "(an object or <name:value>), got both in one call",
    );
  }
  if (exact) return Object.freeze({ mode: "exact", list: Object.freeze(exact) });
  return Object.freeze({ mode: "override", set: Object.freeze(set ?? {}) });
}

/**
 * Chains two specs: an exact list replaces; overrides apply on top of what was there.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { combineOptionSpecs, optionSpec } from "./option_spec.ts";
 * const c = combineOptionSpecs(optionSpec([{ mss: 1000 }]), optionSpec([{ ts: false }]));
 * assert.deepEqual(c, { mode: "override", set: { mss: 1000, ts: false } });
 * ```
 */
export function combineOptionSpecs(a: OptionSpec | undefined, b: OptionSpec): OptionSpec {
  if (!a || b.mode === "exact") return b;
  if (a.mode === "override") {
    return Object.freeze({ mode: "override", set: Object.freeze({ ...a.set, ...b.set }) });
  }
  return Object.freeze({ mode: "exact", list: Object.freeze(applyOverride(a.list, b.set)) });
}

/**
 * The options of a list, by name, as an override object (which `layoutOptions` lays out again).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mss, optionSet } from "./option_spec.ts";
 * assert.deepEqual(optionSet([mss(536)]).mss, 536);
 * ```
 */
export function optionSet(list: readonly TcpOption[]): OptionOverride {
  const s: OptionOverride = {};
  for (const o of list) {
    if (o.kind === "mss") s.mss = o.value;
    else if (o.kind === "wscale") s.wscale = o.shift;
    else if (o.kind === "sackOk") s.sackOk = true;
    else if (o.kind === "sack") s.sack = o.blocks;
    else if (o.kind === "ts") s.ts = { val: o.val, ecr: o.ecr };
    else if (o.kind === "md5") s.md5 = o.digest;
    else if (o.kind === "fastOpen") s.fastOpen = o.cookie;
  }
  return s;
}

/** Resolved option values, ready to lay out. */
export interface OptionValues {
  mss?: number;
  wscale?: number;
  sackOk?: boolean;
  sack?: Array<[number, number]>;
  ts?: { val: number; ecr: number };
  md5?: Uint8Array;
  fastOpen?: Uint8Array;
}

/**
 * Linux's layout (net/ipv4/tcp_output.c, tcp_options_write).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { layoutOptions } from "./option_spec.ts";
 * assert.deepEqual(layoutOptions({ mss: 1460 }), [{ kind: "mss", value: 1460 }]);
 * ```
 */
export function layoutOptions(v: OptionValues): TcpOption[] {
  const out: TcpOption[] = [];
  const NOP: TcpOption = { kind: "nop" };
  if (v.md5) out.push(NOP, NOP, { kind: "md5", digest: v.md5 });
  if (v.mss !== undefined) out.push({ kind: "mss", value: v.mss });
  if (v.ts && v.sackOk) out.push({ kind: "sackOk" }, { kind: "ts", ...v.ts });
  else if (v.ts) out.push(NOP, NOP, { kind: "ts", ...v.ts });
  else if (v.sackOk) out.push(NOP, NOP, { kind: "sackOk" });
  if (v.wscale !== undefined) out.push(NOP, { kind: "wscale", shift: v.wscale });
  if (v.fastOpen) out.push({ kind: "fastOpen", cookie: v.fastOpen });
  if (v.sack?.length) out.push(NOP, NOP, { kind: "sack", blocks: v.sack });
  return out;
}

/**
 * Applies overrides to a list. `ts: true` keeps an existing TS (or adds one
 * with `tsDefault`), `false` removes, a value replaces.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { applyOverride } from "./option_spec.ts";
 * assert.deepEqual(applyOverride([{ kind: "mss", value: 1460 }], { mss: 536 }), [{ kind: "mss", value: 536 }]);
 * ```
 */
export function applyOverride(
  list: readonly TcpOption[],
  o: Readonly<OptionOverride>,
  tsDefault: { val: number; ecr: number } = { val: 0, ecr: 0 },
): TcpOption[] {
  const cur = optionSet(list);
  const v: OptionValues = {
    mss: cur.mss === false ? undefined : cur.mss,
    wscale: cur.wscale === false ? undefined : cur.wscale,
    sackOk: cur.sackOk === true,
    sack: cur.sack === false ? undefined : cur.sack,
    ts: typeof cur.ts === "object" ? cur.ts : undefined,
    md5: cur.md5 instanceof Uint8Array ? cur.md5 : undefined,
    fastOpen: cur.fastOpen instanceof Uint8Array ? cur.fastOpen : undefined,
  };
  if (o.mss !== undefined) v.mss = o.mss === false ? undefined : o.mss;
  if (o.wscale !== undefined) v.wscale = o.wscale === false ? undefined : o.wscale;
  if (o.sackOk !== undefined) v.sackOk = o.sackOk;
  if (o.sack !== undefined) v.sack = o.sack === false ? undefined : o.sack;
  if (o.ts !== undefined) {
    v.ts = o.ts === false ? undefined : o.ts === true ? (v.ts ?? tsDefault) : o.ts;
  }
  if (o.md5 !== undefined) v.md5 = o.md5 === false ? undefined : o.md5;
  if (o.fastOpen !== undefined) {
    v.fastOpen = o.fastOpen === false
      ? undefined
      : o.fastOpen === true
      ? (v.fastOpen ?? new Uint8Array(0))
      : o.fastOpen;
  }
  return layoutOptions(v);
}

/**
 * `applyOverride` or the exact list, whichever the spec says.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { applyOptionSpec, optionSpec } from "./option_spec.ts";
 * const list = applyOptionSpec([{ kind: "mss", value: 1460 }], optionSpec([{ mss: 536 }]));
 * assert.deepEqual(list, [{ kind: "mss", value: 536 }]);
 * ```
 */
export function applyOptionSpec(
  defaults: readonly TcpOption[],
  spec: OptionSpec | undefined,
  tsDefault?: { val: number; ecr: number },
): TcpOption[] {
  if (!spec) return [...defaults];
  return spec.mode === "exact" ? [...spec.list] : applyOverride(defaults, spec.set, tsDefault);
}
