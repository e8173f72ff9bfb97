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
  expect(rstAck().seq(1).ack(1)).within("1ms"),
  // The connection is gone: a late segment gets a passive reset.
  inject(ack().named("late")),
  expect(rst()).answers("late").within("1ms"),
  getsockopt("TCP_INFO").on(3).returns({ state: "LISTEN" }),
]);
