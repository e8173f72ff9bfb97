/**
 * Three hosts and the script on the wire between two of them:
 *
 * ```text
 *   client (Linux) ── 10.1.0.0/24 ── router (Linux, forwarding) ── 10.2.0.0/24 ── server (synack)
 *                                                                ^ the script's tap
 * ```
 *
 * The client's kernel connects to the built-in server through the router's
 * kernel, which forwards between its two links. On the router's far link the
 * script watches the handshake cross, drops the 3rd data segment and holds
 * the 5th back by 30 ms; the client's kernel recovers, and the server reads
 * all 1 MB intact. Each kernel host is a private namespace of its own, made
 * for the run and gone with it.
 *
 * ```text
 * sudo npx deno task synack run examples/topology_router.ts --pcap /tmp/router.pcapng
 * ```
 *
 * Without root the scenario is skipped, with the reason.
 */
import {
  accept,
  builtin,
  close,
  connect,
  dataSegment,
  expect,
  getsockopt,
  kernel,
  listen,
  on,
  path,
  range,
  read,
  scenario,
  socket,
  syn,
  synAck,
  topology,
  write,
} from "../mod.ts";

const SIZE = 1024 * 1024;
const payload = new Uint8Array(SIZE);
for (let i = 0; i < SIZE; i++) payload[i] = (i * 7 + (i >> 11)) & 0xff;

const routed = topology({
  hosts: { client: kernel(), router: kernel({ forward: true }), server: builtin() },
  links: [["client", "router"], ["router", "server"]],
  tap: "router-server",
});

for (const family of [4, 6] as const) {
  scenario(`IPv${family}: client → router → server, with drops and delays on the far link`, [
    on("server", listen(8080)),
    on("client", socket(), connect(8080, "server").returns(0)),
    // The router forwarded the client's SYN onto the far link; the server answered.
    expect(syn()).from("router"),
    expect(synAck()),
    on("server", accept()),
    path.drop(dataSegment(), { from: "router", nth: [3] }),
    path.delay(dataSegment(), "30ms", { from: "router", nth: [5] }),
    on("client", write(payload).returns(SIZE)),
    on("server", read(SIZE, { all: true }).returns(payload)),
    // The client's kernel sent the dropped segment again.
    on("client", getsockopt("TCP_INFO").returns({ totalRetrans: range(1, 1000) })),
    on("client", close()),
    on("server", read().returns(""), close()),
  ], { family, topology: routed });
}
