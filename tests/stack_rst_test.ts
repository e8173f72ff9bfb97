// The built-in stack: resets and attack resistance (RFC 9293 §3.10.7, RFC 5961, RFC 7323 §5).
import {
  accept,
  ack,
  connect,
  data,
  expect,
  expectNothing,
  getsockopt,
  inject,
  listen,
  profiles,
  range,
  read,
  rst,
  rstAck,
  scenario,
  socket,
  syn,
  synAck,
  sysctl,
  wait,
  write,
} from "../mod.ts";
import { established } from "./fixtures.ts";

scenario("SYN-SENT: a reset without ACK is ignored; the handshake still completes", [
  socket(),
  connect(9000).returns(0),
  expect(syn()),
  inject(rst().seq(0)),
  expectNothing("500ms"),
  inject(synAck().seq(0).ack(1)),
  expect(ack().seq(1).ack(1)),
]);

scenario("SYN-SENT: an RST+ACK that does not acknowledge our SYN is ignored", [
  socket(),
  connect(9000).returns(0),
  expect(syn()),
  inject(rstAck().seq(0).ack(77)),
  // Linux tries the SYN again at once (TCP_TIMEOUT_MIN): the reset may be an old connection's.
  expect(syn()).within("20ms"),
  expectNothing("500ms"),
  inject(synAck().seq(0).ack(1)),
  expect(ack().seq(1).ack(1)),
]);

scenario("SYN-SENT: the rfc9293 profile reports an accepted reset as ECONNRESET", [
  socket(),
  connect(9000).fails("ECONNRESET"),
  expect(syn()),
  inject(rstAck().seq(0).ack(1)),
], { profile: { ...profiles.linux, name: "rfc9293-rst", synSentRst: "rfc9293" } });

scenario("SYN-RECEIVED: a reset returns a passive open to LISTEN quietly", [
  listen(8080),
  inject(syn()),
  expect(synAck()),
  inject(rst().seq(1)),
  expectNothing("500ms"),
  inject(syn().seq(1000)),
  expect(synAck().ack(1)),
]);

scenario("CLOSE-WAIT: an exact reset aborts; read() sees the FIN's EOF, write() fails with EPIPE", [
  ...established,
  inject(ack().seq(1).ack(1).flags("F.")),
  expect(ack().ack(2)),
  inject(rst().seq(2)),
  // Linux tcp_recvmsg: the FIN came first, so read() returns EOF, not the reset's error.
  read().returns(""),
  getsockopt("TCP_INFO").returns({ state: "CLOSE" }),
  // tcp_reset in CLOSE-WAIT records EPIPE.
  write("x").fails("EPIPE"),
]);

scenario("a SYN in ESTABLISHED gets a challenge ACK and changes nothing (RFC 5961 §4)", [
  ...established,
  inject(syn().seq(777)),
  expect(ack().seq(1).ack(1)),
  getsockopt("TCP_INFO").returns({ state: "ESTABLISHED" }),
]);

scenario("challenge ACKs: one per 500 ms per connection (net.ipv4.tcp_invalid_ratelimit)", [
  ...established,
  inject(rst().seq(100)),
  expect(ack().seq(1).ack(1)),
  inject(rst().seq(200)),
  expectNothing("400ms"),
  wait("100ms"),
  inject(rst().seq(300)),
  expect(ack().seq(1).ack(1)).within("1ms"),
]);

scenario(
  "challenge ACKs: a limit of 1 answers one challenge each second (net.ipv4.tcp_challenge_ack_limit)",
  [
    sysctl("net.ipv4.tcp_invalid_ratelimit", 0),
    sysctl("net.ipv4.tcp_challenge_ack_limit", 1),
    ...established,
    inject(rst().seq(100)),
    expect(ack().seq(1).ack(1)),
    // Each second draws its budget in [⌈limit/2⌉, limit + ⌈limit/2⌉ − 1], so exactly 1 here; a
    // second challenge now would be answered only if a second began in between.
    wait("1100ms"),
    inject(syn().seq(200)),
    expect(ack().seq(1).ack(1)),
  ],
);

scenario("an ACK older than snd.una − max window is challenged and dropped (RFC 5961 §5.2)", [
  ...established,
  inject(data("x").seq(1).ack(0x90000000)),
  expect(ack().seq(1).ack(1)),
  inject(data("y").seq(1)),
  expect(ack().seq(1).ack(2)),
  read().returns("y"),
], { strict: "fail" });

scenario("PAWS: a segment with an older timestamp is dropped and ACKed (RFC 7323 §5.3)", [
  ...established,
  wait("1s"),
  inject(data("new").opts({ ts: { val: 50, ecr: 0 } })),
  expect(ack().seq(1).ack(1)),
  inject(data("new").seq(1)),
  expect(ack().seq(1).ack(4)),
  read().returns("new"),
]);

scenario("PAWS: a reset with an old timestamp still resets (RFC 7323 §5.3 exempts RST)", [
  ...established,
  wait("1s"),
  inject(rst().seq(1).opts({ ts: { val: 50, ecr: 0 } })),
  read().fails("ECONNRESET"),
]);

scenario("RTT from timestamps: a SYN-ACK answered after 100 ms gives srtt 100 ms, RTO 300 ms", [
  listen(8080),
  inject(syn()),
  expect(synAck()),
  wait("100ms"),
  inject(ack()),
  accept().returns(4),
  // First sample R (RFC 6298 §2.2): srtt R, rttvar R/2, RTO srtt + 4·rttvar. Exact on the
  // virtual clock; a real one adds the script's own few milliseconds.
  getsockopt("TCP_INFO").returns({
    rtt: range(100_000, 110_000),
    rttvar: range(50_000, 55_000),
    rto: range(300_000, 330_000),
  }),
]);
