/**
 * Story 2 of ../shared/seeds, an active RST: close() with SO_LINGER {on, 0}
 * aborts the connection, and Linux's tcp_send_active_reset sends RST with
 * ACK, at snd.nxt, acknowledging rcv.nxt.
 *
 * Run: `npx deno task synack run examples/rst_linger_zero.ts`, or `deno test`.
 */
import {
  accept,
  ack,
  close,
  expect,
  expectDrop,
  getsockopt,
  inject,
  listen,
  rst,
  rstAck,
  scenario,
  setsockopt,
  syn,
  synAck,
} from "../mod.ts";

export const lingerZero = scenario("SO_LINGER {1, 0} close sends an active RST with ACK", [
  listen(8080),
  inject(syn()),
  expect(synAck()),
  inject(ack()),
  accept().returns(4),
  setsockopt("SO_LINGER", { onoff: true, linger: 0 }),
  close(),
  // seq = snd.nxt (1), ack = rcv.nxt (1): the defaults of the pattern, checked.
  // Linger 0 resets through tcp_disconnect, whose reason is TCP_STATE (a state that needs a
  // reset), not TCP_ABORT_ON_LINGER (that one is FIN-WAIT-2's linger2 running out).
  expect(rstAck().seq(1).ack(1).reason("TCP_STATE")).within("1ms"),
  // The connection is gone: a late segment reaches the listener, which refuses an ACK as
  // TCP_FLAGS and resets it.
  inject(ack().named("late")),
  expect(rst().reason("TCP_FLAGS")).answers("late").within("1ms"),
  expectDrop("TCP_FLAGS"),
  getsockopt("TCP_INFO").on(3).returns({ state: "LISTEN" }),
]);
