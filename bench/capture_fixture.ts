/**
 * A large capture for the show and parser benches: `n` packets of one TCP
 * connection (data one way, ACKs back), Ethernet link type, written with
 * synack's own PcapWriter. Not a bench itself.
 */
import { parseLine } from "../runtime/wire/line_parse.ts";
import { emitPacket } from "../runtime/wire/packet.ts";
import { LinkType, PcapWriter } from "../runtime/wire/pcap.ts";

/**
 * Writes the capture to `path` (if it is not there yet) and returns the path.
 * With `resets`, every 1000 packets two are a SYN to a closed port from a
 * port of its own and the RST that answers it (for `synack explain`).
 */
export function bigCapture(path: string, n: number, resets = false): string {
  try {
    if (Deno.statSync(path).size > 0) return path;
  } catch { /* write it */ }
  const eth = new Uint8Array([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00]);
  const frame = (line: string) => {
    const ip = emitPacket(parseLine(line).packet);
    const f = new Uint8Array(14 + ip.length);
    f.set(eth);
    f.set(ip, 14);
    return f;
  };
  const chunks: Uint8Array[] = [];
  let size = 0;
  const file = Deno.openSync(path, { write: true, create: true, truncate: true });
  const flush = () => {
    const all = new Uint8Array(size);
    let off = 0;
    for (const c of chunks) all.set(c, off), off += c.length;
    file.writeSync(all);
    chunks.length = 0;
    size = 0;
  };
  const w = new PcapWriter((b) => {
    chunks.push(b);
    size += b.length;
    if (size > 1 << 22) flush();
  }, { linkType: LinkType.ETHERNET });
  const data = "0x" + "61".repeat(100);
  for (let i = 0; i < n; i++) {
    const seq = 1 + (i >> 1) * 100;
    const port = 20000 + ((i / 1000) % 40000 | 0);
    const line = resets && i % 1000 === 998
      ? `192.0.2.1:${port} > 192.168.0.1:9 S 5000:5000(0) win 65535`
      : resets && i % 1000 === 999
      ? `192.168.0.1:9 > 192.0.2.1:${port} R. 0:0(0) ack 5001 win 0`
      : i % 2 === 0
      ? `192.0.2.1:40000 > 192.168.0.1:8080 P. ${seq}:${seq + 100}(100) ack 1 win 502 data ${data}`
      : `192.168.0.1:8080 > 192.0.2.1:40000 . 1:1(0) ack ${seq + 100} win 509`;
    w.write({
      tsSec: 1_700_000_000 + Math.floor(i / 1000),
      tsNsec: (i % 1000) * 1000,
      data: frame(line),
    });
  }
  flush();
  file.close();
  return path;
}

if (import.meta.main) bigCapture(Deno.args[0], Number(Deno.args[1]));
