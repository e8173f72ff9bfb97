// The conntrack model against what Linux decides: the kernel's own selftests
// (tools/testing/selftests/net/netfilter/packetdrill/conntrack_rst_invalid.pkt and
// conntrack_ack_loss_stall.pkt) replayed segment by segment, the window checks one by
// one, the sysctls, and the timeouts. Sequence numbers are absolute, as conntrack sees them.
import assert from "node:assert/strict";
import {
  applyConntrackSysctl,
  CONNTRACK_DEFAULTS,
  type ConntrackSettings,
} from "../runtime/middlebox/conntrack_settings.ts";
import { CtDir, CtState } from "../runtime/middlebox/conntrack_states.ts";
import { ConntrackTable } from "../runtime/middlebox/conntrack_table.ts";
import {
  type CtVerdict,
  openTracker,
  TcpTracker,
  type TrackedSegment,
} from "../runtime/middlebox/tcp_tracker.ts";
import { TcpFlag } from "../runtime/wire/tcp.ts";
import type { TcpOption } from "../runtime/wire/tcp_options.ts";

const { SYN, ACK, FIN, RST, PSH } = TcpFlag;
const { Original: O, Reply: R } = CtDir;

/** A segment: flags, seq, ack, window, payload length, options. */
function seg(
  flags: number,
  seq: number,
  ack = 0,
  o: { win?: number; len?: number; options?: TcpOption[]; checksumOk?: boolean } = {},
): TrackedSegment {
  return {
    flags,
    seq: seq >>> 0,
    ack: ack >>> 0,
    window: o.win ?? 65535,
    payloadLength: o.len ?? 0,
    options: o.options ?? [],
    checksumOk: o.checksumOk,
  };
}

/** Opens an entry with `first` and runs it through; the tracker and the first verdict. */
function open(first: TrackedSegment, settings: ConntrackSettings = CONNTRACK_DEFAULTS) {
  const t = openTracker(first, settings);
  if (!(t instanceof TcpTracker)) throw new Error(`did not open: ${t.reason}`);
  return { t, v: t.packet(O, first) };
}

const verdicts = (vs: CtVerdict[]) => vs.map((v) => v.kind);

/**
 * conntrack_rst_invalid.pkt: the kernel is the client (ORIGINAL), its ISN 1000; the
 * server's ISN is 1 and it sends 3000 bytes, all acknowledged.
 */
function clientWith3000BytesAcked(settings: ConntrackSettings = CONNTRACK_DEFAULTS) {
  const { t } = open(
    seg(SYN, 1000, 0, {
      options: [{ kind: "mss", value: 1460 }, { kind: "sackOk" }, { kind: "wscale", shift: 8 }],
    }),
    settings,
  );
  const steps: [CtDir, TrackedSegment][] = [
    [R, seg(SYN | ACK, 1, 1001, { options: [{ kind: "mss", value: 1460 }] })],
    [O, seg(ACK, 1001, 2)],
    [R, seg(ACK, 2, 1001, { len: 1000 })],
    [R, seg(ACK, 1002, 1001, { len: 1000 })],
    [R, seg(ACK, 2002, 1001, { len: 1000 })],
    [O, seg(ACK, 1001, 1002)],
    [O, seg(ACK, 1001, 2002)],
    [O, seg(ACK, 1001, 3002)],
  ];
  const vs = steps.map(([d, s]) => t.packet(d, s));
  return { t, vs };
}

Deno.test("conntrack: a handshake moves SYN_SENT → SYN_RECV → ESTABLISHED, assured", () => {
  const { t, vs } = clientWith3000BytesAcked();
  assert.deepEqual(verdicts(vs), Array(8).fill("accept"));
  assert.equal(vs[0].state, CtState.SynRecv);
  assert.equal(vs[1].state, CtState.Established);
  assert.equal(t.assured, true);
  // No window scale from the server: scaling is off both ways (RFC 7323 §2.2).
  assert.deepEqual(t.seen.map((s) => s.scale), [0, 0]);
});

