/**
 * A scenario that sets a sysctl, completes a handshake and then idles: the
 * isolation test runs it 50 times on the kernel and raw targets and kills
 * some runs with SIGKILL in the middle. Not a test file itself.
 */
import {
  accept,
  ack,
  expect,
  inject,
  listen,
  scenario,
  syn,
  synAck,
  sysctl,
  wait,
} from "../../mod.ts";

scenario("isolation: sysctl, handshake, then idle", [
  sysctl("net.ipv4.tcp_timestamps", 0),
  listen(8080),
  inject(syn()),
  expect(synAck().optsInclude({ ts: false })),
  inject(ack()),
  accept().returns(4),
  wait("1500ms"),
], { register: false });
