/**
 * packetdrill's steps in TypeScript (`dsl/pkt/pkt_steps.ts`) and `synack
 * convert`, which writes them: a converted module reads back to the very
 * script it came from, in every family; its mistakes are one line each; and
 * `synack run` takes the module where it takes the `.pkt`. The kernel side
 * (the corpus converted, 48 runs against packetdrill's verdicts) is in
 * tests/kernel/pkt_corpus_test.ts.
 */
import assert from "node:assert/strict";
import { pktConvertCommand, pktRunCommand } from "../cli/pkt_command.ts";
import type { PktScript } from "../dsl/pkt/pkt_ast.ts";
import { parsePkt } from "../dsl/pkt/pkt_parser.ts";
import { pktScriptSource } from "../dsl/pkt/pkt_source.ts";
import { ANY, at, fn, or, script, str, struct, toExpr, toPktScript } from "../dsl/pkt/pkt_steps.ts";
import { KSFT_FAMILIES, pktConfig } from "../runtime/pkt/pkt_config.ts";
import { loadPktScript, runPktFile } from "../runtime/pkt/pkt_suite.ts";

const SCRIPTS = [
  "examples/pkt/linger_zero.pkt",
  "examples/pkt/ts_less_ack.pkt",
  "examples/pkt/unread_data_close.pkt",
  "tests/pkt_scripts/calls_client.pkt",
  "tests/pkt_scripts/calls_server.pkt",
  "tests/pkt_scripts/icmp_frag_needed.pkt",
  "tests/pkt_scripts/udp.pkt",
];

const FAMILIES: Record<string, readonly string[]> = {
  ipv4: KSFT_FAMILIES.ipv4,
  ipv6: KSFT_FAMILIES.ipv6,
  "ipv4-mapped-ipv6": ["--ip_version=ipv4-mapped-ipv6"],
};

/** A script without its places: what must survive the trip. */
function content(s: PktScript) {
  return JSON.parse(JSON.stringify({
    options: s.options.map((o) => [o.name, o.value]),
    init: s.init?.text,
    cleanup: s.cleanup?.text,
    events: s.events.map((e) => ({ time: e.time, action: e.action })),
  }));
}

/** Converts `path` into `dir`, as `synack convert path > dir/name.ts` would. */
async function convertInto(path: string, dir: string): Promise<string> {
  const out: string[] = [];
  assert.equal(await pktConvertCommand([path], (l) => out.push(l)), 0, out.join("\n"));
  const ts = `${dir}/${path.split("/").at(-1)}.ts`;
  await Deno.writeTextFile(ts, out.join("\n") + "\n");
  return ts;
}

