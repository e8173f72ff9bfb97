/**
 * Expected-packet patterns, resolved against a flow, and their comparison
 * with what the stack sent. Each mismatch is one line in the style of
 * gVisor's checker and packetdrill's check_field: `tcp.ack: want 1001, got 1000`.
 * Sequence numbers are shown relative to the sender's ISN, as the scenario
 * writes them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ack } from "../../dsl/packet_builder.ts";
 * import { parseLine } from "../wire/line_parse.ts";
 * import { comparePattern, resolvePattern } from "./pattern.ts";
 * const flow = { localPort: 8080, remotePort: 40000, peerIsn: 0, sndNxt: 1001, localIsn: 0, rcvNxt: 1, lastTsVal: 0 };
 * const p = resolvePattern(ack().def, flow);
 * const got = parseLine("192.168.0.1:8080 > 192.0.2.1:40000 . 1:1(0) ack 1000 win 502").packet;
 * assert.deepEqual(comparePattern(p, got), ["tcp.ack: want 1001, got 1000"]);
 * ```
 */
import type { OptionSpec } from "../../dsl/option_spec.ts";
import type { PacketDef } from "../../dsl/packet_builder.ts";
import { any, describeValue, type FieldMatch, matches } from "../../dsl/matcher.ts";
import { address } from "../wire/address.ts";
import { formatOption, formatOptionList } from "../wire/option_list.ts";
import type { Packet, PacketSpec } from "../wire/packet.ts";
import { seq } from "../wire/seq.ts";
import { formatTcpFlags, segmentLength, TcpFlag } from "../wire/tcp.ts";
import { shiftSackBlocks, type TcpOption } from "../wire/tcp_options.ts";
import type { Flow } from "./flow.ts";

const { SYN, ACK } = TcpFlag;

/** A sequence-space field: `want` applies to `(actual - base) mod 2^32`. */
export interface SeqWant {
  want: FieldMatch;
  base: number;
  /** The base is the packet's own seq: the stack's first SYN, whose ISN it sets. */
  self?: boolean;
}

/** A pattern with every field decided. */
export interface Pattern {
  def: PacketDef;
  flags: FieldMatch;
  srcPort: FieldMatch;
  dstPort: FieldMatch;
  seq: SeqWant;
  ack: SeqWant;
  win: FieldMatch;
  urg: FieldMatch;
  options: OptionSpec | undefined;
  optionsMatch: "exact" | "subset" | "ignore";
  /** Exact bytes, or a length. */
  payload: Uint8Array | number;
  /** A length matcher instead of `payload`, when the pattern gave a length but no bytes. */
  len?: FieldMatch;
  ttl: FieldMatch;
  src?: Uint8Array;
  dst?: Uint8Array;
  /** How far a TS echo may stray from the value wanted, in ms (the script's clock is real). */
  tsEcrSlack?: number;
}

/**
 * Decides each field of a pattern: what the builder set, or else what the
 * flow expects next (seq = the stack's snd.nxt, ack = the script's snd.nxt
 * when ACK is set), or else anything. Seq and ack as written are relative
 * to the sender's and receiver's ISN.
 */
