/**
 * Story 2 of ../shared/seeds, an active RST: close() while received data is
 * still unread makes Linux reset the connection (RFC 9293 §3.10.4 leaves
 * this open; Linux's tcp_close does it) instead of sending a FIN.
 *
 * Run: `npx deno task synack run examples/rst_unread_data.ts`, or `deno test`.
 */
import {
  accept,
  ack,
  close,
  data,
  expect,
  finAck,
  inject,
  listen,
  read,
  rstAck,
  scenario,
  syn,
  synAck,
} from "../mod.ts";

export const unread = scenario("close() with unread data sends an active RST with ACK", [
  listen(8080),
  inject(syn()),
  expect(synAck()),
  inject(ack()),
  accept().returns(4),
  inject(data("hello")),
  expect(ack().ack(6)),
  close(),
  // tcp_close finds unread data: an active reset, after the socket has gone to CLOSE.
  expect(rstAck().seq(1).ack(6).reason("TCP_ABORT_ON_CLOSE")),
]);

export const readFirst = scenario("the same close after read() sends a FIN", [
  listen(8080),
  inject(syn()),
  expect(synAck()),
  inject(ack()),
  accept().returns(4),
  inject(data("hello")),
  expect(ack().ack(6)),
  read().returns("hello"),
  close(),
  expect(finAck().seq(1).ack(6)),
]);
