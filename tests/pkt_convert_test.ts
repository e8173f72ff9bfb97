/**
 * `.pkt` and the DSL both ways, without a kernel: `synack convert --native`
 * turns a script into a scenario in the DSL's own steps that runs with the
 * script's verdict on the built-in stack (`synack run --target builtin
 * x.pkt`), refuses line by line
 * what the DSL cannot say yet, and the REPL's `.save x.pkt` writes a script
 * that runs again. The kernel side of the round trip is in
 * tests/kernel/pkt_corpus_test.ts.
 */
import assert from "node:assert/strict";
import { pktConvertCommand, pktRunCommand } from "../cli/pkt_command.ts";
import { convertPkt } from "../dsl/pkt/pkt_convert.ts";
import { parsePkt } from "../dsl/pkt/pkt_parser.ts";

const EXAMPLES = [
  "examples/pkt/linger_zero.pkt",
  "examples/pkt/unread_data_close.pkt",
  "examples/pkt/ts_less_ack.pkt",
];

Deno.test("pkt convert: the examples convert, and pass on the built-in stack", async () => {
  const lines: string[] = [];
  const code = await pktRunCommand(["--target", "builtin", ...EXAMPLES], (l) => lines.push(l));
  assert.equal(code, 0, lines.join("\n"));
  assert.deepEqual(lines, [
    "PASS examples/pkt/linger_zero.pkt (builtin, converted)",
    "PASS examples/pkt/unread_data_close.pkt (builtin, converted)",
    "PASS examples/pkt/ts_less_ack.pkt (builtin, converted)",
    "3 passed, 0 failed",
  ]);
});

