// The built-in stack: data transfer in ESTABLISHED, both directions, and delayed ACKs.
import { ack, data, expect, expectNothing, inject, read, scenario, write } from "../mod.ts";
import { established } from "./fixtures.ts";

scenario("data in: the first segments are ACKed at once (quick ACK), read() returns the bytes", [
  ...established,
  inject(data("hello")),
  expect(ack().ack(6)).within("1ms"),
  inject(data(" world")),
  expect(ack().ack(12)).within("1ms"),
  read().returns("hello world"),
]);

scenario("data out: write() sends one PSH segment per write, seq relative to the ISN", [
  ...established,
  write("abc").returns(3),
  expect(data("abc").seq(1).ack(1)),
  inject(ack().ack(4)),
  write("defg").returns(4),
  expect(data("defg").seq(4)),
  inject(ack().ack(8)),
  expectNothing("1s"),
]);

scenario("data out: a large write is cut into MSS-sized segments (1448 with timestamps)", [
  ...established,
  write(new Uint8Array(3000)).returns(3000),
  expect(ack().payload(1448).seq(1)),
  expect(ack().payload(1448).seq(1449)),
  expect(data(104).seq(2897)),
  inject(ack().ack(3001)),
  expectNothing("1s"),
]);

scenario("Nagle: a small write waits while data is unacknowledged", [
  ...established,
  write("a"),
  expect(data("a")),
  write("b"),
  expectNothing("100ms"),
  inject(ack().ack(2)),
  expect(data("b").seq(2)).within("1ms"),
]);

scenario("delayed ACK: after quick-ACK mode, a lone segment is ACKed 40 ms later", [
  ...established,
  ...Array.from({ length: 16 }, (_, i) => [inject(data("x")), expect(ack().ack(i + 2))]),
  inject(data("y")),
  expect(ack().ack(18)).after("40ms"),
]);
