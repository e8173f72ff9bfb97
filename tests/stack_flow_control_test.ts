// The built-in stack: windows and when segments and ACKs go out (RFC 9293 §3.8.6, RFC 5681 §4.2).
import {
  accept,
  ack,
  bind,
  data,
  expect,
  expectNothing,
  getsockopt,
  inject,
  listen,
  profiles,
  read,
  scenario,
  setsockopt,
  socket,
  syn,
  synAck,
  write,
} from "../mod.ts";
import { established } from "./fixtures.ts";

scenario("zero window: probes one byte behind snd.una at RTO, 2×, 4× (persist timer)", [
  ...established,
  inject(ack().win(0)),
  write("hello").returns(5),
  expectNothing("150ms"),
  expect(ack().seq(0).ack(1)).after("50ms"),
  inject(ack().win(0)),
  expect(ack().seq(0).ack(1)).after("400ms"),
  inject(ack().win(0)),
  expect(ack().seq(0).ack(1)).after("800ms"),
  getsockopt("TCP_INFO").returns({ backoff: 3, probes: 1 }),
  expect(ack().seq(0).ack(1)).after("1600ms"),
  getsockopt("TCP_INFO").returns({ backoff: 4, probes: 2 }),
  inject(ack().win(10)),
  expect(data("hello").seq(1)).within("1ms"),
  getsockopt("TCP_INFO").returns({ backoff: 0, probes: 0 }),
]);

scenario("zero window: unanswered probes end the connection after tcp_retries2", [
  ...established,
  inject(ack().win(0)),
  write("x").returns(1),
  expect(ack().seq(0)).after("200ms"),
  expect(ack().seq(0)).after("400ms"),
  expect(ack().seq(0)).after("800ms"),
  read().fails("ETIMEDOUT").after("1600ms"),
], { profile: { ...profiles.linux, name: "retries2-3", dataRetries: 3 } });

const smallRcvBuf = [
  socket(),
  setsockopt("SO_RCVBUF", 2048).returns(0),
  bind(8080),
  listen(),
  inject(syn()),
  expect(synAck().win(1448)),
  inject(ack()),
  accept().returns(4),
];

scenario("receive window: it closes as data waits, and a read reopens it with a window update", [
  ...smallRcvBuf,
  // Linux doubles SO_RCVBUF and offers half of it: 2048 bytes, a 1448-byte window at most.
  getsockopt("SO_RCVBUF").returns({ value: 4096 }),
  // 600 bytes free is less than a segment and less than half the buffer: offer nothing.
  inject(data(1448)),
  expect(ack().ack(1449).win(0)),
  // Data beyond a zero window is not taken; the ACK repeats the window.
  inject(data(100)),
  expect(ack().ack(1449).win(0)),
  read(4096).returns(new Uint8Array(1448)),
  // No window scaling with a locked 4 KB buffer (wscale 0): the window is 1448 again.
  expect(ack().ack(1449).win(1448)).within("1ms"),
]);

scenario("receive window: a small read does not reopen it (receiver SWS avoidance)", [
  ...smallRcvBuf,
  inject(data(1448)),
  expect(ack().ack(1449).win(0)),
  read(100).returns(new Uint8Array(100)),
  expectNothing("1s"),
]);

const noQuickAck = { profile: { ...profiles.linux, name: "no-quickack", quickAcks: 0 } };

scenario("delayed ACK: every second full-sized segment is ACKed at once", [
  ...established,
  inject(data(1448)),
  expectNothing("10ms"),
  inject(data(1448)),
  expect(ack().ack(2897)).within("1ms"),
  inject(data(1448)),
  expect(ack().ack(4345)).after("40ms"),
], noQuickAck);

scenario("delayed ACK: a small segment waits 40 ms; data to send carries the ACK sooner", [
  ...established,
  inject(data("ping")),
  expectNothing("30ms"),
  write("pong").returns(4),
  expect(data("pong").seq(1).ack(5)).within("1ms"),
  expectNothing("100ms"),
], noQuickAck);

scenario("TCP_NODELAY: small writes go out at once even with data unacknowledged", [
  ...established,
  setsockopt("TCP_NODELAY", true).returns(0),
  write("a").returns(1),
  expect(data("a").seq(1)),
  write("b").returns(1),
  expect(data("b").seq(2)).within("1ms"),
  getsockopt("TCP_NODELAY").returns({ value: true }),
]);

scenario("Nagle: small writes coalesce into one segment once the first is ACKed", [
  ...established,
  write("a").returns(1),
  expect(data("a").seq(1)),
  write("b").returns(1),
  write("c").returns(1),
  expectNothing("50ms"),
  inject(ack().ack(2)),
  expect(data("bc").seq(2)).within("1ms"),
]);

scenario("TCP_CORK: only full segments leave until uncorked", [
  ...established,
  setsockopt("TCP_CORK", true).returns(0),
  write(new Uint8Array(1448)).returns(1448),
  expect(ack().flags("P.").payload(1448).seq(1)),
  inject(ack().ack(1449)),
  write("abc").returns(3),
  expectNothing("100ms"),
  setsockopt("TCP_CORK", false).returns(0),
  expect(data(3).seq(1449)).within("1ms"),
]);

scenario("TCP_CORK: a corked partial segment leaves after 200 ms (the probe timer's ceiling)", [
  ...established,
  setsockopt("TCP_CORK", true).returns(0),
  write("abc").returns(3),
  expect(data("abc")).after("200ms"),
]);
