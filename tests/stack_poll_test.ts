// The built-in stack: poll(2) on TCP sockets, as Linux's tcp_poll reports readiness.
import {
  accept,
  ack,
  data,
  expect,
  finAck,
  inject,
  listen,
  poll,
  rst,
  scenario,
  syn,
  synAck,
  wait,
} from "../mod.ts";
import { established } from "./fixtures.ts";

scenario("poll: a listener turns readable when a connection waits to be accepted", [
  listen(8080),
  poll("POLLIN").returns({ revents: "0" }),
  inject(syn()),
  expect(synAck()),
  poll("POLLIN").returns({ revents: "0" }),
  inject(ack()),
  poll("POLLIN").returns({ revents: "POLLIN" }),
  accept().returns(4),
]);

scenario("poll: an established socket is writable, and readable once data arrives", [
  ...established,
  poll("POLLIN|POLLOUT").returns({ revents: "POLLOUT" }),
  inject(data("hi")),
  expect(ack().ack(3)),
  poll("POLLOUT|POLLIN").returns({ revents: "POLLIN|POLLOUT" }),
]);

scenario("poll: a wait ends when data arrives, or when the time runs out", [
  ...established,
  poll("POLLIN", "1s").returns({ revents: "POLLIN" }).after("200ms"),
  wait("200ms"),
  inject(data("x")),
  expect(ack().ack(2)),
  poll("POLLRDHUP", "300ms").returns({ revents: "0" }).after("300ms"),
]);

scenario("poll: a FIN reads as POLLIN|POLLRDHUP; a reset adds POLLERR and POLLHUP", [
  ...established,
  inject(finAck()),
  expect(ack().ack(2)),
  poll("POLLIN|POLLRDHUP").returns({ revents: "POLLIN|POLLRDHUP" }),
  inject(rst().seq(2)),
  poll("POLLIN").returns({ revents: "POLLIN|POLLERR|POLLHUP" }),
]);
