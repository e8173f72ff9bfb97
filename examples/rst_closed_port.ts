/**
 * Story 2 of ../shared/seeds, a passive RST: a segment that matches no
 * socket is answered by RFC 9293 §3.10.7.1 (Linux's tcp_v4_send_reset):
 * - with ACK: `<SEQ=SEG.ACK><CTL=RST>`, so `expect(rst()).seqEquals(ack)`;
 * - without: `<SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>`, with SYN and FIN
 *   counted in SEG.LEN.
 * `.answers(segment)` checks the whole rule at once.
 *
 * Run: `npx deno task synack run examples/rst_closed_port.ts`, or `deno test`.
 */
import { ack, expect, expectDrop, inject, rst, rstAck, scenario, syn, tcp } from "../mod.ts";

/** An ACK to port 9, where nothing listens. */
const stray = ack().ports(40000, 9).seq(1).ack(1000);
export const withAck = scenario("closed port, segment with ACK: RST with seq = its ack", [
  inject(stray),
  // No socket took it: the kernel drops it and resets, both for NO_SOCKET.
  expect(rst().reason("NO_SOCKET")).seqEquals(stray),
  expectDrop("NO_SOCKET"),
  inject(stray.named("again")),
  expect(rst().reason("NO_SOCKET")).answers("again"),
]);

const probe = syn().ports(40001, 9).seq(5000);
export const withoutAck = scenario("closed port, SYN: RST+ACK with seq 0, ack = seq + 1", [
  inject(probe),
  expect(rstAck().seq(0).reason("NO_SOCKET")).ackEquals(probe),
  inject(probe.named("retry")),
  expect(rstAck().reason("NO_SOCKET")).answers("retry"),
]);

const finData = tcp({ flags: "FP", seq: 7 }).ports(40002, 9).payload("bye");
export const finAndData = scenario("closed port, FIN with 3 bytes and no ACK: ack = seq + 3 + 1", [
  inject(finData),
  expect(rstAck().seq(0).ack(11).reason("NO_SOCKET")).answers(finData),
]);
