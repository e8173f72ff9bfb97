/**
 * packetdrill's grammar, form by form (google/packetdrill parser.y): each
 * form parses to the expected data, and each has a broken example whose
 * one-line error names file:line:col, what was expected and what was found.
 */
import assert from "node:assert/strict";
import type { PktAction, PktExpr, PktScript } from "../dsl/pkt/pkt_ast.ts";
import { parsePkt, PktSyntaxError } from "../dsl/pkt/pkt_parser.ts";

const parse = (text: string, defines: Record<string, string> = {}) =>
  parsePkt(text, "t.pkt", defines);

function only(text: string, defines?: Record<string, string>): PktAction {
  const s = parse(text, defines);
  assert.equal(s.events.length, 1);
  return s.events[0].action;
}

function tcp(text: string) {
  const a = only(text);
  assert.ok(a.kind === "packet" && a.packet.transport.kind === "tcp");
  return { packet: a.packet, t: a.packet.transport };
}

function call(text: string, defines?: Record<string, string>) {
  const a = only(text, defines);
  assert.ok(a.kind === "syscall");
  return a.call;
}

/** Each broken form and its exact message. */
const ERRORS: [string, string, string][] = [
  [
    "time: not a number",
    "x socket(..., SOCK_STREAM, 0) = 3\n",
    't.pkt:1:1: expected a time (0, +0.1, *, or a~b), found "x"',
  ],
  [
    "time: + without a number",
    "+ socket(...) = 3\n",
    't.pkt:1:3: expected a time after +, found "socket"',
  ],
  [
    "range: relative start, absolute end",
    "+0~1 > S 0:0(0)\n",
    't.pkt:1:4: expected + before the end of a relative range, found "1"',
  ],
  ["range: backwards", "0.2~0.1 > S 0:0(0)\n", "t.pkt:1:8: the time range ends before it starts"],
  [
    "range: not on an inbound packet",
    "0~1 < S 0:0(0) win 1\n",
    "t.pkt:1:1: a time of a range is only for outbound packets",
  ],
  [
    "*: not on a system call",
    "* close(3) = 0\n",
    "t.pkt:1:1: a time of * is only for outbound packets",
  ],
  [
    "blocking: only system calls",
    "0...1 > S 0:0(0)\n",
    "t.pkt:1:1: only a system call may block (+a...b)",
  ],
  [
    "blocking: no end",
    "0... close(3) = 0\n",
    't.pkt:1:6: expected the end time of the blocking call, found "close"',
  ],
  [
    "flags: bad letter",
    "0 > SX 0:0(0)\n",
    't.pkt:1:5: expected TCP flags (S, S., ., P., F., R, -) or udp/icmp, found "SX"',
  ],
  [
    "flags: ACE digit with E",
    "0 > S5E 0:0(0)\n",
    "t.pkt:1:5: TCP flags: an ACE digit cannot be combined with E, W or A",
  ],
  [
    "seq: end is not start+len",
    "0 > S 0:10(5)\n",
    "t.pkt:1:7: sequence range 0:10(5): end should be start + length (5)",
  ],
  [
    "seq: no length",
    "0 > S 0:0\n",
    "t.pkt:1:10: expected (length) after start:end, found the end of the file",
  ],
  [
    "inbound: no window",
    "0 < S 0:0(0)\n",
    "t.pkt:1:13: expected win N: a window must be given for inbound packets, found the end of the file",
  ],
  ["window: too big", "0 < S 0:0(0) win 70000\n", "t.pkt:1:18: window 70000 is outside 0..65535"],
  [
    "options: unknown",
    "0 > S 0:0(0) <mss 1460,bogus 3>\n",
    't.pkt:1:24: expected a TCP option (nop, eol, mss, wscale, sackOK, sack, TS, md5, FO, FOEXP, ECN), found "bogus"',
  ],
  [
    "options: mss without value",
    "0 > S 0:0(0) <mss>\n",
    't.pkt:1:18: expected the MSS value (an integer), found ">"',
  ],
  ["options: TS without ecr", "0 > S 0:0(0) <TS val 1>\n", 't.pkt:1:23: expected ecr, found ">"'],
  [
    "options: sack without blocks",
    "0 > . 1:1(0) ack 1 <sack>\n",
    't.pkt:1:25: expected a SACK block start:end, found ">"',
  ],
  [
    "options: md5 not hex",
    "0 > . 1:1(0) ack 1 <md5 xyz>\n",
    't.pkt:1:25: expected the MD5 signature in hex, found "xyz"',
  ],
  [
    "options: ECN starting with ceb",
    "0 > S 0:0(0) <ECN ceb 1>\n",
    't.pkt:1:19: expected e0b N or e1b N after ECN, found "ceb"',
  ],
  [
    "options: <...> inbound",
    "0 < S 0:0(0) win 1 <...>\n",
    "t.pkt:1:24: <...> is for outbound packets only",
  ],
  [
    "options: unclosed",
    "0 > S 0:0(0) <mss 1460\n",
    "t.pkt:1:23: expected , or > to end the TCP options, found the end of the file",
  ],
  [
    "ip info: ect01 inbound",
    "0 < [ect01] S 0:0(0) win 1\n",
    "t.pkt:1:5: [ect01] is for outbound packets only",
  ],
  ["ip info: bad ttl", "0 > [ttl x] S 0:0(0)\n", 't.pkt:1:10: expected the TTL, found "x"'],
  [
    "udp: no length",
    "0 < udp 1 > 2\n",
    "t.pkt:1:14: expected (length) of the UDP payload, found the end of the file",
  ],
  [
    "udp: with an ECN mark",
    "0 < [ect0] udp (10)\n",
    "t.pkt:1:5: ECN marks cannot be used on a UDP packet",
  ],
  [
    "icmp: bad quoted range",
    "0 < icmp unreachable [1:2]\n",
    't.pkt:1:26: expected (length) after start:end, found "]"',
  ],
  [
    "outer ipv4: bad address",
    "0 < ipv4 1.2.3 > 5.6.7.8: S 0:0(0) win 1\n",
    't.pkt:1:10: expected an IPv4 address, found "1.2.3"',
  ],
  [
    "outer: no colon",
    "0 < ipv4 1.2.3.4 > 5.6.7.8 S 0:0(0) win 1\n",
    't.pkt:1:28: expected : after the outer IP header, found "S"',
  ],
  [
    "mpls: empty",
    "0 < mpls : S 0:0(0) win 1\n",
    't.pkt:1:10: expected an MPLS label entry: (label L, tc T, [S,] ttl N), found ":"',
  ],
  [
    "syscall: no =",
    "0 close(3)\n",
    "t.pkt:1:11: expected = and the result of close(), found the end of the file",
  ],
  [
    "syscall: unclosed args",
    "0 bind(3, ..., ... = 0\n",
    't.pkt:1:20: expected , or ) in the arguments of bind, found "="',
  ],
  [
    "syscall: bad value",
    "0 write(3, ?, 1) = 1\n",
    't.pkt:1:12: expected a value (a number, a symbol, ..., [..], {..} or "text"), found "?"',
  ],
  [
    "syscall: unclosed struct",
    "0 setsockopt(3, SOL_SOCKET, SO_LINGER, {onoff=1, 8) = 0\n",
    't.pkt:1:51: expected , or }, found ")"',
  ],
  [
    "syscall: unclosed note",
    "0 connect(3, ..., ...) = -1 EINPROGRESS (Operation\n",
    "t.pkt:1:41: no ) closes the note that opens here",
  ],
  [
    "syscall: string without end",
    '0 write(3, "abc, 3) = 3\n',
    't.pkt:1:12: no " closes the string that opens here',
  ],
  [
    "command: no closing backtick",
    "0 `sysctl -q x=1\n",
    "t.pkt:1:3: no ` closes the shell command that opens here",
  ],
  ["code: no }%", "0 %{ assert 1\n", "t.pkt:1:3: no }% closes the code block that opens here"],
  [
    "comment: unclosed",
    "/* note\n0 close(3) = 0\n",
    "t.pkt:1:1: no */ closes the comment that opens here",
  ],
  [
    "cleanup: events after it",
    "0 close(3) = 0\n`true`\n+0 close(4) = 0\n",
    't.pkt:3:1: expected the end of the script after its cleanup command, found "+"',
  ],
  [
    "option line: no value",
    "--tolerance_usecs=\n0 close(3) = 0\n",
    "t.pkt:1:18: --tolerance_usecs= wants a value",
  ],
];

