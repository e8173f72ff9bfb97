// Step prefixes the conformance scenarios share. Not a test file itself.
import {
  accept,
  ack,
  bind,
  close,
  expect,
  inject,
  listen,
  peer,
  read,
  setsockopt,
  socket,
  syn,
  synAck,
  type TcpBuilder,
  TcpFlag,
  type Trace,
  wait,
  where,
  write,
} from "../mod.ts";
import { profiles } from "../runtime/stack/profile.ts";
import type { Scenario } from "../dsl/scenario_def.ts";
import { definedScenarios, withoutRegistration } from "../runtime/scenario.ts";
import { parsePacket } from "../runtime/wire/packet.ts";

/** A passive open on port 8080 completed and accepted as fd 4. */
export const established = [
  listen(8080),
  inject(syn()),
  expect(synAck()),
  inject(ack()),
  accept().returns(4),
];

/** Payload per full segment on an established connection with timestamps (1460 − 12). */
export const MSS = 1448;

/**
 * `established`, with a 64 KiB send buffer so a write of many segments
 * does not block. `synSeg` and `synAckSeg` shape the handshake.
 */
export const sender = (synSeg: TcpBuilder = syn(), synAckSeg: TcpBuilder = synAck()) =>
  passiveOpen(synSeg, synAckSeg);

/**
 * `sender`, with the handshake's final ACK `rtt` after the SYN-ACK: a round
 * trip both the kernel and the built-in stack measure, so that what follows
 * from srtt and min_rtt (RACK's reordering window, the loss probe's delay)
 * is the same on both, where an instant answer would be 0 ms on the virtual
 * clock and a few µs on a TUN device.
 */
export const senderRtt = (
  rtt: string,
  synSeg: TcpBuilder = syn(),
  synAckSeg: TcpBuilder = synAck(),
) => passiveOpen(synSeg, synAckSeg, rtt);

const passiveOpen = (synSeg: TcpBuilder, synAckSeg: TcpBuilder, rtt?: string) => [
  socket(),
  setsockopt("SO_SNDBUF", 65536).returns(0),
  bind(8080),
  listen(),
  inject(synSeg),
  expect(synAckSeg),
  ...(rtt === undefined ? [] : [wait(rtt)]),
  inject(ack()),
  accept().returns(4),
];

/**
 * The RFC's loss recovery in place of Linux's: RFC 6582 NewReno without
 * SACK, RFC 6675 with it (profile `recovery: "rfc6675"`). A model, so the
 * kernel conformance run leaves these scenarios to the built-in stack.
 */
export const RFC_RECOVERY = {
  profile: { ...profiles.linux, name: "rfc6675-recovery", recovery: "rfc6675" },
};

/**
 * An ACK, with or without PSH. Linux pushes the last segment of each GSO
 * burst, whose size follows the measured RTT and pacing rate; the built-in
 * stack pushes the last segment of a write. Flights are about sequence space.
 */
const ACK_MAYBE_PSH = where(
  (f) => (f & ~TcpFlag.PSH) === TcpFlag.ACK,
  ". or P. (PSH marks the end of a burst)",
);

/** `n` full segments from the stack, starting `from` segments after the ISN. */
export const flight = (n: number, from = 0) =>
  Array.from(
    { length: n },
    (_, i) => expect(ack().flags(ACK_MAYBE_PSH).payload(MSS).seq(1 + (from + i) * MSS)),
  );

/**
 * The built-in peer connects to a listener on 8080, they exchange "ping" and
 * "pong", the peer closes and the stack under test reads the end and closes.
 */
export const pingPong = [
  listen(8080),
  peer.auto(),
  peer.socket(),
  peer.connect(8080).returns(0),
  accept(),
  peer.write("ping").returns(4),
  read().returns("ping"),
  write("pong").returns(4),
  peer.read().returns("pong"),
  peer.close(),
  read().returns(""),
  close(),
];

/**
 * What became of the server's shifted ACK in an examples/docker_conntrack.ts
 * run: whether the Docker host answered with a RST of its own, and whether
 * the segment reached the container translated.
 */
export function dockerOutcome(trace: Trace): string {
  const packets = trace.events.flatMap((e) => e.kind === "packet" ? [e] : []);
  const tcp = (b: Uint8Array) => {
    const t = parsePacket(b).transport;
    if (t.kind !== "tcp") throw new Error("not TCP");
    return t;
  };
  const shifted = packets.find((e) => /rewritten tcp\.seq \+1000000/.test(e.path?.join() ?? ""));
  if (!shifted) return "the server's ACK was not shifted";
  const seq = (tcp(shifted.bytes).seq + 1_000_000) >>> 0;
  const toContainer = packets.some((e) =>
    e.link === "container-dockerhost" && e.from === "dockerhost" && tcp(e.bytes).seq === seq
  );
  const hostRst = packets.some((e) =>
    e.link === "server-dockerhost" && e.from === "dockerhost" &&
    (tcp(e.bytes).flags & TcpFlag.RST) !== 0
  );
  return `${hostRst ? "RST" : "no RST"}, ${toContainer ? "translated" : "not forwarded"}`;
}

/** The outcomes the story has on real netfilter, in the file's order. */
export const DOCKER_OUTCOMES = [
  "RST, not forwarded",
  "no RST, not forwarded",
  "no RST, translated",
];

/**
 * The conformance scenarios of tests/stack_*_test.ts, defined again without
 * registering them (a query on each file makes a fresh module instance), to
 * run on another target.
 */
export async function loadStackScenarios(query: string): Promise<Scenario[]> {
  const dir = new URL("./", import.meta.url);
  const files = [...Deno.readDirSync(dir)].map((e) => e.name)
    .filter((n) => /^stack_.*_test\.ts$/.test(n)).sort();
  const out: Scenario[] = [];
  for (const f of files) {
    const before = definedScenarios.length;
    await withoutRegistration(() => import(new URL(`${f}?${query}`, dir).href));
    out.push(...definedScenarios.slice(before));
  }
  return out;
}