Deno.test("conntrack_rst_invalid.pkt: four out-of-line RSTs are INVALID and leave it ESTABLISHED; the exact one closes it", () => {
  const { t } = clientWith3000BytesAcked();
  const rsts = [
    seg(RST, 1, 0, { win: 0 }), // relative 0: below what the client acknowledged
    seg(RST, 1000001, 0, { win: 0 }), // far above the window
    seg(RST, 43, 0, { win: 0 }), // in the window, below the acknowledged point
  ].map((s) => t.packet(R, s));
  assert.deepEqual(
    rsts.map((v) => [v.kind, v.reason, v.state]),
    [
      ["invalid", "invalid rst", CtState.Established],
      [
        "invalid",
        "SEQ is over upper bound 68538 (over the window of the receiver)",
        CtState.Established,
      ],
      ["invalid", "invalid rst", CtState.Established],
    ],
  );
  // The client writes 1000 bytes; the server acknowledges them.
  assert.equal(t.packet(O, seg(ACK | PSH, 1001, 3002, { len: 1000 })).kind, "accept");
  assert.equal(t.packet(R, seg(ACK, 3002, 2001)).kind, "accept");
  const oneShort = t.packet(R, seg(RST | ACK, 3001, 2001, { win: 0 }));
  assert.deepEqual([oneShort.kind, oneShort.state], ["invalid", CtState.Established]);
  const exact = t.packet(R, seg(RST | ACK, 3002, 2001, { win: 0 }));
  assert.deepEqual([exact.kind, exact.state, exact.timeout], ["accept", CtState.Close, 10]);
});

Deno.test("conntrack: nf_conntrack_tcp_ignore_invalid_rst=1 lets a RST below the acknowledged point through", () => {
  const s = applyConntrackSysctl(
    CONNTRACK_DEFAULTS,
    "net.netfilter.nf_conntrack_tcp_ignore_invalid_rst",
    1,
  );
  const { t } = clientWith3000BytesAcked(s);
  const v = t.packet(R, seg(RST, 43, 0, { win: 0 }));
  // Not INVALID; not exact either, so the entry stays established for a challenge ACK.
  assert.deepEqual([v.kind, v.state], ["accept", CtState.Established]);
});

/** conntrack_ack_loss_stall.pkt: the kernel is the server; the client sends 46 segments of 1460. */
function serverAfter46Segments() {
  const { t } = open(seg(SYN, 0, 0, { win: 32792, options: [{ kind: "mss", value: 1000 }] }));
  const vs: CtVerdict[] = [
    t.packet(R, seg(SYN | ACK, 5000, 1, { options: [{ kind: "mss", value: 1460 }] })),
    t.packet(O, seg(ACK, 1, 5001)),
  ];
  for (let i = 0; i < 46; i++) {
    const at = 1 + i * 1460;
    vs.push(t.packet(O, seg(ACK | PSH, at, 5001, { win: 257, len: 1460 })));
    vs.push(t.packet(R, seg(ACK, 5001, at + 1460)));
  }
  return { t, vs };
}

Deno.test("conntrack_ack_loss_stall.pkt: a segment acknowledged long ago, sent again, is IGNORED, not INVALID", () => {
  const { t, vs } = serverAfter46Segments();
  assert.ok(vs.every((v) => v.kind === "accept"), "the transfer is tracked");
  const again = t.packet(O, seg(ACK | PSH, 1, 5001, { win: 257, len: 1460 }));
  assert.deepEqual(
    [again.kind, again.reason, again.state],
    [
      "ignore",
      "SEQ is under lower bound 1625 (already ACKed data retransmitted)",
      CtState.Established,
    ],
  );
});

