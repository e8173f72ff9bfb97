/**
 * Linux conntrack's TCP states and its transition table, as data: what state
 * a connection entry moves to when a segment of each class arrives in each
 * direction (`tcp_conntracks[dir][class][state]` in the kernel's
 * `net/netfilter/nf_conntrack_proto_tcp.c`, as of 6.x). Two outcomes are not
 * states: `Invalid` (the segment goes on untracked, and NAT does not touch
 * it) and `Ignore` (it goes on with the entry attached, but changes nothing).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CtDir, CtState, nextState, SegClass } from "./conntrack_states.ts";
 * assert.equal(nextState(CtDir.Original, SegClass.Syn, CtState.None), CtState.SynSent);
 * assert.equal(nextState(CtDir.Reply, SegClass.SynAck, CtState.SynSent), CtState.SynRecv);
 * // A SYN-ACK from the side that sent the SYN is not a way into a connection.
 * assert.equal(nextState(CtDir.Original, SegClass.SynAck, CtState.None), "invalid");
 * ```
 */
import type { TcpFields } from "../wire/tcp.ts";
import { TcpFlag } from "../wire/tcp.ts";

/** Conntrack's TCP states, in the kernel's order (the tables index by it). */
export enum CtState {
  None = 0,
  SynSent = 1,
  SynRecv = 2,
  Established = 3,
  FinWait = 4,
  CloseWait = 5,
  LastAck = 6,
  TimeWait = 7,
  Close = 8,
  /** Simultaneous open: a SYN from the reply direction while SYN_SENT. */
  SynSent2 = 9,
}

/** The names `conntrack -L` prints. */
export const CT_STATE_NAMES: Readonly<Record<CtState, string>> = {
  [CtState.None]: "NONE",
  [CtState.SynSent]: "SYN_SENT",
  [CtState.SynRecv]: "SYN_RECV",
  [CtState.Established]: "ESTABLISHED",
  [CtState.FinWait]: "FIN_WAIT",
  [CtState.CloseWait]: "CLOSE_WAIT",
  [CtState.LastAck]: "LAST_ACK",
  [CtState.TimeWait]: "TIME_WAIT",
  [CtState.Close]: "CLOSE",
  [CtState.SynSent2]: "SYN_SENT2",
};

/** Which way a segment travels relative to the entry's first one. */
export enum CtDir {
  Original = 0,
  Reply = 1,
}

/** A segment's class for the table, in the kernel's priority: RST, SYN(-ACK), FIN, ACK, none. */
export enum SegClass {
  Syn = 0,
  SynAck = 1,
  Fin = 2,
  Ack = 3,
  Rst = 4,
  None = 5,
}

/** A table cell: a state, or what happens to a segment that moves to none. */
export type Next = CtState | "invalid" | "ignore";

const {
  SynSent: sSS,
  SynRecv: sSR,
  Established: sES,
  FinWait: sFW,
  CloseWait: sCW,
  LastAck: sLA,
  TimeWait: sTW,
  Close: sCL,
  SynSent2: sS2,
} = CtState;
const sIV = "invalid";
const sIG = "ignore";

/**
 * `TABLE[dir][class][state]`. Columns are the old state, in `CtState` order:
 * NO SS SR ES FW CW LA TW CL S2. Comments say why a cell is not the obvious one.
 */
const TABLE: readonly (readonly (readonly Next[])[])[] = [
  // ORIGINAL
  [
    // A SYN while a connection is up is ignored: the entry may be out of sync with the ends.
    /* syn    */ [sSS, sSS, sIG, sIG, sIG, sIG, sIG, sSS, sSS, sS2],
    /* synack */ [sIV, sIV, sSR, sIV, sIV, sIV, sIV, sIV, sIV, sSR],
    /* fin    */ [sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV],
    // An ACK as the first segment: a connection picked up mid-stream (nf_conntrack_tcp_loose).
    /* ack    */ [sES, sIV, sES, sES, sCW, sCW, sTW, sTW, sCL, sIV],
    /* rst    */ [sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL],
    /* none   */ [sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV],
  ],
  // REPLY
  [
    // A SYN from the replying side in TIME_WAIT: the server may have switched roles.
    /* syn    */ [sIV, sS2, sIV, sIV, sIV, sIV, sIV, sSS, sIV, sS2],
    /* synack */ [sIV, sSR, sIG, sIG, sIG, sIG, sIG, sIG, sIG, sSR],
    /* fin    */ [sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV],
    // An ACK answering a SYN: perhaps a challenge ACK (RFC 5961); ignored, not trusted.
    /* ack    */ [sIV, sIG, sSR, sES, sCW, sCW, sTW, sTW, sCL, sIG],
    /* rst    */ [sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL],
    /* none   */ [sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV],
  ],
];

/** Where a segment of `cls` moves an entry in `state` when it travels `dir`. */
export function nextState(dir: CtDir, cls: SegClass, state: CtState): Next {
  return TABLE[dir][cls][state];
}

/**
 * A segment's class: RST first, then SYN (SYN-ACK with ACK), FIN, ACK, none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { segClass, SegClass } from "./conntrack_states.ts";
 * assert.equal(segClass(0x014), SegClass.Rst);
 * assert.equal(segClass(0x012), SegClass.SynAck);
 * assert.equal(segClass(0x011), SegClass.Fin);
 * ```
 */
export function segClass(flags: TcpFields["flags"]): SegClass {
  if (flags & TcpFlag.RST) return SegClass.Rst;
  if (flags & TcpFlag.SYN) return flags & TcpFlag.ACK ? SegClass.SynAck : SegClass.Syn;
  if (flags & TcpFlag.FIN) return SegClass.Fin;
  if (flags & TcpFlag.ACK) return SegClass.Ack;
  return SegClass.None;
}

/** The flag combinations conntrack tracks, PSH, ECE and CWR aside (`tcp_valid_flags`). */
const VALID_FLAGS = new Set<number>([
  TcpFlag.SYN,
  TcpFlag.SYN | TcpFlag.URG,
  TcpFlag.SYN | TcpFlag.ACK,
  TcpFlag.RST,
  TcpFlag.RST | TcpFlag.ACK,
  TcpFlag.FIN | TcpFlag.ACK,
  TcpFlag.FIN | TcpFlag.ACK | TcpFlag.URG,
  TcpFlag.ACK,
  TcpFlag.ACK | TcpFlag.URG,
]);

/**
 * Whether conntrack accepts this flag combination at all; SYN+FIN, FIN
 * without ACK and no flags are INVALID before any state is looked at.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { validFlags } from "./conntrack_states.ts";
 * assert.equal(validFlags(0x018), true);  // PSH+ACK
 * assert.equal(validFlags(0x003), false); // SYN+FIN
 * assert.equal(validFlags(0x001), false); // FIN alone
 * ```
 */
export function validFlags(flags: number): boolean {
  const masked = flags & 0xff & ~(TcpFlag.ECE | TcpFlag.CWR | TcpFlag.PSH);
  return VALID_FLAGS.has(masked);
}
