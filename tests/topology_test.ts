// Topologies of built-in hosts: they run on the virtual clock, repeat exactly,
// and every link passes the script. Kernel hosts: tests/kernel/topology_kernel_test.ts.
import assert from "node:assert/strict";
import {
  accept,
  builtin,
  close,
  connect,
  conntrack,
  dataSegment,
  defineScenario,
  expect,
  inject,
  kernel,
  listen,
  on,
  path,
  peer,
  read,
  rst,
  socket,
  type StepInput,
  syn,
  synAck,
  sysctl,
  topology,
  write,
} from "../mod.ts";
import { runScenarioOn } from "../runtime/scenario.ts";
import { planTopology } from "../runtime/topology/addressing.ts";
import { compileScenario } from "../cli/compile_command.ts";
import { hostBatch } from "../runtime/topology/kernel_host.ts";
import { parsePacket } from "../runtime/wire/packet.ts";
import { loadScenarios } from "../runtime/host/load_scenarios.ts";
import { DOCKER_OUTCOMES, dockerOutcome } from "./fixtures.ts";

const pair = topology({
  hosts: { client: builtin(), server: builtin() },
  links: [["client", "server"]],
});
const SIZE = 300_000;
const payload = new Uint8Array(SIZE).map((_, i) => (i * 31 + (i >> 8)) & 0xff);

/** A connection from client to server, opened on the topology `pair` unless told. */
const opened = [
  on("server", listen(8080)),
  on("client", socket(), connect(8080, "server").returns(0)),
  on("server", accept()),
];

async function run(steps: StepInput[], o: { family?: 4 | 6; topology?: typeof pair } = {}) {
  const r = await runScenarioOn(
    defineScenario("topology", steps, { register: false, topology: pair, ...o }),
  );
  return r;
}

Deno.test("a topology of built-in hosts carries a connection on the virtual clock, IPv4 and IPv6", async () => {
  for (const family of [4, 6] as const) {
    const r = await run([
      ...opened,
      on("client", write(payload).returns(SIZE)),
      on("server", read(SIZE, { all: true }).returns(payload)),
      on("client", close()),
      on("server", read().returns(""), close()),
    ], { family });
    assert.equal(r.ok, true, r.failure?.message);
    const links = new Set(r.trace.events.flatMap((e) => e.kind === "packet" ? [e.link] : []));
    assert.deepEqual([...links], ["client-server"]);
  }
});

Deno.test("a built-in topology repeats exactly: same trace, same pcap, run after run", async () => {
  const lossy = [
    path.impair({ loss: 0.03, seed: 9 }),
    ...opened,
    on("client", write(payload).returns(SIZE)),
    on("server", read(SIZE, { all: true }).returns(payload)),
  ];
  const a = await run(lossy), b = await run(lossy);
  assert.equal(a.ok, true, a.failure?.message);
  assert.deepEqual(a.trace.toPcap(), b.trace.toPcap());
  assert.ok(a.trace.events.some((e) => e.kind === "packet" && e.stopped), "3 % loss lost some");
});

Deno.test("expect() on the tap watches both ends: from the server by default, .from() the other", async () => {
  const r = await run([
    on("server", listen(8080)),
    on("client", socket(), connect(8080, "server")),
    expect(syn()).from("client"),
    expect(synAck()),
    on("server", accept()),
  ]);
  assert.equal(r.ok, true, r.failure?.message);
});

Deno.test("the trace names each packet's link and sender, and what the path did", async () => {
  const r = await run([
    path.drop(dataSegment(), { from: "client" }),
    ...opened,
    on("client", write("x").returns(1)),
    on("server", read().returns("x")),
  ]);
  assert.equal(r.ok, true, r.failure?.message);
  const lines = r.trace.events.filter((e) => e.kind === "packet").map((e) =>
    e.kind === "packet" ? `${e.link} ${e.from}${e.path ? ` ${e.path.join()}` : ""}` : ""
  );
  assert.ok(lines.includes("client-server client"));
  assert.ok(
    lines.some((l) =>
      /^client-server client dropped by path\.drop \(tests\/topology_test\.ts:\d+:\d+\)$/.test(l)
    ),
  );
});

Deno.test("topology errors name what is wrong and what there is", async () => {
  const cases: [StepInput[], RegExp][] = [
    [
      [on("nobody", socket())],
      /nobody\.socket\(\): the topology has no host "nobody" \(client, server\)/,
    ],
    [[path.release().on("a-b")], /want a link of the topology \(client-server\)/],
    [[peer.auto()], /a topology has no script peer; make the far end a builtin\(\) host/],
    [[on("client", socket(), connect(80))], /connect\(\): in a topology, name the address or host/],
    [
      [on("client", socket(), connect(80, "nowhere"))],
      /want an address or a host of the topology \(client, server\), got "nowhere"/,
    ],
    [
      [expect(syn()).from("router")],
      /the script's tap is on client-server: want "client" or "server"/,
    ],
    [[on("client", sysctl("net.ipv4.nope", 1))], /not modelled/],
  ];
  for (const [steps, want] of cases) {
    const r = await run(steps);
    assert.equal(r.ok, false);
    assert.match(r.failure!.message, want);
  }
});

