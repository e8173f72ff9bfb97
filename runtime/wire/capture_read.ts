/**
 * Reading captures: every record of a pcap or pcapng file, chunk by chunk,
 * and each record's IP datagram behind its link header (Ethernet, raw IP,
 * Linux cooked SLL/SLL2 with its direction and interface), decoded as far as
 * a snap length let it be. `synack show` prints them; `synack explain`
 * reasons about them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { captureRecords, unwrapRecord } from "./capture_read.ts";
 * let n = 0;
 * for await (const batch of captureRecords(new URL("../../examples/handshake.pcap", import.meta.url))) {
 *   for (const rec of batch) {
 *     const u = unwrapRecord(rec);
 *     assert.ok(typeof u !== "string" && u.link === "raw");
 *     n++;
 *   }
 * }
 * assert.ok(n >= 3);
 * ```
 */
import { DecodeError } from "./decode_error.ts";
import { type LinkKind, type Packet, parsePacket } from "./packet.ts";
import { CaptureParser, type CaptureRecord, LinkType } from "./pcap.ts";
import { parseSll, type SllHeader } from "./sll.ts";

/** A record's network-layer bytes, how to read them, and what its link header said. */
export interface Unwrapped {
  bytes: Uint8Array;
  link: LinkKind;
  note?: string;
}

/** A record's IP datagram, or why it has none that synack reads. */
export function unwrapRecord(
  rec: CaptureRecord,
  names?: ReadonlyMap<number, string>,
): Unwrapped | string {
  switch (rec.linkType) {
    case LinkType.ETHERNET:
      return { bytes: rec.data, link: "ethernet" };
    case LinkType.RAW:
    case LinkType.IPV4:
    case LinkType.IPV6:
      return { bytes: rec.data, link: "raw" };
    case LinkType.LINUX_SLL:
    case LinkType.LINUX_SLL2: {
      let h: SllHeader;
      try {
        h = parseSll(rec.data, rec.linkType);
      } catch (e) {
        if (e instanceof DecodeError) return e.message;
        throw e;
      }
      if (h.protocol !== 0x0800 && h.protocol !== 0x86dd) {
        return `protocol 0x${h.protocol.toString(16).padStart(4, "0")} is not IP`;
      }
      const iface = h.ifindex === undefined ? "" : ` ${names?.get(h.ifindex) ?? `if${h.ifindex}`}`;
      return {
        bytes: rec.data.subarray(h.payloadStart),
        link: "raw",
        note: `${h.direction}${iface}`,
      };
    }
    default:
      return `link type ${rec.linkType} is not decoded`;
  }
}

/** The IP datagram of `bytes` (after any Ethernet header) and where its IP header starts. */
/** Where the IP header starts in an unwrapped record (after Ethernet and one VLAN tag). */
export function ipStart(u: Unwrapped): number {
  return u.link === "ethernet" ? (u.bytes[12] === 0x81 && u.bytes[13] === 0 ? 18 : 14) : 0;
}

/** The length the IP header says the datagram has, if its header is there. */
function ipLength(b: Uint8Array, at: number): number | undefined {
  const v = b[at] >> 4;
  if (v === 4 && b.length >= at + 4) return (b[at + 2] << 8) | b[at + 3];
  if (v === 6 && b.length >= at + 6) return 40 + ((b[at + 4] << 8) | b[at + 5]);
  return undefined;
}

/**
 * A packet cut by the snap length: the missing bytes as zeros, so that every
 * header that was captured whole decodes; checksums are not checked, and the
 * line says how much was there.
 */
export function decodeCut(u: Unwrapped): { p: Packet; note: string; captured: number } | undefined {
  const at = ipStart(u);
  const total = ipLength(u.bytes, at);
  if (total === undefined || at + total <= u.bytes.length) return undefined;
  const whole = new Uint8Array(at + total);
  whole.set(u.bytes);
  const p = parsePacket(whole, u.link, { verify: false });
  const t = p.transport;
  const proto = t.kind === "tcp"
    ? "tcp"
    : t.kind === "udp"
    ? "udp"
    : t.kind === "raw"
    ? "ip"
    : "icmp";
  // The line keeps the datagram's lengths; the payload bytes that were captured are these.
  const payload = t.kind === "tcp" || t.kind === "udp" ? t.payload.length : 0;
  const captured = Math.max(0, payload - (whole.length - u.bytes.length));
  return { p, note: `|${proto}: ${u.bytes.length - at} of ${total} bytes`, captured };
}

/** Every record of the file, chunk by chunk, without a promise per record. */
export async function* captureRecords(path: string | URL): AsyncGenerator<CaptureRecord[]> {
  using file = await Deno.open(path);
  const parser = new CaptureParser();
  for await (const chunk of file.readable) {
    const got = parser.push(chunk);
    if (got.length) yield got;
  }
  parser.end();
}
