import assert from "node:assert/strict";
import {
  accept,
  ack,
  defineScenario,
  expect,
  icmp,
  inject,
  listen,
  oneOf,
  rst,
  runScenarioOn,
  stepsFromJSON,
  stepsToJSON,
  syn,
  synAck,
  Trace,
  udp,
} from "../mod.ts";
import { parsePacket } from "../runtime/wire/packet.ts";
import { main } from "../cli/main.ts";

const opts = { register: false } as const;

Deno.test("runScenario() reports file:line, want/got in the line syntax, a field diff and the trace tail", async () => {
  const sc = defineScenario(
    "wrong ack",
    [listen(8080), inject(syn()), expect(synAck().ack(2))],
    opts,
  );
  const r = await runScenarioOn(sc);
  assert.equal(r.ok, false);
  const m = r.failure!.message;
  assert.match(m, /^tests\/runner_test\.ts:\d+:\d+: expect\(synAck\) did not match$/m);
  assert.match(m, /want: 192\.168\.0\.1:8080 > 192\.0\.2\.1:40000 S\. 0:0\(0\) ack 2/);
  assert.match(m, /got: {2}192\.168\.0\.1:8080 > 192\.0\.2\.1:40000 S\. 0:0\(0\) ack 1 win 65160/);
  assert.match(m, /tcp\.ack: want 2, got 1/);
  assert.match(m, /trace \(last \d+ of \d+\):/);
});

Deno.test("runScenario() fails on packets no step expected, unless strict is warn or ignore", async () => {
  const steps = [listen(8080), inject(syn())];
  const strict = await runScenarioOn(defineScenario("extra", steps, opts));
  assert.match(strict.failure!.message, /the stack sent 1 packet\(s\) no step expected/);
  const warn = await runScenarioOn(defineScenario("extra", steps, { ...opts, strict: "warn" }));
  assert.equal(warn.ok, true);
  assert.match(warn.warnings[0], /^unexpected: .* S\. 0:0\(0\) ack 1/);
});

Deno.test("runScenario() checks timing with packetdrill's tolerance", async () => {
  const sc = defineScenario("too early", [
    listen(8080),
    inject(syn()),
    expect(synAck()),
    expect(synAck()).after("2s"),
  ], opts);
  const r = await runScenarioOn(sc);
  assert.match(
    r.failure!.message,
    /came at the wrong time\n {2}timing: want 2\.000 s ± 0\.250 s after the previous step, got 1\.000 s/,
  );
});

Deno.test("oneOf() matches any alternative", async () => {
  const sc = defineScenario(
    "either",
    [listen(8080), inject(syn()), expect(oneOf(rst(), synAck()))],
    opts,
  );
  assert.equal((await runScenarioOn(sc)).ok, true);
});

Deno.test("a code-form scenario runs the same steps and returns what each produced", async () => {
  const sc = defineScenario("code", async (s) => {
    await s.run(listen(8080));
    const sent = await s.run(inject(syn()));
    assert.equal(sent.kind, "packet");
    const got = await s.run(expect(synAck()));
    assert.ok(got.kind === "packet" && got.packet.transport.kind === "tcp");
    await s.run(inject(ack()));
    const r = await s.run(accept());
    assert.deepEqual(r.kind === "result" && r.result, { ok: true, value: 4 });
  }, opts);
  const r = await runScenarioOn(sc);
  assert.equal(r.ok, true, r.failure?.message);
});

Deno.test("every run records a trace that saves as pcap and JSON", async () => {
  const r = await runScenarioOn(
    defineScenario("t", [listen(8080), inject(syn()), expect(synAck())], opts),
  );
  const pcap = r.trace.toPcap();
  assert.equal(new DataView(pcap.buffer, pcap.byteOffset).getUint32(0, true), 0xa1b23c4d);
  assert.deepEqual(Trace.fromJSON(r.trace.toJSON()).events, r.trace.events);
});

Deno.test("stepsToJSON() output reloads and runs to the same verdict", async () => {
  const sc = defineScenario("rt", [listen(8080), inject(syn()), expect(synAck())], opts);
  const steps = stepsFromJSON(stepsToJSON(sc.steps!));
  const r = await runScenarioOn({ ...sc, steps });
  assert.equal(r.ok, true);
});

Deno.test("synack run exits 1 on a failing scenario and 2 on a missing file", async () => {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/fail.ts`;
  await Deno.writeTextFile(
    file,
    `import { expect, inject, listen, scenario, syn, synAck } from "${
      new URL("../mod.ts", import.meta.url).href
    }";
scenario("fails", [listen(8080), inject(syn()), expect(synAck().ack(5))], { register: false });\n`,
  );
  const log = console.log;
  const lines: string[] = [];
  console.log = (s: string) => lines.push(s);
  try {
    assert.equal(await main(["run", file, "--pcap", `${dir}/out.pcap`]), 1);
    assert.equal(await main(["run", `${dir}/missing.ts`]), 2);
    assert.equal(await main(["compile", file]), 0);
  } finally {
    console.log = log;
  }
  assert.ok(lines.some((l) => l.startsWith("FAIL fails")));
  assert.ok(lines.includes("0 passed, 1 failed"));
  assert.ok((await Deno.stat(`${dir}/out.pcap`)).size > 24);
  assert.ok(lines.some((l) => l.endsWith("< 192.168.0.1:8080 > 192.0.2.1:40000 S. 0:0(0) ack 5")));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("checksum() sends a checksum that does not verify, for TCP, UDP and ICMP alike", async () => {
  for (
    const b of [
      syn().ports(40000, 80).checksum(),
      udp().ports(5353, 53).checksum(),
      icmp(8).checksum(),
    ]
  ) {
    const r = await runScenarioOn(
      defineScenario("bad checksum", [inject(b)], { ...opts, strict: "ignore" }),
    );
    assert.equal(r.ok, true, r.failure?.message);
    const sent = r.trace.events.find((e) => e.kind === "packet" && e.dir === "in");
    assert.ok(sent?.kind === "packet");
    const p = parsePacket(sent.bytes);
    assert.equal((p.transport as { checksumOk?: boolean }).checksumOk, false, b.def.name);
  }
});
