import assert from "node:assert/strict";
import { DecodeError } from "./decode_error.ts";
import { emitUdp, parseUdp, UdpView } from "./udp.ts";

// 192.0.2.1:53 > 192.168.0.1:4000 with payload 01 02 03 04 (tshark: checksum 0x6950 correct).
// deno-fmt-ignore
const UDP_BYTES = new Uint8Array([
  0x00, 0x35, 0x0f, 0xa0, 0x00, 0x0c, 0x69, 0x50, 0x01, 0x02, 0x03, 0x04,
]);
const PSEUDO = { src: new Uint8Array([192, 0, 2, 1]), dst: new Uint8Array([192, 168, 0, 1]) };

Deno.test("parseUdp() decodes UDP_BYTES", () => {
  const u = parseUdp(UDP_BYTES, 0, UDP_BYTES.length, PSEUDO);
  assert.deepEqual({ ...u, payload: [...u.payload] }, {
    kind: "udp",
    srcPort: 53,
    dstPort: 4000,
    length: 12,
    checksum: 0x6950,
    payload: [1, 2, 3, 4],
    checksumOk: true,
  });
});

Deno.test("emitUdp() writes UDP_BYTES", () => {
  const buf = new Uint8Array(12);
  emitUdp({ srcPort: 53, dstPort: 4000, payload: new Uint8Array([1, 2, 3, 4]) }, buf, 0, PSEUDO);
  assert.deepEqual(buf, UDP_BYTES);
});

Deno.test("emitUdp() keeps a crafted length and checksum", () => {
  const buf = new Uint8Array(12);
  emitUdp({ srcPort: 1, dstPort: 2, length: 99, checksum: 0, payload: new Uint8Array(4) }, buf, 0);
  const u = parseUdp(buf, 0, 12, PSEUDO);
  assert.equal(u.length, 99);
  assert.equal(u.checksumOk, true, "zero means no checksum over IPv4 (RFC 768)");
});

Deno.test("parseUdp() rejects a truncated header", () => {
  assert.throws(
    () => parseUdp(UDP_BYTES.subarray(0, 7)),
    (e) => e instanceof DecodeError && /need 8 bytes, got 7/.test(e.message),
  );
});

Deno.test("UdpView reads the header fields (deconstruct)", () => {
  const v = new UdpView(UDP_BYTES);
  assert.deepEqual([v.srcPort, v.dstPort, v.length, v.checksum], [53, 4000, 12, 0x6950]);
});

Deno.test("UdpView setters build UDP_BYTES from zeros (construct)", () => {
  const b = new Uint8Array(12);
  b.set([1, 2, 3, 4], 8);
  const v = new UdpView(b);
  v.srcPort = 53;
  v.dstPort = 4000;
  v.length = 12;
  v.fillChecksum(PSEUDO);
  assert.deepEqual(b, UDP_BYTES);
});
