import assert from "node:assert/strict";
import { DecodeError } from "./decode_error.ts";
import { emitPacket, parsePacket } from "./packet.ts";

// The 60-byte IPv4 SYN: 192.0.2.1:40000 > 192.168.0.1:8080 S 0:0(0) win 65535
// <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7> DF — every checksum verified by tshark.
// deno-fmt-ignore
const SYN_BYTES = new Uint8Array([
  0x45, 0x00, 0x00, 0x3c, 0x00, 0x00, 0x40, 0x00, 0x40, 0x06, 0xb8, 0x11, 0xc0, 0x00, 0x02, 0x01,
  0xc0, 0xa8, 0x00, 0x01, 0x9c, 0x40, 0x1f, 0x90, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0xa0, 0x02, 0xff, 0xff, 0x09, 0x21, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a,
  0x00, 0x00, 0x00, 0x64, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07,
]);

Deno.test("parsePacket() decodes the SYN down to its options", () => {
  const p = parsePacket(SYN_BYTES);
  assert.equal(p.ip.kind, "ipv4");
  assert.equal(p.transport.kind, "tcp");
  if (p.transport.kind !== "tcp") return;
  assert.equal(p.transport.checksumOk, true);
  assert.equal(p.transport.options.length, 5);
});

Deno.test("emitPacket() re-emits a parsed packet byte for byte", () => {
  assert.deepEqual(emitPacket(parsePacket(SYN_BYTES)), SYN_BYTES);
});

Deno.test("parsePacket() keeps a TCP header with data offset 4 as raw, with the reason", () => {
  const b = SYN_BYTES.slice();
  b[32] = 0x40;
  const p = parsePacket(b);
  assert.equal(p.transport.kind, "raw");
  if (p.transport.kind !== "raw") return;
  assert.equal(p.transport.why, "Cannot parse TCP header: data offset 4 is below 5");
  assert.deepEqual(emitPacket(p), b);
});

Deno.test("parsePacket() keeps Ethernet padding as a trailer", () => {
  const frame = new Uint8Array(14 + 60 + 6);
  frame.set([0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 2, 0x08, 0x00]);
  frame.set(SYN_BYTES, 14);
  const p = parsePacket(frame, "ethernet");
  assert.equal(p.trailer?.length, 6);
  assert.deepEqual(emitPacket(p), frame);
});

Deno.test("parsePacket() treats an IPv4 fragment's payload as raw", () => {
  const b = SYN_BYTES.slice();
  b[6] = 0x20; // MF
  const p = parsePacket(b);
  assert.equal(p.transport.kind, "raw");
  assert.deepEqual(emitPacket(p), b);
});

Deno.test("parsePacket() rejects a version that is neither 4 nor 6", () => {
  assert.throws(
    () => parsePacket(new Uint8Array([0x55, 0, 0, 0])),
    (e) => e instanceof DecodeError && /version 5/.test(e.message),
  );
  assert.throws(() => parsePacket(new Uint8Array(0)), DecodeError);
});

Deno.test("emitPacket() rejects an address of the wrong family", () => {
  const p = parsePacket(SYN_BYTES);
  assert.throws(
    () => emitPacket({ ...p, ip: { ...p.ip, src: new Uint8Array(16) } }),
    /source address has 16 bytes, want 4/,
  );
});
