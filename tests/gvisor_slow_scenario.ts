/**
 * A scenario that completes a handshake on gVisor's netstack and then idles:
 * tests/gvisor_target_test.ts runs it through the CLI and kills the run with
 * SIGKILL part-way, to see that the helper goes with it. Not a test file itself.
 */
import { accept, ack, expect, inject, listen, scenario, syn, synAck, wait } from "../mod.ts";

scenario("gvisor isolation: handshake, then idle", [
  listen(8080),
  inject(syn()),
  expect(synAck()),
  inject(ack()),
  accept().returns(4),
  wait("3s"),
], { register: false });
