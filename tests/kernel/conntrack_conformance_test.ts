/**
 * The conntrack model against the kernel's own conntrack, segment by segment.
 * Each scenario is a list of segments between a client (10.1.0.1:40000) and a
 * server (10.2.0.1:80). The kernel side writes them into a TUN device of a
 * private namespace that forwards both addresses out of a second one, so
 * conntrack sees every segment at PREROUTING as on a router; an nft counter on
 * `ct state invalid` tells which ones it found INVALID, `conntrack -L`
 * gives the entry's state at the end, and `conntrack -S` the INVALID count. The model takes the same segments. Both
 * must agree on every verdict and on the final state. Timeouts are shortened
 * through their sysctls and waited out in real time on the kernel, in virtual
 * time in the model; a wait is at least twice the timeout, as conntrack counts
 * in jiffies. Needs root; skips visibly without.
 */
import assert from "node:assert/strict";
import { kernelUnavailable, missingTool } from "../../runtime/kernel/kernel_support.ts";
import { parseConntrackStats } from "../../runtime/kernel/conntrack_tool.ts";
import { libc } from "../../runtime/kernel/libc.ts";
import { PrivateNetns } from "../../runtime/kernel/netns.ts";
import { openTun } from "../../runtime/kernel/tun_backend.ts";
import {
  applyConntrackSysctl,
  CONNTRACK_DEFAULTS,
} from "../../runtime/middlebox/conntrack_settings.ts";
import { CT_STATE_NAMES } from "../../runtime/middlebox/conntrack_states.ts";
import { ConntrackTable, type Tuple } from "../../runtime/middlebox/conntrack_table.ts";
import { address } from "../../runtime/wire/address.ts";
import { ipv4Header } from "../../runtime/wire/ipv4.ts";
import { emitPacket } from "../../runtime/wire/packet.ts";
import { TcpFlag } from "../../runtime/wire/tcp.ts";
import type { TcpOption } from "../../runtime/wire/tcp_options.ts";

/** Why the kernel side cannot run here: no root, or no nft or conntrack tool (.ci/run installs them). */
const why = kernelUnavailable() ?? missingTool("nft", "nftables") ??
  missingTool("conntrack", "conntrack");
const { SYN, ACK, FIN, RST, PSH } = TcpFlag;

const CLIENT = address.parse("10.1.0.1");
const SERVER = address.parse("10.2.0.1");

/** One segment of a scenario. */
interface Seg {
  from: "client" | "server";
  flags: number;
  seq: number;
  ack?: number;
  win?: number;
  len?: number;
  options?: TcpOption[];
  /** Sent this many ms after the one before (real time on the kernel, virtual in the model). */
  after?: number;
}

interface Case {
  name: string;
  segs: Seg[];
  sysctls?: Record<string, number>;
}

const tuple = (s: Seg): Tuple =>
  s.from === "client"
    ? { src: CLIENT, dst: SERVER, srcPort: 40000, dstPort: 80 }
    : { src: SERVER, dst: CLIENT, srcPort: 80, dstPort: 40000 };

function bytes(s: Seg): Uint8Array {
  const t = tuple(s);
  return emitPacket({
    ip: ipv4Header(t.src, t.dst),
    transport: {
      kind: "tcp",
      srcPort: t.srcPort,
      dstPort: t.dstPort,
      seq: s.seq >>> 0,
      ack: (s.ack ?? 0) >>> 0,
      flags: s.flags,
      window: s.win ?? 65535,
      urgent: 0,
      options: s.options ?? [],
      payload: new Uint8Array(s.len ?? 0),
    },
  });
}

/** A client SYN (ISN 1000) and server SYN-ACK (ISN 5000), each with the options given, and the ACK. */
const handshake = (c: TcpOption[] = [], sv: TcpOption[] = []): Seg[] => [
  { from: "client", flags: SYN, seq: 1000, options: c },
  { from: "server", flags: SYN | ACK, seq: 5000, ack: 1001, options: sv },
  { from: "client", flags: ACK, seq: 1001, ack: 5001 },
];

/** The server sends 3000 bytes; the client acknowledges them. */
const data3000: Seg[] = [
  { from: "server", flags: ACK, seq: 5001, ack: 1001, len: 1000 },
  { from: "server", flags: ACK, seq: 6001, ack: 1001, len: 1000 },
  { from: "server", flags: ACK | PSH, seq: 7001, ack: 1001, len: 1000 },
  { from: "client", flags: ACK, seq: 1001, ack: 8001 },
];

