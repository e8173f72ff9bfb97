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
  where,
  write,
} from "../mod.ts";

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
export const sender = (synSeg: TcpBuilder = syn(), synAckSeg: TcpBuilder = synAck()) => [
  socket(),
  setsockopt("SO_SNDBUF", 65536).returns(0),
  bind(8080),
  listen(),
  inject(synSeg),
  expect(synAckSeg),
  inject(ack()),
  accept().returns(4),
];

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
