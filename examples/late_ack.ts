/**
 * Story 3 of ../shared/seeds, Docker NAT and a late ACK. The container's
 * upload stalls because a duplicate ACK, delayed in the network, reaches
 * the host after conntrack has seen later ones: conntrack marks it INVALID,
 * NAT does not translate it, and the host's own stack, which has no socket
 * for that tuple, answers with a passive reset that kills the upload.
 *
 * The endpoint halves of the story, on the built-in stack:
 * - the container's socket, which the late ACK was meant for, ignores it
 *   (an ACK below snd.una is old news, RFC 9293 §3.10.7.4 fifth);
 * - the host, which sees it un-NATed, has no socket: RST with seq = its ack.
 * The conntrack half is examples/docker_conntrack.ts, on the conntrack model
 * and on real netfilter.
 *
 * Run: `npx deno task synack run examples/late_ack.ts`, or `deno test`.
 */
import {
  accept,
  ack,
  data,
  expect,
  expectDrop,
  expectNothing,
  inject,
  listen,
  rst,
  scenario,
  syn,
  synAck,
  wait,
  write,
} from "../mod.ts";

export const ignored = scenario("a late duplicate ACK is ignored by the connection it belongs to", [
  listen(443),
  inject(syn()),
  expect(synAck()),
  // A 100 ms round trip: the stack's loss probe and RTO (2·SRTT and more) then leave the
  // script 200 ms to acknowledge the data below, however busy the machine running it is.
  wait("100ms"),
  inject(ack()),
  accept().returns(4),
  write(new Uint8Array(2000)).returns(2000),
  expect(ack().payload(1448).seq(1)),
  expect(data(552).seq(1449)),
  inject(ack().ack(1449)),
  inject(ack().ack(2001)),
  // The delayed duplicate: below snd.una, so neither a reset nor a reply.
  inject(ack().ack(1449)),
  expectNothing("1s"),
  write("more").returns(4),
  expect(data("more").seq(2001)),
], { strict: "fail" });

/** The same late ACK as the host sees it: addressed to a tuple it has no socket for. */
const unNatted = ack().ports(443, 40000).seq(1).ack(1449);
export const reset = scenario("the host, with no socket for the un-NATed tuple, resets it", [
  inject(unNatted),
  expect(rst().reason("NO_SOCKET")).seqEquals(unNatted),
  expectDrop("NO_SOCKET"),
]);
