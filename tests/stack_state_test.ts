// The built-in stack: the state machine's less common paths (RFC 9293 §3.5, §3.6, §3.10).
import {
  accept,
  ack,
  close,
  connect,
  data,
  expect,
  expectNothing,
  finAck,
  getsockopt,
  inject,
  listen,
  read,
  rst,
  scenario,
  shutdown,
  socket,
  syn,
  synAck,
  sysctl,
  wait,
  write,
} from "../mod.ts";
import { established } from "./fixtures.ts";

scenario("simultaneous open: SYN-SENT → SYN-RECEIVED → ESTABLISHED (RFC 9293 figure 8)", [
  socket(),
  connect(9000).returns(0),
  expect(syn()),
  inject(syn().seq(0)),
  expect(synAck().seq(0).ack(1)),
  getsockopt("TCP_INFO").returns({ state: "SYN_RECV" }),
  inject(synAck().seq(0).ack(1)),
  // The SYN-ACK repeats the SYN's sequence number: ACKed with a D-SACK for it (sack 0:1).
  expect(ack().seq(1).ack(1).opts("<nop,nop,TS val 0 ecr 100,nop,nop,sack 0:1>")),
  getsockopt("TCP_INFO").returns({ state: "ESTABLISHED" }),
  write("hi").returns(2),
  expect(data("hi").seq(1).ack(1)),
]);

scenario("SYN-RECEIVED: a retransmitted SYN gets the same SYN-ACK again", [
  listen(8080),
  inject(syn()),
  expect(synAck().seq(0).ack(1)),
  inject(syn().seq(0)),
  expect(synAck().seq(0).ack(1)).within("1ms"),
  inject(ack()),
  accept().returns(4),
]);

scenario("a FIN in SYN-RECEIVED with the handshake's ACK: ESTABLISHED, then CLOSE-WAIT", [
  listen(8080),
  inject(syn()),
  expect(synAck()),
  inject(finAck().seq(1).ack(1)),
  expect(ack().seq(1).ack(2)),
  accept().returns(4),
  getsockopt("TCP_INFO").returns({ state: "CLOSE_WAIT" }),
  read().returns(""),
]);

scenario("half-close: after shutdown(SHUT_WR) data still arrives and is read (FIN-WAIT-2)", [
  ...established,
  shutdown("SHUT_WR"),
  expect(finAck().seq(1).ack(1)),
  inject(ack().ack(2)),
  getsockopt("TCP_INFO").returns({ state: "FIN_WAIT2" }),
  inject(data("late reply").ack(2)),
  expect(ack().seq(2).ack(11)),
  read().returns("late reply"),
  write("more").fails("EPIPE"),
  inject(finAck().seq(11).ack(2)),
  expect(ack().seq(2).ack(12)),
  getsockopt("TCP_INFO").returns({ state: "CLOSE" }), // the fd's socket; TIME-WAIT lives in a timewait sock,
]);

scenario("FIN-WAIT-2 after close(): the orphan waits tcp_fin_timeout (60 s), then is gone", [
  ...established,
  close(),
  expect(finAck().seq(1).ack(1)),
  inject(ack().ack(2)),
  wait("59s"),
  inject(ack().ack(2).named("alive")),
  expectNothing("500ms"),
  // Certain by 62.1 s: the timer wheel may add up to 2.048 s to a 60 s timer (HZ=250).
  wait("3s"),
  inject(ack().ack(2).named("late")),
  expect(rst()).answers("late"),
]);

scenario("FIN-WAIT-2 timeout follows net.ipv4.tcp_fin_timeout", [
  sysctl("net.ipv4.tcp_fin_timeout", 5),
  ...established,
  close(),
  expect(finAck()),
  inject(ack().ack(2)),
  // The timer wheel may add up to 64 jiffies (256 ms at HZ=250) to a 5 s timer.
  wait("5300ms"),
  inject(ack().ack(2).named("late")),
  expect(rst()).answers("late"),
]);

scenario("data for a closed socket in FIN-WAIT-1 is answered with a reset (Linux TCPAbortOnData)", [
  ...established,
  close(),
  expect(finAck().seq(1).ack(1)),
  inject(data("too late").named("d")),
  expect(rst()).answers("d"),
  getsockopt("TCP_INFO").on(3).returns({ state: "LISTEN" }),
]);

scenario("LAST-ACK: the FIN is retransmitted until ACKed", [
  ...established,
  inject(finAck()),
  expect(ack().ack(2)),
  close(),
  expect(finAck().seq(1).ack(2)),
  expect(finAck().seq(1).ack(2)).after("200ms"),
  getsockopt("TCP_INFO").on(3).returns({ state: "LISTEN" }),
  inject(ack().seq(2).ack(2)),
  expectNothing("1s"),
]);

scenario("TIME-WAIT reuse: a newer SYN opens a new connection with ISN snd.nxt + 65537", [
  ...established,
  close(),
  expect(finAck().seq(1).ack(1)),
  inject(finAck().seq(1).ack(2)),
  expect(ack().seq(2).ack(2)),
  wait("1s"),
  inject(syn().seq(5000)),
  expect(synAck().seq(65539).ack(1)),
  inject(ack()),
  accept().returns(4),
]);

