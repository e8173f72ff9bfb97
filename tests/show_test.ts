/**
 * `synack show` on real captures, cross-checked with tcpdump and tshark.
 * The captures are made here, by tcpdump inside a private network namespace
 * (`unshare -n`, gone when the command ends): a TCP exchange on loopback and
 * a connection to a closed port, captured as Linux cooked SLL and SLL2 (what
 * `tcpdump -i any` writes), cut by a 80-byte snap length, and on `lo`, where
 * the sender's checksums are left to an offload that never happens. Needs
 * root, tcpdump and tshark; skips with the reason otherwise.
 */
import assert from "node:assert/strict";
import { showCapture } from "../cli/show_capture.ts";
import { kernelUnavailable } from "../runtime/kernel/kernel_support.ts";

function missing(cmd: string, args: string[]): string | undefined {
  try {
    return new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).outputSync().success
      ? undefined
      : `${cmd} does not run`;
  } catch {
    return `${cmd} is not installed (.ci/run installs it)`;
  }
}

const why = kernelUnavailable() ?? missing("tcpdump", ["--version"]) ??
  missing("tshark", ["--version"]) ?? missing("unshare", ["--version"]);

/** Talks TCP on 127.0.0.1: a request, a reply, a close, and a SYN to a closed port. */
const TRAFFIC = `
const l = Deno.listen({ hostname: "127.0.0.1", port: 8080 });
const served = (async () => {
  const c = await l.accept();
  const b = new Uint8Array(100);
  await c.read(b);
  await c.write(new TextEncoder().encode("HTTP/1.0 200 OK\\r\\n\\r\\nhello, synack " + "x".repeat(300)));
  c.close();
})();
const c = await Deno.connect({ hostname: "127.0.0.1", port: 8080 });
await c.write(new TextEncoder().encode("GET / HTTP/1.0\\r\\n\\r\\n"));
const b = new Uint8Array(1000);
while ((await c.read(b)) !== null) {}
c.close();
await served;
l.close();
try { await Deno.connect({ hostname: "127.0.0.1", port: 9 }); } catch { /* refused: RST */ }
`;

/** Captures TRAFFIC in a fresh namespace, once per tcpdump option set. */
async function captures(dir: string): Promise<Record<string, string>> {
  const traffic = `${dir}/traffic.ts`;
  await Deno.writeTextFile(traffic, TRAFFIC);
  const runs: Record<string, string> = {
    sll: "-i any -y LINUX_SLL",
    sll2: "-i any -y LINUX_SLL2",
    cut: "-i lo -s 80",
    lo: "-i lo",
  };
  const out: Record<string, string> = {};
  for (const [name, opts] of Object.entries(runs)) {
    const file = `${dir}/${name}.pcap`;
    // tcpdump may say "listening" before it sees packets, and may not have written the last
    // ones when told to stop: a probe (a SYN to a closed port, and its RST) is sent until one
    // shows in the file before the traffic, and again until one more shows after it.
    const probe =
      `${Deno.execPath()} eval 'try { await Deno.connect({ hostname: "127.0.0.1", port: 1 }) } catch {}'`;
    const size = `$(stat -c %s ${file} 2>/dev/null || echo 0)`;
    const script = `ip link set lo up
tcpdump -U --immediate-mode -Z root -n ${opts} -w ${file} 2>${file}.err & pid=$!
for i in $(seq 100); do ${probe}; [ ${size} -gt 24 ] && break; sleep 0.05; done
${Deno.execPath()} run -A ${traffic}
before=${size}
for i in $(seq 100); do ${probe}; [ ${size} -gt $before ] && break; sleep 0.05; done
kill -INT $pid; wait $pid`;
    // tcpdump on "any" now and then loses packets in the kernel ("dropped by kernel"): a
    // capture is made again until it holds the whole exchange (10 packets on port 8080).
    for (let attempt = 1;; attempt++) {
      const r = await new Deno.Command("unshare", { args: ["-n", "sh", "-c", script] }).output();
      assert.ok(r.success, new TextDecoder().decode(r.stderr));
      const got = run("tcpdump", ["-n", "-r", file, "port 8080"]).trim().split("\n").length;
      if (got >= 10) break;
      assert.ok(attempt < 5, `${name}: tcpdump caught ${got} of 10 packets, 5 times running`);
    }
    out[name] = file;
  }
  return out;
}

function run(cmd: string, args: string[]): string {
  const r = new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).outputSync();
  assert.ok(r.success, `${cmd} ${args.join(" ")}: ${new TextDecoder().decode(r.stderr)}`);
  return new TextDecoder().decode(r.stdout);
}

async function show(file: string, o: Parameters<typeof showCapture>[1] = {}): Promise<string[]> {
  const lines: string[] = [];
  await showCapture(file, { ...o, out: (l) => lines.push(l) });
  return lines;
}

/**
 * Ports, flags, seq and ack of each TCP line, as synack and tcpdump -S both
 * print them (tcpdump leaves out the seq of a bare ACK; so does this).
 */
function tcpFacts(line: string): string | undefined {
  const s = /(\S+):(\d+) > (\S+):(\d+) ([SFRPUEWe.]+|none) (\d+):(\d+)\((\d+)\)(?: ack (\d+))?/
    .exec(line);
  if (s) {
    const seq = s[5] === "." && s[8] === "0" ? "-" : s[6];
    return `${s[2]}>${s[4]} ${s[5]} ${seq} ${s[9] ?? "-"}`;
  }
  const t = /\.(\d+) > \S+\.(\d+): Flags \[([^\]]+)\],(?: seq (\d+)(?::\d+)?,)?(?: ack (\d+),)?/
    .exec(line);
  if (!t) return undefined;
  // tcpdump writes the flags as S, S., P., F., R., R; synack the same letters.
  return `${t[1]}>${t[2]} ${t[3]} ${t[4] ?? "-"} ${t[5] ?? "-"}`;
}