export function resolvePattern(def: PacketDef, flow: Flow | undefined): Pattern {
  const localBase = flow?.localIsn ?? 0;
  const synAck = def.proto === "tcp" && typeof def.flags === "number" && def.flags & SYN;
  // A SYN-ACK answers the script's latest SYN, even one not yet part of the flow's numbering.
  const peerBase = (synAck ? flow?.pendingIsn : undefined) ?? flow?.peerIsn ?? 0;
  const base = {
    def,
    flags: any as FieldMatch,
    srcPort: any as FieldMatch,
    dstPort: any as FieldMatch,
    seq: { want: any, base: localBase } as SeqWant,
    ack: { want: any, base: peerBase } as SeqWant,
    win: any as FieldMatch,
    urg: any as FieldMatch,
    options: undefined,
    optionsMatch: "ignore" as const,
    payload: def.payload ?? 0,
    ttl: def.ip.ttl ?? any,
  };
  if (def.proto !== "tcp") {
    return { ...base, srcPort: def.proto === "udp" ? def.srcPort ?? any : any };
  }
  const f = typeof def.flags === "number" ? def.flags : undefined;
  const synced = flow?.rcvNxt !== undefined && f !== undefined && !(f & SYN);
  return {
    ...base,
    flags: def.flags,
    srcPort: def.srcPort ?? flow?.localPort ?? any,
    dstPort: def.dstPort ?? flow?.remotePort ?? any,
    // The stack's first SYN sets its ISN: its seq is 0 relative to itself, as packetdrill reads it.
    seq: f !== undefined && f & SYN && flow?.localIsn === undefined
      ? { want: def.seq ?? 0, base: 0, self: true }
      : {
        want: def.seq ?? (synced ? seq.diff(flow!.rcvNxt!, localBase) >>> 0 : any),
        base: localBase,
      },
    ack: {
      want: def.ack ??
        (f !== undefined && f & ACK && flow ? seq.diff(flow.sndNxt, peerBase) >>> 0 : any),
      base: peerBase,
    },
    win: def.win ?? any,
    urg: def.urg ?? any,
    len: def.payload === undefined ? def.len : undefined,
    options: def.options,
    optionsMatch: def.optionsMatch ?? (def.options ? "exact" : "ignore"),
    src: def.ip.src ? address.parse(def.ip.src) : undefined,
    dst: def.ip.dst ? address.parse(def.ip.dst) : undefined,
  };
}

/** Narrows a pattern by a relation to an earlier injected segment (absolute fields). */
export function relate(
  p: Pattern,
  kind: "seqEquals" | "ackEquals" | "answers",
  ref: {
    seq: number;
    ack: number;
    flags: number;
    payload: Uint8Array;
    srcPort: number;
    dstPort: number;
  },
): Pattern {
  switch (kind) {
    case "seqEquals":
      return { ...p, seq: { want: seq.diff(ref.ack, p.seq.base) >>> 0, base: p.seq.base } };
    case "ackEquals":
      return {
        ...p,
        ack: {
          want: seq.diff(seq.add(ref.seq, segmentLength(ref)), p.ack.base) >>> 0,
          base: p.ack.base,
        },
      };
    case "answers": {
      // RFC 9293 §3.10.7.1: <SEQ=SEG.ACK><CTL=RST>, or <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
      const withAck = (ref.flags & ACK) !== 0;
      return {
        ...p,
        flags: withAck ? TcpFlag.RST : TcpFlag.RST | ACK,
        srcPort: ref.dstPort,
        dstPort: ref.srcPort,
        seq: { want: withAck ? ref.ack : 0, base: 0 },
        ack: withAck
          ? { want: any, base: 0 }
          : { want: seq.add(ref.seq, segmentLength(ref)), base: 0 },
        payload: 0,
      };
    }
  }
}

function show(m: FieldMatch, fmt: (n: number) => string = String): string {
  return typeof m === "number" ? fmt(m) : describeValue(m);
}

function optionsDiff(p: Pattern, absolute: readonly TcpOption[]): string[] {
  const spec = p.options;
  if (p.optionsMatch === "ignore" || !spec) return [];
  // SACK blocks from the stack cover the script's bytes: compared relative to the script's ISN.
  const got = shiftSackBlocks(absolute, -p.ack.base);
  const slack = p.tsEcrSlack ?? 0;
  if (spec.mode === "exact" && p.optionsMatch === "subset") {
    return spec.list.filter((o) =>
      o.kind !== "nop" && o.kind !== "eol" && !got.some((g) => sameOption(o, g, slack))
    )
      .map((o) => `tcp.options: want ${formatOption(o)} among them, got ${formatOptionList(got)}`);
  }
  if (spec.mode === "exact") {
    const same = spec.list.length === got.length &&
      spec.list.every((o, i) => sameOption(o, got[i], slack));
    return same
      ? []
      : [`tcp.options: want ${formatOptionList(spec.list)}, got ${formatOptionList(got)}`];
  }
  const out: string[] = [];
  const find = (k: TcpOption["kind"]) => got.find((o) => o.kind === k);
  for (const [key, v] of Object.entries(spec.set)) {
    if (v === undefined) continue;
    const kind = key as TcpOption["kind"];
    const have = find(kind);
    const shown = have ? formatOption(have) : "absent";
    if (v === false) {
      if (have) out.push(`tcp.options.${key}: want absent, got ${shown}`);
    } else if (!have) out.push(`tcp.options.${key}: want present, got absent`);
    else if (typeof v === "number") {
      const value = have.kind === "mss"
        ? have.value
        : have.kind === "wscale"
        ? have.shift
        : undefined;
      if (value !== v) out.push(`tcp.options.${key}: want ${v}, got ${shown}`);
    } else if (key === "ts" && typeof v === "object" && have.kind === "ts") {
      const want = v as { ecr: number };
      if (!ecrClose(want.ecr, have.ecr, slack)) {
        out.push(`tcp.options.ts: want ecr ${want.ecr}, got ${shown}`);
      }
    } else if (key === "sack" && Array.isArray(v)) {
      const want = formatOption({ kind: "sack", blocks: v as Array<[number, number]> });
      if (want !== shown) out.push(`tcp.options.sack: want ${want}, got ${shown}`);
    }
  }
  return out;
}

