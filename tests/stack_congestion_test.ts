// The built-in stack without SACK: slow start, fast retransmit and recovery as Linux does them
// (PRR, undo, F-RTO) and as RFC 5681 and RFC 6582 state them (profile recovery "rfc6675").
import {
  ack,
  data,
  expect,
  expectNothing,
  getsockopt,
  inject,
  scenario,
  syn,
  synAck,
  wait,
  write,
} from "../mod.ts";
import { CaState } from "../runtime/stack/ca_state.ts";
import { profiles } from "../runtime/stack/profile.ts";
import { flight, MSS, RFC_RECOVERY, sender, senderRtt } from "./fixtures.ts";

const noSack = sender(
  syn().opts("<sackOK:false>"),
  synAck().opts("<mss 1460,nop,nop,TS val 0 ecr 100,nop,wscale 10>"),
);

const noSackRtt = senderRtt(
  "20ms",
  syn().opts("<sackOK:false>"),
  synAck().opts("<mss 1460,nop,nop,TS val 0 ecr 100,nop,wscale 10>"),
);
const INFINITE = 2147483647;
/** The opening of the Linux recovery scenarios: ten segments out, the ACKs 10 ms later. */
const tenInFlight = [
  ...noSackRtt,
  write(new Uint8Array(10 * MSS)).returns(10 * MSS),
  ...flight(10),
  wait("10ms"),
];
const dupAcks = (n: number) => Array.from({ length: n }, () => inject(ack().ack(1)));

scenario("slow start: cwnd grows by what each ACK covers (Linux tcp_slow_start, RFC 3465)", [
  ...noSack,
  write(new Uint8Array(14 * MSS)).returns(14 * MSS),
  ...flight(10),
  expectNothing("10ms"),
  inject(ack().ack(1 + 2 * MSS)),
  ...flight(3, 10),
  expect(data(MSS).seq(1 + 13 * MSS)),
  getsockopt("TCP_INFO").returns({ sndCwnd: 12, caState: 0 }),
]);

scenario("RFC 6582 NewReno: the third duplicate ACK retransmits; cwnd = ssthresh + 3 segments", [
  ...noSack,
  write(new Uint8Array(10 * MSS)).returns(10 * MSS),
  ...flight(9),
  expect(data(MSS).seq(1 + 9 * MSS)),
  inject(ack().ack(1)),
  inject(ack().ack(1)),
  expectNothing("10ms"),
  inject(ack().ack(1)),
  expect(ack().payload(MSS).seq(1)).within("1ms"),
  getsockopt("TCP_INFO").returns({ caState: 3, sndSsthresh: 5, sndCwnd: 8 }),
  // Each further duplicate inflates cwnd by a segment.
  inject(ack().ack(1)),
  getsockopt("TCP_INFO").returns({ sndCwnd: 9 }),
], RFC_RECOVERY);

scenario(
  "RFC 6582 NewReno: a partial ACK retransmits the next hole at once; the full ACK ends recovery",
  [
    ...noSack,
    write(new Uint8Array(10 * MSS)).returns(10 * MSS),
    ...flight(9),
    expect(data(MSS).seq(1 + 9 * MSS)),
    ...dupAcks(3),
    expect(ack().payload(MSS).seq(1)),
    inject(ack().ack(1 + 3 * MSS)),
    expect(ack().payload(MSS).seq(1 + 3 * MSS)).within("1ms"),
    getsockopt("TCP_INFO").returns({ caState: 3 }),
    inject(ack().ack(1 + 10 * MSS)),
    getsockopt("TCP_INFO").returns({ caState: 0, sndCwnd: 5, sndSsthresh: 5, totalRetrans: 2 }),
    expectNothing("1s"),
  ],
  RFC_RECOVERY,
);

scenario("RFC 5681 §3.1 RTO recovery: one-segment window, go back to snd.una, slow start again", [
  ...noSack,
  write(new Uint8Array(4 * MSS)).returns(4 * MSS),
  ...flight(3),
  expect(data(MSS).seq(1 + 3 * MSS)),
  expect(ack().payload(MSS).seq(1)).after("200ms"),
  getsockopt("TCP_INFO").returns({ caState: 4, sndCwnd: 1, sndSsthresh: 2, backoff: 1, lost: 4 }),
  inject(ack().ack(1 + MSS)),
  expect(ack().payload(MSS).seq(1 + MSS)),
  expect(ack().payload(MSS).seq(1 + 2 * MSS)),
  getsockopt("TCP_INFO").returns({ caState: 4, sndCwnd: 2, backoff: 0 }),
  inject(ack().ack(1 + 4 * MSS)),
  getsockopt("TCP_INFO").returns({ caState: 0, unacked: 0 }),
], RFC_RECOVERY);

scenario("duplicate ACKs after a timeout do not start fast retransmit (RFC 6582 §3.2 step 2)", [
  ...noSack,
  write(new Uint8Array(4 * MSS)).returns(4 * MSS),
  ...flight(3),
  expect(data(MSS).seq(1 + 3 * MSS)),
  expect(ack().payload(MSS).seq(1)).after("200ms"),
  inject(ack().ack(1)),
  inject(ack().ack(1)),
  inject(ack().ack(1)),
  expectNothing("100ms"),
  expect(ack().payload(MSS).seq(1)).after("300ms"),
]);

