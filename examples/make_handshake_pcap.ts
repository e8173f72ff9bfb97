/**
 * Writes examples/handshake.pcap, the capture that `deno task demo` prints:
 * a handshake with timestamps, a request and its reply, a close from the
 * client, and the two kinds of RST from ../shared/seeds' RST story (a passive
 * RST to a closed port, an active RST with ACK on a linger-0 close).
 *
 * Run: `deno run --allow-write examples/make_handshake_pcap.ts`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HANDSHAKE_LINES } from "./make_handshake_pcap.ts";
 * assert.ok(HANDSHAKE_LINES[0].includes(" S "));
 * ```
 */
import { concatBytes } from "../runtime/wire/concat_bytes.ts";
import { parseLine } from "../runtime/wire/line_parse.ts";
import { emitPacket } from "../runtime/wire/packet.ts";
import { LinkType, PcapWriter } from "../runtime/wire/pcap.ts";

/** The packets, in the line syntax, with their times. */
export const HANDSHAKE_LINES: readonly string[] = [
  "0.000 192.0.2.1:40000 > 192.168.0.1:8080 S 1000:1000(0) win 65535 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7> DF",
  "0.001 192.168.0.1:8080 > 192.0.2.1:40000 S. 5000:5000(0) ack 1001 win 65160 <mss 1460,sackOK,TS val 900 ecr 100,nop,wscale 7> DF",
  "0.002 192.0.2.1:40000 > 192.168.0.1:8080 . 1001:1001(0) ack 5001 win 502 <nop,nop,TS val 101 ecr 900> DF",
  "0.003 192.0.2.1:40000 > 192.168.0.1:8080 P. 1001:1019(18) ack 5001 win 502 <nop,nop,TS val 102 ecr 900> DF data 0x474554202f20485454502f312e300d0a0d0a",
  "0.004 192.168.0.1:8080 > 192.0.2.1:40000 . 5001:5001(0) ack 1019 win 509 <nop,nop,TS val 901 ecr 102> DF",
  "0.005 192.168.0.1:8080 > 192.0.2.1:40000 P. 5001:5018(17) ack 1019 win 509 <nop,nop,TS val 902 ecr 102> DF data 0x485454502f312e3020323030204f4b0d0a",
  "0.006 192.0.2.1:40000 > 192.168.0.1:8080 F. 1019:1019(0) ack 5018 win 502 <nop,nop,TS val 103 ecr 902> DF",
  "0.007 192.168.0.1:8080 > 192.0.2.1:40000 F. 5018:5018(0) ack 1020 win 509 <nop,nop,TS val 903 ecr 103> DF",
  "0.008 192.0.2.1:40000 > 192.168.0.1:8080 . 1020:1020(0) ack 5019 win 502 <nop,nop,TS val 104 ecr 903> DF",
  "1.000 192.0.2.1:40001 > 192.168.0.1:9999 S 7000:7000(0) win 65535 <mss 1460> DF",
  "1.001 192.168.0.1:9999 > 192.0.2.1:40001 R. 0:0(0) ack 7001 win 0 DF",
  "2.000 192.0.2.1:40002 > 192.168.0.1:8080 . 3001:3001(0) ack 9001 win 502 DF",
  "2.001 192.168.0.1:8080 > 192.0.2.1:40002 R 9001:9001(0) win 0 DF",
  "3.000 192.168.0.1:8080 > 192.0.2.1:40003 R. 6001:6001(0) ack 2001 win 0 DF",
];

/** Writes the capture to `path`. */
export function writeHandshakePcap(path: string | URL): void {
  const chunks: Uint8Array[] = [];
  const w = new PcapWriter((b) => chunks.push(b.slice()), { linkType: LinkType.RAW });
  const base = 1_763_900_000;
  for (const line of HANDSHAKE_LINES) {
    const { time = 0, packet } = parseLine(line);
    const ns = Math.round(time * 1e9);
    w.write({ tsSec: base + Math.floor(ns / 1e9), tsNsec: ns % 1e9, data: emitPacket(packet) });
  }
  Deno.writeFileSync(path, concatBytes(chunks));
}

if (import.meta.main) writeHandshakePcap(new URL("./handshake.pcap", import.meta.url));