Deno.test("pkt steps: every example and test script converts, and reads back the same in every family", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const path of SCRIPTS) {
      const ts = await convertInto(path, dir);
      const text = await Deno.readTextFile(path);
      const module = (await Deno.readTextFile(ts)).split("\n");
      for (const [family, argv] of Object.entries(FAMILIES)) {
        const want = parsePkt(text, "x.pkt", pktConfig(argv).defines);
        const got = await loadPktScript(ts, argv, false);
        assert.deepEqual(content(got), content(want), `${path} (${family})`);
        // Each step is where its comment says the script's line is.
        got.events.forEach((e, i) => {
          assert.ok(
            module[e.line - 1].endsWith(`// ${path.split("/").at(-1)}:${want.events[i].line}`),
            `${path}: step ${i} at ${ts}:${e.line}`,
          );
        });
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("pkt steps: -D symbols stay symbols in the module, and each run applies its own", () => {
  const text = "0 recvmsg(3, {msg_control=[{cmsg_level=CMSG_LEVEL_IP}]}, 0) = 0\n";
  const out = pktScriptSource(parsePkt(text, "d.pkt", {}, { symbolic: true }), text, {});
  assert.match(out.source, /\{ msg_control: \[\{ cmsg_level: "CMSG_LEVEL_IP" \}\] \}/);
  const sc = script({}, [
    at("0").call("recvmsg", 3, { msg_control: [{ cmsg_level: "CMSG_LEVEL_IP" }] }, 0).returns(0),
  ]);
  const level = (defines: Record<string, string>) => {
    const a = toPktScript(sc, defines).events[0].action;
    assert.ok(a.kind === "syscall");
    return JSON.stringify(a.call.args[1]);
  };
  assert.match(level({ CMSG_LEVEL_IP: "SOL_IP" }), /"name":"SOL_IP"/);
  assert.match(level({ CMSG_LEVEL_IP: "SOL_IPV6" }), /"name":"SOL_IPV6"/);
});

Deno.test("pkt steps: every value form reads as packetdrill's expression", () => {
  assert.deepEqual(toExpr(ANY), { kind: "ellipsis" });
  assert.deepEqual(toExpr(-1), { kind: "int", value: -1 });
  assert.deepEqual(toExpr("SOCK_STREAM"), { kind: "word", name: "SOCK_STREAM" });
  assert.deepEqual(toExpr(str("reno")), { kind: "string", value: "reno" });
  assert.deepEqual(toExpr([1]), { kind: "array", items: [{ kind: "int", value: 1 }] });
  assert.deepEqual(toExpr(or("MSG_ZEROCOPY", 4)), {
    kind: "or",
    terms: [{ kind: "word", name: "MSG_ZEROCOPY" }, { kind: "int", value: 4 }],
  });
  assert.deepEqual(toExpr(fn("htons", 8080)), {
    kind: "call",
    name: "htons",
    args: [{ kind: "int", value: 8080 }],
  });
  assert.deepEqual(toExpr({ "msg_iov(1)": [struct(ANY, 0)], "msg_name(...)": ANY }), {
    kind: "struct",
    items: [
      {
        kind: "field",
        name: "msg_iov",
        arg: { kind: "int", value: 1 },
        value: {
          kind: "array",
          items: [{ kind: "struct", items: [{ kind: "ellipsis" }, { kind: "int", value: 0 }] }],
        },
      },
      { kind: "field", name: "msg_name", arg: { kind: "ellipsis" }, value: { kind: "ellipsis" } },
    ],
  });
  const times = ["0.1", "+0.1", "*", "+0~+0.2", "0.1~0.3", "+0...0.1"].map((t) => at(t).time);
  assert.deepEqual(times, [
    { kind: "absolute", usecs: 100_000 },
    { kind: "relative", usecs: 100_000 },
    { kind: "any" },
    { kind: "relativeRange", usecs: 0, endUsecs: 200_000 },
    { kind: "absoluteRange", usecs: 100_000, endUsecs: 300_000 },
    { kind: "relative", usecs: 0 },
  ]);
  assert.equal(at("+0...0.1").call("accept", 3, ANY, ANY).returns(4).action.kind, "syscall");
});

Deno.test("pkt steps: each mistake is one line that names its place", () => {
  assert.throws(() => at("soon"), /^RangeError: at\("soon"\): expected a packetdrill time/);
  assert.throws(() => at("+0~0.2"), /expected a packetdrill time/);
  assert.throws(
    () => toExpr("not a word"),
    /"not a word": a word is a symbol such as SOCK_STREAM; write str\("not a word"\)/,
  );
  assert.throws(() => toExpr(1.5), /1\.5: a system call takes whole numbers/);
  assert.throws(() => toExpr({ "a b": 1 }), /"a b": a struct field is name or name\(N\)/);
  assert.throws(
    () => script({ flags: ["tolerance_usecs=1"] }, []),
    /flags: expected --name or --name=value, found "tolerance_usecs=1"/,
  );
  assert.throws(
    () => at("+0...0.1").inject("S 0:0(0) win 1"),
    /pkt_steps_test\.ts:\d+:\d+: only a system call may block/,
  );
  const bad = script({}, [at("0").inject("S 0:0(0) win 1000 <mss >")]);
  assert.throws(
    () => toPktScript(bad, {}),
    /^RangeError: .*pkt_steps_test\.ts:\d+:\d+: column 24 of the packet: expected the MSS value \(an integer\), found ">"$/,
  );
});

Deno.test("pkt steps: synack run takes a module where it takes the script; a module from a URL is refused", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const ts = await convertInto("examples/pkt/linger_zero.pkt", dir);
    const lines: string[] = [];
    const code = await pktRunCommand(["--target", "builtin", ts], (l) => lines.push(l));
    assert.equal(code, 0, lines.join("\n"));
    assert.match(lines[0], /^PASS .*linger_zero\.pkt\.ts \(builtin, converted\)$/);
    await Deno.writeTextFile(`${dir}/none.pkt.ts`, "export const x = 1;\n");
    await assert.rejects(
      () => runPktFile(`${dir}/none.pkt.ts`, []),
      /none\.pkt\.ts: expected a default export made with pkt\.script\(\.\.\.\)/,
    );
    await assert.rejects(
      () => runPktFile(ts, [], { untrusted: true }),
      /a module of packetdrill steps is code, and code from a URL or under --sandbox does not run/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
