import { close, data, expect, finAck, inject, rst, scenario } from "../mod.ts";
import { established } from "../tests/fixtures.ts";
export const abortOnData = scenario("data after close(): abort", [
  ...established,
  close(),
  expect(finAck()),
  inject(data("late")),
  expect(rst().reason("TCP_ABORT_ON_DATA")),
]);