/** TS val is the stack's own clock, so only its echo is compared. */
function sameOption(a: TcpOption, b: TcpOption, slack: number): boolean {
  if (a.kind === "ts" && b.kind === "ts") return ecrClose(a.ecr, b.ecr, slack);
  return formatOption(a) === formatOption(b);
}

/** Whether a TS echo is within `slack` ms of the one wanted (modulo 2^32). */
function ecrClose(want: number, got: number, slack: number): boolean {
  const d = (got - want) | 0;
  return Math.abs(d) <= slack;
}

/** The mismatches between a pattern and a packet; empty when it matches. */
export function comparePattern(p: Pattern, got: Packet | PacketSpec): string[] {
  const t = got.transport;
  const d = p.def;
  const want = d.proto === "icmp" ? (got.ip.kind === "ipv4" ? "icmpv4" : "icmpv6") : d.proto;
  if (t.kind !== want) return [`protocol: want ${d.proto}, got ${t.kind}`];
  const out: string[] = [];
  const check = (name: string, m: FieldMatch, v: number, fmt?: (n: number) => string) => {
    if (!matches(m, v)) out.push(`${name}: want ${show(m, fmt)}, got ${fmt ? fmt(v) : v}`);
  };
  if (p.src && !address.equal(p.src, got.ip.src)) {
    out.push(`ip.src: want ${address.format(p.src)}, got ${address.format(got.ip.src)}`);
  }
  if (p.dst && !address.equal(p.dst, got.ip.dst)) {
    out.push(`ip.dst: want ${address.format(p.dst)}, got ${address.format(got.ip.dst)}`);
  }
  const ttl = got.ip.kind === "ipv4" ? got.ip.ttl : got.ip.hopLimit;
  check("ip.ttl", p.ttl, ttl);
  if (t.kind === "icmpv4" || t.kind === "icmpv6") {
    if (d.proto === "icmp") {
      check("icmp.type", d.type, t.type);
      check("icmp.code", d.code, t.code);
    }
    return out;
  }
  if (t.kind === "udp") {
    if (d.proto === "udp") {
      if (d.srcPort !== undefined) check("udp.srcPort", d.srcPort, t.srcPort);
      if (d.dstPort !== undefined) check("udp.dstPort", d.dstPort, t.dstPort);
    }
    return out;
  }
  if (t.kind !== "tcp") return out;
  check("tcp.flags", p.flags, t.flags, formatTcpFlags);
  check("tcp.srcPort", p.srcPort, t.srcPort);
  check("tcp.dstPort", p.dstPort, t.dstPort);
  check("tcp.seq", p.seq.want, seq.diff(t.seq, p.seq.self ? t.seq : p.seq.base) >>> 0);
  check("tcp.ack", p.ack.want, seq.diff(t.ack, p.ack.base) >>> 0);
  check("tcp.win", p.win, t.window);
  check("tcp.urg", p.urg, t.urgent);
  out.push(...optionsDiff(p, t.options));
  if (p.len !== undefined) check("tcp.len", p.len, t.payload.length);
  else if (typeof p.payload === "number") {
    if (t.payload.length !== p.payload) {
      out.push(`tcp.payload: want ${p.payload} bytes, got ${t.payload.length}`);
    }
  } else if (
    t.payload.length !== p.payload.length ||
    t.payload.some((b, i) => b !== (p.payload as Uint8Array)[i])
  ) {
    out.push(
      `tcp.payload: want ${p.payload.length} bytes ${
        preview(p.payload)
      }, got ${t.payload.length} bytes ${preview(t.payload)}`,
    );
  }
  return out;
}