Deno.test("conntrack: the window checks, one by one", () => {
  const { t } = serverAfter46Segments();
  // I. Data beyond what the receiver offered (its ack 67161 + window 65535 = 132696)…
  // …by less than a window: a sender overrunning it a little, IGNORED (and followed).
  const little = t.packet(O, seg(ACK, 132696 + 10000, 5001, { len: 100 }));
  assert.deepEqual([little.kind, little.reason], ["ignore", "10101 bytes more than expected"]);
  // …by more than a window: INVALID.
  const over = t.packet(O, seg(ACK, 132696 + 70000, 5001, { len: 100 }));
  assert.deepEqual([over.kind, over.reason], [
    "invalid",
    "SEQ is over upper bound 132697 (over the window of the receiver)",
  ]);
  // III. An ACK of data the other side never sent: INVALID.
  const ackAhead = t.packet(O, seg(ACK, 67161, 9000));
  assert.deepEqual([ackAhead.kind, ackAhead.reason], [
    "invalid",
    "ACK is over upper bound 5002 (ACKed data not seen yet)",
  ]);
  // IV. An ACK from long before (more than 66000 below what the client sent, 142796 since
  // the overrun was followed): a late duplicate, IGNORED.
  const late = t.packet(R, seg(ACK, 5001, 1));
  assert.deepEqual([late.kind, late.reason], [
    "ignore",
    "ignored ACK under lower bound 76795 (possible overly delayed)",
  ]);
  // An older ACK inside the bound is simply a duplicate: accepted.
  assert.equal(t.packet(R, seg(ACK, 5001, 100000)).kind, "accept");
  // None of them moved the state.
  assert.equal(t.state, CtState.Established);
});

Deno.test("conntrack: nf_conntrack_tcp_be_liberal=1 accepts what the window checks refuse, not a bad RST", () => {
  const s = applyConntrackSysctl(
    CONNTRACK_DEFAULTS,
    "net.netfilter.nf_conntrack_tcp_be_liberal",
    1,
  );
  const { t } = clientWith3000BytesAcked(s);
  assert.equal(t.packet(R, seg(ACK, 1000001, 1001, { len: 10 })).kind, "accept");
  assert.deepEqual(
    [t.packet(R, seg(RST, 43, 0, { win: 0 })).kind, t.state],
    ["invalid", CtState.Established],
  );
});

Deno.test("conntrack: a first segment that is not a SYN is picked up (loose=1) or INVALID (loose=0)", () => {
  const ack = seg(ACK, 7000, 9000, { len: 100 });
  const { t, v } = open(ack);
  assert.deepEqual([v.kind, v.state, t.seen.every((s) => s.beLiberal)], [
    "accept",
    CtState.Established,
    true,
  ]);
  // Picked up without a reply seen: the established timeout is capped at the unacknowledged one.
  assert.equal(v.timeout, 300);
  const strict = applyConntrackSysctl(
    CONNTRACK_DEFAULTS,
    "net.netfilter.nf_conntrack_tcp_loose",
    0,
  );
  const refused = openTracker(ack, strict);
  assert.ok(!(refused instanceof TcpTracker));
  assert.equal(refused.kind, "invalid");
  // A SYN-ACK, FIN or RST cannot start an entry at all.
  for (const f of [SYN | ACK, FIN | ACK, RST]) {
    const r = openTracker(seg(f, 1), CONNTRACK_DEFAULTS);
    assert.ok(!(r instanceof TcpTracker) && r.reason === "invalid new", `flags ${f}`);
  }
});

Deno.test("conntrack: flag combinations it does not track, and bad checksums, are INVALID", () => {
  for (const f of [SYN | FIN, FIN, 0, SYN | RST]) {
    const r = openTracker(seg(f, 1), CONNTRACK_DEFAULTS);
    assert.ok(!(r instanceof TcpTracker) && r.reason === "invalid tcp flag combination", `${f}`);
  }
  const bad = seg(SYN, 1, 0, { checksumOk: false });
  const r = openTracker(bad, CONNTRACK_DEFAULTS);
  assert.ok(!(r instanceof TcpTracker) && r.reason === "bad checksum");
  const off = applyConntrackSysctl(CONNTRACK_DEFAULTS, "net.netfilter.nf_conntrack_checksum", 0);
  assert.ok(openTracker(bad, off) instanceof TcpTracker);
});

