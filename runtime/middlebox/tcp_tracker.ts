/**
 * One connection as Linux conntrack tracks it: the state table, the RST
 * checks and the window check (`tcp_in_window()`), following the current
 * `net/netfilter/nf_conntrack_proto_tcp.c`. Each segment gets one of three
 * verdicts, with the kernel's reason:
 *
 * - `accept`: tracked; the state and timeout move on, NAT applies;
 * - `ignore`: let through with the entry attached, nothing updated, NAT
 *   still applies ("SEQ is under lower bound … (already ACKed data
 *   retransmitted)", a SYN while established, …);
 * - `invalid`: let through *untracked*: no NAT, and `ct state invalid`
 *   rules match it ("SEQ is over upper bound …", "invalid rst", …).
 *
 * The four window checks, for a segment from `sender` to `receiver`:
 *
 * ```text
 * I.   seq       <= sender.maxend                          (data above the window: INVALID)
 * II.  seq + len >= sender.end - receiver.maxwin           (data long acknowledged: IGNORE)
 * III. sack      <= receiver.end                           (ACK of unseen data: INVALID)
 * IV.  sack      >= receiver.end - max(sender.maxwin, 66000)  (a very late ACK: IGNORE)
 * ```
 *
 * `be_liberal` (the sysctl, or a connection picked up mid-stream) accepts
 * whatever fails them; it does not change the RST checks.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CONNTRACK_DEFAULTS } from "./conntrack_settings.ts";
 * import { CtDir, CtState } from "./conntrack_states.ts";
 * import { openTracker } from "./tcp_tracker.ts";
 * const syn = { seq: 1000, ack: 0, flags: 0x002, window: 64240, payloadLength: 0, options: [] };
 * const t = openTracker(syn, CONNTRACK_DEFAULTS);
 * assert.ok(!("kind" in t));
 * assert.equal(t.packet(CtDir.Original, syn).state, CtState.SynSent);
 * const synAck = { seq: 5000, ack: 1001, flags: 0x012, window: 65160, payloadLength: 0, options: [] };
 * assert.equal(t.packet(CtDir.Reply, synAck).state, CtState.SynRecv);
 * const ack = { seq: 1001, ack: 5001, flags: 0x010, window: 502, payloadLength: 0, options: [] };
 * const v = t.packet(CtDir.Original, ack);
 * assert.deepEqual([v.kind, v.state, t.assured], ["accept", CtState.Established, true]);
 * ```
 */
import { seq as sq } from "../wire/seq.ts";
import type { TcpOption } from "../wire/tcp_options.ts";
import { TcpFlag } from "../wire/tcp.ts";
import type { ConntrackSettings, CtTimeouts } from "./conntrack_settings.ts";
import {
  CT_STATE_NAMES,
  CtDir,
  CtState,
  nextState,
  SegClass,
  segClass,
  validFlags,
} from "./conntrack_states.ts";

/** What the tracker reads of a segment. */
export interface TrackedSegment {
  seq: number;
  ack: number;
  flags: number;
  window: number;
  payloadLength: number;
  options: readonly TcpOption[];
  /** Whether the checksum verified, when it was checked. */
  checksumOk?: boolean;
}

/** A verdict on one segment, and the entry's state after it. */
export interface CtVerdict {
  kind: "accept" | "ignore" | "invalid";
  /** The kernel's reason, for `ignore` and `invalid`. */
  reason?: string;
  state: CtState;
  /** Seconds until the entry expires, from now; left out, the expiry stays as it was. */
  timeout?: number;
  /**
   * The entry is gone after this segment: a RST before any reply, or a SYN
   * reopening a closed connection (the caller looks the segment up again).
   */
  end?: "killed" | "reopen";
}

/** One direction's window tracking (`struct ip_ct_tcp_state`). */
interface Side {
  /** Highest seq + len sent. */
  end: number;
  /** Highest ack + window the other side offered: the most this side may send. */
  maxend: number;
  /** Largest window seen from this side (scaled), plus what SACK lets it run ahead. */
  maxwin: number;
  maxack: number;
  scale: number;
  sackPerm: boolean;
  windowScale: boolean;
  closeInit: boolean;
  beLiberal: boolean;
  dataUnacked: boolean;
  maxackSet: boolean;
}

