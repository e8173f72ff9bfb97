// The built-in stack: keepalive (RFC 1122 §4.2.3.6, Linux tcp_keepalive_timer).
import {
  ack,
  expect,
  expectNothing,
  getsockopt,
  inject,
  read,
  rstAck,
  scenario,
  setsockopt,
  sysctl,
} from "../mod.ts";
import { established } from "./fixtures.ts";

scenario("keepalive: probe after TCP_KEEPIDLE, every TCP_KEEPINTVL, reset after TCP_KEEPCNT", [
  ...established,
  setsockopt("SO_KEEPALIVE", true).returns(0),
  setsockopt("TCP_KEEPIDLE", 10).returns(0),
  setsockopt("TCP_KEEPINTVL", 5).returns(0),
  setsockopt("TCP_KEEPCNT", 3).returns(0),
  expect(ack().seq(0).ack(1)).after("10s"),
  // An answer proves the peer alive: the next probe waits a whole idle period.
  inject(ack()),
  expect(ack().seq(0).ack(1)).after("10s"),
  expect(ack().seq(0).ack(1)).after("5s"),
  getsockopt("TCP_INFO").returns({ probes: 2 }),
  expect(ack().seq(0).ack(1)).after("5s"),
  expect(rstAck().seq(1).ack(1)).after("5s"),
  read().fails("ETIMEDOUT"),
]);

scenario("keepalive: the sysctls set the defaults; without SO_KEEPALIVE nothing is sent", [
  sysctl("net.ipv4.tcp_keepalive_time", 30),
  sysctl("net.ipv4.tcp_keepalive_intvl", 2),
  sysctl("net.ipv4.tcp_keepalive_probes", 1),
  ...established,
  expectNothing("60s"),
  setsockopt("SO_KEEPALIVE", true).returns(0),
  getsockopt("TCP_KEEPIDLE").returns({ value: 30 }),
  expect(ack().seq(0)).after("30s"),
  expect(rstAck().seq(1)).after("2s"),
]);

scenario("keepalive: out-of-range TCP_KEEPIDLE and TCP_KEEPCNT fail with EINVAL", [
  ...established,
  setsockopt("TCP_KEEPIDLE", 0).fails("EINVAL"),
  setsockopt("TCP_KEEPCNT", 128).fails("EINVAL"),
]);
