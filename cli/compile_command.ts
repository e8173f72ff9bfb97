/**
 * `synack compile`: prints a scenario's packet sequence in the line syntax
 * without running anything, as packetdrill reads a script. `>` lines are
 * packets the script injects, with every unset field filled in; `<` lines are
 * expected packets, with `*` where any value is accepted. Expected packets
 * are assumed to arrive exactly as written, and the stack's ISN is taken as
 * 0, so the numbers are the relative ones the scenario uses.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileScenario } from "./compile_command.ts";
 * import { defineScenario } from "../dsl/scenario_def.ts";
 * import { ack, syn, synAck } from "../dsl/packet_builder.ts";
 * import { listen } from "../dsl/socket_steps.ts";
 * import { expect, inject } from "../dsl/steps.ts";
 * const sc = defineScenario("hs", [listen(8080), inject(syn()), expect(synAck()), inject(ack())]);
 * const lines = compileScenario(sc).map((l) => l.replace(/^\S+ +/, ""));
 * assert.equal(lines[4], "> 192.0.2.1:40000 > 192.168.0.1:8080 S 0:0(0) win 65535 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>");
 * assert.equal(lines[5], "< 192.168.0.1:8080 > 192.0.2.1:40000 S. 0:0(0) ack 1");
 * assert.equal(lines[6], "> 192.0.2.1:40000 > 192.168.0.1:8080 . 1:1(0) ack 1 win 511 <nop,nop,TS val 100 ecr 0>");
 * ```
 */
import type { Scenario } from "../dsl/scenario_def.ts";
import { describeEntryPattern } from "../dsl/conntrack_steps.ts";
import { formatLocation } from "../dsl/source_location.ts";
import type { Step } from "../dsl/steps.ts";
import { layoutOptions } from "../dsl/option_spec.ts";
import { Flows } from "../runtime/engine/flow.ts";
import { formatPattern, type Pattern, relate, resolvePattern } from "../runtime/engine/pattern.ts";
import { DEFAULT_ADDRESSES } from "../runtime/stack/builtin_target.ts";
import { assertNever } from "../runtime/wire/assert_never.ts";
import { ipv4Header } from "../runtime/wire/ipv4.ts";
import { formatLine } from "../runtime/wire/line_format.ts";
import { type Packet, parsePacket } from "../runtime/wire/packet.ts";
import { emitPacket } from "../runtime/wire/packet.ts";
import { formatCallArgs } from "../runtime/wire/socket_call.ts";
import { TcpFlag } from "../runtime/wire/tcp.ts";
import { describeRewrite } from "../runtime/engine/path.ts";
import { planTopology, type TopologyPlan } from "../runtime/topology/addressing.ts";
import { address } from "../runtime/wire/address.ts";
import { describeValue, isMatcher } from "../dsl/matcher.ts";
import type { TopologyDef } from "../dsl/topology_def.ts";
import { loadLines } from "./run_command.ts";
import { ScenarioSuite, type SuiteOptions } from "./scenario_suite.ts";

function num(m: unknown, fallback: number): number {
  return typeof m === "number" ? m : fallback;
}

/** The packet a pattern describes, with free fields at their likeliest value. */
function synthesize(p: Pattern, flows: Flows, local: Uint8Array, remote: Uint8Array): Packet {
  const f = flows.current;
  const flags = num(p.flags, TcpFlag.ACK);
  const syn = (flags & TcpFlag.SYN) !== 0;
  const offered = f?.peerSyn;
  const options = p.options?.mode === "exact" ? [...p.options.list] : syn
    ? layoutOptions({
      mss: 1460,
      sackOk: true,
      ts: offered?.ts ? { val: 0, ecr: 0 } : undefined,
      wscale: offered?.wscale !== undefined ? 7 : undefined,
    })
    : [];
  const len = typeof p.payload === "number" ? p.payload : p.payload.length;
  return parsePacket(emitPacket({
    ip: local.length === 4 ? ipv4Header(local, remote) : {
      kind: "ipv6",
      version: 6,
      trafficClass: 0,
      flowLabel: 0,
      hopLimit: 64,
      src: local,
      dst: remote,
      extensions: [],
    },
    transport: {
      kind: "tcp",
      srcPort: num(p.srcPort, f?.localPort ?? 0),
      dstPort: num(p.dstPort, f?.remotePort ?? 0),
      seq: (num(p.seq.want, 0) + p.seq.base) >>> 0,
      ack: (num(p.ack.want, 0) + p.ack.base) >>> 0,
      flags,
      window: num(p.win, 0),
      urgent: 0,
      options,
      payload: typeof p.payload === "number" ? new Uint8Array(len) : p.payload,
    },
  }));
}

