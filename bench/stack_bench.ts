// Figures for scenarios on the built-in stack (issue 4). Run: npx deno task bench
// The 100 MB transfer is in transfer_bench.ts: its heap would weigh on these figures.
import {
  accept,
  ack,
  close,
  connect,
  data,
  defineScenario,
  expect,
  finAck,
  inject,
  listen,
  read,
  socket,
  syn,
  synAck,
  sysctl,
  write,
} from "../mod.ts";
import { runScenarioOn } from "../runtime/scenario.ts";

const MSS = 1448;
const KB10 = 10_240;
// 10 KB is seven full segments and one of 104 bytes.
const sizes = [...Array(7).fill(MSS), KB10 - 7 * MSS];
let at = 1;
const inbound = sizes.flatMap((n) => {
  const s = [inject(data(n).seq(at)), expect(ack().ack(at + n))];
  at += n;
  return s;
});
at = 1;
const outbound = sizes.map((n, i) => {
  const e = expect((i === sizes.length - 1 ? data(n) : ack().payload(n)).seq(at));
  at += n;
  return e;
});

const fullScenario = defineScenario("handshake, 10 KB each way, close", [
  listen(8080),
  inject(syn()),
  expect(synAck()),
  inject(ack()),
  accept().returns(4),
  ...inbound,
  read(KB10).returns(new Uint8Array(KB10)),
  write(new Uint8Array(KB10)).returns(KB10),
  ...outbound,
  inject(ack().ack(KB10 + 1)),
  close(),
  expect(finAck().seq(KB10 + 1).ack(KB10 + 1)),
  inject(finAck().seq(KB10 + 1).ack(KB10 + 2)),
  expect(ack().seq(KB10 + 2).ack(KB10 + 2)),
], { register: false, strict: "fail" });

Deno.bench({
  name: "100 full scenarios: handshake, 10 KB each way, close (virtual clock)",
  // V8 needs some thousands of runs to finish optimizing; the figure is the steady state a
  // conformance suite sees, so warm up with 6,000 scenarios first.
  warmup: 60,
  n: 100,
  async fn() {
    for (let i = 0; i < 100; i++) {
      const r = await runScenarioOn(fullScenario);
      if (!r.ok) throw r.failure;
    }
  },
});

// 1 + 2 + 4 + 8 + 16 + 32 + 64 s: six backoffs, then ETIMEDOUT, 127 s of protocol time
// (without Linux's linear SYN timeouts, so each retransmission backs off).
const backoffs = defineScenario("six RTO backoffs", [
  sysctl("net.ipv4.tcp_syn_linear_timeouts", 0),
  socket(),
  connect(9000).fails("ETIMEDOUT").after("127s"),
  expect(syn()),
  expect(syn()).after("1s"),
  expect(syn()).after("2s"),
  expect(syn()).after("4s"),
  expect(syn()).after("8s"),
  expect(syn()).after("16s"),
  expect(syn()).after("32s"),
], { register: false });

Deno.bench("scenario with 6 RTO backoffs (127 s of protocol time)", async () => {
  const r = await runScenarioOn(backoffs);
  if (!r.ok) throw r.failure;
});