for (const [name, text, message] of ERRORS) {
  Deno.test(`pkt grammar error: ${name}`, () => {
    assert.throws(() => parse(text), (e: unknown) => {
      assert.ok(e instanceof PktSyntaxError, String(e));
      assert.equal(e.message, message);
      return true;
    });
  });
}

Deno.test("pkt grammar: script structure — option lines, init command, events, cleanup command", () => {
  const s: PktScript = parse(
    "// a comment\n--tolerance_usecs=7000\n--strict_segments\n`./defaults.sh\nsysctl -q net.ipv4.tcp_ecn=1`\n" +
      "/* block\ncomment */ 0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n`/tmp/sysctl_restore_${PPID}.sh`\n",
  );
  assert.deepEqual(s.options, [
    { name: "tolerance_usecs", value: "7000", line: 2 },
    { name: "strict_segments", value: undefined, line: 3 },
  ]);
  assert.deepEqual(s.init, { text: "./defaults.sh\nsysctl -q net.ipv4.tcp_ecn=1", line: 4 });
  assert.equal(s.events.length, 1);
  assert.equal(s.events[0].line, 7);
  assert.deepEqual(s.cleanup, { text: "/tmp/sysctl_restore_${PPID}.sh", line: 8 });
});

Deno.test("pkt grammar: every time form", () => {
  const s = parse(
    "0 close(3) = 0\n+.1 close(3) = 0\n+1 close(3) = 0\n2.5 close(3) = 0\n* > . 1:1(0) ack 1\n" +
      "3~3.2 > . 1:1(0) ack 1\n+.02 ~ +1.1 > . 1:1(0) ack 1\n+.002 ... 0.052 connect(4, ..., ...) = 0\n+0...0 accept(3, ..., ...) = 4\n",
  );
  assert.deepEqual(s.events.map((e) => e.time), [
    { kind: "absolute", usecs: 0 },
    { kind: "relative", usecs: 100_000 },
    { kind: "relative", usecs: 1_000_000 },
    { kind: "absolute", usecs: 2_500_000 },
    { kind: "any" },
    { kind: "absoluteRange", usecs: 3_000_000, endUsecs: 3_200_000 },
    { kind: "relativeRange", usecs: 20_000, endUsecs: 1_100_000 },
    { kind: "relative", usecs: 2000 },
    { kind: "relative", usecs: 0 },
  ]);
  const blocking = s.events.slice(7).map((e) =>
    e.action.kind === "syscall" && e.action.call.endUsecs
  );
  assert.deepEqual(blocking, [52_000, 0]);
});

