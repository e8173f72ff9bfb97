// The script's own end played by a built-in stack (peer.auto()).
import {
  accept,
  ack,
  close,
  connect,
  expect,
  finAck,
  listen,
  peer,
  read,
  scenario,
  socket,
  syn,
  write,
} from "../mod.ts";

scenario("peer.auto(): the peer stack connects, sends, and closes; the stack under test reads", [
  listen(8080),
  peer.auto(),
  peer.socket(),
  peer.connect(8080).returns(0),
  accept().returns(4),
  peer.write("ping").returns(4),
  read().returns("ping"),
  write("pong").returns(4),
  peer.read().returns("pong"),
  peer.close(),
  read().returns(""),
  close(),
  expect(finAck()),
]);

scenario("peer.auto() with the stack under test connecting out", [
  peer.listen(9000),
  peer.auto(),
  socket(),
  connect(9000).returns(0),
  expect(syn()),
  expect(ack().seq(1).ack(1)),
  peer.accept().returns(4),
]);
