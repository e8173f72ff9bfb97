/**
 * A run as a sequence (ladder) diagram, in SVG: one column per endpoint
 * (the script and the stack under test, the peer stack, or a topology's
 * hosts), time downwards and to scale, each segment an arrow labelled in the
 * line syntax (seq and ack relative to each side's ISN, as scenarios write
 * them). RSTs are red and carry the stack's reason; a segment the stack
 * dropped ends in a cross with its reason; what a path did is written under
 * its arrow; socket calls sit on their host's column; the failure is a red
 * box, with its field diff, where it happened.
 *
 * Gaps longer than `MAX_GAP_PX` worth of time are cut, and the cut says how
 * long it was: a 70 s wait does not make a 70 000-pixel picture.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Trace } from "../engine/trace.ts";
 * import { ladderSvg } from "./ladder.ts";
 * const t = new Trace();
 * t.add({ kind: "failure", time: 1, message: "a.ts:1:1: expect(rst) got nothing" });
 * const svg = ladderSvg(t, { stack: "kernel" });
 * assert.match(svg, /^<svg class="ladder"/);
 * assert.match(svg, /class="failing"/);
 * ```
 */
import { DecodeError } from "../wire/decode_error.ts";
import { formatLine } from "../wire/line_format.ts";
import { type Packet, parsePacket } from "../wire/packet.ts";
import { formatCall } from "../wire/socket_call.ts";
import { formatReason } from "../wire/stack_reasons.ts";
import { TcpFlag } from "../wire/tcp.ts";
import { address } from "../wire/address.ts";
import { relativeLine } from "../engine/failure.ts";
import { Flows } from "../engine/flow.ts";
import type { Trace, TraceEvent } from "../engine/trace.ts";
import { esc } from "./svg_text.ts";

/** Who the columns are. */
export interface LadderEnds {
  /** The stack under test's name (`kernel`, `builtin:linux`). */
  stack: string;
  /** The script's column (`script`); a capture's first sender. */
  script?: string;
  /** In a topology: its links, each between two hosts, in the order to draw the hosts. */
  links?: readonly { name: string; a: string; b: string }[];
}

const COL = 440;
const MARGIN = 90;
const MIN_GAP_PX = 22;
const MAX_GAP_PX = 90;
const PX_PER_MS = 1.5;
const FONT = 11;

type PacketEvent = Extract<TraceEvent, { kind: "packet" }>;

/** One thing to draw, at a row. */
type Row =
  | {
    kind: "packet";
    time: number;
    from: string;
    to: string;
    label: string;
    rst: boolean;
    notes: string[];
    reason?: string;
    /** Dropped by the receiving stack, or stopped on the path. */
    end: "arrive" | "dropped" | "stopped";
  }
  | { kind: "call"; time: number; at: string; label: string }
  | { kind: "failure"; time: number; lines: string[] }
  | { kind: "note"; time: number; label: string };

/** A ladder draws at most this many rows: the first ones and the last, with a cut between. */
export const MAX_ROWS = 300;
const HEAD_ROWS = 200;

const ANY = { local: address.parse("0.0.0.0"), remote: address.parse("0.0.0.0") };