Deno.test("pkt grammar: TCP lines — flags, ports, seq, ack, win, urg", () => {
  const { t } = tcp("0 > P. 1:1001(1000) ack 1 win 257 urg 3\n");
  assert.deepEqual({ ...t, options: t.options }, {
    kind: "tcp",
    ports: undefined,
    flags: "P.",
    seq: 1,
    len: 1000,
    ack: 1,
    win: 257,
    urg: 3,
    options: undefined,
  });
  assert.deepEqual(tcp("0 < 1234 > 8080 S 0:0(0) win 10\n").t.ports, [1234, 8080]);
  for (
    const f of ["S", "S.", ".", "F.", "R", "R.", "-", "SEWA", "P5.", ".5", "F5.", "SEW", "P.6"]
  ) {
    assert.equal(tcp(`0 > ${f} 0:0(0)\n`).t.flags, f);
  }
  assert.equal(tcp("0 > S 4294967290:4294967295(5)\n").t.seq, 4294967290);
  assert.equal(tcp("0 > S 4294967295:4(5)\n").t.len, 5);
});

Deno.test("pkt grammar: every TCP option", () => {
  const { t } = tcp(
    "0 > S 0:0(0) <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 8,eol,sack 1:2 3:4,md5 000102030405060708090a0b0c0d0e0f," +
      "FO,FO abcd1234,FOEXP,FOEXP 0011,ECN e0b 1 ceb 2 e1b 3,ECN e1b 4>\n",
  );
  assert.deepEqual(t.options, [
    { kind: "mss", value: 1460 },
    { kind: "sackOK" },
    { kind: "ts", val: 100, ecr: 0 },
    { kind: "nop" },
    { kind: "wscale", value: 8 },
    { kind: "eol" },
    { kind: "sack", blocks: [[1, 2], [3, 4]] },
    { kind: "md5", hex: "000102030405060708090a0b0c0d0e0f" },
    { kind: "fo", exp: false, cookie: "" },
    { kind: "fo", exp: false, cookie: "abcd1234" },
    { kind: "fo", exp: true, cookie: "" },
    { kind: "fo", exp: true, cookie: "0011" },
    {
      kind: "accecn",
      fields: [{ name: "e0b", value: 1 }, { name: "ceb", value: 2 }, { name: "e1b", value: 3 }],
    },
    { kind: "accecn", fields: [{ name: "e1b", value: 4 }] },
  ]);
  assert.equal(tcp("0 > S. 0:0(0) ack 1 <...>\n").t.options, "any");
  // A -D name stands for a cookie.
  const a = only("0 > S 0:0(0) <FO TFO_COOKIE>\n", { TFO_COOKIE: "3021b9d889017eeb" });
  assert.ok(
    a.kind === "packet" && a.packet.transport.kind === "tcp" &&
      Array.isArray(a.packet.transport.options),
  );
  assert.deepEqual(a.packet.transport.options[0], {
    kind: "fo",
    exp: false,
    cookie: "3021b9d889017eeb",
  });
});

