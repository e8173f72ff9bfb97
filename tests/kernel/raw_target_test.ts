/**
 * The raw-socket target: the script plays a client by hand, through an
 * AF_PACKET socket on a veth, against a real echo server process in a second
 * private namespace; synack's own side never answers with RSTs of its own.
 * Needs root; skips visibly without.
 */
import assert from "node:assert/strict";
import { parsePacket } from "../../runtime/wire/packet.ts";
import {
  accept,
  ack,
  dataSegment,
  defineScenario,
  expect,
  expectNothing,
  finAck,
  inject,
  listen,
  path,
  read,
  syn,
  synAck,
} from "../../mod.ts";
import { runScenario } from "../../runtime/engine/runner.ts";
import { kernelUnavailable } from "../../runtime/kernel/kernel_support.ts";
import { rawTarget } from "../../runtime/kernel/raw_target.ts";
import { runScenarioOn } from "../../runtime/scenario.ts";
import { pingPong } from "../fixtures.ts";

const why = kernelUnavailable();
const skip = why ? ` (skipped: ${why})` : "";

Deno.test({
  name: `raw: the script talks to a real echo server over a veth by hand${skip}`,
  ignore: why !== undefined,
  async fn() {
    const t = await rawTarget({ echoPort: 7 });
    try {
      const sc = defineScenario("echo by hand", [
        inject(syn().ports(40000, 7)),
        expect(synAck().ports(7, 40000)),
        inject(ack()),
        inject(ack().payload("hello, echo").flags("P.")),
        // Linux ACKs at once (quick-ACK mode at the start of a connection), then the
        // server process writes the bytes back.
        expect(ack().ack(12)),
        expect(ack().flags("P.").ack(12).payload("hello, echo")),
        inject(ack().ack(12)),
        inject(finAck()),
        expect(finAck().ack(13)),
        inject(ack().seq(13).ack(13)),
        // Nothing else: in particular no RST from the script's own namespace.
        expectNothing("300ms"),
      ], { register: false });
      const r = await runScenario(sc, { target: t });
      assert.equal(r.ok, true, r.failure?.message);
      // What the far kernel sent carries the checksums the wire would: the veth's
      // offloaded ones are completed on the way in, so the pcap verifies.
      for (const e of r.trace.events) {
        if (e.kind !== "packet" || e.dir !== "out") continue;
        const t = parsePacket(e.bytes).transport;
        assert.ok(t.kind === "tcp" && t.checksumOk === true, "a TCP checksum does not verify");
      }
    } finally {
      await t.close();
    }
  },
});

Deno.test({
  name: `raw: the same scenario files run unchanged; socket calls go to the far kernel${skip}`,
  ignore: why !== undefined,
  async fn() {
    const sc = defineScenario("passive open over veth", [
      listen(8080),
      inject(syn()),
      expect(synAck().optsInclude({ mss: 1460 })),
      inject(ack()),
      accept().returns(4),
      inject(ack().payload("ping").flags("P.")),
      expect(ack().ack(5)),
      read(100).returns("ping"),
    ], { register: false });
    const r = await runScenarioOn(sc, "raw");
    assert.equal(r.ok, true, r.failure?.message);
    assert.equal(r.warnings.length, 0);
  },
});

Deno.test({
  name: "raw: bad target options are refused before anything is made",
  async fn() {
    await assert.rejects(() => rawTarget({ echoPort: 70000 }), /echoPort: .*65535/);
    await assert.rejects(() => rawTarget({ mtu: 100 }), /target options: mtu: /);
  },
});

Deno.test({
  name:
    `raw: peer.auto() plays the far end live over the veth, and the path drops on the way${skip}`,
  ignore: why !== undefined,
  async fn() {
    const sc = defineScenario("raw peer", [
      path.drop(dataSegment(), { from: "peer" }), // "ping": the peer sends it again
      ...pingPong,
    ], { register: false });
    const r = await runScenarioOn(sc, "raw");
    assert.equal(r.ok, true, r.failure?.message);
    assert.ok(r.trace.events.some((e) => e.kind === "packet" && e.by === "peer" && !e.stopped));
    assert.ok(r.trace.events.some((e) => e.kind === "packet" && e.stopped));
  },
});
