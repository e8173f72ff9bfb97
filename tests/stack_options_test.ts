// The built-in stack: each SYN option, negotiated or not (RFC 9293 §3.7.1, RFC 7323, RFC 2018).
import {
  accept,
  ack,
  bind,
  connect,
  data,
  expect,
  getsockopt,
  inject,
  listen,
  scenario,
  setsockopt,
  socket,
  syn,
  synAck,
  write,
} from "../mod.ts";

const handshake = (synOpts: string) => [
  listen(8080),
  inject(syn().opts(synOpts)),
];

scenario("MSS: a peer MSS of 1000 caps our segments at 988 bytes (with timestamps)", [
  ...handshake("<mss:1000>"),
  expect(synAck().opts("<mss 1460,sackOK,TS val 0 ecr 100,nop,wscale 10>")),
  inject(ack()),
  accept().returns(4),
  write(new Uint8Array(1500)).returns(1500),
  expect(ack().payload(988).seq(1)),
  expect(data(512).seq(989)),
  getsockopt("TCP_INFO").returns({ sndMss: 988, advmss: 1448 }), // advmss less the TS option, as Linux reports it
]);

scenario("MSS: without the option the peer gets 536 (RFC 9293 §3.7.1), 524 with timestamps", [
  ...handshake("<mss:false>"),
  expect(synAck()),
  inject(ack()),
  accept().returns(4),
  write(new Uint8Array(1000)).returns(1000),
  expect(ack().payload(524).seq(1)),
  expect(data(476).seq(525)),
]);

scenario("TCP_MAXSEG before listen() lowers the MSS we advertise", [
  socket(),
  setsockopt("TCP_MAXSEG", 1200).returns(0),
  bind(8080),
  listen(),
  inject(syn()),
  expect(synAck().opts("<mss 1200,sackOK,TS val 0 ecr 100,nop,wscale 10>")),
]);

scenario("window scale: a shift of 15 is used as 14 (RFC 7323 §2.3)", [
  ...handshake("<wscale:15>"),
  expect(synAck().opts("<mss 1460,sackOK,TS val 0 ecr 100,nop,wscale 10>")),
  inject(ack()),
  accept().returns(4),
  getsockopt("TCP_INFO").returns({ sndWscale: 14, rcvWscale: 10 }),
]);

scenario("window scale: without the peer's option, neither side scales and the window is 65160", [
  ...handshake("<wscale:false>"),
  expect(synAck().win(65160).opts("<mss 1460,sackOK,TS val 0 ecr 100>")),
  inject(ack()),
  accept().returns(4),
  inject(data("hi")),
  expect(ack().ack(3).win(65160)),
  getsockopt("TCP_INFO").returns({ sndWscale: 0, rcvWscale: 0, options: 3 }),
]);

scenario("timestamps: without the peer's TSopt, segments carry no options and 1460 bytes", [
  ...handshake("<ts:false>"),
  expect(synAck().opts("<mss 1460,nop,nop,sackOK,nop,wscale 10>")),
  inject(ack()),
  accept().returns(4),
  write(new Uint8Array(1460)).returns(1460),
  expect(data(1460).seq(1).opts("<>")),
  getsockopt("TCP_INFO").returns({ options: 6, sndMss: 1460 }),
]);

scenario("SACK-permitted: without it, out-of-order data is ACKed with no SACK block", [
  ...handshake("<sackOK:false>"),
  expect(synAck().opts("<mss 1460,nop,nop,TS val 0 ecr 100,nop,wscale 10>")),
  inject(ack()),
  accept().returns(4),
  inject(data(100).seq(201)),
  expect(ack().ack(1).opts("<nop,nop,TS val 0 ecr 100>")),
  getsockopt("TCP_INFO").returns({ options: 5 }),
]);

scenario("active open without the peer's options: MSS 536, no scaling, no SACK, no timestamps", [
  socket(),
  connect(9000).returns(0),
  expect(syn()),
  inject(synAck().seq(0).ack(1).win(5000).opts("<>")),
  expect(ack().seq(1).ack(1).win(64240).opts("<>")),
  getsockopt("TCP_INFO").returns({ options: 0, sndMss: 536, sndWscale: 0, rcvWscale: 0 }),
  write(new Uint8Array(1000)).returns(1000),
  expect(ack().payload(536).seq(1)),
  expect(data(464).seq(537)),
]);