const ws = (shift: number): TcpOption[] => [{ kind: "wscale", shift }];

const CASES: Case[] = [
  { name: "a handshake", segs: handshake() },
  { name: "data and its ACK", segs: [...handshake(), ...data3000] },
  {
    name: "RSTs below the acknowledged point, above the window, then the exact one",
    segs: [
      ...handshake(),
      ...data3000,
      { from: "server", flags: RST, seq: 5001, win: 0 },
      { from: "server", flags: RST, seq: 1_005_001, win: 0 },
      { from: "server", flags: RST, seq: 5043, win: 0 },
      { from: "server", flags: RST | ACK, seq: 8000, ack: 1001, win: 0 },
      { from: "server", flags: RST | ACK, seq: 8001, ack: 1001, win: 0 },
    ],
  },
  {
    name: "a RST in the window but not exact keeps it established",
    segs: [...handshake(), ...data3000, { from: "server", flags: RST, seq: 8500, win: 0 }],
  },
  {
    name: "data beyond the window by more than a window",
    segs: [...handshake(), { from: "client", flags: ACK, seq: 1001 + 200_000, ack: 5001, len: 10 }],
  },
  {
    name: "data beyond the window by less than a window",
    segs: [...handshake(), { from: "client", flags: ACK, seq: 1001 + 70_000, ack: 5001, len: 10 }],
  },
  {
    name: "an ACK of data never sent",
    segs: [...handshake(), { from: "client", flags: ACK, seq: 1001, ack: 9001 }],
  },
  {
    name: "data acknowledged long ago, sent again",
    segs: [
      ...handshake(),
      ...Array.from({ length: 50 }, (_, i): Seg[] => [
        { from: "client", flags: ACK | PSH, seq: 1001 + i * 1460, ack: 5001, win: 257, len: 1460 },
        { from: "server", flags: ACK, seq: 5001, ack: 1001 + (i + 1) * 1460 },
      ]).flat(),
      { from: "client", flags: ACK | PSH, seq: 1001, ack: 5001, win: 257, len: 1460 },
    ],
  },
  {
    name: "a very late ACK",
    segs: [
      ...handshake(),
      ...Array.from({ length: 50 }, (_, i): Seg[] => [
        { from: "client", flags: ACK | PSH, seq: 1001 + i * 1460, ack: 5001, len: 1460 },
        { from: "server", flags: ACK, seq: 5001, ack: 1001 + (i + 1) * 1460 },
      ]).flat(),
      { from: "server", flags: ACK, seq: 5001, ack: 1001 },
    ],
  },
  {
    name: "window scaling: within the scaled window, then beyond it",
    segs: [
      ...handshake(ws(7), ws(7)),
      { from: "server", flags: ACK, seq: 5001, ack: 1001, win: 1000 },
      { from: "client", flags: ACK, seq: 1001 + 100_000, ack: 5001, len: 10 },
      { from: "client", flags: ACK, seq: 1001 + 300_000, ack: 5001, len: 10 },
    ],
  },
  {
    name: "window scale from one side only is not used",
    segs: [
      ...handshake(ws(7), []),
      { from: "server", flags: ACK, seq: 5001, ack: 1001, win: 1000 },
      { from: "client", flags: ACK, seq: 1001 + 100_000, ack: 5001, len: 10 },
    ],
  },
  {
    name: "a SACK block beyond what was sent",
    segs: [
      ...handshake([{ kind: "sackOk" }], [{ kind: "sackOk" }]),
      ...data3000.slice(0, 3),
      {
        from: "client",
        flags: ACK,
        seq: 1001,
        ack: 6001,
        options: [{ kind: "sack", blocks: [[7001, 8001]] }],
      },
      {
        from: "client",
        flags: ACK,
        seq: 1001,
        ack: 6001,
        options: [{ kind: "sack", blocks: [[7001, 9001]] }],
      },
    ],
  },
  {
    name: "a close: FIN, FIN, ACK",
    segs: [
      ...handshake(),
      { from: "client", flags: FIN | ACK, seq: 1001, ack: 5001 },
      { from: "server", flags: ACK, seq: 5001, ack: 1002 },
      { from: "server", flags: FIN | ACK, seq: 5001, ack: 1002 },
      { from: "client", flags: ACK, seq: 1002, ack: 5002 },
    ],
  },
  {
    name: "a RST while closing is not checked",
    segs: [
      ...handshake(),
      { from: "client", flags: FIN | ACK, seq: 1001, ack: 5001 },
      { from: "server", flags: RST, seq: 4000, win: 0 },
    ],
  },
  {
    name: "a RST in SYN_RECV, in the window, ends the entry",
    segs: [
      { from: "client", flags: SYN, seq: 1000 },
      { from: "server", flags: SYN | ACK, seq: 5000, ack: 1001 },
      { from: "client", flags: RST, seq: 1001, win: 0 },
    ],
  },
  {
    name: "a RST in CLOSE_WAIT, exact, closes the entry",
    segs: [
      ...handshake(),
      { from: "client", flags: FIN | ACK, seq: 1001, ack: 5001 },
      { from: "server", flags: ACK, seq: 5001, ack: 1002 },
      { from: "server", flags: RST, seq: 5001, win: 0 },
    ],
  },
  {
    name: "a RST in TIME_WAIT",
    segs: [
      ...handshake(),
      { from: "client", flags: FIN | ACK, seq: 1001, ack: 5001 },
      { from: "server", flags: FIN | ACK, seq: 5001, ack: 1002 },
      { from: "client", flags: ACK, seq: 1002, ack: 5002 },
      { from: "client", flags: RST, seq: 1002, win: 0 },
    ],
  },
  {
    name: "a SYN on an established connection",
    segs: [...handshake(), { from: "client", flags: SYN, seq: 90_000 }],
  },
  {
    name: "a connection picked up mid-stream",
    segs: [
      { from: "client", flags: ACK | PSH, seq: 1001, ack: 5001, len: 100 },
      { from: "server", flags: ACK, seq: 5001, ack: 1101 },
    ],
  },
  {
    name: "no pick-up with nf_conntrack_tcp_loose=0",
    sysctls: { "net.netfilter.nf_conntrack_tcp_loose": 0 },
    segs: [{ from: "client", flags: ACK | PSH, seq: 1001, ack: 5001, len: 100 }],
  },
  {
    name: "flag combinations that are never valid",
    segs: [
      ...handshake(),
      { from: "client", flags: SYN | FIN, seq: 1001, ack: 5001 },
      { from: "client", flags: FIN, seq: 1001 },
      { from: "client", flags: 0, seq: 1001 },
    ],
  },
  {
    name: "a SYN-ACK, FIN or RST cannot start an entry",
    segs: [{ from: "server", flags: SYN | ACK, seq: 5000, ack: 1001 }],
  },
  {
    name: "be_liberal accepts data beyond the window",
    sysctls: { "net.netfilter.nf_conntrack_tcp_be_liberal": 1 },
    segs: [...handshake(), { from: "client", flags: ACK, seq: 1001 + 200_000, ack: 5001, len: 10 }],
  },
  {
    name: "ignore_invalid_rst lets an old RST through",
    sysctls: { "net.netfilter.nf_conntrack_tcp_ignore_invalid_rst": 1 },
    segs: [...handshake(), ...data3000, { from: "server", flags: RST, seq: 5043, win: 0 }],
  },
  {
    name:
      "SYN_SENT times out (nf_conntrack_tcp_timeout_syn_sent=1): the late SYN-ACK starts nothing",
    sysctls: { "net.netfilter.nf_conntrack_tcp_timeout_syn_sent": 1 },
    segs: [
      { from: "client", flags: SYN, seq: 1000 },
      { from: "server", flags: SYN | ACK, seq: 5000, ack: 1001, after: 2500 },
    ],
  },
  {
    name: "within its timeout, the SYN-ACK is tracked",
    sysctls: { "net.netfilter.nf_conntrack_tcp_timeout_syn_sent": 5 },
    segs: [
      { from: "client", flags: SYN, seq: 1000 },
      { from: "server", flags: SYN | ACK, seq: 5000, ack: 1001, after: 500 },
    ],
  },
  {
    name: "a RST answering the SYN",
    segs: [
      { from: "client", flags: SYN, seq: 1000 },
      { from: "server", flags: RST | ACK, seq: 0, ack: 1001, win: 0 },
    ],
  },
];