Deno.test("pkt grammar: IP marks and outer headers", () => {
  assert.deepEqual(tcp("0 > [ect0] S 0:0(0)\n").packet.ip, { ecn: "ect0" });
  assert.deepEqual(tcp("0 > [ect01] S 0:0(0)\n").packet.ip, { ecn: "ect01" });
  assert.deepEqual(tcp("0 < [ce] S 0:0(0) win 1\n").packet.ip, { ecn: "ce" });
  assert.deepEqual(tcp("0 > [noecn] S 0:0(0)\n").packet.ip, { ecn: "noecn" });
  assert.deepEqual(tcp("0 > [ttl 64] S 0:0(0)\n").packet.ip, { ttl: 64 });
  assert.deepEqual(tcp("0 > (tos 0x10) S 0:0(0)\n").packet.ip, { tos: 0x10 });
  assert.deepEqual(tcp("0 > (flowlabel 0x12345) S 0:0(0)\n").packet.ip, { flowlabel: 0x12345 });
  assert.deepEqual(tcp("0 > (ecn ect1, flowlabel 0x1) S 0:0(0)\n").packet.ip, {
    ecn: "ect1",
    flowlabel: 1,
  });
  assert.deepEqual(tcp("0 < ipv4 1.2.3.4 > 5.6.7.8: S 0:0(0) win 1\n").packet.outer, [
    { kind: "ip", version: 4, src: "1.2.3.4", dst: "5.6.7.8", info: {} },
  ]);
  assert.deepEqual(tcp("0 < ipv6 fd00::1 > fd00::2: S 0:0(0) win 1\n").packet.outer[0], {
    kind: "ip",
    version: 6,
    src: "fd00::1",
    dst: "fd00::2",
    info: {},
  });
  assert.deepEqual(tcp("0 < gre flags 0x2000, key 7 : S 0:0(0) win 1\n").packet.outer, [
    { kind: "gre", fields: { flags: 0x2000, key: 7 } },
  ]);
  assert.deepEqual(tcp("0 < mpls (label 123, tc 1, S, ttl 255): S 0:0(0) win 1\n").packet.outer, [
    { kind: "mpls", labels: [{ label: 123, tc: 1, S: 1, ttl: 255 }] },
  ]);
});

