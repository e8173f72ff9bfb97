/**
 * The Kubernetes variant of the INVALID story (kubernetes#74839; the
 * kube-proxy fix is kubernetes#74840): a client pod reaches a server pod
 * through a node that translates a service address (DNAT). One segment from
 * the server pod arrives beyond the window conntrack tracks. Conntrack marks
 * it INVALID, so the node does not translate its source back to the service
 * address: the client pod receives it from the server pod's own address, has
 * no connection for that, and answers with a RST, which the node forwards to
 * the server pod, killing the connection.
 *
 * ```text
 *   client ── 10.1.0.0/24 ── node (Linux, forwarding, DNAT 10.1.0.2:80 → 10.2.0.1:8080) ── 10.2.0.0/24 ── server (synack)
 *                                                                                        ^ the script's tap
 * ```
 *
 * kube-proxy's fix drops INVALID in the forward chain; `be_liberal=1` is the
 * other one. Each scenario runs on the conntrack + NAT model (the built-in
 * target) and on real netfilter (`--target kernel`), with the same verdicts:
 *
 * ```text
 * npx deno task synack run examples/k8s_conntrack.ts
 * sudo npx deno task synack run --target builtin,kernel examples/k8s_conntrack.ts
 * ```
 */
import {
  accept,
  ack,
  any,
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

/** The service: the node's address on the client's link, port 80, is the server pod's 8080. */
const SERVICE = `table ip nat {
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    ip daddr 10.1.0.2 tcp dport 80 dnat to 10.2.0.1:8080
  }
}
`;

/** kube-proxy's fix: INVALID packets are not forwarded. */
const DROP_INVALID = `table inet filter {
  chain forward {
    type filter hook forward priority filter; policy accept;
    ct state invalid counter drop
  }
}
`;

const cluster = (o: { nft?: string; sysctls?: Record<string, number> } = {}): TopologyDef =>
  topology({
    hosts: {
      client: kernel(),
      node: kernel({ forward: true, nft: SERVICE + (o.nft ?? ""), sysctls: o.sysctls }),
      server: builtin(),
    },
    links: [["client", "node"], ["server", "node"]],
    tap: "server-node",
  });

const request = [
  on("server", listen(8080)),
  on("client", socket(), connect(80, "10.1.0.2").returns(0)),
  on("server", accept()),
  // The server pod's first ACK after the handshake, shifted beyond the window on the wire.
  path.rewrite(ack(), { seqDelta: 1_000_000 }, { from: "server" }),
  on("client", write("GET /").returns(5)),
];

export const reset = scenario(
  "Kubernetes: an INVALID segment reaches the client pod un-translated; its RST kills the connection",
  // The client pod's RST, forwarded by the node, to the server pod's own address and port.
  [
    ...request,
    // The client pod has no socket for the server pod's own address and port: NO_SOCKET.
    expect(rst().ports(any, 8080).reason("NO_SOCKET")).from("node"),
    // The node tracked the service connection, DNATed; the server pod's segment and
    // the client pod's RST, from and to the pods' own addresses, were INVALID.
    conntrack("node")
      .has({ orig: "client:* > 10.1.0.2:80", reply: "server:8080 > client:*" })
      .invalid(2),
  ],
  { topology: cluster(), strict: "ignore" },
);

export const dropped = scenario(
  "Kubernetes fix: with ct state invalid drop on forward, the client pod never answers it",
  [...request, expectNothing("500ms", rst()), conntrack("node").count(1).invalid(1)],
  { topology: cluster({ nft: DROP_INVALID }), strict: "ignore" },
);

export const liberal = scenario(
  "Kubernetes fix: with nf_conntrack_tcp_be_liberal=1 the segment is translated; no RST",
  [...request, expectNothing("500ms", rst()), conntrack("node").count(1).invalid(0)],
  {
    topology: cluster({ sysctls: { "net.netfilter.nf_conntrack_tcp_be_liberal": 1 } }),
    strict: "ignore",
  },
);
