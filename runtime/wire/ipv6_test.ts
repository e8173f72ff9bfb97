import assert from "node:assert/strict";
import { address } from "./address.ts";
import { DecodeError } from "./decode_error.ts";
import { emitIpv6Header, type Ipv6Spec, Ipv6View, parseIpv6 } from "./ipv6.ts";

// fd3d:fa7b:d17d::1 > fd3d:a0b:17d6::1, next header TCP, 24-byte payload (tshark-checked).
// deno-fmt-ignore
const HDR_BYTES = new Uint8Array([
  0x60, 0x00, 0x00, 0x00, 0x00, 0x18, 0x06, 0x40, 0xfd, 0x3d, 0xfa, 0x7b, 0xd1, 0x7d, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xfd, 0x3d, 0x0a, 0x0b, 0x17, 0xd6, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, ...new Array(24).fill(0),
]);
const SPEC: Ipv6Spec = {
  version: 6,
  trafficClass: 0,
  flowLabel: 0,
  hopLimit: 64,
  src: address.parse("fd3d:fa7b:d17d::1"),
  dst: address.parse("fd3d:a0b:17d6::1"),
  extensions: [],
};

Deno.test("parseIpv6() decodes the fixed header", () => {
  const p = parseIpv6(HDR_BYTES);
  assert.equal(p.header.payloadLength, 24);
  assert.equal(p.header.nextHeader, 6);
  assert.equal(p.header.hopLimit, 64);
  assert.equal(address.format(p.header.src), "fd3d:fa7b:d17d::1");
  assert.equal(p.protocol, 6);
  assert.equal(p.payloadStart, 40);
  assert.equal(p.payloadEnd, 64);
});

Deno.test("emitIpv6Header() writes the fixed header", () => {
  const buf = new Uint8Array(64);
  emitIpv6Header(SPEC, buf, 0, 24, 6);
  assert.deepEqual(buf, HDR_BYTES);
});

Deno.test("emitIpv6Header() keeps traffic class and flow label", () => {
  const buf = new Uint8Array(40);
  emitIpv6Header({ ...SPEC, trafficClass: 0xb9, flowLabel: 0xabcde }, buf, 0, 0, 59);
  const h = parseIpv6(buf).header;
  assert.equal(h.trafficClass, 0xb9);
  assert.equal(h.flowLabel, 0xabcde);
});

Deno.test("parseIpv6() walks hop-by-hop, routing and destination options to TCP", () => {
  const spec: Ipv6Spec = {
    ...SPEC,
    extensions: [
      { type: 0, bytes: new Uint8Array([0, 0, 1, 4, 0, 0, 0, 0]) },
      { type: 43, bytes: new Uint8Array([0, 0, 4, 0, 0, 0, 0, 0]) },
      { type: 60, bytes: new Uint8Array([0, 1, ...new Array(14).fill(0)]) },
    ],
  };
  const buf = new Uint8Array(40 + 32 + 20);
  emitIpv6Header(spec, buf, 0, 20, 6);
  const p = parseIpv6(buf);
  assert.deepEqual(p.header.extensions.map((e) => e.type), [0, 43, 60]);
  assert.equal(p.protocol, 6);
  assert.equal(p.payloadStart, 72);
});

Deno.test("parseIpv6() stops at a later fragment", () => {
  const frag = { type: 44, bytes: new Uint8Array([0, 0, 0x00, 0xb9, 0, 0, 0, 7]) };
  const buf = new Uint8Array(40 + 8 + 16);
  emitIpv6Header({ ...SPEC, extensions: [frag] }, buf, 0, 16, 6);
  const p = parseIpv6(buf);
  assert.deepEqual(p.header.extensions[0].fragment, { offset: 23, more: true, id: 7 });
  assert.equal(p.laterFragment, true);
});

Deno.test("parseIpv6() rejects truncated headers", () => {
  assert.throws(
    () => parseIpv6(HDR_BYTES.subarray(0, 39)),
    (e) => e instanceof DecodeError && /need 40 bytes, got 39/.test(e.message),
  );
  assert.throws(
    () => parseIpv6(HDR_BYTES.subarray(0, 50)),
    /payload length 24 exceeds the 10 bytes present/,
  );
  const b = new Uint8Array(44);
  emitIpv6Header(SPEC, b, 0, 4, 60);
  assert.throws(() => parseIpv6(b), /type 60 at byte 40 claims 8 bytes, only 4 present/);
});

Deno.test("Ipv6View reads the fixed header (deconstruct)", () => {
  const v = new Ipv6View(HDR_BYTES);
  assert.deepEqual([
    v.version,
    v.trafficClass,
    v.flowLabel,
    v.payloadLength,
    v.nextHeader,
    v.hopLimit,
  ], [6, 0, 0, 24, 6, 64]);
});

Deno.test("Ipv6View setters build HDR_BYTES from zeros (construct)", () => {
  const b = new Uint8Array(64);
  b.set(HDR_BYTES.subarray(8, 40), 8);
  const v = new Ipv6View(b);
  v.version = 6;
  v.payloadLength = 24;
  v.nextHeader = 6;
  v.hopLimit = 64;
  assert.deepEqual(b, HDR_BYTES);
  v.trafficClass = 0xb9;
  v.flowLabel = 0xabcde;
  assert.deepEqual([v.version, v.trafficClass, v.flowLabel], [6, 0xb9, 0xabcde]);
});
