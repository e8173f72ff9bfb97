/**
 * The script's view of its TCP flows, as packetdrill keeps it: each side's
 * ISN, what each side has sent, what was negotiated, and the last timestamp
 * the stack under test sent. It fills the fields a builder leaves unset when
 * a packet is injected, and tells patterns what seq/ack to expect. Script
 * sequence numbers are relative to the script's ISN, the stack's to the
 * stack's ISN, which is learned from its SYN or SYN-ACK.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { syn } from "../../dsl/packet_builder.ts";
 * import { address } from "../wire/address.ts";
 * import { Flows } from "./flow.ts";
 * const flows = new Flows({ local: address.parse("192.168.0.1"), remote: address.parse("192.0.2.1") }, 40000, () => 0);
 * flows.listening(8080);
 * const spec = flows.resolve(syn().def);
 * assert.ok(spec.transport.kind === "tcp" && spec.transport.dstPort === 8080 && spec.transport.seq === 0);
 * ```
 */
import type { PacketDef, TcpDef } from "../../dsl/packet_builder.ts";
import { applyOptionSpec, layoutOptions } from "../../dsl/option_spec.ts";
import { isMatcher } from "../../dsl/matcher.ts";
import { address } from "../wire/address.ts";
import { ipv4Header } from "../wire/ipv4.ts";
import type { Packet, PacketSpec } from "../wire/packet.ts";
import { seq } from "../wire/seq.ts";
import { segmentLength, TcpFlag } from "../wire/tcp.ts";
import { shiftSackBlocks, type TcpOption } from "../wire/tcp_options.ts";
import type { Endpoints } from "./endpoints.ts";

const { SYN, RST, ACK } = TcpFlag;

/** One TCP flow between the script (remote) and the stack under test (local). */
export interface Flow {
  localPort: number;
  remotePort: number;
  /** The script's ISN (absolute). */
  peerIsn: number;
  /** The script's next sequence number (absolute). */
  sndNxt: number;
  /** The stack's ISN, once its SYN or SYN-ACK was seen. */
  localIsn?: number;
  /** The stack's next sequence number (absolute), once known. */
  rcvNxt?: number;
  /** What each side's SYN offered. */
  peerSyn?: { ts: boolean; wscale?: number };
  localSyn?: { ts: boolean; wscale?: number };
  /** The last TS val the stack sent: the script's echo. */
  lastTsVal: number;
  /** The stack has acknowledged the script's current SYN: the numbering is in use. */
  peerAcked?: boolean;
  /**
   * A SYN the script sent into a flow already in use (a new connection over
   * TIME-WAIT, or an attack on a live one). Its ISN becomes the flow's only
   * when the stack answers with a SYN-ACK for it.
   */
  pendingIsn?: number;
}

/** The script's default SYN options: Linux's (MSS 1460, SACK-permitted, TS, window scale 7). */
export const SCRIPT_MSS = 1460;
/** The script's window-scale shift when it offers one. */
export const SCRIPT_WSCALE = 7;
/** The script's receive buffer, for the window it advertises. */
const SCRIPT_WINDOW = 65535;

function num(def: PacketDef, key: string, v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (isMatcher(v)) {
    throw new RangeError(
      `${def.name}(): ${key} is a matcher, which only patterns can hold; inject needs a number`,
    );
  }
  return v as number;
}

/**
 * A payload given as a length is that many zeros. They are views of one buffer that
 * nothing writes (the spec is only emitted, and emitting copies), so that an inject
 * allocates no payload of its own.
 */
const ZEROS = new Uint8Array(65536);

/** The flows of one scenario run. */
export class Flows {
  readonly addrs: Endpoints;
  readonly #remotePort: number;
  readonly #now: () => number;
  readonly #flows: Flow[] = [];
  #listenPort: number | undefined;
  current: Flow | undefined;
  /** The script's timestamp clock at time 0 (packetdrill scripts often start at `TS val 100`). */
  readonly tsBase = 100;

  constructor(addrs: Endpoints, remotePort: number, now: () => number) {
    this.addrs = addrs;
    this.#remotePort = remotePort;
    this.#now = now;
  }

  /** Records that the stack under test listens on `port` (the default destination). */
  listening(port: number): void {
    this.#listenPort = port;
  }

  /** The script's TS val now: milliseconds on the run's clock. */
  tsVal(): number {
    return (this.tsBase + Math.floor(this.#now())) >>> 0;
  }

  #find(localPort: number, remotePort: number): Flow | undefined {
    return this.#flows.find((f) => f.localPort === localPort && f.remotePort === remotePort);
  }

  #create(localPort: number, remotePort: number, isn = 0): Flow {
    const f: Flow = { localPort, remotePort, peerIsn: isn, sndNxt: isn, lastTsVal: 0 };
    this.#flows.push(f);
    return f;
  }

