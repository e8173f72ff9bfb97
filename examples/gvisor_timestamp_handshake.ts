/**
 * Story 1 of ../shared/seeds: a handshake that never completes. Timestamps
 * are negotiated on the SYN, but the ACK that should complete the handshake
 * carries no TS option. gVisor's netstack (RFC 7323 §3.2) drops it, stays in
 * SYN-RECV and retransmits its SYN-ACK with backoff; Linux accepts it and
 * reaches ESTABLISHED. With timestamps left off the SYN, both complete: the
 * workaround `tcp_timestamps=0`.
 *
 * The gVisor scenarios are pinned to profile `gvisor`: they run on the
 * built-in stack's model of it and on the real netstack (`--target gvisor`),
 * and are skipped on the Linux kernel; the Linux ones the other way round.
 *
 * ```text
 * npx deno task synack run examples/gvisor_timestamp_handshake.ts
 * npx deno task synack run --target gvisor examples/gvisor_timestamp_handshake.ts
 * ```
 */
import {
  accept,
  ack,
  expect,
  expectNothing,
  fcntl,
  getsockopt,
  inject,
  listen,
  rst,
  scenario,
  syn,
  synAck,
} from "../mod.ts";

/** The ACK that completes the handshake, without the TS option. */
const ackWithoutTs = ack().opts({ ts: false });

export const strict = scenario(
  "gVisor: a TS-less ACK leaves the handshake hanging",
  [
    listen(8080),
    fcntl(true),
    inject(syn()),
    expect(synAck().optsInclude({ ts: true })),
    inject(ackWithoutTs),
    // Dropped: no ACK, no connection to accept, and the SYN-ACK comes back with backoff,
    // six times (gVisor's handshake gives up when its backoff passes 120 s; Linux retries 5).
    accept().fails("EAGAIN"),
    expect(synAck()).after("1s"),
    expect(synAck()).after("2s"),
    expect(synAck()).after("4s"),
    expect(synAck()).after("8s"),
    expect(synAck()).after("16s"),
    expect(synAck()).after("32s"),
    // 64 s later the half-open connection is gone, 127 s after the SYN.
    expectNothing("70s"),
    accept().fails("EAGAIN"),
    // The client thinks it is connected; its data now meets the listener and gets a passive RST.
    inject(ackWithoutTs.payload("GET / HTTP/1.1\r\n\r\n").flags("P.")),
    // A listener refuses an ACK (Linux's word for it, as the built-in stack gives it: TCP_FLAGS).
    expect(rst().reason("TCP_FLAGS")).seqEquals(ackWithoutTs),
  ],
  { profile: "gvisor" },
);

export const linux = scenario("Linux: the same TS-less ACK completes the handshake", [
  listen(8080),
  inject(syn()),
  expect(synAck().optsInclude({ ts: true })),
  inject(ackWithoutTs),
  accept().returns(4),
  getsockopt("TCP_INFO").returns({ state: "ESTABLISHED", retransmits: 0 }),
  expectNothing("5s"),
], { profile: "linux" });

for (const profile of ["linux", "gvisor"]) {
  scenario(`${profile}: with timestamps off the SYN (<ts:false>) the handshake completes`, [
    listen(8080),
    inject(syn().opts("<ts:false>")),
    expect(synAck().optsInclude({ ts: false })),
    inject(ack()),
    accept().returns(4),
    getsockopt("TCP_INFO").returns({ state: "ESTABLISHED" }),
  ], { profile });
}
