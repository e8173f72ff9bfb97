// The built-in stack: retransmission timing on the virtual clock (RFC 6298).
import {
  accept,
  ack,
  connect,
  data,
  expect,
  getsockopt,
  inject,
  listen,
  range,
  scenario,
  socket,
  syn,
  synAck,
  write,
} from "../mod.ts";

scenario(
  "SYN retransmission: five at 1 s (tcp_syn_linear_timeouts), then doubling; ETIMEDOUT after 10",
  [
    socket(),
    connect(9000).fails("ETIMEDOUT").after("131s"),
    expect(syn()),
    ...Array.from({ length: 5 }, () => expect(syn()).after("1s")),
    expect(syn()).after("2s"),
    getsockopt("TCP_INFO").returns({ state: "SYN_SENT", retransmits: 6, backoff: 2 }),
    expect(syn()).after("4s"),
    expect(syn()).after("8s"),
    expect(syn()).after("16s"),
    expect(syn()).after("32s"),
  ],
);

scenario("data retransmission: a tail loss probe, then the RTO (200 ms floor) with backoff", [
  listen(8080),
  inject(syn()),
  expect(synAck()),
  inject(ack()),
  accept().returns(4),
  write("hello"),
  expect(data("hello").seq(1)),
  // RFC 8985 §7: a lone segment is probed 2·SRTT + 200 ms after it went out.
  expect(data("hello").seq(1)).after("200ms"),
  // Then the RTO: 200 ms (Linux's floor), doubling each time.
  expect(data("hello").seq(1)).after("200ms"),
  expect(data("hello").seq(1)).after("400ms"),
  expect(data("hello").seq(1)).after("800ms"),
  getsockopt("TCP_INFO").returns({
    retransmits: 3,
    backoff: 3,
    totalRetrans: 4,
    // 8 × 200 ms; the kernel adds its measured SRTT.
    rto: range(1_600_000, 1_700_000),
  }),
  inject(ack().ack(6)),
  getsockopt("TCP_INFO").returns({ retransmits: 0, backoff: 0 }),
]);

scenario("SYN-ACK retransmission when the final ACK is lost, then the handshake completes", [
  listen(8080),
  inject(syn()),
  expect(synAck()),
  expect(synAck()).after("1s"),
  inject(ack()),
  accept().returns(4),
]);