Deno.test("pkt grammar: UDP and ICMP lines", () => {
  const u = only("0 < udp (1000)\n");
  assert.ok(u.kind === "packet");
  assert.deepEqual(u.packet.transport, { kind: "udp", ports: undefined, len: 1000 });
  const i = only("+0 < icmp unreachable frag_needed mtu 1200 [1:1461(1460)]\n");
  assert.ok(i.kind === "packet");
  assert.deepEqual(i.packet.transport, {
    kind: "icmp",
    type: "unreachable",
    code: "frag_needed",
    mtu: 1200,
    id: undefined,
    echoed: { kind: "tcp", seq: 1, len: 1460 },
  });
  const j = only("0 < icmp unreachable CODE [udp (10)]\n", { CODE: "host_unreachable" });
  assert.ok(j.kind === "packet" && j.packet.transport.kind === "icmp");
  assert.equal(j.packet.transport.code, "host_unreachable");
  assert.deepEqual(j.packet.transport.echoed, { kind: "udp", len: 10 });
});

const W = (name: string): PktExpr => ({ kind: "word", name });
const I = (value: number): PktExpr => ({ kind: "int", value });

Deno.test("pkt grammar: system calls — every argument form", () => {
  assert.deepEqual(call("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n").args, [
    { kind: "ellipsis" },
    W("SOCK_STREAM"),
    W("IPPROTO_TCP"),
  ]);
  assert.deepEqual(call("0 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0\n").args[3], {
    kind: "array",
    items: [I(1)],
  });
  assert.deepEqual(call("0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n").args[2], {
    kind: "or",
    terms: [W("O_RDWR"), W("O_NONBLOCK")],
  });
  assert.deepEqual(call('0 write(3, "hi", 2) = 2\n').args[1], { kind: "string", value: "hi" });
  assert.deepEqual(
    call("0 setsockopt(3, SOL_SOCKET, SO_LINGER, {onoff=1, linger=0}, 8) = 0\n").args[3],
    {
      kind: "struct",
      items: [
        { kind: "field", name: "onoff", arg: undefined, value: I(1) },
        { kind: "field", name: "linger", arg: undefined, value: I(0) },
      ],
    },
  );
  const sa = call(
    '0 bind(3, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("192.0.2.1")}, 16) = 0\n',
  );
  assert.deepEqual(sa.args[1], {
    kind: "struct",
    items: [
      { kind: "field", name: "sa_family", arg: undefined, value: W("AF_INET") },
      {
        kind: "field",
        name: "sin_port",
        arg: undefined,
        value: { kind: "call", name: "htons", args: [I(8080)] },
      },
      {
        kind: "field",
        name: "sin_addr",
        arg: undefined,
        value: { kind: "call", name: "inet_addr", args: [{ kind: "string", value: "192.0.2.1" }] },
      },
    ],
  });
  const msg = call(
    "0 recvmsg(4, {msg_name(...)=..., msg_iov(1)=[{..., 1000}], msg_flags=MSG_ERRQUEUE,\n" +
      "  msg_control=[{cmsg_level=CMSG_LEVEL_IP, cmsg_type=CMSG_TYPE_RECVERR,\n" +
      "  cmsg_data={ee_errno=0, ee_origin=SO_EE_ORIGIN_ZEROCOPY, ee_type=0, ee_code=SO_EE_CODE_ZEROCOPY_COPIED, ee_info=0, ee_data=1}}]}, MSG_ERRQUEUE) = 0\n",
    { CMSG_LEVEL_IP: "SOL_IP", CMSG_TYPE_RECVERR: "IP_RECVERR" },
  );
  const fields = msg.args[1].kind === "struct" ? msg.args[1].items : [];
  assert.deepEqual(fields[0], {
    kind: "field",
    name: "msg_name",
    arg: { kind: "ellipsis" },
    value: { kind: "ellipsis" },
  });
  assert.deepEqual(fields[1], {
    kind: "field",
    name: "msg_iov",
    arg: I(1),
    value: { kind: "array", items: [{ kind: "struct", items: [{ kind: "ellipsis" }, I(1000)] }] },
  });
  const cmsg = fields[3].kind === "field" && fields[3].value.kind === "array"
    ? fields[3].value.items[0]
    : undefined;
  // -D names were replaced where the lexer meets them.
  assert.ok(cmsg?.kind === "struct" && cmsg.items[0].kind === "field");
  assert.deepEqual(cmsg.items[0].value, W("SOL_IP"));
  assert.deepEqual(
    call("0 epoll_ctl(5, EPOLL_CTL_ADD, 4, {events=EPOLLOUT|EPOLLET, fd=4}) = 0\n").args[3],
    {
      kind: "struct",
      items: [
        {
          kind: "field",
          name: "events",
          arg: undefined,
          value: { kind: "or", terms: [W("EPOLLOUT"), W("EPOLLET")] },
        },
        { kind: "field", name: "fd", arg: undefined, value: I(4) },
      ],
    },
  );
  assert.deepEqual(
    call("0 poll([{fd=5, events=POLLIN, revents=0}], 1, 0) = 0\n").args[0].kind,
    "array",
  );
  assert.deepEqual(
    call("0 getsockopt(3, SOL_SOCKET, SO_ERROR, [ECONNREFUSED], [4]) = 0\n").args[3],
    {
      kind: "array",
      items: [W("ECONNREFUSED")],
    },
  );
  assert.deepEqual(call("0 pipe([5, 6]) = 0\n").args[0], { kind: "array", items: [I(5), I(6)] });
  assert.deepEqual(call("0 ioctl(4, SIOCINQ, [1000]) = 0\n").args[2], {
    kind: "array",
    items: [I(1000)],
  });
});

