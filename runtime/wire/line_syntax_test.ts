import assert from "node:assert/strict";
import { formatLine } from "./line_format.ts";
import { parseLine } from "./line_parse.ts";
import { LineSyntaxError } from "./line_syntax_error.ts";
import { emitPacket, parsePacket } from "./packet.ts";

const LINES = [
  "192.0.2.1:40000 > 192.168.0.1:8080 S 0:0(0) win 65535 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>",
  "192.168.0.1:8080 > 192.0.2.1:40000 S. 0:0(0) ack 1 win 65535 <mss 1460,nop,nop,sackOK,nop,wscale 7> DF",
  "192.0.2.1:40000 > 192.168.0.1:8080 P. 1:11(10) ack 1 win 502 <nop,nop,TS val 5 ecr 6>",
  "192.0.2.1:40000 > 192.168.0.1:8080 R 1:1(0) win 0",
  "192.168.0.1:8080 > 192.0.2.1:40000 R. 0:0(0) ack 2 win 0",
  "192.0.2.1:40000 > 192.168.0.1:8080 FS 0:0(0) win 1 rsv 7 cksum 0xbeef",
  "192.0.2.1:40000 > 192.168.0.1:8080 SEWe 0:0(0) win 1 ttl 1 ecn ce id 7 evil MF frag 3",
  "192.0.2.1:40000 > 192.168.0.1:8080 . 4294967295:4(5) ack 0 win 1 <sack 1:2 3:4,md5 0x000102030405060708090a0b0c0d0e0f,eol>",
  "192.0.2.1:40000 > 192.168.0.1:8080 S 0:0(0) win 1 <FO 0x0102030405060708,FOEXP,AccECN0 1 2 3,AccECN1,opt 29 0x0102,opt 30>",
  "192.0.2.1:40000 > 192.168.0.1:8080 S 0:0(0) win 1 <mss 1460> doff 5",
  "[fd3d:fa7b:d17d::1]:40000 > [fd3d:a0b:17d6::1]:8080 S 0:0(0) win 65535 <mss 1440> hlim 255 flow 0x12345",
  "192.0.2.1:40001 > 192.168.0.1:40002 udp (4) data 0x01020304",
  "192.168.0.1 > 192.0.2.1 icmp unreachable frag_needed mtu 1400 (0)",
  "192.168.0.1 > 192.0.2.1 icmp echo_request id 9 seq 1 (8)",
  "fd3d::1 > fd3d::2 icmp packet_too_big mtu 1280 (0)",
  "192.0.2.1 > 192.168.0.1 proto 47 (4) data 0xdeadbeef",
  "ether 02:00:00:00:00:01 > 02:00:00:00:00:02 vlan 0x8100/100 | 192.0.2.1:1 > 192.168.0.1:2 . 1:1(0) ack 1 win 5",
];

Deno.test("formatLine() and parseLine() round-trip representative lines", () => {
  for (const line of LINES) {
    const { packet } = parseLine(line);
    assert.equal(formatLine(packet, { data: true }), line, line);
  }
});

Deno.test("formatLine() of a parsed packet rebuilds the same bytes", () => {
  for (const line of LINES) {
    const spec = parseLine(line).packet;
    const bytes = emitPacket(spec);
    const parsed = parsePacket(bytes, spec.link ? "ethernet" : "raw");
    const again = emitPacket(parseLine(formatLine(parsed, { data: true })).packet);
    assert.deepEqual(again, bytes, line);
  }
});

Deno.test("formatLine() prints a leading time and annotations", () => {
  const bytes = emitPacket(
    parseLine("192.0.2.1:1 > 192.168.0.1:2 S 0:0(0) win 5 cksum 0x0001").packet,
  );
  const line = formatLine(parsePacket(bytes), { time: 0.25, annotate: true });
  assert.equal(
    line,
    "0.250000 192.0.2.1:1 > 192.168.0.1:2 S 0:0(0) win 5 cksum 0x0001 [bad checksum]",
  );
  assert.equal(parseLine(line).time, 0.25);
});

Deno.test("parseLine() fills (len) zero bytes when no data is given", () => {
  const { packet } = parseLine("192.0.2.1:1 > 192.168.0.1:2 P. 1:4(3) ack 1 win 5");
  assert.equal(packet.transport.kind === "tcp" && packet.transport.payload.length, 3);
});

function errorAt(line: string): LineSyntaxError {
  try {
    parseLine(line);
  } catch (e) {
    if (e instanceof LineSyntaxError) return e;
    throw e;
  }
  throw new Error(`no error for ${line}`);
}

Deno.test("parseLine() names the column, what it wanted and what it found", () => {
  const e = errorAt(
    "192.0.2.1:40000 > 192.168.0.1:8080 S 0:0(0) win 65535 <mss 1460,sackOK,TS val x ecr 0>",
  );
  assert.equal(e.col, 79);
  assert.equal(e.expected, "an integer 0..4294967295");
  assert.equal(e.found, '"x"');
  assert.match(
    errorAt("192.0.2.1:1 > 192.168.0.1:2 Q 0:0(0)").message,
    /col 29: want TCP flags from "FSRP.UEWe", udp, icmp or proto, got "Q"/,
  );
  assert.match(
    errorAt("192.0.2.1:1 > 192.168.0.1:2 S 0:5(0) win 1").message,
    /col 31: want END = SEQ \+ LEN = 0, got "0:5\(0\)"/,
  );
  assert.match(
    errorAt("192.0.2.1:1 > fd3d::1:2 S 0:0(0)").message,
    /col 15: want an IPv4 address like the source/,
  );
  assert.match(
    errorAt("192.0.2.1:1 > 192.168.0.1:2 S 0:0(0) win 70000").message,
    /col 42: want an integer 0..65535, got "70000"/,
  );
  assert.match(
    errorAt("192.0.2.1:1 > 192.168.0.1:2 S 0:0(0) win 1 <mss 1460").message,
    /want ">" to close the "<" at col 44, got end of line/,
  );
  assert.match(
    errorAt("192.0.2.1:1 > 192.168.0.1:2 S 0:0(0) win 1 <bogus 3>").message,
    /col 45: want an option name/,
  );
  assert.match(
    errorAt("192.0.2.1 > 192.168.0.1 udp (0)").message,
    /want addresses with ports for UDP/,
  );
  assert.match(
    errorAt("192.0.2.1:1 > 192.168.0.1:2 udp (0) flow 1").message,
    /want a field that IPv6 packets have, got "flow"/,
  );
});

Deno.test("LineSyntaxError.at() locates the error in a file", () => {
  const e = errorAt("192.0.2.1:1 > 192.168.0.1:2 S 0:0(0) wnd 5");
  assert.match(e.at("story.pkt", 12).message, /^story\.pkt:12:38: want a field name/);
});
