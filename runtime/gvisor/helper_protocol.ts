/**
 * The frames synack and the gVisor helper (`netstack/main.go`) exchange over
 * the helper's stdin and stdout: a little-endian u32 length (of what
 * follows), a kind byte, and the payload. Datagrams travel raw; calls,
 * settings and results as JSON, and every result the helper sends is checked
 * against its schema before synack believes it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FrameKind, FrameReader, encodeFrame, parseResult } from "./helper_protocol.ts";
 * const r = new FrameReader();
 * const f = encodeFrame(FrameKind.Packet, new Uint8Array([0x45, 0]));
 * assert.deepEqual(r.push(f.subarray(0, 3)), []);
 * assert.deepEqual(r.push(f.subarray(3)), [{ kind: FrameKind.Packet, payload: new Uint8Array([0x45, 0]) }]);
 * assert.deepEqual(parseResult('{"id":1,"ok":false,"errno":11}'), { id: 1, ok: false, errno: 11 });
 * assert.throws(() => parseResult('{"id":1,"ok":"yes"}'), /gVisor helper: a result that is not one/);
 * ```
 */
import { z } from "zod";

/** The kinds of frame. */
export const FrameKind = {
  Packet: 1,
  Call: 2,
  Result: 3,
  Setting: 4,
  Ready: 5,
  /** The call waits in the netstack: its result comes when it returns. */
  Blocked: 6,
} as const;

/** One frame. */
export interface Frame {
  kind: number;
  payload: Uint8Array;
}

/** A frame's bytes. */
export function encodeFrame(kind: number, payload: Uint8Array): Uint8Array {
  const b = new Uint8Array(5 + payload.length);
  new DataView(b.buffer).setUint32(0, payload.length + 1, true);
  b[4] = kind;
  b.set(payload, 5);
  return b;
}

/** Cuts a byte stream into frames, however it arrives. */
export class FrameReader {
  #buf = new Uint8Array(0);

  /** Takes more bytes; returns the frames now complete. */
  push(chunk: Uint8Array): Frame[] {
    const b = new Uint8Array(this.#buf.length + chunk.length);
    b.set(this.#buf);
    b.set(chunk, this.#buf.length);
    const out: Frame[] = [];
    let off = 0;
    const v = new DataView(b.buffer);
    while (b.length - off >= 5) {
      const n = v.getUint32(off, true);
      if (n < 1) throw new RangeError("gVisor helper: a frame of length 0");
      if (b.length - off - 4 < n) break;
      out.push({ kind: b[off + 4], payload: b.slice(off + 5, off + 4 + n) });
      off += 4 + n;
    }
    this.#buf = b.slice(off);
    return out;
  }
}

const tcpInfo = z.record(z.string(), z.union([z.number(), z.string()]));
const value = z.union([
  z.number(),
  z.strictObject({ bytes: z.string() }),
  z.strictObject({ tcpinfo: tcpInfo }),
  z.strictObject({ revents: z.number() }),
  z.looseObject({ name: z.string() }),
]);
const Result = z.union([
  z.strictObject({ id: z.number().int(), ok: z.literal(true), value }),
  z.strictObject({ id: z.number().int(), ok: z.literal(false), errno: z.number().int() }),
  z.strictObject({ id: z.number().int(), ok: z.literal(false), error: z.string() }),
]);

const Blocked = z.strictObject({ id: z.number().int() });

/** A blocked frame's call id, checked. */
export function parseBlocked(text: string): number {
  const r = Blocked.safeParse((() => {
    try {
      return JSON.parse(text);
    } catch {
      return undefined;
    }
  })());
  if (!r.success) throw new RangeError(`gVisor helper: a blocked frame that is not one: ${text}`);
  return r.data.id;
}

/** A result frame, checked. */
export type HelperResult = z.output<typeof Result>;

/** Parses and checks a result frame's JSON; a `RangeError` says what was wrong. */
export function parseResult(text: string): HelperResult {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch {
    throw new RangeError(`gVisor helper: a result that is not JSON: ${text.slice(0, 200)}`);
  }
  const r = Result.safeParse(j);
  if (!r.success) {
    throw new RangeError(`gVisor helper: a result that is not one: ${text.slice(0, 200)}`);
  }
  return r.data;
}
