// The built-in stack: ICMP errors about its segments (RFC 5927, RFC 1191, RFC 1122 §4.2.3.9).
import {
  ack,
  connect,
  data,
  expect,
  expectNothing,
  fragNeeded,
  getsockopt,
  icmp,
  inject,
  read,
  scenario,
  socket,
  syn,
  sysctl,
  unreachable,
  wait,
  write,
} from "../mod.ts";
import { established } from "./fixtures.ts";

scenario("connect() fails with ECONNREFUSED on ICMP port unreachable", [
  socket(),
  connect(9000).fails("ECONNREFUSED"),
  expect(syn()),
  // connect() sleeps by now: an error that meets the socket lock held would only be a soft one.
  wait("50ms"),
  inject(unreachable("port")),
  expectNothing("2s"),
]);

scenario("connect() fails with EHOSTUNREACH on ICMP host unreachable", [
  socket(),
  connect(9000).fails("EHOSTUNREACH"),
  expect(syn()),
  // connect() sleeps by now: an error that meets the socket lock held would only be a soft one.
  wait("50ms"),
  inject(unreachable("host")),
]);

scenario("connect() fails with ENETUNREACH on ICMP net unreachable", [
  socket(),
  connect(9000).fails("ENETUNREACH"),
  expect(syn()),
  // connect() sleeps by now: an error that meets the socket lock held would only be a soft one.
  wait("50ms"),
  inject(unreachable("net")),
]);

scenario("an ICMP error quoting a sequence number never sent is ignored (RFC 5927 §4.1)", [
  ...established,
  write("hello").returns(5),
  expect(data("hello").named("sent")),
  inject(ack().ack(6)),
  inject(icmp(3, 3).quote("sent")),
  write("again").returns(5),
  expect(data("again").seq(6)),
]);

scenario("frag-needed lowers the MSS to MTU − 40 and resends what no longer fits (RFC 1191)", [
  ...established,
  write(new Uint8Array(2000)).returns(2000),
  expect(ack().payload(1448).seq(1)),
  expect(data(552).seq(1449)),
  inject(fragNeeded(1000)),
  expect(ack().payload(948).seq(1)).within("1ms"),
  expect(ack().payload(948).seq(949)),
  expect(data(104).seq(1897)),
  getsockopt("TCP_INFO").returns({ sndMss: 948 }),
]);

scenario("frag-needed below 552 is raised to the minimum path MTU", [
  ...established,
  write(new Uint8Array(1000)).returns(1000),
  expect(data(1000).seq(1)),
  inject(fragNeeded(300)),
  expect(ack().payload(500).seq(1)),
  expect(data(500).seq(501)),
]);

scenario("while established, host unreachable is a soft error: the timeout reports it", [
  sysctl("net.ipv4.tcp_retries2", 2),
  ...established,
  write("x").returns(1),
  expect(data("x")),
  inject(unreachable("host")),
  // The tail loss probe, then two RTOs; the third ends the connection.
  expect(data("x").seq(1)).after("200ms"),
  expect(data("x").seq(1)).after("200ms"),
  expect(data("x").seq(1)).after("400ms"),
  read().fails("EHOSTUNREACH").after("800ms"),
]);
