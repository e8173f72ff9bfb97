// packetdrill scripts through synack. Run: npx deno task bench bench/pkt_bench.ts
// - the parse rate of .pkt lines (the kernel's corpus, parsed over and over; no root needed,
//   only the linux-source-6.12 package);
// - a script of one event, parsed and run on the kernel: the fixed cost of a run (namespace, tun0,
//   addresses, the shell helper, teardown), beside packetdrill's 0.15 s;
// - the whole corpus (24 scripts × 2 families) run one by one, as ksft_runner.sh runs
//   packetdrill, and in parallel namespaces (`synack test --pkt`), side by side in one run.
import { parsePkt } from "../dsl/pkt/pkt_parser.ts";
import { kernelUnavailable } from "../runtime/kernel/kernel_support.ts";
import { kernelCorpus, kernelCorpusMissing } from "../runtime/pkt/kernel_corpus.ts";
import { KSFT_FAMILIES } from "../runtime/pkt/pkt_config.ts";
import { pktFiles, type PktJob, runPktFile, runPktJobs } from "../runtime/pkt/pkt_suite.ts";

const missing = await kernelCorpusMissing();
const why = kernelUnavailable() ?? missing;
const skipped = why ? ` (skipped: ${why})` : "";
const dir = missing ? undefined : await kernelCorpus();
const files = dir ? await pktFiles(dir) : [];
const texts = await Promise.all(files.map((f) => Deno.readTextFile(f)));
const lines = texts.reduce((n, t) => n + t.split("\n").length, 0);
const defines = { CMSG_LEVEL_IP: "SOL_IP", CMSG_TYPE_RECVERR: "IP_RECVERR" };

Deno.bench({
  name: `parse the kernel's corpus: ${files.length} scripts, ${lines} lines${
    missing ? ` (skipped: ${missing})` : ""
  }`,
  group: "parse",
  ignore: missing !== undefined,
  fn() {
    for (let i = 0; i < texts.length; i++) parsePkt(texts[i], files[i], defines);
  },
});

const one = await Deno.makeTempFile({ suffix: ".pkt" });
await Deno.writeTextFile(one, "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n");

Deno.bench({
  name: `a one-event script, run on the kernel: synack's fixed cost per script${skipped}`,
  group: "fixed",
  ignore: why !== undefined,
  async fn() {
    const r = await runPktFile(one, KSFT_FAMILIES.ipv4);
    if (!r.passed) throw new Error(r.failure!.message);
  },
});

const withCommand = await Deno.makeTempFile({ suffix: ".pkt" });
await Deno.writeTextFile(
  withCommand,
  "`sysctl -q net.ipv4.tcp_timestamps=1`\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n",
);

Deno.bench({
  name: `the same with a backtick command: the shell helper starts too${skipped}`,
  group: "fixed",
  ignore: why !== undefined,
  async fn() {
    const r = await runPktFile(withCommand, KSFT_FAMILIES.ipv4);
    if (!r.passed) throw new Error(r.failure!.message);
  },
});

const jobs: PktJob[] = files.flatMap((path) =>
  (["ipv4", "ipv6"] as const).map((family) => ({ path, family, argv: KSFT_FAMILIES[family] }))
);

for (
  const [label, concurrency] of [["one by one (as ksft_runner.sh runs packetdrill)", 1], [
    "6 namespaces at a time",
    6,
  ]] as const
) {
  Deno.bench({
    name: `the kernel's corpus, 48 runs, ${label}${skipped}`,
    group: "corpus",
    baseline: concurrency === 1,
    ignore: why !== undefined,
    n: 1,
    warmup: 0,
    async fn() {
      await runPktJobs(jobs, concurrency, undefined, true);
    },
  });
}
