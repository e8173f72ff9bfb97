/**
 * packetdrill's flags, on synack's command line and in scripts: each one's
 * meaning, the script's own lines over the command line's, and a clear
 * refusal of those synack does not carry out.
 */
import assert from "node:assert/strict";
import { pktRunCommand } from "../cli/pkt_command.ts";
import { KSFT_FAMILIES, pktConfig } from "../runtime/pkt/pkt_config.ts";
import type { PktFailureKind, PktResult } from "../runtime/pkt/pkt_runner.ts";
import { agrees, parseOracle } from "../runtime/pkt/pkt_verdicts.ts";

Deno.test("pkt flags: ksft_runner.sh's two families mean what packetdrill takes them to", () => {
  const v4 = pktConfig(KSFT_FAMILIES.ipv4);
  assert.deepEqual(
    [v4.ipVersion, v4.localIp, v4.remoteIp, v4.prefixLen, v4.mtu, v4.mss, v4.defines.CMSG_LEVEL_IP],
    ["ipv4", "192.168.0.1", "192.0.2.1", 16, 1500, 1460, "SOL_IP"],
  );
  const v6 = pktConfig(KSFT_FAMILIES.ipv6);
  assert.deepEqual(
    [
      v6.ipVersion,
      v6.localIp,
      v6.remoteIp,
      v6.prefixLen,
      v6.mtu,
      v6.mss,
      v6.defines.CMSG_TYPE_RECVERR,
    ],
    ["ipv6", "fd3d:0a0b:17d6::1", "fd3d:fa7b:d17d::1", 64, 1520, 1460, "IPV6_RECVERR"],
  );
});

Deno.test("pkt flags: each one, and a script's lines over the command line", () => {
  const c = pktConfig(
    [
      "--tolerance_usecs=7000",
      "--tolerance_percent=20",
      "--tcp_ts_tick_usecs=1000",
      "--strict_segments",
      "--non_fatal=packet",
      "--bind_port",
      "9000",
      "--connect_port=9001",
      "-D",
      "A=1",
      "-DB=two",
      "-v",
      "--tcp_ts_ecr_scaled",
      "--send_omit_free",
      "--dry_run",
    ],
    [{ name: "tolerance_usecs", value: "50000", line: 1 }, { name: "mss", value: "1000", line: 2 }],
  );
  assert.deepEqual(
    [
      c.toleranceUsecs,
      c.tolerancePercent,
      c.tsTickUsecs,
      c.strictSegments,
      c.nonFatal,
      c.bindPort,
      c.connectPort,
    ],
    [50000, 20, 1000, true, { packet: true, syscall: false }, 9000, 9001],
  );
  assert.deepEqual([c.defines, c.verbose, c.tsEcrScaled, c.sendOmitFree, c.dryRun, c.mss], [
    { A: "1", B: "two" },
    true,
    true,
    true,
    true,
    1000,
  ]);
});

Deno.test("pkt flags: what synack does not carry out is refused, with why", () => {
  const refused: [string, RegExp][] = [
    [
      "--wire_client",
      /--wire_client: packetdrill's remote and shared-object modes are not supported/,
    ],
    ["--so_filename=x.so", /--so_filename=x\.so: packetdrill's remote and shared-object modes/],
    ["--speed=100", /--speed=100: setting tun0's link speed \(ethtool\) is not supported/],
    ["--ip_version=ipv5", /--ip_version=ipv5: want ipv4, ipv6 or ipv4-mapped-ipv6, got "ipv5"/],
    ["--tolerance_usecs=soon", /--tolerance_usecs=soon: want an integer ≥ 0, got "soon"/],
    ["--non_fatal=everything", /--non_fatal=everything: want packet and\/or syscall/],
    ["--bogus", /--bogus: not a packetdrill flag synack knows/],
    ["bogus", /bogus: want a packetdrill flag such as --tolerance_usecs=7000/],
  ];
  for (const [flag, message] of refused) assert.throws(() => pktConfig([flag]), message);
  assert.throws(
    () => pktConfig([], [{ name: "mtu", value: "9", line: 3 }]),
    /--mtu \(line 3\): want an integer ≥ 68, got "9"/,
  );
});

Deno.test("pkt flags: --dry_run parses and runs nothing (no root needed)", async () => {
  const lines: string[] = [];
  assert.equal(
    await pktRunCommand(["--dry_run", "examples/pkt/linger_zero.pkt"], (l) => lines.push(l)),
    0,
  );
  assert.deepEqual(lines, [
    "PARSED examples/pkt/linger_zero.pkt (--dry_run: ipv4, not run)",
    "1 passed, 0 failed",
  ]);
});

Deno.test("pkt verdicts: same line and kind agree; a timing error may be at another line, and says where", () => {
  const row = parseOracle(
    "a.pkt\tFAIL\tFAIL\ta.pkt:36: error handling packet: timing error: expected outbound packet at 0.3 sec\n" +
      "b.pkt\tFAIL\tFAIL\tb.pkt:21: error handling packet: live packet payload: expected 5000 bytes vs actual 6000 bytes\n" +
      "c.pkt\tPASS\tPASS\t\n",
  );
  const failed = (line: number, kind: PktFailureKind): PktResult => ({
    file: "x.pkt",
    passed: false,
    failure: { line, kind, message: `x.pkt:${line}: …`, detail: [] },
    events: 0,
    elapsedMs: 0,
  });
  const passed: PktResult = { file: "x.pkt", passed: true, events: 0, elapsedMs: 0 };
  const a = row.get("a.pkt")!, b = row.get("b.pkt")!, c = row.get("c.pkt")!;
  assert.deepEqual(agrees(failed(36, "timing"), "FAIL", a), { ok: true });
  assert.deepEqual(agrees(failed(42, "timing"), "FAIL", a), {
    ok: true,
    note: "timing at line 42 here, 36 in packetdrill's run",
  });
  assert.equal(agrees(failed(36, "payload"), "FAIL", a).ok, false);
  assert.equal(agrees(passed, "FAIL", a).ok, false);
  assert.deepEqual(agrees(failed(21, "payload"), "FAIL", b), { ok: true });
  assert.match(
    agrees(failed(22, "payload"), "FAIL", b).why!,
    /^packetdrill fails at line 21 \(payload\); synack at line 22 \(payload\)/,
  );
  assert.deepEqual(agrees(passed, "PASS", c), { ok: true });
  assert.match(
    agrees(failed(3, "timing"), "PASS", c).why!,
    /^packetdrill passes; synack: x\.pkt:3/,
  );
});
