/**
 * Story 2 of ../shared/seeds, its DNAT case: two connections from one client
 * ip:port, one to port 80 and one to port 1112, which the server's DNAT
 * (the report's `iptables -t nat … --dport 1112 -j REDIRECT --to-ports 80`)
 * sends to port 80 as well.
 *
 * ```text
 *   client (Linux) ── 10.1.0.0/24 ── server (Linux, iptables REDIRECT 1112 → 80)
 *                  ^ the script's tap
 * ```
 *
 * After DNAT the second SYN reads 10.1.0.1:12345 > 10.1.0.2:80, the first
 * connection's own tuple. NAT sees that the reply tuple would clash, and at
 * LOCAL_IN gives the second connection another source port (the null
 * binding; Linux picks it at random, so the scenario asserts `*`).
 *
 * What the report saw, on older kernels: IP early demux ran between the two
 * translations, looked the SYN up by 12345 > 80, found the first connection's
 * socket and kept it; TCP then handled the SYN on that socket, and the
 * second connection was reset. The first fix (`nf_nat_ipv4_local_in()`
 * dropping the socket early demux found when NAT changed the source
 * address) missed a change of port alone; a later one checks the port too
 * (`nf_nat_inet_port_was_mangled()`).
 *
 * What a current kernel does (6.18 here), and what this scenario asserts:
 * the second SYN reaches the listener with its new source port, the SYN-ACK
 * goes back translated to 1112 > 12345, both connections stand, and the
 * second one's data reaches its own socket. The model (`--target builtin`)
 * does the same, and names each translation on the trace line.
 *
 * ```text
 * npx deno task synack run examples/dnat_early_demux.ts
 * sudo npx deno task synack run --target builtin,kernel examples/dnat_early_demux.ts
 * ```
 */
import {
  accept,
  ack,
  bind,
  connect,
  conntrack,
  expect,
  kernel,
  listen,
  on,
  read,
  scenario,
  setsockopt,
  socket,
  synAck,
  topology,
  write,
} from "../mod.ts";

/** The report's rule, as it wrote it: what arrives for port 1112 goes to port 80. */
const REDIRECT = "-t nat -A PREROUTING -p tcp --dport 1112 -j REDIRECT --to-ports 80";

const pair = topology({
  hosts: { client: kernel(), server: kernel({ iptables: [REDIRECT] }) },
  links: [["client", "server"]],
});

/** A client socket on port 12345; SO_REUSEADDR lets two of them share it. */
const from12345 = [socket(), setsockopt("SO_REUSEADDR", true), bind(12345)];

export const twoFlows = scenario(
  "Seed 2: a second flow from the same ip:port through DNAT gets its own source port and connects",
  [
    on("server", listen(80)),
    on("client", ...from12345, connect(80, "server").returns(0)),
    expect(synAck().ports(80, 12345)),
    on("server", accept()),
    on("client", ...from12345, connect(1112, "server").returns(0)),
    // The answer to the second SYN is a SYN-ACK, translated back: not an ACK or RST of the first.
    expect(synAck().ports(1112, 12345)),
    on("server", accept()),
    on("client", write("second").returns(6)),
    expect(ack().ports(1112, 12345)),
    on("server", read().returns("second")),
    conntrack("server")
      .has({
        state: "ESTABLISHED",
        orig: "client:12345 > server:80",
        reply: "server:80 > client:12345",
      })
      // The second connection: DNAT to 80, and the reply to a source port of NAT's choosing.
      .has({
        state: "ESTABLISHED",
        orig: "client:12345 > server:1112",
        reply: "server:80 > client:*",
      })
      .lacks({ orig: "client:12345 > server:1112", reply: "server:80 > client:12345" })
      .count(2)
      .invalid(0),
  ],
  { topology: pair, strict: "ignore" },
);
