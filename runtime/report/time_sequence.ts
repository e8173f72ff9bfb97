/**
 * A transfer as a time-sequence graph, Stevens and tcptrace style, in SVG:
 * time across, sequence number (relative to the sender's first) up. Each
 * data segment is a vertical bar from its first byte to its last; one that
 * sends bytes sent before is a retransmission, in red; the receiver's
 * cumulative ACK is a stepped line, and its SACK blocks short green bars.
 * The direction drawn is the one that sent the most payload.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Trace } from "../engine/trace.ts";
 * import { timeSequenceSvg } from "./time_sequence.ts";
 * assert.equal(timeSequenceSvg(new Trace()), undefined); // no transfer, no graph
 * ```
 */
import { DecodeError } from "../wire/decode_error.ts";
import { parsePacket } from "../wire/packet.ts";
import { address } from "../wire/address.ts";
import { seq as seqMath } from "../wire/seq.ts";
import { segmentLength, type TcpFields, TcpFlag } from "../wire/tcp.ts";
import type { Trace } from "../engine/trace.ts";
import { esc } from "./svg_text.ts";

const W = 900, H = 360, L = 80, B = 40, T = 20, R = 20;

interface Seg {
  time: number;
  from: string;
  to: string;
  tcp: TcpFields;
}

/** The segments of a trace, each once (in a topology, as first seen). */
function segments(trace: Trace): Seg[] {
  const out: Seg[] = [];
  const seen = new Set<string>();
  for (const e of trace.events) {
    if (e.kind !== "packet" || e.stopped) continue;
    try {
      const p = parsePacket(e.bytes, "raw", { verify: false });
      if (p.transport.kind !== "tcp") continue;
      const t = p.transport;
      const from = `${address.format(p.ip.src)}:${t.srcPort}`;
      const to = `${address.format(p.ip.dst)}:${t.dstPort}`;
      // A segment relayed across several links of a topology is drawn once.
      const key = `${e.time}|${from}|${to}|${t.seq}|${t.ack}|${t.flags}|${t.payload.length}`;
      if (e.link !== undefined && seen.has(key)) continue;
      seen.add(key);
      out.push({ time: e.time, from, to, tcp: t });
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
    }
  }
  return out;
}

