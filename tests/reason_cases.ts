/**
 * Reasons as a script checks them: one table of cases (template + override),
 * run on the built-in stack by `reasons_test.ts` and on the kernel by
 * `kernel/reasons_test.ts`. Each case names the segment it sends and what
 * must hold: a pass, or a failure whose text says why, with the stack's own
 * word (`builtin` or `kernel`) where it belongs.
 */
import { defineScenario, type Scenario } from "../dsl/scenario_def.ts";
import type { StepInput } from "../dsl/steps.ts";
import { ack, data, expect, expectDrop, expectNothing, inject, rst } from "../mod.ts";
import { established } from "./fixtures.ts";

/** An ACK to a closed port: the kernel drops it and resets it, both NO_SOCKET. */
const stray = ack().ports(40000, 9).seq(1).ack(1000);
/** Old timestamps (the script's run from 100; ts.recent is 104 after the handshake). */
const OLD_TS = "<nop,nop,TS val 50 ecr 0>";
/** A pure ACK below rcv.nxt with an old timestamp: Linux drops it without a word. */
const oldAck = ack().seq(0).opts(OLD_TS);

export interface ReasonCase {
  name: string;
  steps: StepInput[];
  /** A pattern the failure must match, `{stack}` standing for `builtin` or `kernel`; none: a pass. */
  fails?: string;
}

export const REASON_CASES: readonly ReasonCase[] = [
  {
    name: "a closed port: the RST and the drop, both NO_SOCKET",
    steps: [
      inject(stray),
      expect(rst().reason("NO_SOCKET")).seqEquals(stray),
      expectDrop("NO_SOCKET"),
    ],
  },
  {
    name: "the wrong RST reason fails the expect with both words",
    steps: [inject(stray), expect(rst().reason("TCP_FLAGS"))],
    fails:
      "expect\\(rst\\) came for another reason\\n.*\\n  rst\\.reason: want TCP_FLAGS, got NO_SOCKET",
  },
  {
    name: "the wrong drop reason fails expectDrop with both words",
    steps: [inject(stray), expect(rst()), expectDrop("TCP_OLD_ACK")],
    fails: "expectDrop: want the last injected segment dropped for TCP_OLD_ACK, got NO_SOCKET",
  },
  {
    name: "a segment the stack took fails expectDrop",
    steps: [...established, inject(data("hi")), expectDrop()],
    fails: "expectDrop: want the last injected segment dropped, got none: the stack took it",
  },
  {
    name: "an old pure ACK below rcv.nxt fails PAWS and is dropped without an answer",
    steps: [
      ...established,
      inject(oldAck),
      expectDrop("TCP_RFC7323_PAWS_ACK"),
      expectNothing("100ms"),
    ],
  },
  {
    name: "old data fails PAWS: dropped as TCP_RFC7323_PAWS, and ACKed",
    steps: [
      ...established,
      inject(data("hi").opts(OLD_TS)),
      expectDrop("TCP_RFC7323_PAWS"),
      expect(ack().ack(1)),
    ],
  },
  {
    name: "an expect that gets nothing says the stack dropped what it waited on, and why",
    steps: [...established, inject(oldAck), expect(ack()).within("100ms")],
    fails:
      "got nothing within[^]*the stack dropped the last injected segment \\({stack}: TCP_RFC7323_PAWS_ACK\\)[^]*# {stack} dropped: TCP_RFC7323_PAWS_ACK",
  },
];

/** The cases as scenarios, not registered with Deno.test. */
export function reasonScenarios(): { c: ReasonCase; sc: Scenario }[] {
  return REASON_CASES.map((c) => ({ c, sc: defineScenario(c.name, c.steps, { register: false }) }));
}
