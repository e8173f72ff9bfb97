import { ack, accept, expect, expectDrop, expectNothing, inject, listen, rst, scenario, syn, synAck } from "../mod.ts";
const stray = ack().ports(40000, 9).seq(1).ack(1000);
export const wrong = scenario("wrong reason", [
  inject(stray),
  expect(rst().reason("TCP_FLAGS")).seqEquals(stray),
]);
export const wrongDrop = scenario("wrong drop", [
  inject(stray),
  expect(rst()),
  expectDrop("TCP_OLD_ACK"),
]);
export const paws = scenario("PAWS ack", [
  listen(8080),
  inject(syn()),
  expect(synAck()),
  inject(ack()),
  accept(),
  inject(ack().opts("<nop,nop,TS val 50 ecr 0>")),
  expect(ack()).within("200ms"),
]);
