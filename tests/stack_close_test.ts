// The built-in stack: teardown from either side, TIME-WAIT (RFC 9293 §3.6).
import {
  ack,
  close,
  data,
  expect,
  expectNothing,
  fin,
  finAck,
  getsockopt,
  inject,
  read,
  rst,
  scenario,
  setsockopt,
  shutdown,
  wait,
  write,
} from "../mod.ts";
import { established } from "./fixtures.ts";

scenario("active close: FIN-WAIT-1, FIN-WAIT-2, TIME-WAIT for 60 s, then CLOSED", [
  ...established,
  close(),
  expect(finAck().seq(1).ack(1)),
  inject(ack().ack(2)),
  inject(finAck().seq(1).ack(2)),
  expect(ack().seq(2).ack(2)),
  // A retransmitted FIN in TIME-WAIT is ACKed again.
  wait("10s"),
  inject(finAck().seq(1).ack(2)),
  expect(ack().seq(2).ack(2)),
  // A bare ACK in TIME-WAIT is dropped, and restarts the 60 s as a FIN does (Linux
  // tcp_timewait_state_process). 60 s after the last, TIME-WAIT ends: a late ACK meets no
  // socket. Linux's timer wheel rounds a 60 s timer up to its level's 512 jiffies (2.048 s at
  // HZ=250), so the end is certain only 62.1 s on.
  wait("59s"),
  inject(ack().seq(2).ack(2).named("late1")),
  expectNothing("100ms"),
  wait("62s"),
  inject(ack().seq(2).ack(2).named("late2")),
  expect(rst()).answers("late2"),
], { strict: "fail" });

scenario("passive close: CLOSE-WAIT, then LAST-ACK, then CLOSED", [
  ...established,
  inject(finAck()),
  expect(ack().ack(2)),
  getsockopt("TCP_INFO").returns({ state: "CLOSE_WAIT" }),
  read().returns(""),
  close(),
  expect(finAck().seq(1).ack(2)),
  inject(ack().seq(2).ack(2)),
  getsockopt("TCP_INFO").on(3).returns({ state: "LISTEN" }),
]);

scenario("a FIN after data waits for the delayed-ACK timer, 40 ms (Linux tcp_fin: pingpong mode)", [
  ...established,
  inject(data("hello")),
  expect(ack().seq(1).ack(6)),
  read().returns("hello"),
  inject(finAck().seq(6)),
  // At least 36 ms: 40 ms of ato on a 4 ms tick. When it comes after that is the machine's.
  expectNothing("30ms"),
  expect(ack().seq(1).ack(7)).within("500ms"),
  getsockopt("TCP_INFO").returns({ state: "CLOSE_WAIT" }),
]);

scenario("a FIN with data waits for the delayed-ACK timer too; a reply before it carries the ACK", [
  ...established,
  inject(data("hello")),
  expect(ack().seq(1).ack(6)),
  inject(finAck().seq(6).payload("world")),
  expectNothing("20ms"),
  write("bye"),
  expect(ack().flags("P.").seq(1).ack(12).payload("bye")),
  expectNothing("100ms"),
]);

scenario("gVisor's netstack ACKs a FIN at once: it has no pingpong mode", [
  ...established,
  inject(data("hello")),
  expect(ack().seq(1).ack(6)),
  inject(finAck().seq(6)),
  expect(ack().seq(1).ack(7)).within("5ms"),
], { profile: "gvisor" });

scenario("simultaneous close: FIN-WAIT-1 → CLOSING → TIME-WAIT", [
  ...established,
  shutdown("SHUT_WR"),
  expect(finAck().seq(1).ack(1)),
  inject(finAck().seq(1).ack(1)),
  expect(ack().seq(2).ack(2)),
  getsockopt("TCP_INFO").returns({ state: "CLOSING" }),
  inject(ack().seq(2).ack(2)),
  // TIME-WAIT belongs to a timewait sock in Linux; the socket the fd still names is closed.
  getsockopt("TCP_INFO").returns({ state: "CLOSE" }),
]);

scenario("a FIN without ACK in ESTABLISHED is dropped (RFC 9293: no ACK bit, drop)", [
  ...established,
  inject(fin()),
  expectNothing("1s"),
  getsockopt("TCP_INFO").returns({ state: "ESTABLISHED" }),
]);

scenario("a reset in ESTABLISHED: exact seq resets, read() fails with ECONNRESET", [
  ...established,
  inject(rst().seq(1)),
  read().fails("ECONNRESET"),
]);

scenario("an in-window reset with the wrong seq gets a challenge ACK (RFC 5961 §3.2)", [
  ...established,
  inject(rst().seq(100)),
  expect(ack().seq(1).ack(1)),
  getsockopt("TCP_INFO").returns({ state: "ESTABLISHED" }),
]);

scenario("SO_LINGER {1, 2}: close() returns once the FIN is acknowledged", [
  ...established,
  setsockopt("SO_LINGER", { onoff: true, linger: 2 }).returns(0),
  write("bye").returns(3),
  expect(data("bye")),
  close().returns(0).after("100ms"),
  expect(finAck().seq(4).ack(1)),
  // Data and FIN are two segments in flight: a tail loss probe repeats the FIN 2·SRTT + 2 ms on.
  expect(finAck().seq(4).ack(1)).within("50ms"),
  wait("100ms"),
  inject(ack().ack(5)),
]);

scenario("SO_LINGER {1, 1}: an unacknowledged FIN holds close() for the linger time", [
  ...established,
  setsockopt("SO_LINGER", { onoff: true, linger: 1 }).returns(0),
  close().returns(0).after("1s"),
  expect(finAck().seq(1).ack(1)),
  // The FIN is retransmitted meanwhile (a tail loss probe, then the RTO).
  expect(finAck().seq(1).ack(1)).after("200ms"),
  expect(finAck().seq(1).ack(1)).after("200ms"),
  expect(finAck().seq(1).ack(1)).after("400ms"),
], { strict: "ignore" });
