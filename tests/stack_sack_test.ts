// The built-in stack: SACK blocks as a receiver (RFC 2018, RFC 2883), and SACK loss recovery as a
// sender, as Linux does it (RACK, PRR, undo) and as RFC 6675 states it (profile recovery "rfc6675").
import {
  ack,
  data,
  expect,
  expectNothing,
  getsockopt,
  inject,
  read,
  scenario,
  wait,
  write,
} from "../mod.ts";
import { CaState } from "../runtime/stack/ca_state.ts";
import { established, flight, MSS, RFC_RECOVERY, sender, senderRtt } from "./fixtures.ts";

const TS = "nop,nop,TS val 0 ecr 100";

scenario("SACK blocks: the newest block first, merged as holes fill (RFC 2018 §4)", [
  ...established,
  inject(data(1000).seq(1)),
  expect(ack().ack(1001).opts(`<${TS}>`)),
  inject(data(1000).seq(2001)),
  expect(ack().ack(1001).opts(`<${TS},nop,nop,sack 2001:3001>`)),
  inject(data(1000).seq(4001)),
  expect(ack().ack(1001).opts(`<${TS},nop,nop,sack 4001:5001 2001:3001>`)),
  inject(data(1000).seq(6001)),
  expect(ack().ack(1001).opts(`<${TS},nop,nop,sack 6001:7001 4001:5001 2001:3001>`)),
  inject(data(1000).seq(3001)),
  expect(ack().ack(1001).opts(`<${TS},nop,nop,sack 2001:5001 6001:7001>`)),
  inject(data(1000).seq(1001)),
  expect(ack().ack(5001).opts(`<${TS},nop,nop,sack 6001:7001>`)),
  inject(data(1000).seq(5001)),
  expect(ack().ack(7001).opts(`<${TS}>`)),
  read(10_000).returns(new Uint8Array(7000)),
]);

scenario("SACK blocks: at most three beside a timestamp, the oldest dropped", [
  ...established,
  inject(data(100).seq(201)),
  expect(ack().ack(1)),
  inject(data(100).seq(401)),
  expect(ack().ack(1)),
  inject(data(100).seq(601)),
  expect(ack().ack(1)),
  inject(data(100).seq(801)),
  expect(ack().ack(1).opts(`<${TS},nop,nop,sack 801:901 601:701 401:501>`)),
]);

scenario("D-SACK: a segment received twice is reported once in the first block (RFC 2883 §4)", [
  ...established,
  inject(data(1000).seq(1)),
  expect(ack().ack(1001)),
  inject(data(1000).seq(1)),
  expect(ack().ack(1001).opts(`<${TS},nop,nop,sack 1:1001>`)),
  inject(data(500).seq(2001)),
  expect(ack().ack(1001).opts(`<${TS},nop,nop,sack 2001:2501>`)),
  inject(data(500).seq(2001)),
  expect(ack().ack(1001).opts(`<${TS},nop,nop,sack 2001:2501 2001:2501>`)),
  inject(data(100).seq(1001)),
  expect(ack().ack(1101).opts(`<${TS},nop,nop,sack 2001:2501>`)),
]);

const sackTo = (segs: number) => ack().ack(1).opts({ sack: [[1 + MSS, 1 + segs * MSS]] });

scenario(
  "RFC 6675 SACK recovery: three SACKed segments above a hole mark it lost; one retransmission",
  [
    ...sender(),
    write(new Uint8Array(10 * MSS)).returns(10 * MSS),
    ...flight(9),
    expect(data(MSS).seq(1 + 9 * MSS)),
    inject(sackTo(2)),
    inject(sackTo(3)),
    expectNothing("10ms"),
    inject(sackTo(4)),
    expect(ack().payload(MSS).seq(1)).within("1ms"),
    // Linux counts the retransmitted hole as both lost and retransmitted.
    getsockopt("TCP_INFO").returns({
      caState: 3,
      sndCwnd: 5,
      sndSsthresh: 5,
      sacked: 3,
      lost: 1,
      retrans: 1,
    }),
    inject(ack().ack(1 + 10 * MSS)),
    getsockopt("TCP_INFO").returns({ caState: 0, sndCwnd: 5, totalRetrans: 1, sacked: 0 }),
  ],
  RFC_RECOVERY,
);