const side = (): Side => ({
  end: 0,
  maxend: 0,
  maxwin: 0,
  maxack: 0,
  scale: 0,
  sackPerm: false,
  windowScale: false,
  closeInit: false,
  beLiberal: false,
  dataUnacked: false,
  maxackSet: false,
});

const MAX_WSCALE = 14;
/** MAXACKWINDOW's floor: an ACK this far below the receiver's end is merely late. */
const MAX_ACK_WINDOW = 66000;

/** seq + payload + SYN + FIN (`segment_seq_plus_len`). */
function segEnd(s: TrackedSegment): number {
  return (s.seq + s.payloadLength + (s.flags & TcpFlag.SYN ? 1 : 0) +
    (s.flags & TcpFlag.FIN ? 1 : 0)) >>> 0;
}

/** Window scale and SACK-permitted from a SYN's options (`tcp_options`). */
function readOptions(to: Side, s: TrackedSegment): void {
  to.scale = 0;
  to.sackPerm = false;
  to.windowScale = false;
  for (const o of s.options) {
    if (o.kind === "sackOk") to.sackPerm = true;
    else if (o.kind === "wscale") {
      to.scale = Math.min(o.shift, MAX_WSCALE);
      to.windowScale = true;
    }
  }
}

/** The highest SACK right edge, when the receiver allowed SACK (`tcp_sack`); else the ack. */
function sackOf(s: TrackedSegment, ack: number): number {
  let best = ack;
  for (const o of s.options) {
    if (o.kind !== "sack") continue;
    for (const [, right] of o.blocks) if (sq.gt(right, best)) best = right;
  }
  return best;
}

/**
 * The checks before any entry is looked at (`tcp_error`): a flag combination
 * conntrack does not track, or a checksum that does not verify.
 */
export function segmentError(s: TrackedSegment, settings: ConntrackSettings): string | undefined {
  if (!validFlags(s.flags)) return "invalid tcp flag combination";
  if (settings.checksum && s.checksumOk === false) return "bad checksum";
  return undefined;
}

/**
 * A new entry for a segment that matched none (`tcp_new`), or the INVALID
 * verdict when the segment cannot start one.
 */
export function openTracker(
  s: TrackedSegment,
  settings: ConntrackSettings,
): TcpTracker | CtVerdict {
  const error = segmentError(s, settings);
  if (error) return { kind: "invalid", reason: error, state: CtState.None };
  const cls = segClass(s.flags);
  const first = nextState(CtDir.Original, cls, CtState.None);
  if (first === "invalid" || first === "ignore") {
    return { kind: "invalid", reason: "invalid new", state: CtState.None };
  }
  const t = new TcpTracker(settings);
  const o = t.seen[CtDir.Original];
  o.end = segEnd(s);
  o.maxwin = s.window || 1;
  if (first === CtState.SynSent) {
    o.maxend = o.end;
    readOptions(o, s);
    return t;
  }
  if (!settings.loose) {
    return {
      kind: "invalid",
      reason: "not a SYN, and nf_conntrack_tcp_loose is 0",
      state: CtState.None,
    };
  }
  // Picked up mid-stream: its history is lost, so SACK is assumed and windows are not checked.
  o.maxend = (o.end + o.maxwin) >>> 0;
  for (const x of t.seen) {
    x.sackPerm = true;
    x.beLiberal = true;
  }
  return t;
}