function preview(b: Uint8Array): string {
  const text = new TextDecoder("utf-8", { fatal: false }).decode(b.subarray(0, 24));
  return JSON.stringify(text + (b.length > 24 ? "…" : ""));
}

/** A pattern in the line syntax, with `*` or a range where a field is free. */
export function formatPattern(p: Pattern, local: Uint8Array, remote: Uint8Array): string {
  const d = p.def;
  const src = address.format(p.src ?? local);
  const dst = address.format(p.dst ?? remote);
  const star = (
    m: FieldMatch,
  ) => (typeof m === "number" ? String(m) : m === any ? "*" : describeValue(m));
  if (d.proto !== "tcp") {
    return `${src} > ${dst} ${d.proto}${d.proto === "icmp" ? ` ${d.type} ${d.code}` : ""}`;
  }
  const len = typeof p.payload === "number" ? p.payload : p.payload.length;
  const s = p.seq.want;
  // A length matcher (`dataSegment()`): the end of the range is whatever the length is.
  const seqText = p.len !== undefined
    ? `${star(s)}(${star(p.len)})`
    : typeof s === "number"
    ? `${s}:${(s + len) >>> 0}(${len})`
    : `${star(s)}(${len})`;
  const parts = [
    `${src}:${star(p.srcPort)} > ${dst}:${star(p.dstPort)}`,
    formatFlagsWant(p.flags),
    seqText,
  ];
  if (p.ack.want !== any || typeof p.flags !== "number" || p.flags & ACK) {
    parts.push(`ack ${star(p.ack.want)}`);
  }
  if (p.win !== any) parts.push(`win ${star(p.win)}`);
  if (p.optionsMatch === "exact" && p.options?.mode === "exact") {
    parts.push(formatOptionList(p.options.list));
  } else if (p.optionsMatch === "subset" && p.options?.mode === "override") {
    parts.push(
      `<${Object.entries(p.options.set).map(([k, v]) => `${k}:${optionWant(v)}`).join(",")}…>`,
    );
  }
  return parts.join(" ");
}

/**
 * Flags as a pattern wants them: letters (`S.`), or for a mask the letters
 * that must be set and `!` before those that must be clear (`.!S!R`).
 */
function formatFlagsWant(m: FieldMatch): string {
  if (typeof m === "number") return formatTcpFlags(m);
  if (typeof m === "object" && m.matcher === "mask") {
    const clear = m.mask & ~m.value;
    const letters = (bits: number) =>
      ([
        [TcpFlag.FIN, "F"],
        [TcpFlag.SYN, "S"],
        [TcpFlag.RST, "R"],
        [TcpFlag.PSH, "P"],
        [
          TcpFlag.URG,
          "U",
        ],
        [TcpFlag.ECE, "E"],
        [TcpFlag.CWR, "W"],
      ] as const).filter(([b]) => bits & b).map(([, l]) => l);
    const set = letters(m.value).join("") + (m.value & ACK ? "." : "");
    return set + letters(clear).map((l) => `!${l}`).join("") + (clear & ACK ? "!." : "");
  }
  return m === any ? "*" : describeValue(m);
}

/** An option's wanted value in a pattern: `sack:2897:4345`, `ts:false`. */
function optionWant(v: unknown): string {
  if (Array.isArray(v)) return v.map((x) => (Array.isArray(x) ? x.join(":") : String(x))).join(" ");
  if (typeof v === "object" && v !== null) {
    return Object.entries(v).map(([k, x]) => `${k} ${x}`).join(" ");
  }
  return String(v);
}
