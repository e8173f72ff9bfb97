/**
 * Where did this RST come from? Seed 2's method, as code: for every RST in a
 * capture, whether it is active or passive by the two rules, which earlier
 * segment it answers, the likely cause and the evidence.
 *
 * The two rules (Linux `tcp_v4_send_reset` and `tcp_send_active_reset`):
 * - **passive** (no socket took the segment): if the segment had ACK, the
 *   RST has no ACK and seq = that ack; otherwise seq 0, ACK, and ack = the
 *   segment's seq + SYN + FIN + payload;
 * - **active** (a socket aborts): RST with ACK, seq = its snd.nxt, ack =
 *   its rcv.nxt.
 *
 * The causes it tells apart, from the packets alone: a closed port (a SYN
 * answered), a connection the host no longer has (a late segment after it
 * closed or reset), a half-open connection (the host answers a live
 * connection's segment it has no socket for: a peer that lost state, or a
 * NAT host's own stack answering a segment conntrack left untranslated, as
 * in the Docker story), an un-NATed tuple (the answered segment comes from
 * an address and port that are not the peer of the receiver's connection:
 * the conntrack INVALID signature of the Kubernetes story), close() with
 * unread data or SO_LINGER {1, 0} (active), and an RST whose seq answers
 * nothing (out of window: ignored, or challenged).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseLine } from "../wire/line_parse.ts";
 * import { emitPacket, parsePacket } from "../wire/packet.ts";
 * import { explainRsts } from "./rst_explain.ts";
 * const seg = (n: number, line: string) => ({ n, time: n, packet: parsePacket(emitPacket(parseLine(line).packet)) });
 * const [e] = explainRsts([
 *   seg(1, "192.0.2.1:40001 > 192.168.0.1:9 S 5000:5000(0) win 100"),
 *   seg(2, "192.168.0.1:9 > 192.0.2.1:40001 R. 0:0(0) ack 5001 win 0"),
 * ]);
 * assert.deepEqual([e.n, e.kind, e.answers, e.cause], [2, "passive", 1, "closed-port"]);
 * ```
 */
import { address } from "../wire/address.ts";
import type { Packet } from "../wire/packet.ts";
import type { PacketReason } from "../wire/stack_reasons.ts";
import { segmentLength, TcpFlag } from "../wire/tcp.ts";

/** One TCP segment of a capture, numbered from 1 as tcpdump and Wireshark number them. */
export interface Seg {
  n: number;
  /** Seconds since the capture's first packet. */
  time: number;
  packet: Packet;
  /** Where it was seen, when the capture knows (a topology link, an interface). */
  where?: string;
  /** What a synack trace says happened to it (`conntrack INVALID (…)`, a path's action). */
  notes?: readonly string[];
  /** On a synack trace: the stack's own reason for it (the kernel's tracepoint, or the built-in's). */
  reason?: PacketReason;
}

/** What a RST is most likely about. */
export type RstCause =
  | "closed-port"
  | "no-connection"
  | "after-close"
  | "half-open"
  | "un-natted"
  | "unread-data"
  | "linger-zero"
  | "abort-after-fin"
  | "out-of-window";

/** The verdict on one RST. */
export interface RstExplanation {
  n: number;
  time: number;
  kind: "active" | "passive" | "unmatched";
  /** The segment it answers (passive), or the last one it follows from its peer (active). */
  answers?: number;
  cause: RstCause;
  /** The cause in a few words. */
  summary: string;
  /** Why: the rule that matched and what the capture shows. */
  evidence: string[];
  /**
   * On a synack trace, what the stack itself said of this RST, and whether
   * its reason is one this cause gives (`CAUSE_REASONS`).
   */
  stack?: { reason: PacketReason; agrees: boolean };
}

/**
 * The reasons (`enum sk_rst_reason`) Linux gives for an RST of each cause:
 * a segment no socket took is NO_SOCKET, or TCP_FLAGS when a listener took
 * it (an ACK to a listener); close() with unread data is TCP_ABORT_ON_CLOSE;
 * SO_LINGER {1, 0} resets through tcp_disconnect, TCP_STATE; data for a
 * socket closed after its FIN is TCP_ABORT_ON_DATA, and FIN-WAIT-2's linger
 * running out TCP_ABORT_ON_LINGER.
 */
export const CAUSE_REASONS: Readonly<Record<RstCause, readonly string[]>> = {
  "closed-port": ["NO_SOCKET"],
  "no-connection": ["NO_SOCKET", "TCP_FLAGS"],
  "after-close": ["NO_SOCKET", "TCP_FLAGS", "TCP_TIMEWAIT_SOCKET"],
  "half-open": ["NO_SOCKET", "TCP_FLAGS"],
  "un-natted": ["NO_SOCKET", "TCP_FLAGS"],
  "unread-data": ["TCP_ABORT_ON_CLOSE"],
  "linger-zero": ["TCP_STATE", "TCP_DISCONNECT_WITH_DATA"],
  "abort-after-fin": ["TCP_ABORT_ON_DATA", "TCP_ABORT_ON_LINGER", "TCP_ABORT_ON_CLOSE"],
  "out-of-window": [],
};

