/**
 * Filter chains by conntrack state, on the model and on real netfilter: the
 * same scenarios, the same verdicts, the same datagrams on every link
 * (`compareTraces` with each link's packets). Reject with a TCP reset, reject
 * with ICMP port unreachable, and a stateful firewall (policy drop, replies
 * accepted) that lets the host's own connections out and no new one in.
 * The kernel side needs root; without it only the model runs, visibly.
 */
import assert from "node:assert/strict";
import {
  accept,
  builtin,
  connect,
  conntrack,
  defineScenario,
  expect,
  expectNothing,
  icmp,
  inject,
  kernel,
  listen,
  on,
  rst,
  socket,
  type StepInput,
  syn,
  synAck,
  topology,
  type TopologyDef,
  write,
} from "../../mod.ts";
import { compareTraces, DEFAULT_MASKS } from "../../runtime/engine/divergence.ts";
import { kernelUnavailable, missingTool } from "../../runtime/kernel/kernel_support.ts";
import { runScenarioOn } from "../../runtime/scenario.ts";
import { docker, upload } from "../../examples/docker_conntrack.ts";

const why = kernelUnavailable() ?? missingTool("nft", "nftables") ??
  missingTool("iptables", "iptables") ?? missingTool("conntrack", "conntrack");

/** A stateful firewall on input: what answers the host's own connections comes in; nothing new. */
const FIREWALL = `table inet fw {
  chain input {
    type filter hook input priority filter; policy drop;
    ct state { established, related } accept
    ct state invalid drop
  }
}
`;

/** The same reject as nft text. */
const NFT_RESET = `table inet filter {
  chain input {
    type filter hook input priority filter; policy accept;
    meta l4proto tcp ct state invalid counter reject with tcp reset
  }
}
`;

const CASES: { name: string; steps: StepInput[]; topology: TopologyDef }[] = [
  {
    name: "nft: ct state invalid reject with tcp reset",
    steps: [...upload, expect(rst()).from("dockerhost"), conntrack("dockerhost").invalid(2)],
    topology: docker({ nft: NFT_RESET }),
  },
  {
    name: "REJECT --reject-with tcp-reset on INVALID input: a RST, the reject's own",
    steps: [
      ...upload,
      expect(rst()).from("dockerhost"),
      conntrack("dockerhost").invalid(2),
    ],
    topology: docker({
      iptables: [
        "-A INPUT -p tcp -m conntrack --ctstate INVALID -j REJECT --reject-with tcp-reset",
      ],
    }),
  },
  {
    name: "REJECT on INVALID input: ICMP port unreachable to the server, no RST",
    steps: [
      ...upload,
      expect(icmp(3, 3)).from("dockerhost"),
      expectNothing("300ms", rst()),
      conntrack("dockerhost").invalid(1),
    ],
    // The INVALID segment is not translated back: it is addressed to the Docker host itself.
    topology: docker({ iptables: ["-A INPUT -m conntrack --ctstate INVALID -j REJECT"] }),
  },
  {
    name:
      "policy drop, established accepted: the host's own connection works; a new one in is dropped",
    steps: [
      on("client", listen(8080)),
      on("server", socket(), connect(8080, "client").returns(0)),
      on("client", accept()),
      on("server", write("out").returns(3)),
      on("server", listen(80)),
      inject(syn().ports(40001, 80)),
      expectNothing("300ms", synAck()),
      conntrack("server").has({ state: "ESTABLISHED", orig: "server:* > client:8080" }),
    ],
    topology: topology({
      hosts: { client: builtin(), server: kernel({ nft: FIREWALL }) },
      links: [["client", "server"]],
    }),
  },
];

for (const c of CASES) {
  Deno.test({
    name: `netfilter filter: ${c.name}${why ? ` (kernel side skipped: ${why})` : ""}`,
    async fn() {
      const sc = defineScenario(c.name, c.steps, {
        register: false,
        topology: c.topology,
        strict: "ignore",
      });
      const model = await runScenarioOn(sc, "builtin");
      assert.equal(model.ok, true, `model: ${model.failure?.message}`);
      if (why) return;
      const real = await runScenarioOn(sc, "kernel");
      assert.equal(real.ok, true, `kernel: ${real.failure?.message}`);
      const cmp = compareTraces(model.trace, real.trace, {
        masks: DEFAULT_MASKS,
        timing: undefined,
        links: true,
      });
      assert.deepEqual(
        cmp.divergences.map((d) =>
          `${d.stream} #${d.index + 1}: ${d.left?.text} | ${d.right?.text}`
        ),
        [],
      );
    },
  });
}