/** The entry of one connection. */
export class TcpTracker {
  state = CtState.None;
  /** A reply has been seen (`IPS_SEEN_REPLY`). */
  seenReply = false;
  /** The connection was seen established both ways (`IPS_ASSURED`). */
  assured = false;
  readonly seen: [Side, Side] = [side(), side()];
  /** Identical ACK-class retransmissions in a row. */
  retrans = 0;
  readonly #settings: ConntrackSettings;
  /** The last segment let through (`last_*`): resyncs after ignored ones, spots retransmissions. */
  #last = {
    index: SegClass.None,
    dir: CtDir.Original,
    seq: 0,
    ack: 0,
    end: 0,
    win: 0,
    wscale: 0,
    windowScale: false,
    sackPerm: false,
    challengeAck: false,
    simultaneous: false,
  };

  constructor(settings: ConntrackSettings) {
    this.#settings = settings;
  }

  /** One segment through the entry (`nf_conntrack_tcp_packet`). */
  packet(dir: CtDir, s: TrackedSegment): CtVerdict {
    const v = this.#packet(dir, s);
    // The core notes a reply once the segment went through tracked (IPS_SEEN_REPLY).
    if (dir === CtDir.Reply && v.kind !== "invalid") this.seenReply = true;
    return v;
  }

  #packet(dir: CtDir, s: TrackedSegment): CtVerdict {
    const error = segmentError(s, this.#settings);
    if (error) return this.#invalid(error);
    const old = this.state;
    const cls = segClass(s.flags);
    let next = nextState(dir, cls, old);
    if (next === CtState.SynSent && old >= CtState.TimeWait && this.#reopens(dir)) {
      return { kind: "accept", state: old, end: "reopen" };
    }
    if (next === CtState.SynSent && old >= CtState.TimeWait) next = "ignore";
    if (next === "ignore") return this.#ignored(dir, cls, s, old);
    if (next === "invalid") {
      return this.#invalid(
        `packet (${SegClass[cls]}) in dir ${CtDir[dir]} invalid, state ${CT_STATE_NAMES[old]}`,
      );
    }
    let checkWindow = true;
    switch (next) {
      case CtState.TimeWait:
        if (this.#challengeAckToSyn(dir, cls, old)) {
          return { kind: "ignore", reason: "challenge-ack ignored", state: old };
        }
        break;
      case CtState.SynSent2:
        this.#last.simultaneous = true;
        break;
      case CtState.SynRecv:
        if (dir === CtDir.Reply && cls === SegClass.Ack && this.#last.simultaneous) {
          next = CtState.Established;
        }
        break;
      case CtState.Close:
        if (cls === SegClass.Rst) {
          const r = this.#rst(dir, s, old);
          if (r === "invalid") return this.#invalid("invalid rst");
          if (r === "keep") next = old;
          if (r === "skip") checkWindow = false;
        }
        break;
      default:
        break;
    }
    if (checkWindow) {
      const w = this.#inWindow(dir, cls, s);
      if (w) return w;
    }
    return this.#moveOn(dir, cls, old, next, s);
  }

  /** A SYN on a closed entry starts over when it was closed on purpose or reset. */
  #reopens(dir: CtDir): boolean {
    const [a, b] = this.seen;
    return a.closeInit || b.closeInit ||
      (this.#last.dir === dir && this.#last.index === SegClass.Rst);
  }

  /**
   * An ignored segment: nothing changes, but it is remembered, so that a
   * SYN-ACK answering an ignored SYN can bring the entry back in sync.
   */
  #ignored(dir: CtDir, cls: SegClass, s: TrackedSegment, old: CtState): CtVerdict {
    const l = this.#last;
    if (cls === SegClass.SynAck && l.index === SegClass.Syn && l.dir !== dir && s.ack === l.end) {
      // Both ends are in sync and the entry is not: take the ignored SYN as the opening.
      const opener = this.seen[l.dir];
      opener.end = opener.maxend = l.end;
      opener.maxwin = l.win || 1;
      opener.scale = l.wscale;
      opener.windowScale = l.windowScale;
      opener.sackPerm = l.sackPerm;
      l.challengeAck = false;
      this.seen[dir] = { ...side(), beLiberal: this.seen[dir].beLiberal };
      const w = this.#inWindow(dir, cls, s);
      if (w) return w;
      return this.#moveOn(dir, cls, CtState.SynSent, CtState.SynRecv, s);
    }
    l.index = cls;
    l.dir = dir;
    l.seq = s.seq;
    l.end = segEnd(s);
    l.win = s.window;
    if (cls === SegClass.Syn && dir === CtDir.Original) {
      const seen = side();
      readOptions(seen, s);
      l.windowScale = seen.windowScale;
      l.wscale = seen.windowScale ? seen.scale : 0;
      l.sackPerm = seen.sackPerm;
      // An ACK answering this SYN in LAST_ACK is a challenge ACK, not the ACK of the last FIN.
      l.challengeAck = old === CtState.LastAck;
    }
    if (old === CtState.SynSent && cls === SegClass.Ack && dir === CtDir.Reply) l.ack = s.ack;
    return {
      kind: "ignore",
      reason: `packet (${SegClass[cls]}) in dir ${CtDir[dir]} ignored, state ${
        CT_STATE_NAMES[old]
      }`,
      state: old,
    };
  }

  #challengeAckToSyn(dir: CtDir, cls: SegClass, old: CtState): boolean {
    const l = this.#last;
    if (
      old !== CtState.LastAck || cls !== SegClass.Ack || l.dir === dir ||
      l.index !== SegClass.Syn || !l.challengeAck
    ) return false;
    l.challengeAck = false;
    return true;
  }

  /**
   * The RST checks before the window (`case TCP_CONNTRACK_CLOSE`): `invalid`
   * (below what the peer acknowledged), `keep` (not exact: stay established,
   * a challenge ACK may follow), `skip` (no window check), or `check`.
   */
  #rst(dir: CtDir, s: TrackedSegment, old: CtState): "invalid" | "keep" | "skip" | "check" {
    // Already closing: the tuple may have been reused, the numbers are stale.
    if (old >= CtState.FinWait && old <= CtState.Close) return "skip";
    const peer = this.seen[dir ^ 1];
    const l = this.#last;
    // td_maxack is stale after a SYN was let through.
    if (peer.maxackSet && l.index !== SegClass.Syn) {
      const established = old === CtState.Established && this.assured;
      // Seq 0 before the connection is up: most likely the answer to a SYN let through.
      if (s.seq === 0 && !established) return "check";
      if (sq.lt(s.seq, peer.maxack) && !this.#settings.ignoreInvalidRst) return "invalid";
      if (!established || s.seq === peer.maxack) return "check";
      // The end of a train: data, then a RST right after it from the same side.
      if (l.index === SegClass.Ack && l.dir === dir && s.seq === l.end) return "check";
      // Not exact: stay established, so that a challenge ACK (RFC 5961) can follow.
      return "keep";
    }
    // A RST answering a SYN or ACK that was let through while out of sync: close, unchecked.
    if (
      ((this.seenReply && l.index === SegClass.Syn) ||
        (!this.assured && l.index === SegClass.Ack)) && s.ack === l.end
    ) return "skip";
    // A RST answering a challenge ACK that was let through in SYN_SENT.
    if (
      old === CtState.SynSent && l.index === SegClass.Ack && l.dir === CtDir.Reply &&
      s.seq === l.ack
    ) return "skip";
    return "check";
  }

  /** The window check (`tcp_in_window`); undefined when the segment is in the window. */
  #inWindow(dir: CtDir, cls: SegClass, s: TrackedSegment): CtVerdict | undefined {
    const sender = this.seen[dir];
    const receiver = this.seen[dir ^ 1];
    const syn = (s.flags & TcpFlag.SYN) !== 0;
    const hasAck = (s.flags & TcpFlag.ACK) !== 0;
    let seq = s.seq;
    let ack = s.ack;
    let end = segEnd(s);
    let sack = receiver.sackPerm ? sackOf(s, ack) : ack;
    if (sender.maxwin === 0) {
      if (syn) {
        this.#initSender(dir, s, end);
        if (!hasAck) return undefined; // a SYN from the reply side: simultaneous open
      } else {
        // Mid-stream: learn what we can from this segment.
        sender.end = end;
        const swin = (s.window << sender.scale) >>> 0;
        sender.maxwin = swin || 1;
        sender.maxend = (end + sender.maxwin) >>> 0;
        if (receiver.maxwin === 0) receiver.end = receiver.maxend = sack;
        else if (sack === ((receiver.end + 1) >>> 0)) receiver.end = (receiver.end + 1) >>> 0;
      }
    } else if (
      syn && sq.gt(end, sender.end) &&
      (this.state === CtState.SynSent || this.state === CtState.SynRecv)
    ) {
      // A new SYN with higher numbers: the end was restarted (RFC 9293 §3.4.1).
      this.#initSender(dir, s, end);
      if (dir === CtDir.Reply && !hasAck) return undefined;
    }
    if (!hasAck || ((s.flags & TcpFlag.RST) && ack === 0)) ack = sack = receiver.end;
    if ((s.flags & TcpFlag.RST) && seq === 0 && this.state === CtState.SynSent) {
      seq = end = sender.end; // a RST answering the SYN
    }
    const maxAckWindow = Math.max(sender.maxwin, MAX_ACK_WINDOW);
    const ackOk = sq.gt(sack, (receiver.end - maxAckWindow - 1) >>> 0);
    const inReceiverWindow = (need: boolean) =>
      receiver.maxwin ? sq.gt(end, (sender.end - receiver.maxwin - 1) >>> 0) : !need;
    if (!sq.le(seq, sender.maxend)) {
      const overshot = (end - sender.maxend + 1) >>> 0;
      if (
        inReceiverWindow(true) && ackOk && overshot <= receiver.maxwin &&
        sq.le(sack, receiver.end)
      ) {
        // A sender that overran the window a little: follow it, or its ACK will look bogus.
        sender.end = end;
        sender.dataUnacked = true;
        return this.#windowFault("ignore", `${overshot} bytes more than expected`, sender);
      }
      return this.#windowFault(
        "invalid",
        `SEQ is over upper bound ${(sender.maxend + 1) >>> 0} (over the window of the receiver)`,
        sender,
      );
    }
    if (!sq.le(sack, receiver.end)) {
      return this.#windowFault(
        "invalid",
        `ACK is over upper bound ${(receiver.end + 1) >>> 0} (ACKed data not seen yet)`,
        sender,
      );
    }
    if (!inReceiverWindow(false)) {
      return this.#windowFault(
        "ignore",
        `SEQ is under lower bound ${
          (sender.end - receiver.maxwin - 1) >>> 0
        } (already ACKed data retransmitted)`,
        sender,
      );
    }
    if (!ackOk) {
      return this.#windowFault(
        "ignore",
        `ignored ACK under lower bound ${
          (receiver.end - maxAckWindow - 1) >>> 0
        } (possible overly delayed)`,
        sender,
      );
    }
    this.#update(dir, cls, s, { seq, ack, sack, end });
    return undefined;
  }

  /** A SYN or SYN-ACK sets up its side (`tcp_init_sender`). */
  #initSender(dir: CtDir, s: TrackedSegment, end: number): void {
    const sender = this.seen[dir];
    const receiver = this.seen[dir ^ 1];
    sender.end = sender.maxend = end;
    sender.maxwin = s.window || 1;
    readOptions(sender, s);
    // RFC 7323 §2.2: scaling applies only when both sides sent the option.
    if (dir === CtDir.Reply && !(sender.windowScale && receiver.windowScale)) {
      sender.scale = receiver.scale = 0;
    }
  }

  /** A window check failed: the verdict, unless liberal tracking accepts it. */
  #windowFault(kind: "ignore" | "invalid", reason: string, sender: Side): CtVerdict | undefined {
    if (sender.beLiberal || this.#settings.beLiberal) return undefined;
    return kind === "invalid" ? this.#invalid(reason) : { kind, reason, state: this.state };
  }

  /** An in-window segment updates both sides' windows and the retransmission count. */
  #update(
    dir: CtDir,
    cls: SegClass,
    s: TrackedSegment,
    n: { seq: number; ack: number; sack: number; end: number },
  ): void {
    const sender = this.seen[dir];
    const receiver = this.seen[dir ^ 1];
    const win = s.flags & TcpFlag.SYN ? s.window : (s.window << sender.scale) >>> 0;
    const swin = (win + ((n.sack - n.ack) >>> 0)) >>> 0;
    if (sender.maxwin < swin) sender.maxwin = swin;
    if (sq.gt(n.end, sender.end)) {
      sender.end = n.end;
      sender.dataUnacked = true;
    }
    if (s.flags & TcpFlag.ACK) {
      if (!sender.maxackSet || sq.gt(n.ack, sender.maxack)) sender.maxack = n.ack;
      sender.maxackSet = true;
    }
    if (receiver.maxwin !== 0 && sq.gt(n.end, sender.maxend)) {
      receiver.maxwin += (n.end - sender.maxend) >>> 0;
    }
    if (sq.gt((n.sack + win) >>> 0, (receiver.maxend - 1) >>> 0)) {
      receiver.maxend = (n.sack + win + (win === 0 ? 1 : 0)) >>> 0;
    }
    if (n.ack === receiver.end) receiver.dataUnacked = false;
    if (cls !== SegClass.Ack) return;
    const l = this.#last;
    if (
      l.dir === dir && l.seq === n.seq && l.ack === n.ack && l.end === n.end && l.win === s.window
    ) {
      this.retrans++;
    } else {
      Object.assign(l, { dir, seq: n.seq, ack: n.ack, end: n.end, win: s.window });
      this.retrans = 0;
    }
  }

  /** An accepted segment: the new state, its timeout, and whether the entry lives on. */
  #moveOn(dir: CtDir, cls: SegClass, old: CtState, next: CtState, s: TrackedSegment): CtVerdict {
    this.#last.index = cls;
    this.#last.dir = dir;
    this.state = next;
    if (old !== next && next === CtState.FinWait) this.seen[dir].closeInit = true;
    const timeout = this.#timeout(next, cls);
    if (!this.seenReply) {
      // A RST before any reply: nothing was ever established.
      if (s.flags & TcpFlag.RST) return { kind: "accept", state: next, timeout: 0, end: "killed" };
      // A SYN sent again does not renew the entry, or port reuse could keep it alive for good.
      if (cls === SegClass.Syn && old === CtState.SynSent) return { kind: "accept", state: next };
    } else if (
      !this.assured && (old === CtState.SynRecv || old === CtState.Established) &&
      next === CtState.Established
    ) this.assured = true;
    return { kind: "accept", state: next, timeout };
  }

  /** The timeout an accepted segment sets (seconds). */
  #timeout(state: CtState, cls: SegClass): number {
    const t = this.#settings.timeouts;
    const of = stateTimeout(t, state);
    const unacked = this.seen[0].dataUnacked || this.seen[1].dataUnacked;
    if (this.retrans >= this.#settings.maxRetrans && of > t.max_retrans) return t.max_retrans;
    if (cls === SegClass.Rst) return t.close;
    if (unacked && of > t.unacknowledged) return t.unacknowledged;
    if (this.#last.win === 0 && of > t.max_retrans) return t.max_retrans;
    if (!this.seenReply && state === CtState.Established && of > t.unacknowledged) {
      return t.unacknowledged;
    }
    return of;
  }

  #invalid(reason: string): CtVerdict {
    return { kind: "invalid", reason, state: this.state };
  }
}

/** A state's own timeout (SYN_SENT2 shares SYN_SENT's). */
export function stateTimeout(t: Readonly<CtTimeouts>, s: CtState): number {
  switch (s) {
    case CtState.None:
    case CtState.SynSent:
    case CtState.SynSent2:
      return t.syn_sent;
    case CtState.SynRecv:
      return t.syn_recv;
    case CtState.Established:
      return t.established;
    case CtState.FinWait:
      return t.fin_wait;
    case CtState.CloseWait:
      return t.close_wait;
    case CtState.LastAck:
      return t.last_ack;
    case CtState.TimeWait:
      return t.time_wait;
    case CtState.Close:
      return t.close;
  }
}