const { SYN, ACK, RST, FIN } = TcpFlag;

type Tcp = Extract<Packet["transport"], { kind: "tcp" }>;
const tcp = (s: Seg) => s.packet.transport as Tcp;
const end = (a: Uint8Array, port: number) =>
  `${a.length === 16 ? `[${address.format(a)}]` : address.format(a)}:${port}`;
const srcOf = (s: Seg) => end(s.packet.ip.src, tcp(s).srcPort);
const dstOf = (s: Seg) => end(s.packet.ip.dst, tcp(s).dstPort);

/** The segments of `segs` before index `i` from `from` to `to`, newest first. */
function* before(segs: readonly Seg[], i: number, from: string, to: string): Generator<Seg> {
  for (let j = i - 1; j >= 0; j--) {
    if (srcOf(segs[j]) === from && dstOf(segs[j]) === to) yield segs[j];
  }
}

/** Whether both ends of a tuple spoke before index `i` (a connection that was live). */
function live(segs: readonly Seg[], i: number, a: string, b: string): boolean {
  let ab = false, ba = false;
  for (let j = 0; j < i; j++) {
    const t = tcp(segs[j]);
    if (t.flags & RST) continue;
    if (srcOf(segs[j]) === a && dstOf(segs[j]) === b) ab = true;
    if (srcOf(segs[j]) === b && dstOf(segs[j]) === a) ba = true;
  }
  return ab && ba;
}

/** The explanation of each RST in `segs` (TCP segments in capture order). */
export function explainRsts(segs: readonly Seg[]): RstExplanation[] {
  const out: RstExplanation[] = [];
  segs.forEach((r, i) => {
    if (!(tcp(r).flags & RST)) return;
    const e = explainOne(segs, i);
    if (r.reason?.kind === "rst") {
      e.stack = { reason: r.reason, agrees: CAUSE_REASONS[e.cause].includes(r.reason.name) };
    }
    out.push(e);
  });
  return out;
}

/** The explanation of the RST at index `i`. */
function explainOne(segs: readonly Seg[], i: number): RstExplanation {
  const r = segs[i];
  const t = tcp(r);
  const me = srcOf(r), peer = dstOf(r);
  const base = { n: r.n, time: r.time };
  /** A passive RST answering `s`, by the rule `rule`. */
  const passive = (s: Seg, rule: string): RstExplanation => {
    const c = passiveCause(segs, s, me, peer);
    return {
      ...base,
      kind: "passive",
      answers: s.n,
      cause: c.cause,
      summary: c.summary,
      evidence: [`rule: ${rule}`, ...c.evidence, ...traced(s)],
    };
  };
  for (const s of before(segs, i, peer, me)) {
    const st = tcp(s);
    if (st.flags & RST) continue;
    // Passive, first rule: the answered segment had ACK; the RST has none, and seq = its ack.
    if (!(t.flags & ACK) && st.flags & ACK && st.ack === t.seq) {
      return passive(
        s,
        `no ACK, and seq ${t.seq} is the ack of #${s.n} (a segment with ACK that no socket took)`,
      );
    }
    // Passive, second rule: the answered segment had no ACK; seq 0, and the RST acknowledges it all.
    const all = (st.seq + segmentLength(st)) >>> 0;
    if (t.flags & ACK && t.seq === 0 && !(st.flags & ACK) && all === t.ack) {
      return passive(
        s,
        `seq 0 and ack ${t.ack} = #${s.n}'s seq + ${
          segmentLength(st)
        } (a segment without ACK that no socket took)`,
      );
    }
  }
  if (t.flags & ACK) {
    const sent = [...before(segs, i, me, peer)];
    const got = [...before(segs, i, peer, me)];
    // snd.nxt: where the sender's sequence space stands, from its own segments.
    const sndNxt = sent.length
      ? Math.max(...sent.map((s) => (tcp(s).seq + segmentLength(tcp(s))) >>> 0))
      : undefined;
    if (sndNxt === undefined || sndNxt === t.seq) {
      return {
        ...base,
        kind: "active",
        answers: got[0]?.n,
        ...activeCause(sent, got, t),
      };
    }
  }
  return {
    ...base,
    kind: "unmatched",
    cause: "out-of-window",
    summary: "answers no segment by either rule: out of window, stale, or forged",
    evidence: [
      `no earlier segment from ${peer} has ack ${t.seq} (passive), and seq ${t.seq} is not ` +
      `${me}'s snd.nxt (active); a receiver ignores it, or answers with a challenge ACK`,
    ],
  };
}

/** What the trace says of the answered segment: the kernel's or the model's own verdict. */
function traced(s: Seg): string[] {
  return (s.notes ?? []).flatMap((n) => n.split("; "))
    .filter((n) => /conntrack .*INVALID|dropped|rewritten/.test(n))
    .map((n) => `the trace says of #${s.n}: ${n}`);
}

