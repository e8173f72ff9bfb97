// The script on the path between the built-in peer and the stack under test:
// each path step, the marks it leaves in the trace and the pcapng, and
// seeded impairment that repeats exactly on the virtual clock.
import assert from "node:assert/strict";
import {
  accept,
  ack,
  close,
  dataSegment,
  defineScenario,
  expect,
  finAck,
  listen,
  path,
  peer,
  read,
  type StepInput,
  synAck,
  Trace,
  write,
} from "../mod.ts";
import { runScenarioOn } from "../runtime/scenario.ts";
import { compileScenario } from "../cli/compile_command.ts";
import { readCaptureBytes } from "../runtime/wire/pcap.ts";
import { parsePacket } from "../runtime/wire/packet.ts";

const opts = { register: false } as const;
const SIZE = 200_000;
const payload = new Uint8Array(SIZE).map((_, i) => (i * 13 + (i >> 9)) & 0xff);

/** A connection from the peer to the stack under test, with `rules` on the path first. */
const opening = (...rules: StepInput[]) => [
  listen(8080),
  peer.auto(),
  ...rules,
  peer.socket(),
  peer.connect(8080).returns(0),
  accept().returns(4),
];

/** The peer sends `payload`; the stack under test reads all of it, intact. */
const transfer = [
  peer.write(payload).returns(SIZE),
  read(SIZE, { all: true }).returns(payload),
  peer.close(),
  read().returns(""),
  close(),
];

async function run(steps: StepInput[], name = "path") {
  const r = await runScenarioOn(defineScenario(name, steps, opts));
  assert.equal(r.ok, true, r.failure?.message);
  return r;
}

function marked(t: Trace): { mark: string; stopped: boolean; bytes: Uint8Array }[] {
  return t.events.flatMap((e) =>
    e.kind === "packet" && e.path
      ? [{ mark: e.path.join("; "), stopped: e.stopped === true, bytes: e.bytes }]
      : []
  );
}

function seqOf(b: Uint8Array): number {
  const t = parsePacket(b).transport;
  assert.ok(t.kind === "tcp");
  return t.seq;
}

Deno.test("path.drop() loses the nth matching segments; the stacks recover and every byte arrives", async () => {
  const r = await run([
    ...opening(path.drop(dataSegment(), { from: "peer", nth: [3, 10] })),
    ...transfer,
  ]);
  const m = marked(r.trace);
  assert.equal(m.length, 2);
  assert.ok(
    m.every((x) =>
      x.stopped && /^dropped by path\.drop \(tests\/path_test\.ts:\d+:\d+\)$/.test(x.mark)
    ),
  );
  // The same segment is sent again, unmarked: the sender's recovery.
  const again = r.trace.events.filter((e) =>
    e.kind === "packet" && !e.path && e.by === "peer" && seqOf(e.bytes) === seqOf(m[0].bytes)
  );
  assert.ok(again.length >= 1);
});

Deno.test("path.drop() with count: 'all' drops every match from one side only", async () => {
  // Every pure ACK from the stack under test is lost: the peer's data still gets through
  // (a lone ACK is cumulative), and the FIN exchange completes on retransmissions.
  const r = await runScenarioOn(defineScenario("drop all", [
    ...opening(),
    path.drop(ack(), { from: "target", count: "all" }),
    peer.write("hello").returns(5),
    read().returns("hello"),
  ], { ...opts, strict: "ignore" }));
  assert.equal(r.ok, true, r.failure?.message);
  const m = marked(r.trace);
  assert.ok(m.length >= 1);
  for (const x of m) assert.equal(parsePacket(x.bytes).ip.src[0], 192, "only the target's");
});

Deno.test("path.delay() holds a segment back by the given time, and marks it", async () => {
  const r = await run([
    listen(8080),
    peer.auto(),
    path.delay(synAck(), "30ms"),
    peer.socket(),
    peer.connect(8080).returns(0).after("30ms"),
    accept(),
  ]);
  const m = marked(r.trace);
  assert.equal(m.length, 1);
  assert.match(m[0].mark, /^delayed 30 ms by path\.delay \(tests\/path_test\.ts:\d+:\d+\)$/);
});

Deno.test("path.duplicate() sends a segment twice; the receiver answers the copy", async () => {
  const r = await run([
    ...opening(path.duplicate(dataSegment(), { from: "peer" })),
    peer.write("once").returns(4),
    read().returns("once"),
  ]);
  const sent = r.trace.events.filter((e) => e.kind === "packet" && e.by === "peer" && e.path);
  assert.equal(sent.length, 2, "the original and its copy, both marked");
  assert.ok(
    sent.every((e) => e.kind === "packet" && /duplicated by path\.duplicate/.test(e.path!.join())),
  );
});