/**
 * A namespace that forwards 10/8 out of a second TUN device nobody reads (the
 * segments pass POSTROUTING, so conntrack confirms their entries), with a TUN
 * to write segments into.
 */
async function kernelSide(sysctls: Record<string, number>) {
  const ns = PrivateNetns.create();
  const fd = ns.inside(() => openTun("tun0"));
  const sink = ns.inside(() => openTun("tun1"));
  await ns.exec(
    ["ip", "-batch", "-"],
    [
      "link set lo up",
      "link set tun0 up",
      "addr add 192.168.99.1/24 dev tun0",
      "link set tun1 up",
      "route add 10.0.0.0/8 dev tun1",
      "",
    ].join("\n"),
  );
  ns.writeSysctl("net.ipv4.ip_forward", 1);
  for (const n of ["all", "default", "tun0"]) ns.writeSysctl(`net.ipv4.conf.${n}.rp_filter`, 0);
  for (const [k, v] of Object.entries(sysctls)) ns.writeSysctl(k, v);
  await ns.exec(
    ["nft", "-f", "-"],
    `table inet t {
  chain pre { type filter hook prerouting priority -100; policy accept; ct state invalid counter; }
}
`,
  );
  const invalidCount = async () => {
    const j = JSON.parse(await ns.exec(["nft", "-j", "list", "chain", "inet", "t", "pre"]));
    const rule = j.nftables.find((x: { rule?: unknown }) => x.rule).rule;
    return rule.expr.find((e: { counter?: unknown }) => e.counter).counter.packets as number;
  };
  return {
    async send(b: Uint8Array): Promise<boolean> {
      const before = await invalidCount();
      const n = Number(libc().write(fd, b, BigInt(b.length)));
      if (n !== b.length) throw new Error(`write to tun0: ${n}`);
      return (await invalidCount()) > before;
    },
    /** `conntrack -S`'s INVALID counter: every segment found INVALID, the nft counter's and more. */
    invalid: async () => parseConntrackStats(await ns.exec(["conntrack", "-S"])),
    async state(): Promise<string> {
      const out = await ns.exec(["conntrack", "-L", "-p", "tcp", "--orig-port-dst", "80"]).catch(
        () => "",
      );
      // "tcp      6 431999 ESTABLISHED src=10.1.0.1 …": the state is the fourth word.
      return /^tcp\s+\d+\s+\d+\s+([A-Z_0-9]+)/m.exec(out)?.[1] ?? "none";
    },
    close() {
      libc().close(fd);
      libc().close(sink);
      ns.close();
    },
  };
}