/** A call's wanted value as the result would print: bytes by their count, matchers by range. */
function formatWant(v: unknown): string {
  if (v instanceof Uint8Array) return `${v.length} bytes`;
  if (isMatcher(v)) return describeValue(v);
  if (typeof v === "object" && v !== null) {
    return `{${Object.entries(v).map(([k, x]) => `${k}: ${formatWant(x)}`).join(", ")}}`;
  }
  return JSON.stringify(v);
}

/** A topology's hosts, links with their subnets, and the tap, as comment lines. */
function topologyLines(t: TopologyDef, plan: TopologyPlan, family: 4 | 6): string[] {
  const hosts = Object.entries(t.hosts).map(([n, h]) =>
    `${n} (${h.kind === "kernel" ? `kernel${h.forward ? ", forwarding" : ""}` : "built-in"})`
  );
  const links = t.links.map((l) => {
    const addr = (h: string) =>
      address.format(
        plan.hosts[h].ifaces.find((i) => i.link === l.name)![family === 4 ? "v4" : "v6"],
      );
    return `#   link ${l.name}: ${l.a} ${addr(l.a)}, ${l.b} ${addr(l.b)}, mtu ${l.mtu}`;
  });
  return [`# topology: ${hosts.join(", ")}; the script's tap is on ${t.tap}`, ...links];
}

