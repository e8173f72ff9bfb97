// The conntrack model's cost per packet (issue: ≥ 1 M packets/s): 1,000 established
// connections, 100,000 in-window ACKs spread over them, each found by its tuple and
// window-checked; beside it the floor, a plain Map lookup by the same keys.
import { CONNTRACK_DEFAULTS } from "../runtime/middlebox/conntrack_settings.ts";
import { ConntrackTable, type Tuple, tupleKey } from "../runtime/middlebox/conntrack_table.ts";
import { TcpFlag } from "../runtime/wire/tcp.ts";

const CONNS = 1000;
const PACKETS = 100_000;
const { SYN, ACK } = TcpFlag;
const seg = (flags: number, seq: number, ack: number) => ({
  seq,
  ack,
  flags,
  window: 65535,
  payloadLength: 0,
  options: [],
});

const client = (i: number): Tuple => ({
  src: new Uint8Array([10, 0, i >> 8, i & 0xff]),
  dst: new Uint8Array([192, 0, 2, 1]),
  srcPort: 40000 + (i % 20000),
  dstPort: 80,
});
const reverse = (t: Tuple): Tuple => ({
  src: t.dst,
  dst: t.src,
  srcPort: t.dstPort,
  dstPort: t.srcPort,
});

const table = new ConntrackTable(CONNTRACK_DEFAULTS);
const tuples = Array.from({ length: CONNS }, (_, i) => client(i));
for (const t of tuples) {
  table.track(t, seg(SYN, 1000, 0));
  table.track(reverse(t), seg(SYN | ACK, 5000, 1001));
  table.track(t, seg(ACK, 1001, 5001));
}
if (table.size !== CONNS) throw new Error(`${table.size} entries, want ${CONNS}`);
const acks = Array.from(
  { length: PACKETS },
  (_, i) => ({ t: tuples[i % CONNS], s: seg(ACK, 1001, 5001) }),
);
const plain = new Map(tuples.map((t) => [tupleKey(t), t]));

Deno.bench({
  name: `conntrack model: ${PACKETS} packets, each looked up and window-checked`,
  baseline: false,
  fn() {
    for (const { t, s } of acks) {
      if (table.track(t, s).kind !== "accept") throw new Error("an in-window ACK was not accepted");
    }
  },
});

Deno.bench({
  name: `floor: ${PACKETS} plain Map lookups by the same tuple keys`,
  baseline: true,
  fn() {
    let n = 0;
    for (const { t } of acks) if (plain.get(tupleKey(t))) n++;
    if (n !== PACKETS) throw new Error("a lookup missed");
  },
});