scenario("TIME-WAIT: a SYN with an old timestamp is answered with an ACK, not a connection", [
  ...established,
  close(),
  expect(finAck().seq(1).ack(1)),
  inject(finAck().seq(1).ack(2)),
  expect(ack().seq(2).ack(2)),
  wait("1s"),
  inject(syn().seq(5000).opts({ ts: { val: 50, ecr: 0 } })),
  expect(ack().seq(2).ack(2)),
]);

scenario("listen backlog 0 admits one connection; the next SYN is dropped until accept()", [
  listen(8080, 0),
  inject(syn()),
  expect(synAck()),
  inject(ack()),
  inject(syn().ports(40001, 8080)),
  expectNothing("500ms"),
  accept().returns(4),
  inject(syn().ports(40001, 8080)),
  expect(synAck().ports(8080, 40001)),
]);

// listen(fd, 1) holds two connections (Linux: full once more than the backlog wait). Each SYN
// finds room in the request queue: with more requests pending than the backlog, the answer would
// be a SYN cookie (the scenarios above).
const fillQueue = [
  listen(8080, 1),
  inject(syn()),
  expect(synAck()),
  inject(ack()),
  inject(syn().ports(40001, 8080)),
  expect(synAck().ports(8080, 40001)),
  inject(ack().ports(40001, 8080)),
  inject(syn().ports(40002, 8080)),
];

/** listen(fd, 1) with two requests waiting: a third SYN is one more than the backlog. */
const twoRequestsWaiting = [
  listen(8080, 1),
  inject(syn()),
  expect(synAck()),
  inject(syn().ports(40001, 8080)),
  expect(synAck().ports(8080, 40001)),
];

scenario(
  "SYN cookies: a SYN beyond the backlog gets a cookie, which is never repeated; its ACK connects",
  [
    ...twoRequestsWaiting,
    inject(syn().ports(40002, 8080)),
    expect(synAck().ports(8080, 40002)),
    // The two requests repeat their SYN-ACKs after 1 s; the cookie left nothing to repeat.
    expectNothing("1500ms", synAck().ports(8080, 40002)),
    inject(ack().ports(40002, 8080)),
    accept().returns(4),
    getsockopt("TCP_INFO").returns({ state: "ESTABLISHED", sndWscale: 7, rcvWscale: 10 }),
    write("hi"),
    expect(data("hi").ports(8080, 40002)),
  ],
);

scenario("SYN cookies without the peer's timestamps: the SYN-ACK offers only the MSS", [
  ...twoRequestsWaiting,
  inject(syn().ports(40002, 8080).opts("<mss 1460,sackOK,nop,wscale 7>")),
  expect(synAck().ports(8080, 40002).opts("<mss 1460>")),
  inject(ack().ports(40002, 8080).opts("<>")),
  accept().returns(4),
  getsockopt("TCP_INFO").returns({ state: "ESTABLISHED", sndWscale: 0, rcvWscale: 0 }),
]);

scenario("SYN cookies: an ACK that does not carry the cookie is reset by the listener", [
  ...twoRequestsWaiting,
  inject(syn().ports(40002, 8080)),
  expect(synAck().ports(8080, 40002)),
  inject(ack().ports(40002, 8080).ack(1000).named("wrong")),
  expect(rst().ports(8080, 40002)).seqEquals("wrong"),
]);

scenario("tcp_syncookies = 0: a SYN beyond the backlog is dropped", [
  sysctl("net.ipv4.tcp_syncookies", 0),
  ...twoRequestsWaiting,
  inject(syn().ports(40002, 8080)),
  expectNothing("500ms", synAck().ports(8080, 40002)),
]);

scenario("full accept queue: the SYN is dropped; after accept() it is answered", [
  ...fillQueue,
  expectNothing("500ms"),
  accept().returns(4),
  inject(syn().ports(40002, 8080)),
  expect(synAck().ports(8080, 40002)),
]);

/** 40000 and 40001 fill the queue of listen(fd, 1); 40002's SYN-ACK is out, its ACK not yet. */
const twoAcceptedOneWaiting = [
  listen(8080, 1),
  inject(syn()),
  expect(synAck()),
  inject(syn().ports(40001, 8080)),
  expect(synAck().ports(8080, 40001)),
  inject(ack().ports(40000, 8080)),
  inject(syn().ports(40002, 8080)),
  expect(synAck().ports(8080, 40002)),
  inject(ack().ports(40001, 8080)),
];

scenario("accept queue full when the final ACK comes: dropped, and the SYN-ACK retransmitted", [
  ...twoAcceptedOneWaiting,
  inject(ack().ports(40002, 8080)),
  // Dropped: no connection yet, and the request's SYN-ACK timer (1 s) sends it again.
  expect(synAck().ports(8080, 40002)).after("1s"),
  accept().returns(4),
  inject(ack().ports(40002, 8080)),
  accept().returns(5),
  accept().returns(6),
]);

scenario("accept queue full with tcp_abort_on_overflow: the final ACK is reset", [
  sysctl("net.ipv4.tcp_abort_on_overflow", 1),
  ...twoAcceptedOneWaiting,
  inject(ack().ports(40002, 8080).named("late")),
  expect(rst().ports(8080, 40002)).seqEquals("late"),
]);