/** The lines `synack compile` prints for one scenario. */
export function compileScenario(sc: Scenario): string[] {
  const where = formatLocation(sc.at);
  if (!sc.steps) return [`# ${sc.name} (${where}): written as code; run it to see its packets`];
  const family = sc.options.family ?? 4;
  const topo = sc.options.topology;
  const plan = topo && planTopology(topo);
  const tap = topo?.links.find((l) => l.name === topo.tap);
  /** A topology host's address on the tap link. */
  const on = (host: string) =>
    plan!.hosts[host].ifaces.find((i) => i.link === tap!.name)![family === 4 ? "v4" : "v6"];
  const addrs = tap
    ? { local: on(tap.b), remote: on(tap.a) }
    : family === 4
    ? DEFAULT_ADDRESSES.v4
    : DEFAULT_ADDRESSES.v6;
  const flows = new Flows(addrs, sc.options.remotePort ?? 40000, () => 0);
  const sent = new Map<number, Packet>();
  const out = [`# ${sc.name} (${where})`];
  if (topo && plan) out.push(...topologyLines(topo, plan, family));
  let bound: number | undefined;
  const line = (s: Step, text: string) => out.push(`${s.at.file}:${s.at.line}  ${text}`);
  sc.steps.forEach((s, i) => {
    switch (s.kind) {
      case "inject": {
        const p = parsePacket(emitPacket(flows.resolve(s.packet)));
        flows.sent(p);
        sent.set(i, p);
        line(s, `> ${formatLine(p)}`);
        break;
      }
      case "expect": {
        if (tap) {
          // A topology's tap watches other hosts' flows: only what the pattern sets is checked.
          const from = s.from === undefined || s.from === "target" ? tap.b : s.from;
          const [src, dst] = from === tap.a ? [on(tap.a), on(tap.b)] : [on(tap.b), on(tap.a)];
          const text = s.alternatives.map((d) =>
            formatPattern(resolvePattern(d, undefined), src, dst)
          );
          line(s, `< ${tap.name} from ${from}: ${text.join("  |  ")}`);
          break;
        }
        const pats = s.alternatives.map((d) => {
          let p = resolvePattern(d, flows.current);
          for (const r of s.relations) {
            const ref = "step" in r.ref ? sent.get(r.ref.step) : undefined;
            if (ref?.transport.kind === "tcp") p = relate(p, r.kind, ref.transport);
          }
          return p;
        });
        line(s, `< ${pats.map((p) => formatPattern(p, addrs.local, addrs.remote)).join("  |  ")}`);
        if (s.alternatives[0].proto === "tcp") {
          flows.seen(synthesize(pats[0], flows, addrs.local, addrs.remote));
        }
        break;
      }
      case "call": {
        const c = s.call;
        if (c.name === "bind") bound = c.port;
        if (c.name === "listen" && s.side === "target" && bound !== undefined) {
          flows.listening(bound);
        }
        const shown = { ...c, fd: "fd" in c && c.fd !== undefined ? c.fd : "fd" } as never;
        const want = s.want.kind === "errno"
          ? ` = -1 ${s.want.errno}`
          : s.want.kind === "value"
          ? ` = ${formatWant(s.want.value)}`
          : "";
        line(
          s,
          `  ${s.side === "target" ? "" : `${s.side}.`}${c.name}(${formatCallArgs(shown)})${want}`,
        );
        break;
      }
      case "expectDrop":
        line(s, `  dropped${s.reason ? `: ${s.reason}` : ""}`);
        break;
      case "expectNothing":
        line(s, `< nothing${s.pattern ? ` like ${s.pattern.name}` : ""} for ${s.ms} ms`);
        break;
      case "wait":
        line(s, `  wait ${s.ms} ms`);
        break;
      case "sysctl":
        line(s, `  ${s.host === undefined ? "" : `${s.host}.`}sysctl ${s.name}=${s.value}`);
        break;
      case "profile":
        line(
          s,
          `  profile ${typeof s.profile === "string" ? s.profile : JSON.stringify(s.profile)}`,
        );
        break;
      case "peer":
        line(s, `  peer ${s.mode}`);
        break;
      case "path": {
        const o = s.op;
        const on = s.link === undefined ? "" : ` on ${s.link}`;
        const what = "match" in o
          ? ` ${o.match.name}${o.from ? ` from ${o.from}` : ""} ${
            o.nth ? `nth ${o.nth.join(",")}` : `count ${o.count}`
          }`
          : "";
        const extra = o.op === "delay"
          ? ` ${o.ms} ms`
          : o.op === "rewrite"
          ? ` ${describeRewrite(o.fields)}`
          : o.op === "impair"
          ? ` loss ${o.loss} delay ${o.delayMs} ms jitter ${o.jitterMs} ms reorder ${o.reorder} duplicate ${o.duplicate} seed ${o.seed}`
          : "";
        line(s, `  path ${o.op}${on}${what}${extra}`);
        break;
      }
      case "conntrack": {
        const parts = [
          ...s.has.map((p) => `has ${describeEntryPattern(p)}`),
          ...s.lacks.map((p) => `lacks ${describeEntryPattern(p)}`),
          ...(s.count === undefined ? [] : [`count ${describeValue(s.count)}`]),
          ...(s.invalid === undefined ? [] : [`invalid ${describeValue(s.invalid)}`]),
        ];
        line(s, `? conntrack${s.host === undefined ? "" : ` on ${s.host}`}: ${parts.join("; ")}`);
        break;
      }
      default:
        assertNever(s, "step");
    }
  });
  return out;
}

/**
 * `synack compile <paths…>`: loads the files as `synack run` does (code from
 * a URL sandboxed) and prints their packets; 2 when a file does not load.
 */
export async function compileCommand(
  paths: readonly string[],
  print = (l: string) => console.log(l),
  o: Omit<SuiteOptions, "includeTests"> = {},
): Promise<number> {
  const suite = await ScenarioSuite.open(paths, o);
  try {
    for (const l of loadLines(suite, false)) print(l);
    if (!suite.scenarios.length && !suite.failures.length) {
      throw new RangeError(`No scenarios found in ${paths.join(", ")}`);
    }
    for (const { scenario } of suite.scenarios) for (const l of compileScenario(scenario)) print(l);
    return suite.failures.length ? 2 : 0;
  } finally {
    await suite.close();
  }
}
