// The built-in stack: NewReno fast retransmit and recovery (RFC 5681, RFC 6582) and RTO recovery.
import {
  ack,
  data,
  expect,
  expectNothing,
  getsockopt,
  inject,
  scenario,
  syn,
  synAck,
  write,
} from "../mod.ts";
import { flight, MSS, sender } from "./fixtures.ts";

const noSack = sender(
  syn().opts("<sackOK:false>"),
  synAck().opts("<mss 1460,nop,nop,TS val 0 ecr 100,nop,wscale 10>"),
);

scenario("slow start: cwnd grows by what each ACK covers (Linux tcp_slow_start, RFC 3465)", [
  ...noSack,
  write(new Uint8Array(14 * MSS)).returns(14 * MSS),
  ...flight(10),
  expectNothing("10ms"),
  inject(ack().ack(1 + 2 * MSS)),
  ...flight(3, 10),
  expect(data(MSS).seq(1 + 13 * MSS)),
  getsockopt("TCP_INFO").returns({ sndCwnd: 12, caState: 0 }),
]);

scenario("NewReno: the third duplicate ACK retransmits; cwnd = ssthresh + 3 segments (RFC 6582)", [
  ...noSack,
  write(new Uint8Array(10 * MSS)).returns(10 * MSS),
  ...flight(9),
  expect(data(MSS).seq(1 + 9 * MSS)),
  inject(ack().ack(1)),
  inject(ack().ack(1)),
  expectNothing("10ms"),
  inject(ack().ack(1)),
  expect(ack().payload(MSS).seq(1)).within("1ms"),
  getsockopt("TCP_INFO").returns({ caState: 3, sndSsthresh: 5, sndCwnd: 8 }),
  // Each further duplicate inflates cwnd by a segment.
  inject(ack().ack(1)),
  getsockopt("TCP_INFO").returns({ sndCwnd: 9 }),
]);

scenario("NewReno: a partial ACK retransmits the next hole at once; the full ACK ends recovery", [
  ...noSack,
  write(new Uint8Array(10 * MSS)).returns(10 * MSS),
  ...flight(9),
  expect(data(MSS).seq(1 + 9 * MSS)),
  inject(ack().ack(1)),
  inject(ack().ack(1)),
  inject(ack().ack(1)),
  expect(ack().payload(MSS).seq(1)),
  inject(ack().ack(1 + 3 * MSS)),
  expect(ack().payload(MSS).seq(1 + 3 * MSS)).within("1ms"),
  getsockopt("TCP_INFO").returns({ caState: 3 }),
  inject(ack().ack(1 + 10 * MSS)),
  getsockopt("TCP_INFO").returns({ caState: 0, sndCwnd: 5, sndSsthresh: 5, totalRetrans: 2 }),
  expectNothing("1s"),
]);

scenario("RTO recovery: one-segment window, go back to snd.una, slow start again (RFC 5681 §3.1)", [
  ...noSack,
  write(new Uint8Array(4 * MSS)).returns(4 * MSS),
  ...flight(3),
  expect(data(MSS).seq(1 + 3 * MSS)),
  expect(ack().payload(MSS).seq(1)).after("200ms"),
  getsockopt("TCP_INFO").returns({ caState: 4, sndCwnd: 1, sndSsthresh: 2, backoff: 1, lost: 4 }),
  inject(ack().ack(1 + MSS)),
  expect(ack().payload(MSS).seq(1 + MSS)),
  expect(ack().payload(MSS).seq(1 + 2 * MSS)),
  getsockopt("TCP_INFO").returns({ caState: 4, sndCwnd: 2, backoff: 0 }),
  inject(ack().ack(1 + 4 * MSS)),
  getsockopt("TCP_INFO").returns({ caState: 0, unacked: 0 }),
]);

scenario("duplicate ACKs after a timeout do not start fast retransmit (RFC 6582 §3.2 step 2)", [
  ...noSack,
  write(new Uint8Array(4 * MSS)).returns(4 * MSS),
  ...flight(3),
  expect(data(MSS).seq(1 + 3 * MSS)),
  expect(ack().payload(MSS).seq(1)).after("200ms"),
  inject(ack().ack(1)),
  inject(ack().ack(1)),
  inject(ack().ack(1)),
  expectNothing("100ms"),
  expect(ack().payload(MSS).seq(1)).after("300ms"),
]);
