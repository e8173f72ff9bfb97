import assert from "node:assert/strict";
import { concatBytes } from "./concat_bytes.ts";
import { DecodeError } from "./decode_error.ts";
import {
  CaptureParser,
  LinkType,
  PcapngWriter,
  PcapWriter,
  readCapture,
  readCaptureBytes,
} from "./pcap.ts";

const PKT = new Uint8Array([0x45, 0, 0, 20, 0, 0, 0, 0, 64, 6, 0, 0, 192, 0, 2, 1, 192, 168, 0, 1]);

function write(kind: "pcap" | "pcapng", n: number): Uint8Array {
  const chunks: Uint8Array[] = [];
  const W = kind === "pcap" ? PcapWriter : PcapngWriter;
  const w = new W((b) => chunks.push(b), { linkType: LinkType.RAW });
  for (let i = 0; i < n; i++) w.write({ tsSec: 1700000000 + i, tsNsec: 123456789, data: PKT });
  return concatBytes(chunks);
}

// A classic big-endian microsecond pcap with one 4-byte packet, as older tools write it.
// deno-fmt-ignore
const BE_PCAP_BYTES = new Uint8Array([
  0xa1, 0xb2, 0xc3, 0xd4, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0xff, 0xff, 0, 0, 0, 101, 0, 0, 0, 5, 0, 0, 0, 7,
  0, 0, 0, 4, 0, 0, 0, 4, 0x45, 0, 0, 4,
]);

Deno.test("readCaptureBytes() reads back what PcapWriter wrote, nanoseconds intact", () => {
  const recs = readCaptureBytes(write("pcap", 3));
  assert.equal(recs.length, 3);
  assert.equal(recs[2].tsSec, 1700000002);
  assert.equal(recs[2].tsNsec, 123456789);
  assert.deepEqual(recs[0].data, PKT);
  assert.equal(recs[0].linkType, LinkType.RAW);
});

Deno.test("readCaptureBytes() reads back what PcapngWriter wrote", () => {
  const recs = readCaptureBytes(write("pcapng", 3));
  assert.equal(recs.length, 3);
  assert.equal(recs[1].tsSec, 1700000001);
  assert.equal(recs[1].tsNsec, 123456789);
  assert.deepEqual(recs[2].data, PKT);
});

Deno.test("CaptureParser reads a big-endian microsecond pcap", () => {
  const [r] = readCaptureBytes(BE_PCAP_BYTES);
  assert.equal(r.tsSec, 5);
  assert.equal(r.tsNsec, 7000);
  assert.deepEqual(r.data, new Uint8Array([0x45, 0, 0, 4]));
});

Deno.test("CaptureParser gives the same records however the input is chunked", () => {
  for (const kind of ["pcap", "pcapng"] as const) {
    const bytes = write(kind, 5);
    const p = new CaptureParser();
    const recs = [];
    for (let i = 0; i < bytes.length; i++) recs.push(...p.push(bytes.subarray(i, i + 1)));
    p.end();
    assert.deepEqual(recs, readCaptureBytes(bytes));
  }
});

Deno.test("readCapture() streams from a ReadableStream", async () => {
  const bytes = write("pcapng", 100);
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      for (let i = 0; i < bytes.length; i += 1000) c.enqueue(bytes.slice(i, i + 1000));
      c.close();
    },
  });
  let n = 0;
  for await (const r of readCapture(stream)) {
    assert.equal(r.data.length, 20);
    n++;
  }
  assert.equal(n, 100);
});

Deno.test("CaptureParser reports a truncated last record", () => {
  for (const kind of ["pcap", "pcapng"] as const) {
    const bytes = write(kind, 2);
    assert.throws(
      () => readCaptureBytes(bytes.subarray(0, bytes.length - 3)),
      (e) => e instanceof DecodeError && /is truncated/.test(e.message),
    );
  }
});

Deno.test("CaptureParser rejects a file that is neither pcap nor pcapng", () => {
  assert.throws(
    () => readCaptureBytes(new Uint8Array(24).fill(7)),
    /magic 0x07070707 is neither pcap nor pcapng/,
  );
  assert.throws(() => readCaptureBytes(new Uint8Array(3)), /3 bytes are too few/);
});

Deno.test("PcapWriter cuts packets to the snap length and keeps the original length", () => {
  const chunks: Uint8Array[] = [];
  const w = new PcapWriter((b) => chunks.push(b), { linkType: LinkType.RAW, snaplen: 8 });
  w.write({ tsSec: 0, tsNsec: 0, data: PKT });
  const [r] = readCaptureBytes(concatBytes(chunks));
  assert.equal(r.data.length, 8);
  assert.equal(r.origLength, 20);
});
