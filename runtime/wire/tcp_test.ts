import assert from "node:assert/strict";
import { DecodeError } from "./decode_error.ts";
import {
  emitTcp,
  formatTcpFlags,
  parseTcp,
  parseTcpFlags,
  TcpFlag,
  tcpLength,
  type TcpSpec,
  TcpView,
} from "./tcp.ts";

// 192.0.2.1:40000 > 192.168.0.1:8080 S 0:0(0) win 65535 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>
// (TCP part of a Linux-style SYN; checksum confirmed by tshark 4.0.)
// deno-fmt-ignore
const SYN_BYTES = new Uint8Array([
  0x9c, 0x40, 0x1f, 0x90, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xa0, 0x02, 0xff, 0xff,
  0x09, 0x21, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x00, 0x00, 0x00, 0x64,
  0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07,
]);
const PSEUDO = { src: new Uint8Array([192, 0, 2, 1]), dst: new Uint8Array([192, 168, 0, 1]) };
const SYN_SPEC: TcpSpec = {
  srcPort: 40000,
  dstPort: 8080,
  seq: 0,
  ack: 0,
  flags: TcpFlag.SYN,
  window: 65535,
  urgent: 0,
  options: [
    { kind: "mss", value: 1460 },
    { kind: "sackOk" },
    { kind: "ts", val: 100, ecr: 0 },
    { kind: "nop" },
    { kind: "wscale", shift: 7 },
  ],
  payload: new Uint8Array(0),
};

Deno.test("TcpView reads every field of SYN_BYTES (deconstruct)", () => {
  const v = new TcpView(SYN_BYTES);
  assert.equal(v.srcPort, 40000);
  assert.equal(v.dstPort, 8080);
  assert.equal(v.seq, 0);
  assert.equal(v.ack, 0);
  assert.equal(v.dataOffset, 10);
  assert.equal(v.reserved, 0);
  assert.equal(v.flags, TcpFlag.SYN);
  assert.equal(v.window, 65535);
  assert.equal(v.checksum, 0x0921);
  assert.equal(v.urgent, 0);
});

Deno.test("TcpView setters build SYN_BYTES from zeros (construct)", () => {
  const buf = new Uint8Array(SYN_BYTES.length);
  buf.set(SYN_BYTES.subarray(20), 20);
  const v = new TcpView(buf);
  v.srcPort = 40000;
  v.dstPort = 8080;
  v.dataOffset = 10;
  v.flags = TcpFlag.SYN;
  v.window = 65535;
  v.fillChecksum(PSEUDO);
  assert.deepEqual(buf, SYN_BYTES);
});

Deno.test("parseTcp() decodes SYN_BYTES with its options", () => {
  const f = parseTcp(SYN_BYTES, 0, SYN_BYTES.length, PSEUDO);
  assert.equal(f.kind, "tcp");
  assert.equal(f.dataOffset, 10);
  assert.equal(f.checksumOk, true);
  assert.deepEqual(f.options, SYN_SPEC.options);
  assert.equal(f.payload.length, 0);
});

Deno.test("emitTcp() writes SYN_BYTES from fields", () => {
  const buf = new Uint8Array(tcpLength(SYN_SPEC));
  assert.equal(emitTcp(SYN_SPEC, buf, 0, PSEUDO), 40);
  assert.deepEqual(buf, SYN_BYTES);
});

Deno.test("parseTcp() rejects a truncated header", () => {
  assert.throws(
    () => parseTcp(SYN_BYTES.subarray(0, 19)),
    (e) =>
      e instanceof DecodeError && e.message === "Cannot parse TCP header: need 20 bytes, got 19",
  );
});

Deno.test("parseTcp() rejects options cut short by the end of the segment", () => {
  assert.throws(
    () => parseTcp(SYN_BYTES.subarray(0, 30)),
    /data offset 10 claims 40 bytes, only 30 present/,
  );
});

Deno.test("parseTcp() rejects data offset below 5", () => {
  const b = SYN_BYTES.slice();
  b[12] = 0x40;
  assert.throws(
    () => parseTcp(b),
    (e) => e instanceof DecodeError && /data offset 4 is below 5/.test(e.message),
  );
});

Deno.test("parseTcp() reports a bad checksum without throwing", () => {
  const b = SYN_BYTES.slice();
  b[16] ^= 0xff;
  assert.equal(parseTcp(b, 0, b.length, PSEUDO).checksumOk, false);
});

Deno.test("emitTcp() crafts SYN+FIN, reserved bits, AE and a chosen checksum", () => {
  const spec: TcpSpec = {
    ...SYN_SPEC,
    flags: TcpFlag.SYN | TcpFlag.FIN | TcpFlag.AE,
    reserved: 5,
    checksum: 0xbeef,
  };
  const buf = new Uint8Array(tcpLength(spec));
  emitTcp(spec, buf, 0);
  const f = parseTcp(buf, 0, buf.length, PSEUDO);
  assert.equal(f.flags, TcpFlag.SYN | TcpFlag.FIN | TcpFlag.AE);
  assert.equal(f.reserved, 5);
  assert.equal(f.checksum, 0xbeef);
  assert.equal(f.checksumOk, false);
});

Deno.test("emitTcp() refuses options over 40 bytes unless the data offset is explicit", () => {
  const big: TcpSpec = {
    ...SYN_SPEC,
    options: [...SYN_SPEC.options, { kind: "md5", digest: new Uint8Array(16) }, {
      kind: "ts",
      val: 1,
      ecr: 2,
    }],
  };
  assert.throws(
    () => tcpLength(big),
    /options take 48 bytes, above the 40 a data offset of 15 allows/,
  );
  const crafted: TcpSpec = { ...big, dataOffset: 15 };
  const buf = new Uint8Array(tcpLength(crafted));
  emitTcp(crafted, buf, 0, PSEUDO);
  assert.equal(buf.length, 68);
  assert.equal(new TcpView(buf).dataOffset, 15);
  // The receiver sees the last 8 option bytes as payload: exactly what was asked for.
  assert.equal(parseTcp(buf).payload.length, 8);
});

Deno.test("emitTcp() writes a wrong data offset as given", () => {
  const spec: TcpSpec = { ...SYN_SPEC, dataOffset: 6 };
  const buf = new Uint8Array(tcpLength(spec));
  emitTcp(spec, buf, 0, PSEUDO);
  const f = parseTcp(buf);
  assert.equal(f.dataOffset, 6);
  assert.equal(f.payload.length, 16);
});

Deno.test("emitTcp() without addresses or checksum says what is missing", () => {
  assert.throws(
    () => emitTcp(SYN_SPEC, new Uint8Array(40), 0),
    /pseudo-header addresses are unknown/,
  );
});

Deno.test("formatTcpFlags() uses tcpdump's letters and order", () => {
  assert.equal(formatTcpFlags(TcpFlag.SYN | TcpFlag.ACK), "S.");
  assert.equal(formatTcpFlags(TcpFlag.SYN | TcpFlag.ECE | TcpFlag.CWR), "SEW");
  assert.equal(formatTcpFlags(0x1ff), "FSRP.UEWe");
  assert.equal(formatTcpFlags(0), "none");
  assert.equal(parseTcpFlags("S."), 0x12);
  assert.throws(() => parseTcpFlags("SX"), /want letters from "FSRP.UEWe", got "X"/);
});