Deno.test("path.reorder() lets the next segment overtake the matching one", async () => {
  const r = await run([
    ...opening(path.reorder(dataSegment(), { from: "peer" })),
    ...transfer,
  ]);
  const inOrder = r.trace.events.flatMap((e) =>
    e.kind === "packet" && e.by === "peer" && parsePacket(e.bytes).transport.kind === "tcp" &&
      (parsePacket(e.bytes).transport as { payload: Uint8Array }).payload.length
      ? [{ seq: seqOf(e.bytes), mark: e.path?.join() }]
      : []
  );
  const i = inOrder.findIndex((x) => x.mark);
  assert.ok(i > 0, "the reordered segment arrives after another");
  assert.ok(inOrder[i - 1].seq > inOrder[i].seq, "its successor went first");
  assert.match(inOrder[i].mark!, /reordered by path\.reorder/);
});

Deno.test("path.rewrite() overwrites header fields; the checksums still verify", async () => {
  const r = await run([
    ...opening(path.rewrite(dataSegment(), { win: 0 }, { from: "peer" })),
    peer.write("zero").returns(4),
    read().returns("zero"),
  ]);
  const e = r.trace.events.find((e) => e.kind === "packet" && e.path);
  assert.ok(e?.kind === "packet");
  assert.match(e.path!.join(), /rewritten tcp\.win 0 by path\.rewrite/);
  const p = parsePacket(e.bytes);
  assert.ok(p.transport.kind === "tcp");
  assert.equal(p.transport.window, 0);
  assert.equal(p.transport.checksumOk, true);
});

Deno.test("path.hold() keeps segments until path.release(); nothing crosses meanwhile", async () => {
  const held = await run([
    ...opening(),
    path.hold(dataSegment(), { from: "peer" }),
    peer.write("held").returns(4),
    // The stack under test has nothing yet: its read waits until the release.
    read().returns("held"),
    path.release(),
  ]);
  const m = marked(held.trace);
  assert.ok(m.some((x) => x.stopped && /^held by path\.hold/.test(x.mark)));
  assert.ok(m.some((x) => !x.stopped && /released by path\.release\(\)/.test(x.mark)));
});

Deno.test("a segment of the stack under test held, then released, is marked both ways and not stopped", async () => {
  const r = await run([
    ...opening(),
    path.hold(dataSegment(), { from: "target" }),
    write("back").returns(4),
    path.release(),
    peer.read().returns("back"),
  ]);
  const e = r.trace.events.find((e) => e.kind === "packet" && e.dir === "out" && e.path);
  assert.ok(e?.kind === "packet");
  assert.match(e.path!.join("; "), /^held by path\.hold .*; released by path\.release\(\)$/);
  assert.equal(e.stopped, undefined);
});

Deno.test("path.impair() is seeded: the same seed loses the same segments, and every byte still arrives", async () => {
  const lossy =
    () => [...opening(path.impair({ loss: 0.05, jitter: "2ms", seed: 42 })), ...transfer];
  const a = await run(lossy());
  const b = await run(lossy());
  const lost = (t: Trace) => marked(t).filter((x) => x.stopped).map((x) => seqOf(x.bytes));
  assert.ok(lost(a.trace).length > 0, "5 % loss lost something");
  assert.deepEqual(lost(a.trace), lost(b.trace));
  assert.deepEqual(a.trace.toPcap(), b.trace.toPcap());
});

Deno.test("expect().from('peer') matches what the peer stack sent, numbered from its own ISN", async () => {
  await run([
    ...opening(),
    peer.write("hi").returns(2),
    expect(dataSegment().seq(1).len(2)).from("peer"),
    expect(ack().ack(3)),
    read().returns("hi"),
    peer.close(),
    expect(finAck().seq(3)).from("peer"),
  ]);
});

Deno.test("the pcapng carries the path's marks as packet comments", async () => {
  const r = await run([
    ...opening(path.drop(dataSegment(), { from: "peer", nth: [2] })),
    ...transfer,
  ]);
  const recs = readCaptureBytes(r.trace.toPcapng());
  assert.equal(recs.length, r.trace.events.filter((e) => e.kind === "packet").length);
  const text = new TextDecoder().decode(r.trace.toPcapng());
  assert.match(text, /dropped by path\.drop \(tests\/path_test\.ts:\d+:\d+\)/);
});

Deno.test("synack compile prints path steps", () => {
  const lines = compileScenario(defineScenario("compile", [
    path.drop(dataSegment(), { from: "peer", nth: [3, 10] }),
    path.rewrite(ack(), { win: 0 }),
    path.impair({ loss: 0.01, seed: 7 }),
  ], opts));
  assert.match(lines.join("\n"), /path drop dataSegment from peer nth 3,10/);
  assert.match(lines.join("\n"), /path rewrite ack count 1 tcp\.win 0/);
  assert.match(lines.join("\n"), /path impair loss 0\.01 .* seed 7/);
});

Deno.test("a path step that names a link needs a topology", async () => {
  const r = await runScenarioOn(defineScenario("link", [path.release().on("a-b")], opts));
  assert.equal(r.ok, false);
  assert.match(r.failure!.message, /path\.release\(\)\.on\("a-b"\): this scenario has no topology/);
});

Deno.test("write() on the stack under test, peer.read() on the peer: the other direction", async () => {
  await run([
    ...opening(path.drop(dataSegment(), { from: "target", nth: [2] })),
    write(payload).returns(SIZE),
    peer.read(SIZE, { all: true }).returns(payload),
    close(),
    peer.read().returns(""),
    peer.close(),
  ]);
});
