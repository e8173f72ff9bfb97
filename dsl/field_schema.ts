/**
 * Zod schemas for the packet field specs users write by hand (in scenarios,
 * the REPL and the CLI), and `checkFields`, which turns a failed check into
 * one clear message per field: `tcp.srcPort: want an integer 0..65535, got 70000`.
 *
 * Specs use the names people type (`win`, `urg`, `flags: "S."`, `src:
 * "192.0.2.1"`); the builders convert them to the raw `runtime/wire` fields.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkFields, fieldSchemas } from "./field_schema.ts";
 * assert.deepEqual(checkFields(fieldSchemas.tcp, { srcPort: 40000, flags: "S." }, "tcp"), {
 *   srcPort: 40000,
 *   flags: "S.",
 * });
 * assert.throws(
 *   () => checkFields(fieldSchemas.tcp, { srcPort: 70000 }, "tcp"),
 *   /tcp\.srcPort: want an integer 0\.\.65535, got 70000/,
 * );
 * ```
 */
import { z } from "zod";
import { address } from "../runtime/wire/address.ts";

function uint(bits: number) {
  const max = 2 ** bits - 1;
  const want = `an integer 0..${max}`;
  return z.number({ error: want }).int({ error: want }).min(0, { error: want }).max(max, {
    error: want,
  });
}

const ipText = (family: 4 | 6 | "any") => {
  const want = family === "any" ? "an IPv4 or IPv6 address" : `an IPv${family} address`;
  return z.string({ error: want }).refine((s) => {
    if (!address.isValid(s)) return false;
    const n = address.parse(s).length;
    return family === "any" || n === (family === 4 ? 4 : 16);
  }, { error: want });
};

const flagsText = z.union([
  z.string().regex(/^([FSRP.UEWe]+|none)$/, { error: 'flags as letters from "FSRP.UEWe"' }),
  uint(9),
], { error: 'flags as letters from "FSRP.UEWe" or a 9-bit number' });

const payload = z.union([
  z.string(),
  z.instanceof(Uint8Array),
  uint(16),
], { error: "a payload: a string, a Uint8Array or a byte count 0..65535" });

const tsOption = z.union([
  z.literal(false),
  z.literal(true),
  z.strictObject({ val: uint(32), ecr: uint(32) }),
], { error: "false, true, or { val, ecr } with 32-bit integers" });

/** The object form of a TCP option list: `{ mss: 1460, sackOk: true, ts: { val: 100, ecr: 0 }, wscale: 7 }`. */
const tcpOptionsObject = z.strictObject({
  mss: z.union([uint(16), z.literal(false)]).optional(),
  wscale: z.union([uint(8), z.literal(false)]).optional(),
  sackOk: z.boolean({ error: "true or false" }).optional(),
  sack: z.union([z.array(z.tuple([uint(32), uint(32)])), z.literal(false)]).optional(),
  ts: tsOption.optional(),
  md5: z.union([z.instanceof(Uint8Array), z.literal(false)]).optional(),
  fastOpen: z.union([z.instanceof(Uint8Array), z.literal(true), z.literal(false)]).optional(),
});

/** Schemas of every user-facing field spec. */
export const fieldSchemas = {
  tcp: z.strictObject({
    srcPort: uint(16).optional(),
    dstPort: uint(16).optional(),
    seq: uint(32).optional(),
    ack: uint(32).optional(),
    flags: flagsText.optional(),
    win: uint(16).optional(),
    urg: uint(16).optional(),
    dataOffset: uint(4).optional(),
    reserved: uint(3).optional(),
    checksum: uint(16).optional(),
    payload: payload.optional(),
  }),
  tcpOptions: tcpOptionsObject,
  udp: z.strictObject({
    srcPort: uint(16).optional(),
    dstPort: uint(16).optional(),
    length: uint(16).optional(),
    checksum: uint(16).optional(),
    payload: payload.optional(),
  }),
  icmp: z.strictObject({
    type: uint(8).optional(),
    code: uint(8).optional(),
    id: uint(16).optional(),
    seq: uint(16).optional(),
    mtu: uint(32).optional(),
    checksum: uint(16).optional(),
    body: payload.optional(),
  }),
  ipv4: z.strictObject({
    src: ipText(4).optional(),
    dst: ipText(4).optional(),
    ttl: uint(8).optional(),
    tos: uint(8).optional(),
    dscp: uint(6).optional(),
    ecn: z.union([uint(2), z.enum(["noecn", "ect0", "ect1", "ce"])], {
      error: "an ECN codepoint: 0..3 or noecn, ect0, ect1, ce",
    }).optional(),
    id: uint(16).optional(),
    df: z.boolean({ error: "true or false" }).optional(),
    mf: z.boolean({ error: "true or false" }).optional(),
    fragmentOffset: uint(13).optional(),
    checksum: uint(16).optional(),
    options: z.instanceof(Uint8Array, { error: "IP options as a Uint8Array" }).optional(),
  }),
  ipv6: z.strictObject({
    src: ipText(6).optional(),
    dst: ipText(6).optional(),
    hopLimit: uint(8).optional(),
    trafficClass: uint(8).optional(),
    flowLabel: uint(20).optional(),
  }),
  /** A `host` or `host:port` endpoint as users write it. */
  address: ipText("any"),
} as const;

function valueAt(input: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let v: unknown = input;
  for (const k of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

function show(v: unknown): string {
  if (v instanceof Uint8Array) return `Uint8Array(${v.length})`;
  if (typeof v === "string") return JSON.stringify(v);
  if (v === undefined) return "nothing";
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/**
 * Validates `input` against `schema`. On failure throws a `RangeError` whose
 * message has one line per bad field: `label.field: want …, got …`.
 */
export function checkFields<T extends z.ZodType>(
  schema: T,
  input: unknown,
  label: string,
): z.output<T> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => {
    const path = [label, ...i.path.map(String)].join(".");
    if (i.code === "unrecognized_keys") {
      return `${path}: want only known fields, got ${
        i.keys.map((k) => JSON.stringify(k)).join(", ")
      }`;
    }
    return `${path}: want ${i.message}, got ${show(valueAt(input, i.path))}`;
  });
  throw new RangeError(lines.join("\n"));
}