// --- Linux's recovery (profile linux: tcp_fastretrans_alert, PRR, undo), as the kernel does it.
// The handshake takes 20 ms and the ACKs come 10 ms after the flight, so srtt and min_rtt are
// the same on every target.

const info = (want: Record<string, number>) => getsockopt("TCP_INFO").returns(want);

scenario(
  "Linux NewReno: the third duplicate ACK marks the head lost; PRR takes cwnd from 7 to ssthresh (RFC 6937)",
  [
    ...tenInFlight,
    inject(ack().ack(1)),
    inject(ack().ack(1)),
    expectNothing("10ms"),
    inject(ack().ack(1)),
    expect(ack().payload(MSS).seq(1)).within("1ms"),
    // ssthresh is half of cwnd; each duplicate stands for a segment that left (tcp_add_reno_sack).
    info({ caState: CaState.RECOVERY, sndSsthresh: 5, sndCwnd: 7, sacked: 3, lost: 1, retrans: 1 }),
    inject(ack().ack(1)),
    info({ sndCwnd: 6, sacked: 4 }),
    inject(ack().ack(1)),
    info({ sndCwnd: 5, sacked: 5 }),
    expectNothing("10ms"),
  ],
);

scenario(
  "Linux NewReno: a partial ACK echoing the original's timestamp undoes the reduction (RFC 3522)",
  [
    ...tenInFlight,
    ...dupAcks(3),
    // The originals arrived after all: this ACK echoes their timestamp, not the retransmission's.
    inject(ack().ack(1 + 3 * MSS)),
    expect(ack().payload(MSS).seq(1)),
    info({ caState: CaState.DISORDER, sndSsthresh: INFINITE, sndCwnd: 11, lost: 0, retrans: 0 }),
    inject(ack().ack(1 + 10 * MSS)),
    info({ caState: CaState.OPEN, sndSsthresh: INFINITE, totalRetrans: 1 }),
  ],
);

scenario(
  "Linux NewReno: after a partial ACK PRR holds the next hole for a duplicate; recovery holds to high_seq",
  [
    ...tenInFlight,
    ...dupAcks(3),
    expect(ack().payload(MSS).seq(1)),
    // The partial ACK marks the next hole lost, but what is in flight already equals ssthresh.
    inject(ack().ack(1 + 3 * MSS)),
    expectNothing("10ms"),
    info({ caState: CaState.RECOVERY, sndCwnd: 5, lost: 1, retrans: 0 }),
    inject(ack().ack(1 + 3 * MSS)),
    expect(ack().payload(MSS).seq(1 + 3 * MSS)).within("1ms"),
    // Acknowledging exactly high_seq keeps NewReno in recovery (tcp_is_non_sack_preventing_reopen).
    inject(ack().ack(1 + 10 * MSS)),
    info({ caState: CaState.RECOVERY, sndCwnd: 5, unacked: 0 }),
    write(new Uint8Array(2 * MSS)).returns(2 * MSS),
    expect(ack().payload(MSS).seq(1 + 10 * MSS)),
    expect(data(MSS).seq(1 + 11 * MSS)),
    inject(ack().ack(1 + 12 * MSS)),
    info({ caState: CaState.OPEN, sndSsthresh: 5, sndCwnd: 5, totalRetrans: 2 }),
  ],
);

scenario(
  "Linux RTO: an ACK echoing the original's timestamp undoes the timeout; F-RTO then opens (RFC 5682)",
  [
    ...noSackRtt,
    write(new Uint8Array(4 * MSS)).returns(4 * MSS),
    ...flight(4),
    // The timeout fires near 220 ms and retransmits the head; the ACK below was for the original.
    wait("300ms"),
    inject(ack().ack(1 + MSS)),
    expect(ack().payload(MSS).seq(1)),
    info({ caState: CaState.LOSS, sndSsthresh: INFINITE, sndCwnd: 10, lost: 0, retrans: 0 }),
    inject(ack().ack(1 + 2 * MSS)),
    info({ caState: CaState.OPEN, sndCwnd: 10 }),
    inject(ack().ack(1 + 4 * MSS)),
    info({ caState: CaState.OPEN, unacked: 0, totalRetrans: 1 }),
    expectNothing("10ms"),
  ],
);

// CUBIC (RFC 9438) on the built-in stack only: this host's namespaces may not choose it.
scenario("CUBIC: the third duplicate ACK sets ssthresh to β·cwnd = 7 of 10; PRR holds cwnd there", [
  ...noSackRtt,
  write(new Uint8Array(10 * MSS)).returns(10 * MSS),
  ...flight(10),
  wait("10ms"),
  inject(ack().ack(1)),
  inject(ack().ack(1)),
  inject(ack().ack(1)),
  expect(ack().payload(MSS).seq(1)).within("1ms"),
  info({ caState: CaState.RECOVERY, sndSsthresh: 7, sndCwnd: 7 }),
  inject(ack().ack(1 + 10 * MSS)),
  // NewReno holds recovery at high_seq, as under Reno.
  info({ caState: CaState.RECOVERY, sndSsthresh: 7, sndCwnd: 7, unacked: 0 }),
], { profile: { ...profiles.linux, name: "cubic", congestionControl: "cubic" } });
