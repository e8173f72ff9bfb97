/**
 * Story 3 of ../shared/seeds, on real netfilter: a container uploads to a
 * server through a Docker host that masquerades it. One segment from the
 * server reaches the Docker host beyond the window conntrack tracks (here the
 * script shifts its sequence number on the wire, as a late or reordered
 * segment would be). Conntrack marks it INVALID, so NAT does not translate
 * it back: it is delivered to the Docker host itself, which has no socket for
 * the masqueraded port and answers the server with a RST of its own, killing
 * the upload. The container sees nothing.
 *
 * ```text
 *   container ── 10.1.0.0/24 ── dockerhost (Linux, forwarding, masquerade on sy2) ── 10.2.0.0/24 ── server (synack)
 *                                                                                ^ the script's tap
 * ```
 *
 * The two fixes of the story each remove that RST:
 * - drop INVALID on input (`iptables -A INPUT -m conntrack --ctstate INVALID -j DROP`, as the
 *   story writes it; Docker's DOCKER-INPUT chain does the same, moby/libnetwork#2275);
 * - `net.netfilter.nf_conntrack_tcp_be_liberal=1`: the segment is tracked, translated,
 *   and reaches the container, whose stack answers it with an ACK.
 *
 * Each host is a private namespace; the rules and the sysctl live in the
 * Docker host's, and go with it. Link n's device is `syn` on both its hosts.
 *
 * ```text
 * npx deno task synack run examples/docker_conntrack.ts                  # the model
 * sudo npx deno task synack run --target kernel examples/docker_conntrack.ts    # real netfilter
 * ```
 *
 * On the built-in target the Docker host is played by the conntrack + NAT
 * model (runtime/middlebox, after Linux's nf_conntrack_proto_tcp.c) with the
 * same nft text, and the container by a built-in stack: the same three
 * outcomes, on the virtual clock. `--target builtin,kernel` runs both.
 */
import {
  accept,
  ack,
  builtin,
  connect,
  conntrack,
  expect,
  expectNothing,
  kernel,
  listen,
  on,
  path,
  rst,
  scenario,
  socket,
  topology,
  type TopologyDef,
  write,
} from "../mod.ts";

/** Docker's source NAT: what leaves towards the server (link 2, `sy2`) takes the host's address. */
const MASQUERADE = `table ip nat {
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "sy2" masquerade
  }
}
`;

/** The story's first fix, in its own words: INVALID packets addressed to the host are dropped. */
const DROP_INVALID = "-A INPUT -m conntrack --ctstate INVALID -j DROP";

/** The story's topology; `nft`, `iptables` and `sysctls` add to the Docker host's own. */
export const docker = (
  o: { nft?: string; iptables?: string[]; sysctls?: Record<string, number> } = {},
): TopologyDef =>
  topology({
    hosts: {
      container: kernel(),
      dockerhost: kernel({
        forward: true,
        nft: MASQUERADE + (o.nft ?? ""),
        iptables: o.iptables,
        sysctls: o.sysctls,
      }),
      server: builtin(),
    },
    links: [["container", "dockerhost"], ["server", "dockerhost"]],
    tap: "server-dockerhost",
  });

/** The upload, and the server's ACK of it shifted a million bytes ahead on the wire. */
export const upload = [
  on("server", listen(80)),
  on("container", socket(), connect(80, "server").returns(0)),
  on("server", accept()),
  // The server's first ACK after the handshake is the one that acknowledges the upload.
  path.rewrite(ack(), { seqDelta: 1_000_000 }, { from: "server" }),
  on("container", write("upload").returns(6)),
];

export const reset = scenario(
  "Docker: an INVALID segment from the server is not de-NATed; the host's own RST kills the upload",
  [
    ...upload,
    // The host's own stack has no socket for the untranslated tuple: NO_SOCKET.
    expect(rst().reason("NO_SOCKET")).from("dockerhost"),
    // The upload's entry is still there, masqueraded. Two segments were INVALID: the
    // server's, and the host's own RST, which matches no entry and cannot start one.
    conntrack("dockerhost")
      .has({
        state: "ESTABLISHED",
        orig: "container:* > server:80",
        reply: "server:80 > dockerhost:*",
      })
      .invalid(2),
  ],
  { topology: docker(), strict: "ignore" },
);

export const dropped = scenario(
  "Docker fix: with iptables -A INPUT -m conntrack --ctstate INVALID -j DROP, the host sends no RST",
  [...upload, expectNothing("500ms", rst()), conntrack("dockerhost").count(1).invalid(1)],
  { topology: docker({ iptables: [DROP_INVALID] }), strict: "ignore" },
);

export const liberal = scenario(
  "Docker fix: with nf_conntrack_tcp_be_liberal=1 the segment is tracked and translated; no RST",
  [...upload, expectNothing("500ms", rst()), conntrack("dockerhost").count(1).invalid(0)],
  {
    topology: docker({ sysctls: { "net.netfilter.nf_conntrack_tcp_be_liberal": 1 } }),
    strict: "ignore",
  },
);