/** The rows of a trace, with their columns. */
export function ladderRows(trace: Trace, ends: LadderEnds): { columns: string[]; rows: Row[] } {
  const flows = new Flows(ANY, 0, () => 0);
  const columns: string[] = [];
  const col = (n: string) => {
    if (!columns.includes(n)) columns.push(n);
    return n;
  };
  if (ends.links) { for (const l of ends.links) col(l.a), col(l.b); }
  else col(ends.script ?? "script"), col(ends.stack);
  const other = (link: string, from: string) => {
    const l = ends.links?.find((x) => x.name === link);
    return l ? (l.a === from ? l.b : l.a) : from;
  };
  const rows: Row[] = [];
  for (const e of trace.events) {
    switch (e.kind) {
      case "packet": {
        const r = packetRow(e, flows, ends, other);
        if (r) {
          col(r.from), col(r.to);
          rows.push(r);
        }
        break;
      }
      case "call":
        rows.push({
          kind: "call",
          time: e.time,
          at: col(e.side === "target" ? (ends.links ? e.side : ends.stack) : e.side),
          label: formatCall(e.call, e.result),
        });
        break;
      case "failure":
        rows.push({
          kind: "failure",
          time: e.time,
          // The trace tail is the diagram itself.
          lines: e.message.split("\n").filter((_, i, all) =>
            i < all.findIndex((l) => /^\s*trace \(last /.test(l)) ||
            !all.some((l) => /^\s*trace \(last /.test(l))
          ).slice(0, 12),
        });
        break;
      case "note":
        rows.push({ kind: "note", time: e.time, label: e.text });
        break;
    }
  }
  if (rows.length > MAX_ROWS) {
    const left = rows.length - MAX_ROWS;
    rows.splice(HEAD_ROWS, left, {
      kind: "note",
      time: rows[HEAD_ROWS].time,
      label: `… ${left} more events not drawn here (the time-sequence graph shows every segment; ` +
        `the trace has them all) …`,
    });
  }
  return { columns, rows };
}

type PacketRow = Extract<Row, { kind: "packet" }>;

function packetRow(
  e: PacketEvent,
  flows: Flows,
  ends: LadderEnds,
  other: (link: string, from: string) => string,
): PacketRow | undefined {
  let p: Packet;
  try {
    p = parsePacket(e.bytes, "raw", { verify: false });
  } catch (err) {
    if (err instanceof DecodeError) return undefined;
    throw err;
  }
  if (e.dir === "in") flows.sent(p);
  else flows.seen(p);
  const t = p.transport;
  const [from, to] = e.link !== undefined
    ? [e.from!, other(e.link, e.from!)]
    : e.dir === "in"
    ? [e.by === "peer" ? "peer" : ends.script ?? "script", ends.stack]
    : [ends.stack, ends.script ?? "script"];
  // Between two columns the addresses go without saying; in a topology (NAT) they do not.
  const label = e.link !== undefined
    ? formatLine({ ...p, transport: { ...t, checksum: undefined } } as unknown as Packet)
    : relativeLine(p, e.dir, flows).replace(/^\S+:(\d+) > \S+:(\d+) /, "$1 > $2 ");
  const dropped = e.reason?.kind === "drop";
  return {
    kind: "packet",
    time: e.time,
    from,
    to,
    label,
    rst: t.kind === "tcp" && (t.flags & TcpFlag.RST) !== 0,
    notes: e.path ?? [],
    reason: e.reason ? formatReason(e.reason) : undefined,
    end: e.stopped ? "stopped" : dropped ? "dropped" : "arrive",
  };
}

/** The y of each row: proportional to time, at least `MIN_GAP_PX` apart, long gaps cut. */
function layout(rows: readonly Row[]): { ys: number[]; cuts: { y: number; ms: number }[] } {
  const ys: number[] = [];
  const cuts: { y: number; ms: number }[] = [];
  let y = 70;
  rows.forEach((r, i) => {
    if (i > 0) {
      const gap = r.time - rows[i - 1].time;
      const px = gap * PX_PER_MS;
      if (px > MAX_GAP_PX) {
        cuts.push({ y: y + MAX_GAP_PX / 2, ms: gap });
        y += MAX_GAP_PX;
      } else y += Math.max(MIN_GAP_PX, px);
    }
    ys.push(y);
    y += heightOf(r);
  });
  return { ys, cuts };
}

function heightOf(r: Row): number {
  if (r.kind === "packet") return 12 + r.notes.length * 12 + (r.reason ? 12 : 0);
  if (r.kind === "failure") return 16 + r.lines.length * 13;
  return 4;
}

/** The diagram of a run. */
export function ladderSvg(trace: Trace, ends: LadderEnds): string {
  const { columns, rows } = ladderRows(trace, ends);
  const x = (c: string) => MARGIN + columns.indexOf(c) * COL + COL / 2;
  const { ys, cuts } = layout(rows);
  const last = rows.length ? ys[ys.length - 1] + heightOf(rows[rows.length - 1]) : 70;
  const height = last + 40;
  const width = MARGIN + columns.length * COL + 20;
  const out: string[] = [];
  out.push(
    `<svg class="ladder" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
      `viewBox="0 0 ${width} ${height}" font-family="monospace" font-size="${FONT}">`,
  );
  out.push(
    `<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="context-stroke"/></marker></defs>`,
  );
  for (const c of columns) {
    out.push(
      `<g class="endpoint"><text x="${
        x(c)
      }" y="30" text-anchor="middle" font-weight="bold" font-size="13">${esc(c)}</text><line x1="${
        x(c)
      }" y1="40" x2="${x(c)}" y2="${height - 10}" stroke="#999" stroke-dasharray="3,3"/></g>`,
    );
  }
  for (const c of cuts) {
    out.push(
      `<g class="cut"><line x1="${MARGIN}" y1="${c.y}" x2="${
        width - 20
      }" y2="${c.y}" stroke="#ccc" stroke-dasharray="8,4"/>` +
        `<text x="${MARGIN + 4}" y="${c.y - 3}" fill="#888">${
          (c.ms / 1000).toFixed(3)
        } s later</text></g>`,
    );
  }
  rows.forEach((r, i) => out.push(drawRow(r, ys[i], x, width)));
  out.push("</svg>");
  return out.join("\n");
}

