import { accept, builtin, connect, conntrack, expect, kernel, listen, on, scenario, setsockopt, socket, syn, synAck, bind, topology, ack, any, write, read } from "../mod.ts";
const NAT = `table ip nat {
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    ip daddr 10.1.0.2 tcp dport 1112 dnat to 10.1.0.2:80
  }
}
`;
const t = topology({ hosts: { client: kernel(), server: kernel({ nft: NAT }) }, links: [["client", "server"]], tap: "client-server" });
scenario("two flows from one client port, one through DNAT", [
  on("server", listen(80)),
  on("client", socket(), setsockopt("SO_REUSEADDR", true), bind(12345), connect(80, "server").returns(0)),
  on("server", accept()),
  on("client", socket(), setsockopt("SO_REUSEADDR", true), bind(12345), connect(1112, "server").returns(0)),
  on("server", accept()),
  on("client", write("hi").returns(2)),
  on("server", read().returns("hi")),
  conntrack("server").has({ state: "ESTABLISHED", orig: "client:12345 > server:80", reply: "server:80 > client:12345" })
    .has({ state: "ESTABLISHED", orig: "client:12345 > server:1112", reply: "server:80 > client:*" })
    .lacks({ reply: "server:80 > client:1112" })
    .count(2).invalid(0),

], { topology: t, strict: "ignore" });