Deno.test("pkt convert: test --pkt --target builtin runs what converts and names what is not modelled", async () => {
  const { pktTestCommand } = await import("../cli/pkt_command.ts");
  const dir = await Deno.makeTempDir();
  try {
    await Deno.copyFile("examples/pkt/linger_zero.pkt", `${dir}/linger_zero.pkt`);
    await Deno.writeTextFile(
      `${dir}/zerocopy.pkt`,
      "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 setsockopt(3, SOL_SOCKET, SO_ZEROCOPY, [1], 4) = 0\n",
    );
    const lines: string[] = [];
    assert.equal(
      await pktTestCommand(["--pkt", dir, "--target", "builtin"], (l) => lines.push(l)),
      0,
      lines.join("\n"),
    );
    assert.deepEqual(lines, [
      "ok     linger_zero.pkt  converted",
      "skip   zerocopy.pkt     not modelled: line 2: setsockopt(): SO_ZEROCOPY: the DSL's setsockopt does not take it yet",
      "1 passed, 0 failed, 1 not modelled by the built-in stack",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("pkt convert: the scenario keeps every line's place and says it in the DSL's words", async () => {
  const out: string[] = [];
  assert.equal(
    await pktConvertCommand(["--native", "examples/pkt/linger_zero.pkt"], (l) => out.push(l)),
    0,
  );
  const text = out.join("\n");
  assert.match(text, /^import \{ .*\bsyn\b.* \} from "synack";$/m);
  assert.match(text, /^ {2}sysctl\("net\.ipv4\.tcp_timestamps", 0\), \/\/ linger_zero\.pkt:4$/m);
  assert.match(
    text,
    /^ {2}sysctl\("net\.ipv4\.tcp_rmem", "4096 131072 6291456"\), \/\/ linger_zero\.pkt:5$/m,
  );
  assert.match(
    text,
    /^ {2}inject\(syn\(\)\.seq\(0\)\.win\(65535\)\.opts\("<mss 1460,sackOK,nop,nop,nop,wscale 7>"\)\), \/\/ linger_zero\.pkt:12$/m,
  );
  assert.match(text, /^ {2}wait\("10ms"\), \/\/ linger_zero\.pkt:14$/m);
  assert.match(
    text,
    /^ {2}setsockopt\("SO_LINGER", \{ onoff: true, linger: 0 \}\), \/\/ linger_zero\.pkt:21$/m,
  );
  assert.match(
    text,
    /^ {2}expect\(rstAck\(\)\.seq\(1\)\.ack\(11\)\.opts\("<>"\)\)\.within\("4ms"\), \/\/ linger_zero\.pkt:23$/m,
  );
});

Deno.test("pkt convert: a failing script fails the same way once converted", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // The stack answers the SYN with a SYN-ACK acknowledging 1, not 2: both forms fail at that line.
    await Deno.writeTextFile(
      `${dir}/wrong_ack.pkt`,
      "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 bind(3, ..., ...) = 0\n+0 listen(3, 1) = 0\n" +
        "+0 < S 0:0(0) win 65535 <mss 1460>\n+0 > S. 0:0(0) ack 2 <...>\n",
    );
    const lines: string[] = [];
    assert.equal(
      await pktRunCommand(["--target", "builtin", `${dir}/wrong_ack.pkt`], (l) => lines.push(l)),
      1,
    );
    const text = lines.join("\n");
    assert.match(text, /^FAIL .*wrong_ack\.pkt \(builtin, converted\)$/m);
    assert.match(text, /tcp\.ack: want 2, got 1/);
    assert.match(text, /wrong_ack\.ts:9:3/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("pkt convert: what the DSL cannot say is listed line by line, and nothing is printed", () => {
  const script = parsePkt(
    [
      "`./defaults.sh`",
      "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3",
      "+0 setsockopt(3, SOL_SOCKET, SO_ZEROCOPY, [1], 4) = 0",
      "+0 epoll_create(1) = 5",
      "+0 recvmsg(3, {msg_name(...)=..., msg_iov(1)=[{...,0}], msg_flags=MSG_ERRQUEUE, msg_control=[]}, MSG_ERRQUEUE) = -1 EAGAIN (x)",
      "+0 %{ assert tcpi_snd_cwnd > 10 }%",
      "+0 < [ect0] S 0:0(0) win 100",
      "",
    ].join("\n"),
    "z.pkt",
  );
  const out = convertPkt(script);
  assert.deepEqual(out.problems, [
    "z.pkt:1: the shell command `./defaults.sh`: a scenario runs no shell; only sysctl -q name=value converts",
    "z.pkt:3: setsockopt(): SO_ZEROCOPY: the DSL's setsockopt does not take it yet",
    "z.pkt:4: epoll_create(): synack's DSL has no epoll calls yet",
    "z.pkt:5: recvmsg(): synack's DSL has no recvmsg() yet",
    "z.pkt:6: Python code `assert tcpi_snd_cwnd > 10`: only assert tcpi_<field> == <number> converts",
    "z.pkt:7: IP marks and outer headers do not convert yet",
  ]);
});

Deno.test("pkt convert: Python asserts on tcp_info become getsockopt(TCP_INFO) checks; long sends one expect per segment", () => {
  const s = parsePkt(
    "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 bind(3, ..., ...) = 0\n+0 listen(3, 1) = 0\n" +
      "+0 < S 0:0(0) win 32792 <mss 1000,nop,nop,sackOK>\n+0 > S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK>\n" +
      "+0 < . 1:1(0) ack 1 win 257\n+0 accept(3, ..., ...) = 4\n+0 write(4, ..., 2500) = 2500\n" +
      "+0 > P. 1:2501(2500) ack 1\n+0 %{ assert tcpi_snd_cwnd == 10, tcpi_snd_cwnd }%\n",
    "w.pkt",
  );
  const out = convertPkt(s);
  assert.deepEqual(out.problems, []);
  assert.match(
    out.source,
    /expect\(ack\(\)\.seq\(1\)\.ack\(1\)\.opts\("<>"\)\.payload\(1000\)\)\.within\("4ms"\), \/\/ w\.pkt:9/,
  );
  assert.match(
    out.source,
    /expect\(ack\(\)\.seq\(1001\)\.ack\(1\)\.opts\("<>"\)\.payload\(1000\)\)\.within\("1ms"\), \/\/ w\.pkt:9/,
  );
  assert.match(
    out.source,
    /expect\(ack\(\)\.flags\("P\."\)\.seq\(2001\)\.ack\(1\)\.opts\("<>"\)\.payload\(500\)\)\.within\("1ms"\), \/\/ w\.pkt:9/,
  );
  assert.match(
    out.source,
    /getsockopt\("TCP_INFO"\)\.returns\(\{ sndCwnd: 10 \}\), \/\/ w\.pkt:10/,
  );
});

Deno.test("REPL: .save x.pkt writes a packetdrill script of the session, which runs again", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const input = [
      "listen(8080)",
      "syn()",
      "expect(synAck())",
      "ack()",
      "accept()",
      'write("hello")',
      'expect(ack().flags("P."))',
      'setsockopt("SO_LINGER", { onoff: true, linger: 0 })',
      "close()",
      `.save ${dir}/session.pkt`,
      ".exit",
      "",
    ].join("\n");
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "cli/main.ts", "repl"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1", SYNACK_HISTORY: `${dir}/history` },
    }).spawn();
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(input));
    await w.close();
    await child.output();
    const text = await Deno.readTextFile(`${dir}/session.pkt`);
    const script = parsePkt(text, "session.pkt");
    assert.deepEqual(
      script.events.map((e) => e.action.kind === "syscall" ? e.action.call.name : e.action.kind),
      [
        "socket",
        "bind",
        "listen",
        "packet",
        "packet",
        "packet",
        "accept",
        "write",
        "packet",
        "setsockopt",
        "close",
        "packet",
      ],
    );
    assert.match(
      text,
      /^ +\+0 write\(4, \.\.\., 5\) = 5 {2}\/\/ the session wrote "hello"; packetdrill writes zeros$/m,
    );
    assert.match(text, /^ +\+0 > R\. 6:6\(0\) ack 1 /m);
    const lines: string[] = [];
    assert.equal(
      await pktRunCommand(["--target", "builtin", `${dir}/session.pkt`], (l) => lines.push(l)),
      0,
      lines.join("\n") + "\n" + text,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("pkt from a URL or --sandbox: a script with shell commands or Python is refused, each line named", async () => {
  const text =
    "`sysctl -q net.ipv4.tcp_ecn=1`\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 `true`\n+0 %{ assert 1 }%\n";
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: () => {} },
    () => new Response(text),
  );
  try {
    const url = `http://127.0.0.1:${server.addr.port}/x.pkt`;
    await assert.rejects(
      () => pktRunCommand([url], () => {}),
      {
        name: "RangeError",
        message:
          "x.pkt:1: a shell command; x.pkt:3: a shell command; x.pkt:4: Python code: a script from a URL " +
          "or under --sandbox may not run shell commands or Python (they would run as root here); download it, " +
          "read it, and run the file",
      },
    );
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeTextFile(`${dir}/x.pkt`, text);
      await assert.rejects(
        () => pktRunCommand(["--sandbox", `${dir}/x.pkt`], () => {}),
        /x\.pkt:1: a shell command/,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  } finally {
    await server.shutdown();
  }
});