/** Why no socket took `s`, the segment a passive RST from `me` answers. */
function passiveCause(
  segs: readonly Seg[],
  s: Seg,
  me: string,
  peer: string,
): { cause: RstCause; summary: string; evidence: string[] } {
  const st = tcp(s);
  const idx = segs.indexOf(s);
  if (st.flags & SYN && !(st.flags & ACK)) {
    return {
      cause: "closed-port",
      summary: `closed port: nothing listens on ${me}`,
      evidence: [`#${s.n} is a SYN to ${me}`],
    };
  }
  // The receiver's own earlier end of a connection that was live: a FIN or RST it sent.
  const mine = [...before(segs, idx, me, peer)];
  const ended = mine.find((x) =>
    tcp(x).flags & (FIN | RST) && live(segs, segs.indexOf(x), me, peer)
  );
  // A FIN it sent, and the peer's FIN not yet seen: the socket was closed by close() but lives
  // on in FIN-WAIT; new data for it is an abort (Linux TCPAbortOnData), not a late segment.
  const peerFin = [...before(segs, idx, peer, me)].some((x) => tcp(x).flags & FIN);
  if (ended && !(tcp(ended).flags & RST) && st.payload.length > 0 && !peerFin) {
    return {
      cause: "abort-after-fin",
      summary: `abort on data: ${me} had closed (#${ended.n}) and new data arrived for it`,
      evidence: [
        `${me} sent #${ended.n} (FIN) before, ${peer} had sent no FIN, and #${s.n} carries ` +
        `${st.payload.length} new bytes`,
      ],
    };
  }
  if (ended) {
    return {
      cause: "after-close",
      summary: `a late segment: ${me} had ${tcp(ended).flags & RST ? "reset" : "closed"} ` +
        `the connection (#${ended.n})`,
      evidence: [`${me} sent #${ended.n} (${tcp(ended).flags & RST ? "RST" : "FIN"}) before`],
    };
  }
  if (live(segs, idx, me, peer)) {
    return {
      cause: "half-open",
      summary: `half-open: ${me} has no socket for a live connection`,
      evidence: [
        `${me} and ${peer} exchanged segments before, and ${me} neither closed nor reset it`,
        "a peer that lost its state, or a NAT host's own stack answering a segment conntrack " +
        "left untranslated (INVALID: the Docker story)",
      ],
    };
  }
  // The receiver opened a connection from this port to someone else (a client port has one
  // peer): the segment is not from that peer.
  for (let j = idx - 1; j >= 0; j--) {
    const x = segs[j];
    const opened = (tcp(x).flags & (SYN | ACK)) === SYN;
    if (srcOf(x) === me && dstOf(x) !== peer && opened) {
      return {
        cause: "un-natted",
        summary: `an un-NATed tuple: ${me}'s connection is with ${dstOf(x)}, not ${peer}`,
        evidence: [
          `#${s.n} comes from ${peer}, but ${me} opened its connection to ${dstOf(x)} (#${x.n})`,
          "a translated connection's segment that arrived untranslated: conntrack marked it " +
          "INVALID and NAT skipped it (the Kubernetes story)",
        ],
      };
    }
  }
  return {
    cause: "no-connection",
    summary: `no connection: ${me} has no socket for ${peer}'s segment`,
    evidence: [`the capture holds no earlier exchange between ${me} and ${peer}`],
  };
}

/** Why `me` aborted its connection, from what it sent (`sent`) and got (`got`), newest first. */
function activeCause(
  sent: readonly Seg[],
  got: readonly Seg[],
  t: Tcp,
): { cause: RstCause; summary: string; evidence: string[] } {
  const rule = sent.length
    ? `rule: ACK set, seq ${t.seq} = the sender's snd.nxt, ack ${t.ack} = its rcv.nxt`
    : `rule: ACK set and seq ${t.seq}, not 0: an abort (the capture holds nothing the sender ` +
      "sent before, to check its snd.nxt against)";
  const fin = sent.find((x) => tcp(x).flags & FIN);
  if (fin) {
    return {
      cause: "abort-after-fin",
      summary: "abort after close(): data arrived for a closed socket, or the linger time ran out",
      evidence: [rule, `the sender had sent its FIN (#${fin.n})`],
    };
  }
  const data = got.filter((x) => tcp(x).payload.length > 0 && !(tcp(x).flags & RST));
  if (data.length) {
    const bytes = data.reduce((n, x) => n + tcp(x).payload.length, 0);
    return {
      cause: "unread-data",
      summary: "close() with unread data (RFC 2525 §2.17), or SO_LINGER {1, 0}",
      evidence: [
        rule,
        `the peer had sent ${bytes} byte${bytes === 1 ? "" : "s"} (#${
          data.map((x) => x.n).reverse().join(", #")
        }) and the RST acknowledges them: closed without a FIN while data was received`,
      ],
    };
  }
  return {
    cause: "linger-zero",
    summary: "SO_LINGER {1, 0} close, or an abort (no data was pending from the peer)",
    evidence: [rule, "no FIN before it, and nothing received from the peer to leave unread"],
  };
}