Deno.test("a kernel host's devices, addresses and routes as ip -batch lines", () => {
  const t = topology({
    hosts: { client: kernel(), router: kernel({ forward: true }), server: builtin() },
    links: [["client", "router"], { between: ["router", "server"], mtu: 1400 }],
  });
  const p = planTopology(t);
  assert.equal(
    hostBatch(p.hosts.client),
    [
      "link set lo up",
      "link set sy1 mtu 1500 up",
      "addr add 10.1.0.1/24 dev sy1",
      "addr add fd00:0:0:1::1/64 dev sy1 nodad",
      "route add 10.2.0.0/24 dev sy1",
      "route add fd00:0:0:2::/64 dev sy1",
      "",
    ].join("\n"),
  );
  assert.match(hostBatch(p.hosts.router), /link set sy2 mtu 1400 up/);
  // The server is a built-in host: it reaches link 1 through the router.
  assert.equal(p.linkToward("server", new Uint8Array([10, 1, 0, 1])), "router-server");
});

Deno.test("inject() on the tap speaks to its far end as the near end would", async () => {
  // The script sends a SYN to the server as if from the client's address; the server's
  // SYN-ACK goes to the real client, whose stack has no such connection and resets it.
  const r = await run([
    on("server", listen(8080)),
    inject(syn()),
    expect(synAck()),
    expect(rst()).from("client"),
  ]);
  assert.equal(r.ok, true, r.failure?.message);
  const injected = r.trace.events.find((e) => e.kind === "packet" && e.by === "script");
  assert.ok(injected?.kind === "packet");
  assert.equal(parsePacket(injected.bytes).ip.src.join("."), "10.1.0.1");
});

Deno.test("synack compile shows a topology, its links and what the tap watches; bytes by their count", () => {
  const sc = defineScenario("compiled", [
    ...opened,
    expect(syn()).from("client"),
    on("client", write(payload).returns(SIZE)),
    on("server", read(SIZE, { all: true }).returns(payload)),
  ], { register: false, topology: pair, family: 6 });
  const text = compileScenario(sc).join("\n");
  assert.match(
    text,
    /^# topology: client \(built-in\), server \(built-in\); the script's tap is on client-server$/m,
  );
  assert.match(
    text,
    /^# {3}link client-server: client fd00:0:0:1::1, server fd00:0:0:1::2, mtu 1500$/m,
  );
  assert.match(text, /< client-server from client: fd00:0:0:1::1:\* > fd00:0:0:1::2:\* S 0:0\(0\)/);
  assert.match(text, /server\.read\(fd, 300000, MSG_WAITALL\) = 300000 bytes$/m);
});

Deno.test("the Docker story on the conntrack + NAT model: the same three outcomes as real netfilter", async () => {
  const scenarios = await loadScenarios(["examples/docker_conntrack.ts"]);
  const outcome: string[] = [];
  for (const sc of scenarios) {
    const r = await runScenarioOn(sc, "builtin");
    assert.equal(r.ok, true, `${sc.name}\n${r.failure?.message}`);
    assert.equal(r.skipped, undefined);
    outcome.push(dockerOutcome(r.trace));
    // The model says what it did on each segment's line, in conntrack's words.
    const marks = r.trace.events.flatMap((e) => e.kind === "packet" ? e.path ?? [] : []);
    assert.ok(marks.some((m) => /SNAT 10\.1\.0\.1:\d+ -> 10\.2\.0\.2:\d+$/.test(m)));
  }
  assert.deepEqual(outcome, DOCKER_OUTCOMES);
});

Deno.test("conntrack() reads the model's table: what holds passes; what does not names the want, the table and the line", async () => {
  const nat = topology({
    hosts: { client: builtin(), r: kernel({ forward: true }), server: builtin() },
    links: [["client", "r"], ["r", "server"]],
    tap: "r-server",
  });
  const ok = await run([
    ...opened,
    conntrack("r").has({ state: "ESTABLISHED", orig: "client:* > server:8080" }).count(1).invalid(
      0,
    ),
  ], { topology: nat });
  assert.equal(ok.ok, true, ok.failure?.message);
  const bad = await run([
    ...opened,
    conntrack("r").has({ state: "TIME_WAIT" }).invalid(1),
  ], { topology: nat });
  assert.equal(bad.ok, false);
  const [first, ...rest] = bad.failure!.message.split("\n");
  assert.match(
    first,
    /topology_test\.ts:\d+:\d+: conntrack\.has: want an entry TIME_WAIT, got \[ESTABLISHED orig 10\.1\.0\.1:\d+ > 10\.2\.0\.2:8080 reply 10\.2\.0\.2:8080 > 10\.1\.0\.1:\d+\] \(on r\)$/,
  );
  assert.deepEqual(rest.slice(0, 1), ["  conntrack.invalid: want 1, got 0"]);
  // A built-in host has no conntrack; a scenario without a topology has no host.
  const builtinHost = await run([...opened, conntrack("server").count(0)], { topology: nat });
  assert.match(
    builtinHost.failure!.message,
    /conntrack\("server"\): server is a builtin\(\) host, which has no conntrack/,
  );
});

Deno.test("iptables lines: the seeds' forms run on the model; anything else is refused with the line", async () => {
  assert.throws(
    () => kernel({ iptables: ["-A INPUT -j DROP; reboot"] }),
    /kernel\.iptables\.0: want iptables options, without the iptables word or shell syntax, got "-A INPUT -j DROP; reboot"/,
  );
  const t = topology({
    hosts: {
      client: builtin(),
      server: kernel({ iptables: ["-A INPUT -p tcp --dport 22 -j DROP"] }),
    },
    links: [["client", "server"]],
  });
  const r = await run([...opened], { topology: t });
  assert.match(
    r.skipped ?? "",
    /host server cannot be modelled: iptables rule not modelled: "-A INPUT -p tcp --dport 22 -j DROP"/,
  );
});
