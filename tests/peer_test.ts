// The script's own end played by a built-in stack (peer.auto()).
import { ack, connect, expect, finAck, peer, scenario, socket, syn } from "../mod.ts";
import { pingPong } from "./fixtures.ts";

scenario("peer.auto(): the peer stack connects, sends, and closes; the stack under test reads", [
  ...pingPong,
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
