/**
 * The built-in stack as the peer of the stack under test, with the script on
 * the path between them. `peer.auto()` lets synack's own stack play the far
 * end; `path.drop()` loses the 3rd and 10th data segments on the way; the
 * expectations read the recovery off the wire, and the final read checks
 * that all 10 MB arrive intact and in order.
 *
 * The same file runs on the built-in stack (virtual clock, a fraction of a
 * second) and on the Linux kernel (TUN in a private namespace, real time):
 *
 * ```text
 * npx deno task synack run examples/peer_transfer.ts
 * sudo npx deno task synack run examples/peer_transfer.ts --target kernel --pcap /tmp/t.pcapng
 * ```
 *
 * In the pcapng, each dropped segment carries the comment
 * `dropped by path.drop (examples/peer_transfer.ts:…)`.
 */
import {
  accept,
  ack,
  close,
  connect,
  dataSegment,
  expect,
  getsockopt,
  listen,
  path,
  peer,
  range,
  read,
  scenario,
  socket,
  write,
} from "../mod.ts";

const SIZE = 10 * 1024 * 1024;
/** 10 MB that no shifted or repeated copy of itself matches. */
const payload = new Uint8Array(SIZE);
for (let i = 0; i < SIZE; i++) payload[i] = (i * 7 + (i >> 11)) & 0xff;
/** Payload per full segment: the MSS less the 12 bytes of the timestamp option. */
const segment = (family: 4 | 6) => (family === 4 ? 1460 : 1440) - 12;

for (const family of [4, 6] as const) {
  const mss = segment(family);
  // The 3rd data segment starts after two full ones.
  const third = 1 + 2 * mss;

  scenario(`IPv${family}: the stack under test receives 10 MB from the peer; the path drops 2`, [
    listen(8080),
    peer.auto(),
    path.drop(dataSegment(), { from: "peer", nth: [3, 10] }),
    peer.socket(),
    peer.connect(8080).returns(0),
    accept(),
    peer.write(payload).returns(SIZE),
    // The receiver tells the sender what it holds beyond the hole (RFC 2018 §4).
    expect(ack().ack(third).optsInclude({ sack: [[third + mss, third + 2 * mss]] })),
    read(SIZE, { all: true }).returns(payload),
    peer.close(),
    read().returns(""),
    close(),
  ], { family });

  scenario(`IPv${family}: the stack under test sends 10 MB to the peer; the path drops 2`, [
    peer.listen(9000),
    peer.auto(),
    path.drop(dataSegment(), { from: "target", nth: [3, 10] }),
    socket(),
    connect(9000).returns(0),
    peer.accept(),
    write(payload).returns(SIZE),
    // The segment the path dropped, then its retransmission: the sender's recovery.
    expect(dataSegment().seq(third)),
    expect(dataSegment().seq(third)),
    peer.read(SIZE, { all: true }).returns(payload),
    getsockopt("TCP_INFO").returns({ totalRetrans: range(2, 1000) }),
    close(),
    peer.read().returns(""),
    peer.close(),
  ], { family });
}
