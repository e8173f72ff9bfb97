import { parsePkt } from "../dsl/pkt/pkt_parser.ts";
import { KSFT_FAMILIES, pktConfig } from "../runtime/pkt/pkt_config.ts";
import { runPkt } from "../runtime/pkt/pkt_runner.ts";
const dir = "/tmp/corpus/linux-source-6.12/tools/testing/selftests/net/packetdrill/";
const fam = (Deno.args[1] ?? "ipv4") as "ipv4";
const argv = KSFT_FAMILIES[fam];
const base = pktConfig(argv);
const s = parsePkt(Deno.readTextFileSync(dir + Deno.args[0]), Deno.args[0], base.defines);
const c = pktConfig(argv, s.options);
const r = await runPkt(s, c, { dir });
console.log(
  r.passed ? "PASS" : "FAIL",
  r.elapsedMs.toFixed(0),
  r.failure?.message,
  r.failure?.detail,
);
