import assert from "node:assert/strict";
import { address } from "./address.ts";
import { DecodeError } from "./decode_error.ts";
import { emitIcmp, icmpRest, IcmpView, parseIcmp } from "./icmp.ts";
import { parseLine } from "./line_parse.ts";
import { emitPacket } from "./packet.ts";

// Frag-needed, MTU 1400, no quote (tshark: checksum 0xf783 correct).
const FRAG_NEEDED_BYTES = new Uint8Array([0x03, 0x04, 0xf7, 0x83, 0x00, 0x00, 0x05, 0x78]);

Deno.test("parseIcmp() decodes frag-needed with its MTU", () => {
  const m = parseIcmp(FRAG_NEEDED_BYTES, 0, 8, "icmpv4");
  assert.equal(m.type, 3);
  assert.equal(m.code, 4);
  assert.equal(m.mtu, 1400);
  assert.equal(m.checksumOk, true);
});

Deno.test("emitIcmp() writes frag-needed", () => {
  const buf = new Uint8Array(8);
  emitIcmp(
    { kind: "icmpv4", type: 3, code: 4, rest: icmpRest.mtu(1400), body: new Uint8Array(0) },
    buf,
    0,
  );
  assert.deepEqual(buf, FRAG_NEEDED_BYTES);
});

Deno.test("parseIcmp() decodes echo id and sequence", () => {
  const buf = new Uint8Array(12);
  emitIcmp(
    { kind: "icmpv4", type: 8, code: 0, rest: icmpRest.echo(0x1234, 7), body: new Uint8Array(4) },
    buf,
    0,
  );
  assert.deepEqual(parseIcmp(buf, 0, 12, "icmpv4").echo, { id: 0x1234, seq: 7 });
});

Deno.test("parseIcmp() decodes the quoted TCP segment of a port unreachable", () => {
  const offending = emitPacket(
    parseLine("192.0.2.1:40000 > 192.168.0.1:8080 S. 1000:1000(0) ack 5 win 100").packet,
  );
  const buf = new Uint8Array(8 + 28);
  emitIcmp({ kind: "icmpv4", type: 3, code: 3, rest: 0, body: offending.subarray(0, 28) }, buf, 0);
  const q = parseIcmp(buf, 0, buf.length, "icmpv4").quoted!;
  assert.equal(address.format(q.src!), "192.0.2.1");
  assert.equal(q.srcPort, 40000);
  assert.equal(q.dstPort, 8080);
  assert.equal(q.seq, 1000);
  assert.equal(q.stopped, "quoted TCP header is cut after the sequence number");
});

Deno.test("parseIcmp() decodes ICMPv6 packet too big with the pseudo-header checksum", () => {
  const pseudo = { src: address.parse("fd3d::1"), dst: address.parse("fd3d::2") };
  const buf = new Uint8Array(8);
  emitIcmp(
    { kind: "icmpv6", type: 2, code: 0, rest: icmpRest.mtu(1280, true), body: new Uint8Array(0) },
    buf,
    0,
    pseudo,
  );
  const m = parseIcmp(buf, 0, 8, "icmpv6", pseudo);
  assert.equal(m.mtu, 1280);
  assert.equal(m.checksumOk, true);
});

Deno.test("parseIcmp() rejects a truncated header", () => {
  assert.throws(
    () => parseIcmp(FRAG_NEEDED_BYTES, 0, 4, "icmpv4"),
    (e) => e instanceof DecodeError && /need 8 bytes, got 4/.test(e.message),
  );
});

Deno.test("IcmpView reads the fixed fields (deconstruct)", () => {
  const v = new IcmpView(FRAG_NEEDED_BYTES);
  assert.deepEqual([v.type, v.code, v.checksum, v.rest], [3, 4, 0xf783, 1400]);
});

Deno.test("IcmpView setters build FRAG_NEEDED_BYTES from zeros (construct)", () => {
  const b = new Uint8Array(8);
  const v = new IcmpView(b);
  v.type = 3;
  v.code = 4;
  v.rest = 1400;
  v.fillChecksum();
  assert.deepEqual(b, FRAG_NEEDED_BYTES);
});
