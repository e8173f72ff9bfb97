/**
 * packetdrill's system calls and line forms on the kernel, beyond what the
 * kernel's own corpus uses: synack's scripts in tests/pkt_scripts/ (poll,
 * ioctl, getsockopt, recv, readv/writev, send/sendto/sendmsg, shutdown,
 * epoll with a timeout, a blocking accept, `*` and range times, `<...>`, an
 * inbound ICMP error), each in every family packetdrill has: ipv4, ipv6 and
 * ipv4-mapped-ipv6. Needs root; skips visibly without.
 */
import assert from "node:assert/strict";
import { failureLines } from "../../cli/pkt_command.ts";
import { kernelUnavailable } from "../../runtime/kernel/kernel_support.ts";
import { KSFT_FAMILIES } from "../../runtime/pkt/pkt_config.ts";
import { runPktFile } from "../../runtime/pkt/pkt_suite.ts";

const why = kernelUnavailable();
const skip = why ? ` (skipped: ${why})` : "";
const DIR = new URL("../pkt_scripts/", import.meta.url).pathname;

const FAMILIES: Record<string, string[]> = {
  ipv4: KSFT_FAMILIES.ipv4,
  ipv6: KSFT_FAMILIES.ipv6,
  "ipv4-mapped-ipv6": [
    "--ip_version=ipv4-mapped-ipv6", "--local_ip=192.168.0.1", "--gateway_ip=192.168.0.1",
    "--netmask_ip=255.255.0.0", "--remote_ip=192.0.2.1",
  ],
};

const SCRIPTS: [string, string[]][] = [
  ["calls_server.pkt", Object.keys(FAMILIES)],
  ["calls_client.pkt", Object.keys(FAMILIES)],
  // It pins --ip_version=ipv4 itself: frag_needed is ICMPv4's.
  ["icmp_frag_needed.pkt", ["ipv4"]],
];

for (const [script, families] of SCRIPTS) {
  for (const family of families) {
    Deno.test({
      name: `pkt calls: ${script}, ${family}${skip}`,
      ignore: why !== undefined,
      async fn() {
        const r = await runPktFile(`${DIR}${script}`, FAMILIES[family]);
        assert.ok(r.passed, (await failureLines(`${DIR}${script}`, r)).join("\n"));
      },
    });
  }
}