Deno.test({
  name: `show: real captures agree with tcpdump and tshark${why ? ` (skipped: ${why})` : ""}`,
  ignore: why !== undefined,
  async fn(t) {
    const dir = await Deno.makeTempDir({ prefix: "synack-show-" });
    try {
      const f = await captures(dir);

      await t.step(
        "Linux cooked SLL and SLL2: every TCP packet, as tcpdump -S reads it",
        async () => {
          for (const name of ["sll", "sll2"]) {
            const ours = (await show(f[name])).map(tcpFacts).filter((x) => x);
            const theirs = run("tcpdump", ["-S", "-n", "-r", f[name], "tcp"]).split("\n")
              .map(tcpFacts).filter((x) => x);
            assert.ok(ours.length >= 10, `${name}: ${ours.length} packets`);
            assert.deepEqual(ours, theirs, name);
          }
          const sll2 = await show(f.sll2);
          // The cooked header's direction and interface, as tcpdump prints them.
          assert.ok(sll2.every((l) => / \[(In|Out) if\d+(; [^\]]*)?\]$/.test(l)), sll2.join("\n"));
          const dirs = run("tcpdump", ["-n", "-r", f.sll2, "tcp"]).trim().split("\n")
            .map((l) => / (In|Out) /.exec(l)?.[1]);
          assert.deepEqual(sll2.map((l) => /\[(In|Out) /.exec(l)?.[1]), dirs);
        },
      );

      await t.step(
        "a snap length cut: headers decoded, lengths as on the wire, marked",
        async () => {
          const lines = await show(f.cut);
          // 80 bytes captured: a 14-byte Ethernet header and 66 of the IP datagram.
          const cut = lines.filter((l) => /\[\|tcp: 66 of \d+ bytes/.test(l));
          assert.ok(cut.length >= 1, lines.join("\n"));
          // tcpdump reports the same lengths: 300-odd bytes of reply in one segment.
          const theirs = run("tcpdump", ["-S", "-n", "-r", f.cut, "tcp"]);
          for (const l of cut) {
            const m = /(\d+):(\d+)\((\d+)\)/.exec(l)!;
            assert.match(theirs, new RegExp(`seq ${m[1]}:${m[2]}, .*length ${m[3]}`));
          }
          assert.ok(!lines.some((l) => /malformed/.test(l)), lines.join("\n"));
        },
      );

      await t.step(
        "checksums left to offload on lo are said to be, where tshark calls them bad",
        async () => {
          const lines = await show(f.lo);
          const status = run("tshark", [
            "-n",
            "-r",
            f.lo,
            "-o",
            "tcp.check_checksum:TRUE",
            "-T",
            "fields",
            "-e",
            "tcp.checksum.status",
          ]).trim().split("\n");
          assert.equal(status.length, lines.length);
          lines.forEach((l, i) => {
            // tshark: 0 bad, 1 good, 2 unverified.
            if (status[i] === "0") assert.match(l, /\[checksum offloaded\]/, l);
            else assert.doesNotMatch(l, /checksum/, l);
          });
          assert.ok(lines.some((l) => l.includes("checksum offloaded")), lines.join("\n"));
        },
      );

      await t.step("filters pick what tcpdump's and tshark's do", async () => {
        const count = (args: string[]) =>
          run("tcpdump", ["-n", "-r", f.lo, ...args]).trim().split("\n").filter(Boolean).length;
        assert.equal((await show(f.lo, { filter: "port 9" })).length, count(["port 9"]));
        assert.equal(
          (await show(f.lo, { filter: "flags R" })).length,
          count(["tcp[tcpflags] & tcp-rst != 0"]),
        );
        assert.equal(
          (await show(f.lo, { filter: "dst port 8080 and not flags S" })).length,
          count(["dst port 8080 and not tcp[tcpflags] & tcp-syn != 0"]),
        );
        assert.equal((await show(f.lo, { filter: "host 10.0.0.1" })).length, 0);
        // The connection packet #1 belongs to, as tshark numbers its streams.
        const stream = run("tshark", [
          "-n",
          "-r",
          f.lo,
          "-Y",
          "frame.number == 1",
          "-T",
          "fields",
          "-e",
          "tcp.stream",
        ]).trim();
        const inStream =
          run("tshark", ["-n", "-r", f.lo, "-Y", `tcp.stream == ${stream}`]).trim().split("\n")
            .length;
        assert.equal((await show(f.lo, { filter: "stream 1" })).length, inStream);
      });

      await t.step("-r and -A: seq relative to each side's first, payload as text", async () => {
        const rel = await show(f.lo, { relative: true, filter: "port 8080" });
        assert.match(rel[0], / S 0:0\(0\) win/);
        assert.match(rel[2], / \. 1:1\(0\) ack 1 win/);
        const ascii = (await show(f.lo, { ascii: true })).join("\n");
        assert.match(ascii, /^GET \/ HTTP\/1\.0\.$/m);
        assert.match(run("tcpdump", ["-A", "-n", "-r", f.lo]), /GET \/ HTTP\/1\.0/);
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