scenario(
  "SACK recovery: DupThresh segments SACKed above a hole is a loss at once (RFC 6675 IsLost, RACK)",
  [
    // A measured RTT keeps the loss probe (2·srtt + 2 ms) out of the way on every target.
    ...senderRtt("20ms"),
    write(new Uint8Array(10 * MSS)).returns(10 * MSS),
    ...flight(9),
    expect(data(MSS).seq(1 + 9 * MSS)),
    inject(sackTo(5)),
    expect(ack().payload(MSS).seq(1)).within("1ms"),
    getsockopt("TCP_INFO").returns({ caState: CaState.RECOVERY }),
  ],
);

scenario("limited transmit: the first two duplicate ACKs each release a new segment (RFC 3042)", [
  ...senderRtt("20ms"),
  write(new Uint8Array(12 * MSS)).returns(12 * MSS),
  ...flight(10),
  // The SACKs come 10 ms after the flight: RACK's reordering timer (≥ 4 ms) cannot fire between them.
  wait("10ms"),
  inject(sackTo(2)),
  expect(ack().payload(MSS).seq(1 + 10 * MSS)),
  getsockopt("TCP_INFO").returns({ caState: CaState.DISORDER }),
  inject(sackTo(3)),
  expect(data(MSS).seq(1 + 11 * MSS)),
  inject(sackTo(4)),
  expect(ack().payload(MSS).seq(1)),
]);

scenario("RFC 6675 SACK recovery fills two holes, then sends new data while pipe is below cwnd", [
  ...sender(),
  write(new Uint8Array(10 * MSS)).returns(10 * MSS),
  ...flight(9),
  expect(data(MSS).seq(1 + 9 * MSS)),
  // Segments 1 and 4 are lost; 2, 3 and 5..10 arrive.
  inject(ack().ack(1).opts({ sack: [[1 + MSS, 1 + 3 * MSS]] })),
  inject(ack().ack(1).opts({ sack: [[1 + 4 * MSS, 1 + 5 * MSS], [1 + MSS, 1 + 3 * MSS]] })),
  inject(ack().ack(1).opts({ sack: [[1 + 4 * MSS, 1 + 6 * MSS], [1 + MSS, 1 + 3 * MSS]] })),
  expect(ack().payload(MSS).seq(1)),
  inject(ack().ack(1).opts({ sack: [[1 + 4 * MSS, 1 + 10 * MSS], [1 + MSS, 1 + 3 * MSS]] })),
  expect(ack().payload(MSS).seq(1 + 3 * MSS)),
  inject(ack().ack(1 + 3 * MSS).opts({ sack: [[1 + 4 * MSS, 1 + 10 * MSS]] })),
  // pipe is now the one retransmitted hole: cwnd (5 segments) leaves room for 3 new ones, and 3 wait.
  write(new Uint8Array(3 * MSS)).returns(3 * MSS),
  expect(ack().payload(MSS).seq(1 + 10 * MSS)),
  expect(ack().payload(MSS).seq(1 + 11 * MSS)),
  expect(data(MSS).seq(1 + 12 * MSS)),
  getsockopt("TCP_INFO").returns({ caState: 3, sndCwnd: 5 }),
  inject(ack().ack(1 + 13 * MSS)),
  getsockopt("TCP_INFO").returns({ caState: 0, totalRetrans: 2, unacked: 0 }),
], RFC_RECOVERY);

scenario("after a timeout, going back skips what the peer SACKs meanwhile", [
  ...sender(),
  write(new Uint8Array(4 * MSS)).returns(4 * MSS),
  ...flight(3),
  expect(data(MSS).seq(1 + 3 * MSS)),
  // The tail loss probe: the last segment again, 2·SRTT + 2 ms later (RFC 8985 §7).
  expect(data(MSS).seq(1 + 3 * MSS)).within("10ms"),
  // Then the RTO goes back to snd.una.
  expect(ack().payload(MSS).seq(1)).after("200ms"),
  inject(ack().ack(1 + MSS).opts({ sack: [[1 + 2 * MSS, 1 + 4 * MSS]] })),
  expect(ack().payload(MSS).seq(1 + MSS)).within("1ms"),
  expectNothing("100ms"),
  inject(ack().ack(1 + 4 * MSS)),
  getsockopt("TCP_INFO").returns({ caState: 0, totalRetrans: 3, unacked: 0 }),
]);

// --- Linux's recovery with SACK: RACK finds the losses (RFC 8985), PRR sizes cwnd (RFC 6937).
// The handshake takes 20 ms and the SACKs come 10 ms after the flight: min_rtt is then 10 ms on
// every target, and RACK's reordering window min_rtt/4.

const INFINITE = 2147483647;
const info = (want: Record<string, number>) => getsockopt("TCP_INFO").returns(want);
const sacking = (...blocks: Array<[number, number]>) =>
  ack().ack(1).opts({ sack: blocks.map(([s, e]) => [1 + s * MSS, 1 + e * MSS]) });

