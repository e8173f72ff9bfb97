import assert from "node:assert/strict";
import { DecodeError } from "./decode_error.ts";
import { emitIpv4Header, ipv4Header, type Ipv4Spec, Ipv4View, parseIpv4 } from "./ipv4.ts";

// IPv4 header of the 60-byte SYN 192.0.2.1 > 192.168.0.1, DF, TTL 64 (tshark: checksum 0xb811 correct).
// deno-fmt-ignore
const SYN_BYTES = new Uint8Array([
  0x45, 0x00, 0x00, 0x3c, 0x00, 0x00, 0x40, 0x00, 0x40, 0x06, 0xb8, 0x11, 0xc0, 0x00, 0x02, 0x01,
  0xc0, 0xa8, 0x00, 0x01, ...new Array(40).fill(0),
]);
const SPEC: Ipv4Spec = {
  ...ipv4Header(new Uint8Array([192, 0, 2, 1]), new Uint8Array([192, 168, 0, 1])),
  df: true,
  protocol: 6,
};

Deno.test("Ipv4View reads the header fields (deconstruct)", () => {
  const v = new Ipv4View(SYN_BYTES);
  assert.equal(v.version, 4);
  assert.equal(v.ihl, 5);
  assert.equal(v.totalLength, 60);
  assert.equal(v.ttl, 64);
  assert.equal(v.protocol, 6);
  assert.equal(v.checksum, 0xb811);
});

Deno.test("Ipv4View setters rebuild the header (construct)", () => {
  const b = SYN_BYTES.slice();
  const v = new Ipv4View(b);
  v.ttl = 1;
  v.ecn = 3;
  v.fillChecksum();
  const { header } = parseIpv4(b);
  assert.equal(header.ttl, 1);
  assert.equal(header.ecn, 3);
  assert.equal(header.checksumOk, true);
});

Deno.test("parseIpv4() decodes every field", () => {
  const { header, payloadStart, payloadEnd } = parseIpv4(SYN_BYTES);
  assert.deepEqual({
    ...header,
    src: [...header.src],
    dst: [...header.dst],
    options: [...header.options],
  }, {
    kind: "ipv4",
    version: 4,
    ihl: 5,
    dscp: 0,
    ecn: 0,
    totalLength: 60,
    id: 0,
    reservedFlag: false,
    df: true,
    mf: false,
    fragmentOffset: 0,
    ttl: 64,
    protocol: 6,
    checksum: 0xb811,
    src: [192, 0, 2, 1],
    dst: [192, 168, 0, 1],
    options: [],
    checksumOk: true,
  });
  assert.equal(payloadStart, 20);
  assert.equal(payloadEnd, 60);
});

Deno.test("emitIpv4Header() writes the header with computed length and checksum", () => {
  const buf = new Uint8Array(60);
  assert.equal(emitIpv4Header(SPEC, buf, 0, 40), 20);
  assert.deepEqual(buf.subarray(0, 20), SYN_BYTES.subarray(0, 20));
});

Deno.test("emitIpv4Header() keeps TOS/ECN, id, MF and fragment offset", () => {
  const spec = {
    ...SPEC,
    dscp: 46,
    ecn: 2,
    id: 0xbeef,
    mf: true,
    df: false,
    fragmentOffset: 185,
    options: new Uint8Array([1, 1, 1]),
  };
  const buf = new Uint8Array(24);
  emitIpv4Header(spec, buf, 0, 0);
  const { header } = parseIpv4(buf);
  assert.equal(header.ihl, 6);
  assert.equal(header.dscp, 46);
  assert.equal(header.ecn, 2);
  assert.equal(header.id, 0xbeef);
  assert.equal(header.mf, true);
  assert.equal(header.fragmentOffset, 185);
  assert.deepEqual(header.options, new Uint8Array([1, 1, 1, 0]));
});

Deno.test("parseIpv4() rejects a truncated header", () => {
  assert.throws(
    () => parseIpv4(SYN_BYTES.subarray(0, 12)),
    (e) => e instanceof DecodeError && /need 20 bytes, got 12/.test(e.message),
  );
  assert.throws(
    () => parseIpv4(SYN_BYTES.subarray(0, 40)),
    /total length 60 exceeds the 40 bytes present/,
  );
});

Deno.test("parseIpv4() rejects IHL below 5 and a wrong version", () => {
  const b = SYN_BYTES.slice();
  b[0] = 0x44;
  assert.throws(() => parseIpv4(b), /IHL 4 is below 5/);
  b[0] = 0x65;
  assert.throws(() => parseIpv4(b), /version 6 is not 4/);
});

Deno.test("parseIpv4() reports a bad header checksum without throwing", () => {
  const b = SYN_BYTES.slice();
  b[10] = 0;
  assert.equal(parseIpv4(b).header.checksumOk, false);
});