Deno.test("pkt grammar: results, errno and notes", () => {
  const c = call("0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)\n");
  assert.deepEqual([c.result, c.errno, c.note], [
    I(-1),
    "EINPROGRESS",
    "Operation now in progress",
  ]);
  const f = call("0 fcntl(3, F_GETFL) = 0x2 (flags O_RDWR)\n");
  assert.deepEqual([f.result, f.errno, f.note], [I(2), undefined, "flags O_RDWR"]);
  const n = call("0 read(4, ..., 2000) = 0\n");
  assert.deepEqual([n.result, n.errno, n.note], [I(0), undefined, undefined]);
});

Deno.test("pkt grammar: commands and code blocks", () => {
  const s = parse(
    "0 `nstat -n`\n+0 %{\nassert tcpi_snd_cwnd == 10, tcpi_snd_cwnd\n}%\n+0 %{ assert tcpi_ca_state == TCP_CA_Open }%\n",
  );
  assert.deepEqual(s.events.map((e) => e.action), [
    { kind: "command", text: "nstat -n" },
    { kind: "code", text: "assert tcpi_snd_cwnd == 10, tcpi_snd_cwnd" },
    { kind: "code", text: "assert tcpi_ca_state == TCP_CA_Open" },
  ]);
  assert.deepEqual(s.events.map((e) => e.line), [1, 2, 5]);
});