scenario("RACK: one SACKed segment above a hole retransmits it once the reordering window passes", [
  ...senderRtt("20ms"),
  write(new Uint8Array(10 * MSS)).returns(10 * MSS),
  ...flight(10),
  wait("10ms"),
  inject(sackTo(2)),
  // Not at once: the hole may be reordering. RACK's timer is min_rtt/4 + 2 ms, in whole jiffies.
  expectNothing("3ms"),
  expect(ack().payload(MSS).seq(1)).within("30ms"),
  info({ caState: CaState.RECOVERY, sndSsthresh: 5, sndCwnd: 9, sacked: 1, lost: 1, retrans: 1 }),
  inject(sackTo(3)),
  info({ sndCwnd: 8, sacked: 2 }),
  inject(ack().ack(1 + 10 * MSS)),
  info({ caState: CaState.OPEN, sndCwnd: 6, totalRetrans: 1 }),
]);

scenario(
  "RACK: two holes are both lost once three segments are SACKed; PRR retransmits one per delivery",
  [
    ...senderRtt("20ms"),
    write(new Uint8Array(10 * MSS)).returns(10 * MSS),
    ...flight(10),
    wait("10ms"),
    // Segments 1 and 4 are lost; 2, 3 and 5..10 arrive.
    inject(sacking([1, 3])),
    info({ caState: CaState.DISORDER, sacked: 2 }),
    inject(sacking([4, 5], [1, 3])),
    expect(ack().payload(MSS).seq(1)),
    info({ caState: CaState.RECOVERY, sacked: 3, lost: 2, retrans: 1, sndCwnd: 6 }),
    inject(sacking([4, 6], [1, 3])),
    expectNothing("5ms"),
    info({ sacked: 4, sndCwnd: 5 }),
    inject(sacking([4, 10], [1, 3])),
    expect(ack().payload(MSS).seq(1 + 3 * MSS)),
    info({ sacked: 8, lost: 2, retrans: 2, sndCwnd: 5 }),
    inject(ack().ack(1 + 3 * MSS).opts({ sack: [[1 + 4 * MSS, 1 + 10 * MSS]] })),
    info({ unacked: 7, sacked: 6, lost: 1, retrans: 1 }),
    // One retransmission is in flight: cwnd lets three new segments go.
    write(new Uint8Array(3 * MSS)).returns(3 * MSS),
    ...flight(3, 10),
    inject(ack().ack(1 + 13 * MSS)),
    info({ caState: CaState.OPEN, sndSsthresh: 5, totalRetrans: 2, unacked: 0 }),
  ],
);

scenario(
  "Linux RTO with SACK: every segment lost, slow start retransmits them; no undo for a real loss",
  [
    ...senderRtt("20ms"),
    write(new Uint8Array(4 * MSS)).returns(4 * MSS),
    ...flight(4),
    // The tail loss probe (2·srtt + 2 ms), then the timeout.
    expect(data(MSS).seq(1 + 3 * MSS)).within("100ms"),
    expect(ack().payload(MSS).seq(1)).within("400ms"),
    info({
      caState: CaState.LOSS,
      sndSsthresh: 5,
      sndCwnd: 1,
      lost: 4,
      retrans: 1,
      totalRetrans: 2,
    }),
    inject(ack().ack(1 + MSS)),
    expect(ack().payload(MSS).seq(1 + MSS)),
    expect(ack().payload(MSS).seq(1 + 2 * MSS)),
    info({ caState: CaState.LOSS, sndCwnd: 2, lost: 3, retrans: 2 }),
    inject(ack().ack(1 + 4 * MSS)),
    info({ caState: CaState.OPEN, sndSsthresh: 5, sndCwnd: 5, totalRetrans: 4, unacked: 0 }),
  ],
);

scenario(
  "D-SACK: every retransmission reported as a duplicate undoes the reduction (RFC 2883, RFC 3708)",
  [
    ...senderRtt("20ms"),
    write(new Uint8Array(10 * MSS)).returns(10 * MSS),
    ...flight(10),
    wait("10ms"),
    inject(sackTo(4)),
    expect(ack().payload(MSS).seq(1)),
    info({ caState: CaState.RECOVERY, sndSsthresh: 5 }),
    // The original arrived after all; the retransmission comes back as a duplicate.
    inject(ack().ack(1 + 10 * MSS).opts({ sack: [[1, 1 + MSS]] })),
    info({ caState: CaState.OPEN, sndSsthresh: INFINITE, sndCwnd: 18 }),
  ],
);
