/**
 * Cross-checks our pcap, pcapng and packet bytes with tshark (Debian's, as
 * installed by .ci/run): every packet decodes without malformed-packet
 * warnings, checksums that should be right are right, and tshark's seq, ack,
 * flags, option kinds, ports and ICMP fields agree with ours.
 */
import assert from "node:assert/strict";
import { concatBytes } from "../runtime/wire/concat_bytes.ts";
import { parseLine } from "../runtime/wire/line_parse.ts";
import { emitPacket, type Packet, parsePacket } from "../runtime/wire/packet.ts";
import { type CaptureSink, LinkType, PcapngWriter, PcapWriter } from "../runtime/wire/pcap.ts";
import { tcpOptionKindOf } from "../runtime/wire/tcp_options.ts";
import { TSHARK_CORPUS } from "./tshark_corpus.ts";
import { Trace } from "../runtime/engine/trace.ts";

const TSHARK = (() => {
  try {
    const r = new Deno.Command("tshark", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync();
    return r.success ? undefined : "tshark --version failed";
  } catch {
    return "tshark is not installed (.ci/run installs it: apt-get install tshark)";
  }
})();

const FIELDS = [
  "frame.number",
  "tcp.seq_raw",
  "tcp.ack_raw",
  "tcp.flags",
  "tcp.option_kind",
  "udp.srcport",
  "udp.dstport",
  "icmp.type",
  "icmp.code",
  "icmp.mtu",
  "icmpv6.type",
  "_ws.expert.group",
  "_ws.expert.message",
  "_ws.malformed",
];
const EXPERT_CHECKSUM = 0x01000000;
const EXPERT_MALFORMED = 0x07000000;

function capture(kind: "pcap" | "pcapng", link: number, frames: Uint8Array[]): Uint8Array {
  const chunks: Uint8Array[] = [];
  const sink: CaptureSink = (b) => chunks.push(b);
  const w = kind === "pcap"
    ? new PcapWriter(sink, { linkType: link })
    : new PcapngWriter(sink, { linkType: link });
  frames.forEach((data, i) => w.write({ tsSec: 1700000000, tsNsec: i * 1000, data }));
  return concatBytes(chunks);
}

async function tshark(bytes: Uint8Array): Promise<Array<Record<string, string>>> {
  const path = await Deno.makeTempFile({ suffix: ".pcap" });
  try {
    await Deno.writeFile(path, bytes);
    const args = ["-n", "-r", path, "-T", "fields", "-E", "separator=|", "-E", "occurrence=a"];
    for (const o of ["tcp.check_checksum", "udp.check_checksum", "ip.check_checksum"]) {
      args.push("-o", `${o}:TRUE`);
    }
    args.push(
      "-o",
      "tcp.relative_sequence_numbers:FALSE",
      "-o",
      "tcp.analyze_sequence_numbers:FALSE",
    );
    for (const f of FIELDS) args.push("-e", f);
    const r = await new Deno.Command("tshark", { args, stdout: "piped", stderr: "piped" }).output();
    assert.ok(r.success, new TextDecoder().decode(r.stderr));
    return new TextDecoder().decode(r.stdout).trim().split("\n").map((row) => {
      const cells = row.split("|");
      return Object.fromEntries(FIELDS.map((f, i) => [f, cells[i] ?? ""]));
    });
  } finally {
    await Deno.remove(path);
  }
}

function trimZeros(kinds: number[]): number[] {
  const k = [...kinds];
  while (k.length && k[k.length - 1] === 0) k.pop();
  return k;
}

function checkRow(
  row: Record<string, string>,
  p: Packet,
  goodChecksums: boolean,
  line: string,
): void {
  const groups = row["_ws.expert.group"].split(",").filter(Boolean).map(Number);
  assert.ok(
    !groups.includes(EXPERT_MALFORMED) && row["_ws.malformed"] === "",
    `malformed per tshark: ${line}`,
  );
  assert.equal(
    groups.includes(EXPERT_CHECKSUM),
    !goodChecksums,
    `checksum verdict differs: ${line}: ${row["_ws.expert.message"]}`,
  );
  const t = p.transport;
  switch (t.kind) {
    case "tcp": {
      assert.equal(Number(row["tcp.seq_raw"]), t.seq, line);
      assert.equal(Number(row["tcp.ack_raw"]), t.ack, line);
      assert.equal(Number(row["tcp.flags"]), t.flags, line);
      const theirs = row["tcp.option_kind"].split(",").filter(Boolean).map(Number);
      const ours = t.options.map(tcpOptionKindOf);
      assert.deepEqual(trimZeros(theirs), trimZeros(ours), line);
      break;
    }
    case "udp":
      assert.equal(Number(row["udp.srcport"]), t.srcPort, line);
      assert.equal(Number(row["udp.dstport"]), t.dstPort, line);
      break;
    case "icmpv4":
      assert.equal(Number(row["icmp.type"].split(",")[0]), t.type, line);
      assert.equal(Number(row["icmp.code"].split(",")[0]), t.code, line);
      if (t.mtu !== undefined) assert.equal(Number(row["icmp.mtu"]), t.mtu, line);
      break;
    case "icmpv6":
      assert.equal(Number(row["icmpv6.type"].split(",")[0]), t.type, line);
      break;
    case "raw":
      assert.fail(`corpus packet decoded as raw: ${line}`);
  }
}

const frames = TSHARK_CORPUS.map(({ line }) => emitPacket(parseLine(line).packet));
const ETH_V4 = [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00];
const ETH_V6 = [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x86, 0xdd];

for (const kind of ["pcap", "pcapng"] as const) {
  for (const link of ["raw", "ethernet"] as const) {
    Deno.test({
      name: `tshark decodes our ${kind} (${link}) corpus and agrees field by field` +
        (TSHARK ? ` (skipped: ${TSHARK})` : ""),
      ignore: TSHARK !== undefined,
      fn: async () => {
        const data = link === "raw"
          ? frames
          : frames.map((f) => new Uint8Array([...(f[0] >> 4 === 4 ? ETH_V4 : ETH_V6), ...f]));
        const rows = await tshark(
          capture(kind, link === "raw" ? LinkType.RAW : LinkType.ETHERNET, data),
        );
        assert.equal(rows.length, TSHARK_CORPUS.length);
        TSHARK_CORPUS.forEach(({ line, goodChecksums }, i) => {
          checkRow(rows[i], parsePacket(data[i], link), goodChecksums, line);
        });
      },
    });
  }
}

Deno.test({
  name:
    "tshark reads a topology's pcapng: one named interface per link, the path's marks as comments" +
    (TSHARK ? ` (skipped: ${TSHARK})` : ""),
  ignore: TSHARK !== undefined,
  fn: async () => {
    const t = new Trace();
    const [a, b] = frames;
    t.add({ kind: "packet", dir: "in", time: 1, bytes: a, link: "client-router", from: "client" });
    t.add({
      kind: "packet",
      dir: "in",
      time: 2,
      bytes: b,
      link: "router-server",
      from: "router",
      path: ["dropped by path.drop (x.ts:1:1)"],
      stopped: true,
    });
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeFile(`${dir}/t.pcapng`, t.toPcapng());
      const out = await new Deno.Command("tshark", {
        args: [
          "-r",
          `${dir}/t.pcapng`,
          "-T",
          "fields",
          "-e",
          "frame.interface_name",
          "-e",
          "frame.comment",
        ],
        stdout: "piped",
        stderr: "null",
      }).output();
      assert.deepEqual(new TextDecoder().decode(out.stdout).trim().split("\n"), [
        "client-router\t",
        "router-server\tdropped by path.drop (x.ts:1:1)",
      ]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