Deno.test("conntrack: timeouts follow the state, unacknowledged data and RSTs", () => {
  const { t } = open(seg(SYN, 1000));
  assert.equal(t.packet(R, seg(SYN | ACK, 1, 1001)).timeout, 60);
  assert.equal(t.packet(O, seg(ACK, 1001, 2)).timeout, 432000);
  // Data not yet acknowledged: the unacknowledged timeout, 300 s.
  assert.equal(t.packet(O, seg(ACK | PSH, 1001, 2, { len: 100 })).timeout, 300);
  assert.equal(t.packet(R, seg(ACK, 2, 1101)).timeout, 432000);
  const fin = t.packet(O, seg(FIN | ACK, 1101, 2));
  assert.deepEqual([fin.state, fin.timeout], [CtState.FinWait, 120]);
  const s = applyConntrackSysctl(
    CONNTRACK_DEFAULTS,
    "net.netfilter.nf_conntrack_tcp_timeout_syn_sent",
    5,
  );
  const short = open(seg(SYN, 1), s);
  assert.equal(short.v.timeout, 5);
  // A SYN sent again before any reply does not renew the entry.
  assert.equal(short.t.packet(O, seg(SYN, 1)).timeout, undefined);
});

Deno.test("conntrack: a SYN on an established connection is IGNORED; the entry stays", () => {
  const { t } = clientWith3000BytesAcked();
  const v = t.packet(O, seg(SYN, 90000));
  assert.deepEqual([v.kind, v.state], ["ignore", CtState.Established]);
  assert.match(v.reason!, /packet \(Syn\) in dir Original ignored, state ESTABLISHED/);
});

Deno.test("conntrack: a RST before any reply ends the entry", () => {
  const { t } = open(seg(SYN, 1000));
  const v = t.packet(O, seg(RST, 1001));
  assert.deepEqual([v.kind, v.state, v.end], ["accept", CtState.Close, "killed"]);
});

Deno.test("conntrack sysctls: every modelled name, and a clear refusal of the rest", () => {
  const s = applyConntrackSysctl(
    CONNTRACK_DEFAULTS,
    "net.netfilter.nf_conntrack_tcp_max_retrans",
    5,
  );
  assert.equal(s.maxRetrans, 5);
  assert.throws(
    () => applyConntrackSysctl(s, "net.netfilter.nf_conntrack_tcp_loose", -1),
    /want a whole number of 0 or more, got -1/,
  );
  assert.throws(
    () => applyConntrackSysctl(s, "net.netfilter.nf_conntrack_max", 10),
    /is not modelled by the conntrack model: want one of net\.netfilter\.nf_conntrack_tcp_be_liberal/,
  );
});

Deno.test("conntrack table: an entry is found from both ends, times out, and a RST before any reply ends it", () => {
  const ct = new ConntrackTable(CONNTRACK_DEFAULTS);
  const a = new Uint8Array([10, 0, 0, 2]), b = new Uint8Array([192, 0, 2, 1]);
  const out = { src: a, dst: b, srcPort: 40000, dstPort: 80 };
  const back = { src: b, dst: a, srcPort: 80, dstPort: 40000 };
  assert.equal(ct.track(out, seg(SYN, 1000), 0).state, CtState.SynSent);
  assert.equal(ct.lookup(back, 1000)?.dir, CtDir.Reply);
  // SYN_SENT lasts 120 s: at 121 s the entry is gone, and a SYN-ACK starts nothing.
  assert.equal(ct.lookup(out, 121_000), undefined);
  const late = ct.track(back, seg(SYN | ACK, 5000, 1001), 121_000);
  assert.deepEqual([late.kind, late.reason, ct.invalid], ["invalid", "invalid new", 1]);
  assert.equal(ct.size, 0);
  ct.track(out, seg(SYN, 2000), 200_000);
  assert.equal(ct.track(out, seg(RST, 2001), 200_001).end, "killed");
  assert.equal(ct.size, 0);
});
