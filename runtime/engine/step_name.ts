/**
 * A step in a few words, for failures and time-out reports:
 * `expect(synAck)`, `peer.connect()`, `on("client", sysctl(net.ipv4.tcp_sack))`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { synAck } from "../../dsl/packet_builder.ts";
 * import { expect, toSteps } from "../../dsl/steps.ts";
 * import { stepName } from "./step_name.ts";
 * assert.equal(stepName(toSteps([expect(synAck())])[0]), "expect(synAck)");
 * ```
 */
import type { Step } from "../../dsl/steps.ts";
import { assertNever } from "../wire/assert_never.ts";

/** The step in a few words. */
export function stepName(s: Step): string {
  switch (s.kind) {
    case "inject":
      return `inject(${s.packet.name})`;
    case "expect":
      return `expect(${s.alternatives.map((a) => a.name).join(" | ")})`;
    case "expectDrop":
      return `expectDrop(${s.reason ?? ""})`;
    case "expectNothing":
      return `expectNothing(${s.ms}ms${s.pattern ? `, ${s.pattern.name}` : ""})`;
    case "call":
      return `${s.side === "target" ? "" : `${s.side}.`}${s.call.name}()`;
    case "wait":
      return `wait(${s.ms}ms)`;
    case "sysctl":
      return `${s.host === undefined ? "" : `on("${s.host}", `}sysctl(${s.name})${
        s.host === undefined ? "" : ")"
      }`;
    case "profile":
      return "useProfile()";
    case "peer":
      return `peer.${s.mode}()`;
    case "path":
      return `path.${s.op.op}(${"match" in s.op ? s.op.match.name : ""})`;
    case "conntrack":
      return `conntrack(${s.host === undefined ? "" : `"${s.host}"`})`;
    default:
      return assertNever(s, "step");
  }
}
