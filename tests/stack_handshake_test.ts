// The built-in stack: connection setup, both directions (RFC 9293 §3.5).
import {
  accept,
  ack,
  any,
  connect,
  expect,
  getsockopt,
  inject,
  listen,
  rst,
  rstAck,
  scenario,
  socket,
  syn,
  synAck,
} from "../mod.ts";

scenario("passive open: SYN-ACK carries Linux's options and window", [
  listen(8080),
  inject(syn()),
  expect(synAck().win(65160).opts("<mss 1460,sackOK,TS val 0 ecr 100,nop,wscale 10>")),
  inject(ack()),
  accept().returns(4),
  getsockopt("TCP_INFO").returns({ state: "ESTABLISHED", sndWscale: 7, rcvWscale: 10, options: 7 }),
]);

scenario("active open: SYN, then ESTABLISHED on the SYN-ACK", [
  socket(),
  connect(9000).returns(0),
  expect(syn().ports(any, 9000).win(64240).opts("<mss 1460,sackOK,TS val 0 ecr 0,nop,wscale 10>")),
  inject(synAck().seq(0).ack(1)),
  expect(ack().seq(1).ack(1)),
  getsockopt("TCP_INFO").returns({ state: "ESTABLISHED" }),
]);

scenario("active open refused: RST+ACK makes connect() fail with ECONNREFUSED", [
  socket(),
  connect(9000).fails("ECONNREFUSED"),
  expect(syn()),
  inject(rstAck().seq(0).ack(1)),
  getsockopt("SO_ERROR").returns(0),
]);

scenario("non-blocking connect returns EINPROGRESS", [
  socket({ nonblock: true }),
  connect(9000).fails("EINPROGRESS"),
  expect(syn()),
  inject(synAck().seq(0).ack(1)),
  expect(ack()),
  // Linux reports the finished handshake to the next connect(), then says EISCONN.
  connect(9000).returns(0),
  connect(9000).fails("EISCONN"),
]);

scenario("an ACK to a listener that acknowledges nothing sent gets RST seq = its ack", [
  listen(8080),
  inject(ack().seq(1).ack(777).named("bogus")),
  expect(rst()).answers("bogus"),
]);

scenario("in SYN-RECV a bad ACK gets a reset and the handshake can still finish", [
  listen(8080),
  inject(syn()),
  expect(synAck()),
  inject(ack().ack(99).named("bad")),
  expect(rst()).seqEquals("bad"),
  inject(ack()),
  accept().returns(4),
]);
