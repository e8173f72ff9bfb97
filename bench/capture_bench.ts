// Reading captures: `synack show` and `synack explain` on 2 M packets against `tcpdump -nr` of the same
// file (both whole processes, output to /dev/null), and the parser on one large
// record arriving in 64 KiB chunks (it used to copy the whole pending record on
// every chunk: 8 MiB took 2.2 s, 32 MiB 30.6 s). Run: npx deno task bench bench/capture_bench.ts
import { CaptureParser } from "../runtime/wire/pcap.ts";
import { bigCapture } from "./capture_fixture.ts";

const ROOT = new URL("../", import.meta.url).pathname;
// Made once (about 30 s) and kept between runs.
const BIG = bigCapture("/tmp/synack-bench-2M.pcap", 2_000_000);

function has(cmd: string): boolean {
  try {
    return new Deno.Command(cmd, { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

async function quietly(cmd: string, args: string[]): Promise<void> {
  const s = await new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).output();
  if (!s.success) throw new Error(`${cmd} ${args.join(" ")} failed`);
}

Deno.bench({
  name: "tcpdump -nr, 2 M packets",
  group: "show",
  baseline: true,
  ignore: !has("tcpdump"),
  n: 3,
  warmup: 1,
  async fn() {
    await quietly("tcpdump", ["-nr", BIG]);
  },
});
Deno.bench({
  name: "synack show, 2 M packets",
  group: "show",
  n: 3,
  warmup: 1,
  async fn() {
    await quietly(`${ROOT}synack`, ["show", BIG]);
  },
});

/** A pcap file of one record of `size` bytes, as 64 KiB chunks. */
function oneRecord(size: number): Uint8Array[] {
  const head = new Uint8Array(40);
  const v = new DataView(head.buffer);
  v.setUint32(0, 0xa1b2c3d4, true);
  v.setUint32(16, 0x7fffffff, true);
  v.setUint32(20, 101, true);
  v.setUint32(32, size, true);
  v.setUint32(36, size, true);
  const all = new Uint8Array(40 + size);
  all.set(head);
  const chunks: Uint8Array[] = [];
  for (let off = 0; off < all.length; off += 65536) chunks.push(all.subarray(off, off + 65536));
  return chunks;
}

for (const mib of [8, 32, 200]) {
  const chunks = oneRecord(mib << 20);
  Deno.bench({
    name: `one ${mib} MiB record in 64 KiB chunks`,
    group: "parser",
    n: mib >= 200 ? 3 : 10,
    fn() {
      const p = new CaptureParser();
      let got = 0;
      for (const c of chunks) got += p.push(c).length;
      p.end();
      if (got !== 1) throw new Error(`${got} records`);
    },
  });
}

// `synack explain` on 2 M packets with 2,000 RSTs (closed ports), against `tcpdump -nr` of the
// same file: both read every packet; explain labels every RST.
const RESETS = bigCapture("/tmp/synack-bench-2M-rst.pcap", 2_000_000, true);
Deno.bench({
  name: "tcpdump -nr, 2 M packets with 2,000 RSTs",
  group: "explain",
  baseline: true,
  ignore: !has("tcpdump"),
  n: 3,
  warmup: 1,
  async fn() {
    await quietly("tcpdump", ["-nr", RESETS]);
  },
});
Deno.bench({
  name: "synack explain, 2 M packets with 2,000 RSTs",
  group: "explain",
  n: 3,
  warmup: 1,
  async fn() {
    const out = await new Deno.Command(`${ROOT}synack`, {
      args: ["explain", RESETS],
      stdout: "piped",
    })
      .output();
    const last = new TextDecoder().decode(out.stdout).trim().split("\n").at(-1);
    if (last !== "2000 RSTs: 2000 passive, 0 active") throw new Error(`explain said: ${last}`);
  },
});