function modelSide(sysctls: Record<string, number>) {
  let settings = CONNTRACK_DEFAULTS;
  for (const [k, v] of Object.entries(sysctls)) settings = applyConntrackSysctl(settings, k, v);
  const table = new ConntrackTable(settings);
  let now = 0;
  return {
    send(s: Seg): boolean {
      now += s.after ?? 0;
      const v = table.track(tuple(s), {
        seq: s.seq >>> 0,
        ack: (s.ack ?? 0) >>> 0,
        flags: s.flags,
        window: s.win ?? 65535,
        payloadLength: s.len ?? 0,
        options: s.options ?? [],
      }, now);
      return v.kind === "invalid";
    },
    invalid: () => table.invalid,
    state(): string {
      const e = table.lookup(tuple({ from: "client", flags: 0, seq: 0 }), now);
      return e ? CT_STATE_NAMES[e.tracker.state] : "none";
    },
  };
}

Deno.test({
  name:
    `conntrack conformance: the model and the kernel's conntrack agree on ${CASES.length} scenarios${
      why ? ` (skipped: ${why})` : ""
    }`,
  ignore: why !== undefined,
  async fn(t) {
    for (const c of CASES) {
      await t.step(c.name, async () => {
        const k = await kernelSide(c.sysctls ?? {});
        const m = modelSide(c.sysctls ?? {});
        try {
          const kernel: string[] = [], model: string[] = [];
          for (const s of c.segs) {
            if (s.after) await new Promise((r) => setTimeout(r, s.after));
            kernel.push((await k.send(bytes(s))) ? "INVALID" : "ok");
            model.push(m.send(s) ? "INVALID" : "ok");
          }
          kernel.push(await k.state(), `invalid=${await k.invalid()}`);
          model.push(m.state(), `invalid=${m.invalid()}`);
          assert.deepEqual(
            model,
            kernel,
            "model ≠ kernel (the last two items: the entry's state, conntrack -S's invalid)",
          );
        } finally {
          k.close();
        }
      });
    }
  },
});
