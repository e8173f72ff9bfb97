// The built-in stack over IPv6: the same TCP, 20 more bytes of IP header (RFC 8200, RFC 8201).
import {
  accept,
  ack,
  close,
  connect,
  data,
  expect,
  finAck,
  getsockopt,
  icmp,
  inject,
  listen,
  packetTooBig,
  read,
  scenario,
  socket,
  syn,
  synAck,
  wait,
  write,
} from "../mod.ts";

const v6 = { family: 6 as const };

scenario("IPv6 passive open: MSS 1440 advertised, 1428 bytes per segment with timestamps", [
  listen(8080),
  inject(syn().opts("<mss:1440>")),
  expect(synAck().win(64260).opts("<mss 1440,sackOK,TS val 0 ecr 100,nop,wscale 10>")),
  inject(ack()),
  accept().returns(4),
  write(new Uint8Array(2000)).returns(2000),
  expect(ack().payload(1428).seq(1)),
  expect(data(572).seq(1429)),
  inject(ack().ack(2001)),
  inject(data("v6 ok")),
  expect(ack().ack(6)),
  read().returns("v6 ok"),
  getsockopt("TCP_INFO").returns({ sndMss: 1428, advmss: 1428 }), // advmss less the TS option, as Linux reports it
], v6);

scenario("IPv6 active open and close", [
  socket({ family: 6 }),
  connect(9000, "fd3d:fa7b:d17d::1").returns(0),
  expect(syn().opts("<mss 1440,sackOK,TS val 0 ecr 0,nop,wscale 10>")),
  inject(synAck().seq(0).ack(1)),
  expect(ack().seq(1).ack(1)),
  close(),
  expect(finAck().seq(1).ack(1)),
  inject(finAck().seq(1).ack(2)),
  expect(ack().seq(2).ack(2)),
], v6);

scenario("IPv6 packet too big lowers the MSS to MTU − 60 (RFC 8201)", [
  listen(8080),
  inject(syn()),
  expect(synAck()),
  inject(ack()),
  accept().returns(4),
  write(new Uint8Array(2000)).returns(2000),
  expect(ack().payload(1428).seq(1)),
  expect(data(572).seq(1429)),
  inject(packetTooBig(1280)),
  expect(ack().payload(1208).seq(1)),
  expect(data(792).seq(1209)),
], v6);

scenario("IPv6 connect() fails with ECONNREFUSED on ICMPv6 port unreachable", [
  socket({ family: 6 }),
  connect(9000, "fd3d:fa7b:d17d::1").fails("ECONNREFUSED"),
  expect(syn()),
  // connect() sleeps by now: an error that meets the socket lock held would only be a soft one.
  wait("50ms"),
  inject(icmp(1, 4)),
], v6);