function drawRow(r: Row, y: number, x: (c: string) => number, width: number): string {
  const time = `<text x="4" y="${y + 4}" fill="#666">${(r.time / 1000).toFixed(6)}</text>`;
  switch (r.kind) {
    case "packet": {
      const x1 = x(r.from), x2 = x(r.to);
      const color = r.rst ? "#c0392b" : r.end === "dropped" ? "#8e44ad" : "#2c3e50";
      // Stopped on the path: the arrow ends half way.
      const xe = r.end === "stopped" ? (x1 + x2) / 2 : x2;
      const dy = 8;
      const mid = (x1 + xe) / 2;
      const lines: string[] = [];
      lines.push(
        `<line x1="${x1}" y1="${y}" x2="${xe}" y2="${
          y + dy
        }" stroke="${color}" stroke-width="1.5" marker-end="url(#arrow)"/>`,
      );
      if (r.end !== "arrive") lines.push(cross(xe, y + dy, color));
      let ty = y - 3;
      lines.push(
        `<text x="${mid}" y="${ty}" text-anchor="middle" fill="${color}"><title>${
          esc(r.label)
        }</title>${esc(clip(r.label, 66))}</text>`,
      );
      ty = y + dy + 12;
      if (r.reason) {
        lines.push(
          `<text class="reason" x="${mid}" y="${ty}" text-anchor="middle" fill="${color}" font-weight="bold">${
            esc(r.reason)
          }</text>`,
        );
        ty += 12;
      }
      for (const n of r.notes) {
        lines.push(
          `<text class="path" x="${mid}" y="${ty}" text-anchor="middle" fill="#16a085" font-style="italic">${
            esc(clip(n))
          }</text>`,
        );
        ty += 12;
      }
      const cls = ["segment", r.rst ? "rst" : "", r.end !== "arrive" ? r.end : ""].filter(Boolean)
        .join(" ");
      return `<g class="${cls}">${time}${lines.join("")}</g>`;
    }
    case "call":
      return `<g class="call">${time}<rect x="${x(r.at) + 4}" y="${y - 9}" width="${
        Math.min(COL - 10, r.label.length * 6.7 + 8)
      }" height="14" fill="#eef3f7" stroke="#9db3c6"/><text x="${x(r.at) + 8}" y="${y + 2}">${
        esc(clip(r.label, 42))
      }</text></g>`;
    case "note":
      return `<g class="note">${time}<text x="${MARGIN}" y="${y + 2}" fill="#7f8c8d">note: ${
        esc(clip(r.label, 120))
      }</text></g>`;
    case "failure": {
      const h = 10 + r.lines.length * 13;
      const text = r.lines.map((l, i) =>
        `<text x="${MARGIN + 8}" y="${y + 14 + i * 13}" fill="#922">${esc(clip(l, 140))}</text>`
      ).join("");
      return `<g class="failing">${time}<rect x="${MARGIN}" y="${y}" width="${
        width - MARGIN - 24
      }" height="${h}" fill="#fdecea" stroke="#c0392b" stroke-width="2"/>${text}</g>`;
    }
  }
}

function cross(cx: number, cy: number, color: string): string {
  const d = 5;
  return `<path d="M${cx - d},${cy - d} L${cx + d},${cy + d} M${cx - d},${cy + d} L${cx + d},${
    cy - d
  }" stroke="${color}" stroke-width="2.5"/>`;
}

function clip(s: string, n = 60): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}
