/**
 * packetdrill's system calls and line forms on the kernel, beyond what the
 * kernel's own corpus uses: synack's scripts in tests/pkt_scripts/ (poll,
 * ioctl, getsockopt, recv, readv/writev, send/sendto/sendmsg, shutdown,
 * epoll with a timeout, a blocking accept, `*` and range times, `<...>`, an
 * inbound ICMP error, UDP lines and the ICMP port unreachable they draw),
 * each in every family packetdrill has: ipv4, ipv6 and ipv4-mapped-ipv6.
 * Needs root; skips visibly without.
 */
import assert from "node:assert/strict";
import { failureLines, rerunLines } from "../../cli/pkt_command.ts";
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
    "--ip_version=ipv4-mapped-ipv6",
    "--local_ip=192.168.0.1",
    "--gateway_ip=192.168.0.1",
    "--netmask_ip=255.255.0.0",
    "--remote_ip=192.0.2.1",
  ],
};

const SCRIPTS: [string, string[]][] = [
  ["calls_server.pkt", Object.keys(FAMILIES)],
  ["calls_client.pkt", Object.keys(FAMILIES)],
  // It pins --ip_version=ipv4 itself: frag_needed is ICMPv4's.
  ["icmp_frag_needed.pkt", ["ipv4"]],
  ["udp.pkt", Object.keys(FAMILIES)],
];

for (const [script, families] of SCRIPTS) {
  for (const family of families) {
    Deno.test({
      name: `pkt calls: ${script}, ${family}${skip}`,
      ignore: why !== undefined,
      async fn() {
        const r = await runPktFile(`${DIR}${script}`, FAMILIES[family]);
        if (!r.passed) assert.fail((await failureLines(`${DIR}${script}`, r)).join("\n"));
      },
    });
  }
}

/** Each output a call writes back is compared: one wrong value in a passing script, and its message. */
const WRONG: [string, string, string, RegExp, string?][] = [
  [
    "calls_server.pkt",
    "ioctl(4, SIOCINQ, [1000])",
    "ioctl(4, SIOCINQ, [999])",
    /:23: ioctl\(4, SIOCINQ, \[999\]\): ioctl value: want 999, got 1000$/m,
  ],
  [
    "calls_server.pkt",
    "revents=POLLIN|POLLOUT}",
    "revents=POLLOUT}",
    /:22: poll\(.*\): revents of pollfd 0: want POLLOUT, got POLLIN\|POLLOUT$/m,
  ],
  [
    "calls_server.pkt",
    "TCP_MAXSEG, [1460]",
    "TCP_MAXSEG, [1400]",
    /:27: getsockopt\(.*\): optval: want 1400, got 1460$/m,
  ],
  [
    "calls_server.pkt",
    "readv(4, [{..., 300}, {..., 300}], 2) = 600",
    "readv(4, [{..., 300}, {..., 300}], 2) = 500",
    /:25: readv\(.*\): want 500, got 600$/m,
  ],
  [
    "calls_client.pkt",
    "epoll_wait(4, {events=EPOLLOUT, fd=3}",
    "epoll_wait(4, {events=EPOLLIN, fd=3}",
    /:17: epoll_wait\(.*\): epoll event 0 events: want EPOLLIN, got EPOLLOUT$/m,
  ],
  [
    "calls_client.pkt",
    "[ECONNRESET]",
    "[ECONNREFUSED]",
    /:26: getsockopt\(.*\): optval: want 111, got 104$/m,
  ],
  [
    "calls_client.pkt",
    "= -1 EPIPE (Broken pipe)",
    "= 10",
    /:27: send\(3, \.\.\., 10, 0\): want 10, got -1 EPIPE \(Broken pipe\)$/m,
  ],
  [
    "udp.pkt",
    "> udp (50)",
    "> udp (40)",
    /:8: error handling packet: live packet field udp_len: expected: 48 \(0x30\) vs actual: 58 \(0x3a\)$/m,
    "packet",
  ],
  [
    "udp.pkt",
    "> icmp unreachable port_unreachable",
    "> icmp unreachable host_unreachable",
    /:10: error handling packet: live packet field icmp_code: expected: 1 \(0x1\) vs actual: 3 \(0x3\)$/m,
    "packet",
  ],
];

for (const [script, from, to, message, kind = "syscall"] of WRONG) {
  Deno.test({
    name: `pkt calls: ${script} with ${to} fails at that line${skip}`,
    ignore: why !== undefined,
    async fn() {
      const text = await Deno.readTextFile(`${DIR}${script}`);
      assert.ok(text.includes(from), `${from} is not in ${script}`);
      const dir = await Deno.makeTempDir();
      try {
        await Deno.writeTextFile(`${dir}/${script}`, text.replace(from, to));
        const r = await runPktFile(`${dir}/${script}`, FAMILIES.ipv4);
        assert.equal(r.passed, false);
        assert.equal(r.failure!.kind, kind);
        assert.match(r.failure!.message, message);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}

Deno.test({
  name:
    `pkt calls: --non_fatal=packet,syscall turns mismatches into warnings, as packetdrill's${skip}`,
  ignore: why !== undefined,
  async fn() {
    const text = await Deno.readTextFile(`${DIR}calls_server.pkt`);
    const dir = await Deno.makeTempDir();
    try {
      const wrong = text.replace("ioctl(4, SIOCINQ, [1000])", "ioctl(4, SIOCINQ, [999])")
        .replace("> P. 1:301(300) ack 1001", "> P. 1:301(300) ack 1001 win 7");
      await Deno.writeTextFile(`${dir}/calls_server.pkt`, wrong);
      const strict = await runPktFile(`${dir}/calls_server.pkt`, FAMILIES.ipv4);
      assert.equal(strict.failure?.line, 23);
      const lenient = await runPktFile(`${dir}/calls_server.pkt`, [
        ...FAMILIES.ipv4,
        "--non_fatal=packet,syscall",
      ]);
      assert.ok(lenient.passed, lenient.failure?.message);
      assert.deepEqual(lenient.warnings?.map((w) => w.replace(/\d+ \(0x[0-9a-f]+\)$/, "N")), [
        "calls_server.pkt:23: warning: ioctl(4, SIOCINQ, [999]): ioctl value: want 999, got 1000",
        "calls_server.pkt:31: warning: handling packet: live packet field tcp_window: expected: 7 (0x7) vs actual: N",
      ]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: `pkt calls: a run in which synack was late is run again, twice at most, and says so${skip}`,
  ignore: why !== undefined,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      // An absolute time the command before it makes synack miss by about 150 ms, every run.
      await Deno.writeTextFile(
        `${dir}/late.pkt`,
        "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n0.05 `sleep 0.2`\n0.1 close(3) = 0\n",
      );
      const r = await runPktFile(`${dir}/late.pkt`, FAMILIES.ipv4);
      assert.equal(r.failure?.kind, "timing");
      assert.equal(r.reruns?.length, 2);
      assert.ok(
        r.reruns!.every((x) => x.line === 3 && x.usecs > 100_000),
        JSON.stringify(r.reruns),
      );
      const lines = rerunLines(r);
      assert.match(
        lines[0],
        /^run again: synack was 1\d\d\.\d ms late at line 3 \(a busy machine\)/,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
