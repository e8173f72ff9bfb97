import assert from "node:assert/strict";
import fc from "fast-check";
import { checksum } from "./checksum.ts";
import { DecodeError } from "./decode_error.ts";
import { ipv4Header } from "./ipv4.ts";
import { formatLine } from "./line_format.ts";
import { parseLine } from "./line_parse.ts";
import { emitPacket, type PacketSpec, parsePacket } from "./packet.ts";
import { CaptureParser } from "./pcap.ts";
import { seq } from "./seq.ts";
import { emitTcpOptions, parseTcpOptions, tcpOptionsLength } from "./tcp_options.ts";

const RUNS = { numRuns: 2000 };

/** Bytes that start like IPv4 or IPv6 so that the deeper layers get exercised too. */
const ipish = fc.tuple(
  fc.constantFrom(0x45, 0x46, 0x4f, 0x60, 0x44, 0x55),
  fc.uint8Array({ maxLength: 120 }),
)
  .map(([first, rest]) => {
    const b = new Uint8Array(rest.length + 1);
    b[0] = first;
    b.set(rest, 1);
    if (b.length >= 4 && first >> 4 === 4) {
      // Make the total length match often, so transports are reached.
      b[2] = b.length >> 8;
      b[3] = b.length & 0xff;
    }
    if (b.length >= 40 && first >> 4 === 6) {
      b[4] = (b.length - 40) >> 8;
      b[5] = (b.length - 40) & 0xff;
    }
    return b;
  });

Deno.test("parsePacket() throws nothing but DecodeError on arbitrary bytes", () => {
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 100 }), ipish), fc.boolean(), (b, eth) => {
      try {
        parsePacket(b, eth ? "ethernet" : "raw");
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
      }
    }),
    RUNS,
  );
});

Deno.test("emitPacket() ∘ parsePacket() is the identity on every accepted byte string", () => {
  fc.assert(
    fc.property(ipish, (b) => {
      let p;
      try {
        p = parsePacket(b);
      } catch (e) {
        if (e instanceof DecodeError) return;
        throw e;
      }
      assert.deepEqual(emitPacket(p), b);
    }),
    RUNS,
  );
});

Deno.test("parseTcpOptions() never throws and always re-emits its input", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 40 }), (b) => {
      const opts = parseTcpOptions(b, 0, b.length);
      const out = new Uint8Array(tcpOptionsLength(opts));
      emitTcpOptions(opts, out, 0);
      assert.deepEqual(out, b);
    }),
    RUNS,
  );
});

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const option = fc.oneof(
  fc.constant({ kind: "nop" as const }),
  fc.integer({ min: 0, max: 0xffff }).map((value) => ({ kind: "mss" as const, value })),
  fc.integer({ min: 0, max: 14 }).map((shift) => ({ kind: "wscale" as const, shift })),
  fc.constant({ kind: "sackOk" as const }),
  fc.tuple(u32, u32).map(([val, ecr]) => ({ kind: "ts" as const, val, ecr })),
  fc.array(fc.tuple(u32, u32), { minLength: 1, maxLength: 3 }).map((blocks) => ({
    kind: "sack" as const,
    blocks,
  })),
);

const tcpPacket: fc.Arbitrary<PacketSpec> = fc.record({
  v6: fc.boolean(),
  src: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  dst: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  ttl: fc.integer({ min: 0, max: 255 }),
  ports: fc.tuple(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff })),
  seq: u32,
  ack: u32,
  flags: fc.integer({ min: 0, max: 0x1ff }),
  window: fc.integer({ min: 0, max: 0xffff }),
  options: fc.array(option, { maxLength: 4 }).filter((o) => tcpOptionsLength(o) <= 40),
  payload: fc.uint8Array({ maxLength: 64 }),
}).map((r): PacketSpec => ({
  ip: r.v6
    ? {
      kind: "ipv6",
      version: 6,
      trafficClass: 0,
      flowLabel: 0,
      hopLimit: r.ttl,
      src: r.src,
      dst: r.dst,
      extensions: [],
    }
    : { ...ipv4Header(r.src.subarray(0, 4), r.dst.subarray(0, 4)), ttl: r.ttl, df: true },
  transport: {
    kind: "tcp",
    srcPort: r.ports[0],
    dstPort: r.ports[1],
    seq: r.seq,
    ack: r.ack,
    flags: r.flags,
    window: r.window,
    urgent: 0,
    options: r.options,
    payload: r.payload,
  },
}));

Deno.test("valid packets survive emit → parse → emit and print → parse → emit", () => {
  fc.assert(
    fc.property(tcpPacket, (spec) => {
      const bytes = emitPacket(spec);
      const parsed = parsePacket(bytes);
      assert.equal(parsed.transport.kind, "tcp");
      assert.equal((parsed.transport as { checksumOk?: boolean }).checksumOk, true);
      assert.deepEqual(emitPacket(parsed), bytes);
      assert.deepEqual(emitPacket(parseLine(formatLine(parsed, { data: true })).packet), bytes);
    }),
    RUNS,
  );
});

Deno.test("CaptureParser throws nothing but DecodeError on arbitrary bytes", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
      try {
        const p = new CaptureParser();
        p.push(b);
        p.end();
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
      }
    }),
    RUNS,
  );
});

Deno.test("seq comparisons are antisymmetric and agree with add", () => {
  fc.assert(
    fc.property(u32, fc.integer({ min: 1, max: 0x7fffffff }), (a, n) => {
      const b = seq.add(a, n);
      assert.ok(seq.lt(a, b) && seq.gt(b, a) && !seq.lt(b, a));
      assert.equal(seq.diff(b, a), n);
      assert.ok(seq.inWindow(seq.add(a, n - 1), a, n));
      assert.ok(!seq.inWindow(b, a, n));
    }),
    RUNS,
  );
});

/** RFC 1071's sum by its definition: 16-bit big-endian words, an odd byte padded, folded. */
function wordSum(b: Uint8Array, start: number, end: number): number {
  let s = 0;
  for (let i = start; i < end; i += 2) s += (b[i] << 8) | (i + 1 < end ? b[i + 1] : 0);
  return checksum.fold(s);
}

Deno.test("checksum.sum() equals the word-by-word sum at every alignment and length", () => {
  // Long runs take the 32-bit path; the offsets move the start across every alignment.
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 3000 }),
      fc.nat(7),
      fc.nat(7),
      fc.nat(0xffff),
      (b, offset, start, acc) => {
        const buf = new Uint8Array(offset + b.length);
        buf.set(b, offset);
        const view = buf.subarray(offset);
        const from = Math.min(start, view.length);
        // 0 and 0xffff are the same one's-complement number.
        const canon = (x: number) => x === 0xffff ? 0 : x;
        assert.equal(
          canon(checksum.fold(checksum.sum(view, from, view.length, acc))),
          canon(checksum.fold(wordSum(view, from, view.length) + acc)),
        );
      },
    ),
    RUNS,
  );
});