  /** The flow a script packet belongs to, created if need be. */
  flowFor(def: TcpDef): Flow {
    const sp = num(def, "srcPort", def.srcPort);
    const dp = num(def, "dstPort", def.dstPort);
    if (sp === undefined && dp === undefined && this.current) return this.current;
    const remotePort = sp ?? this.current?.remotePort ?? this.#remotePort;
    const localPort = dp ?? this.current?.localPort ?? this.#listenPort;
    if (localPort === undefined) {
      throw new RangeError(
        `${def.name}(): no destination port: listen(port) first, or set .ports(src, dst)`,
      );
    }
    const f = this.#find(localPort, remotePort) ?? this.#create(localPort, remotePort);
    this.current = f;
    return f;
  }

  /** Negotiated timestamps: both SYNs offered TS. */
  tsOk(f: Flow): boolean {
    return !!f.peerSyn?.ts && !!f.localSyn?.ts;
  }

  /** The window the script advertises: its buffer, scaled if both sides offered scaling. */
  #window(f: Flow): number {
    const shift = f.peerSyn?.wscale !== undefined && f.localSyn?.wscale !== undefined
      ? f.peerSyn.wscale
      : 0;
    return Math.min(0xffff, Math.floor(SCRIPT_WINDOW / 2 ** shift) || 1);
  }

  #defaultOptions(f: Flow, flags: number): TcpOption[] {
    if (flags & RST) return [];
    const ts = { val: this.tsVal(), ecr: flags & ACK ? f.lastTsVal : 0 };
    if (flags & SYN) {
      if (flags & ACK) {
        // A SYN-ACK answers what the stack's SYN offered, as a Linux peer would.
        const offered = f.localSyn;
        return layoutOptions({
          mss: SCRIPT_MSS,
          sackOk: true,
          ts: offered?.ts ? ts : undefined,
          wscale: offered?.wscale !== undefined ? SCRIPT_WSCALE : undefined,
        });
      }
      return layoutOptions({ mss: SCRIPT_MSS, sackOk: true, ts, wscale: SCRIPT_WSCALE });
    }
    return this.tsOk(f) ? layoutOptions({ ts }) : [];
  }

  /**
   * Fills the unset fields of a script packet from the flow. `quote` is the
   * datagram an ICMP error without a body of its own quotes.
   */
  resolve(def: PacketDef, quote?: Uint8Array): PacketSpec {
    const ipDef = def.ip;
    const src = ipDef.src ? address.parse(ipDef.src) : this.addrs.remote;
    const dst = ipDef.dst ? address.parse(ipDef.dst) : this.addrs.local;
    const ttl = num(def, "ttl", ipDef.ttl);
    const ipSpec: PacketSpec["ip"] = src.length === 4
      ? {
        ...ipv4Header(src, dst),
        ...(ttl !== undefined ? { ttl } : {}),
        ...(ipDef.tos !== undefined ? { dscp: ipDef.tos >> 2, ecn: ipDef.tos & 3 } : {}),
        ...(ipDef.ecn !== undefined ? { ecn: ipDef.ecn } : {}),
        ...(ipDef.df !== undefined ? { df: ipDef.df } : {}),
      }
      : {
        kind: "ipv6",
        version: 6,
        trafficClass: ((ipDef.tos ?? 0) & ~3) | (ipDef.ecn ?? (ipDef.tos ?? 0) & 3),
        flowLabel: 0,
        hopLimit: ttl ?? 64,
        src,
        dst,
        extensions: [],
      };
    const payload = def.payload === undefined
      ? ZEROS.subarray(0, 0)
      : typeof def.payload === "number"
      ? (def.payload <= ZEROS.length ? ZEROS.subarray(0, def.payload) : new Uint8Array(def.payload))
      : def.payload;
    const checksum = def.checksum;
    switch (def.proto) {
      case "udp":
        return {
          ip: ipSpec,
          transport: {
            kind: "udp",
            srcPort: def.srcPort ?? this.#remotePort,
            dstPort: def.dstPort ?? this.current?.localPort ?? this.#listenPort ?? 0,
            payload,
            checksum,
          },
        };
      case "icmp":
        return {
          ip: ipSpec,
          transport: {
            kind: src.length === 4 ? "icmpv4" : "icmpv6",
            type: def.type,
            code: def.code,
            rest: def.rest ?? 0,
            body: def.payload === undefined && quote ? quoted(quote, src.length === 4) : payload,
            checksum,
          },
        };
      case "tcp":
        return { ip: ipSpec, transport: this.#resolveTcp(def, payload, checksum) };
    }
  }

  #resolveTcp(def: TcpDef, payload: Uint8Array, checksum: number | "bad" | undefined) {
    const f = this.flowFor(def);
    const flags = num(def, "flags", def.flags)!;
    const s = num(def, "seq", def.seq);
    const a = num(def, "ack", def.ack);
    const syn = (flags & SYN) !== 0;
    // A SYN's sequence number is the script's ISN itself; later ones are relative to it.
    const seqNo = s === undefined ? f.sndNxt : syn ? s >>> 0 : seq.add(f.peerIsn, s);
    const ackNo = a !== undefined ? seq.add(f.localIsn ?? 0, a) : flags & ACK ? (f.rcvNxt ?? 0) : 0;
    const ts = { val: this.tsVal(), ecr: flags & ACK ? f.lastTsVal : 0 };
    return {
      kind: "tcp" as const,
      srcPort: f.remotePort,
      dstPort: f.localPort,
      seq: seqNo,
      ack: ackNo,
      flags,
      window: num(def, "win", def.win) ?? (syn ? 0xffff : this.#window(f)),
      urgent: num(def, "urg", def.urg) ?? 0,
      // SACK blocks in a script are relative to the stack's ISN, as packetdrill writes them.
      options: shiftSackBlocks(
        applyOptionSpec(this.#defaultOptions(f, flags), def.options, ts),
        f.localIsn ?? 0,
      ),
      payload,
      checksum,
    };
  }

  /** Updates the flow after the script sent `p`. */
  sent(p: Packet | PacketSpec): void {
    const t = p.transport;
    if (t.kind !== "tcp") return;
    const f = this.#find(t.dstPort, t.srcPort) ?? this.#create(t.dstPort, t.srcPort, t.seq);
    this.current = f;
    if (t.flags & SYN && f.peerAcked) {
      // The numbering in use stays until the stack accepts the new SYN; a repeat of
      // the current SYN changes nothing.
      if (t.seq !== f.peerIsn) f.pendingIsn = t.seq;
      return;
    }
    if (t.flags & SYN) {
      f.peerIsn = f.sndNxt = t.seq;
      f.peerSyn = {
        ts: t.options.some((o) => o.kind === "ts"),
        wscale: (t.options.find((o) => o.kind === "wscale") as { shift: number } | undefined)
          ?.shift,
      };
    }
    const end = seq.add(t.seq, segmentLength(t));
    if (seq.gt(end, f.sndNxt)) f.sndNxt = end;
    this.current = f;
  }

  /** Updates the flows after the stack under test sent `p`. Returns the flow, if TCP. */
  seen(p: Packet): Flow | undefined {
    const t = p.transport;
    if (t.kind !== "tcp") return undefined;
    let f = this.#find(t.srcPort, t.dstPort);
    if (!f) {
      f = this.#create(t.srcPort, t.dstPort);
      this.current = f;
    }
    if (t.flags & ACK && !(t.flags & RST)) {
      if (f.pendingIsn !== undefined && t.flags & SYN && t.ack === seq.add(f.pendingIsn, 1)) {
        f.peerIsn = f.pendingIsn;
        f.sndNxt = t.ack;
        f.pendingIsn = undefined;
      }
      f.peerAcked = true;
    }
    if (t.flags & SYN) {
      f.localIsn = t.seq;
      f.rcvNxt = seq.add(t.seq, 1);
      f.localSyn = {
        ts: t.options.some((o) => o.kind === "ts"),
        wscale: (t.options.find((o) => o.kind === "wscale") as { shift: number } | undefined)
          ?.shift,
      };
    } else {
      const end = seq.add(t.seq, segmentLength(t));
      if (t.flags & RST) return f; // a reset says nothing about the stack's numbering
      if (f.rcvNxt === undefined) f.localIsn ??= t.seq;
      if (f.rcvNxt === undefined || seq.gt(end, f.rcvNxt)) f.rcvNxt = end;
    }
    for (const o of t.options) if (o.kind === "ts") f.lastTsVal = o.val;
    return f;
  }

  /** The flow a packet from the stack belongs to, without changing anything. */
  peek(p: Packet): Flow | undefined {
    const t = p.transport;
    return t.kind === "tcp" ? this.#find(t.srcPort, t.dstPort) : undefined;
  }
}

/**
 * What an ICMP error carries of the offending datagram: as much as keeps the
 * message within 576 bytes for IPv4 (RFC 1812 §4.3.2.3) or 1280 for IPv6
 * (RFC 4443 §2.4(c)), as Linux's icmp_send does.
 */
function quoted(datagram: Uint8Array, v4: boolean): Uint8Array {
  const max = v4 ? 576 - 20 - 8 : 1280 - 40 - 8;
  return datagram.length <= max ? datagram : datagram.subarray(0, max);
}