/** The graph, or undefined when no direction carried at least two data segments. */
export function timeSequenceSvg(trace: Trace): string | undefined {
  const segs = segments(trace);
  const bytes = new Map<string, { n: number; total: number }>();
  for (const s of segs) {
    if (!s.tcp.payload.length) continue;
    const k = `${s.from}>${s.to}`;
    const b = bytes.get(k) ?? { n: 0, total: 0 };
    b.n++;
    b.total += s.tcp.payload.length;
    bytes.set(k, b);
  }
  const best = [...bytes].filter(([, b]) => b.n >= 2).sort((x, y) => y[1].total - x[1].total)[0];
  if (!best) return undefined;
  const [from, to] = best[0].split(">");
  const data = segs.filter((s) => s.from === from && s.to === to);
  const acks = segs.filter((s) => s.from === to && s.to === from && s.tcp.flags & TcpFlag.ACK);
  const first = data[0].tcp;
  // Relative to the first byte of data (the SYN's seq + 1 when the handshake was seen).
  const base = first.flags & TcpFlag.SYN ? seqMath.add(first.seq, 1) : first.seq;
  const rel = (n: number) => seqMath.diff(n, base);
  // On a virtual clock a transfer with no delay on its path takes no time at all: then the
  // segments are spread in the order they crossed, and the axis says so.
  const byOrder = new Set(data.map((s) => s.time)).size * 4 < data.length;
  const order = new Map(segs.map((s, i) => [s, i]));
  const at = (s: Seg) => byOrder ? order.get(s)! : s.time;
  const both = [...data, ...acks].map(at);
  const t0 = both.reduce((a, b) => Math.min(a, b), Infinity);
  const t1 = Math.max(both.reduce((a, b) => Math.max(a, b), -Infinity), t0 + 1);
  let top = 1;
  for (const s of data) top = Math.max(top, rel(s.tcp.seq) + segmentLength(s.tcp));
  const x = (t: number) => L + ((t - t0) / (t1 - t0)) * (W - L - R);
  const y = (v: number) => H - B - (Math.max(0, Math.min(v, top)) / top) * (H - B - T);
  const out: string[] = [
    `<svg class="time-sequence" xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="monospace" font-size="10">`,
    `<text x="${L}" y="12" fill="#333">${esc(`${from} → ${to}`)}: sequence (bytes) over ${
      byOrder ? "segment order (the clock did not move)" : "time (s)"
    }</text>`,
    `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="#333"/>`,
    `<line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="#333"/>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const t = t0 + ((t1 - t0) * i) / 4, v = Math.round((top * i) / 4);
    out.push(
      `<text x="${x(t)}" y="${H - B + 14}" text-anchor="middle">${
        byOrder ? `#${Math.round(t)}` : (t / 1000).toFixed(3)
      }</text>`,
      `<text x="${L - 4}" y="${y(v) + 3}" text-anchor="end">${v}</text>`,
    );
  }
  // The ACK line, stepped; one step per pixel column is all a screen shows.
  let path = "";
  let lastAck: number | undefined;
  let lastX = -1;
  for (const a of acks) {
    const v = rel(a.tcp.ack);
    if (v < 0) continue;
    const px = Math.round(x(at(a)));
    if (px === lastX && v === lastAck) continue;
    lastX = px;
    path += lastAck === undefined
      ? `M${x(at(a))},${y(v)}`
      : ` L${x(at(a))},${y(lastAck)} L${x(at(a))},${y(v)}`;
    lastAck = v;
    for (const o of a.tcp.options) {
      if (o.kind !== "sack") continue;
      for (const [l, r] of o.blocks) {
        out.push(
          `<line class="sack" x1="${x(at(a)) + 2}" y1="${y(rel(l))}" x2="${x(at(a)) + 2}" y2="${
            y(rel(r))
          }" stroke="#27ae60" stroke-width="2"/>`,
        );
      }
    }
  }
  if (lastAck !== undefined) {
    path += ` L${x(t1)},${y(lastAck)}`;
    out.push(
      `<path class="ack-line" d="${path}" fill="none" stroke="#2980b9" stroke-width="1.2"/>`,
    );
  }
  let sent = -1;
  let retransmits = 0;
  // New data in the same pixel column is one bar from its lowest byte to its highest: a 10 MB
  // transfer draws as many bars as the graph is wide. Retransmissions are each drawn.
  const columns = new Map<
    number,
    { lo: number; hi: number; time: number; pos: number; n: number }
  >();
  for (const s of data) {
    const len = s.tcp.payload.length;
    if (!len) continue;
    const lo = rel(s.tcp.seq), hi = lo + len;
    const again = hi <= sent;
    if (again) retransmits++;
    sent = Math.max(sent, hi);
    if (!again) {
      const px = Math.round(x(at(s)));
      const c = columns.get(px);
      if (c) {
        c.lo = Math.min(c.lo, lo);
        c.hi = Math.max(c.hi, hi);
        c.n++;
      } else columns.set(px, { lo, hi, time: s.time, pos: at(s), n: 1 });
      continue;
    }
    out.push(
      `<line class="${again ? "data retransmit" : "data"}" x1="${x(at(s))}" y1="${y(lo)}" x2="${
        x(at(s))
      }" y2="${y(hi)}" stroke="${again ? "#c0392b" : "#2c3e50"}" stroke-width="${
        again ? 3 : 2
      }"><title>${lo}:${hi} at ${(s.time / 1000).toFixed(6)}${
        again ? " (retransmission)" : ""
      }</title></line>`,
    );
  }
  for (const c of columns.values()) {
    out.push(
      `<line class="data" x1="${x(c.pos)}" y1="${y(c.lo)}" x2="${x(c.pos)}" y2="${
        y(c.hi)
      }" stroke="#2c3e50" stroke-width="2"><title>${c.lo}:${c.hi} at ${(c.time / 1000).toFixed(6)}${
        c.n > 1 ? ` (${c.n} segments)` : ""
      }</title></line>`,
    );
  }
  out.push(
    `<text x="${W - R}" y="${H - 6}" text-anchor="end" fill="#333">${
      data.filter((s) => s.tcp.payload.length).length
    } data segments, ${retransmits} retransmitted; ACK line blue, SACK green</text>`,
    "</svg>",
  );
  return out.join("\n");
}
