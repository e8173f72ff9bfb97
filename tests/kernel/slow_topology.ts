/**
 * A three-namespace topology that sets a sysctl on each host, connects the
 * client to the server through the router, and then idles: the isolation
 * test runs it 50 times and kills some runs in the middle. Not a test file itself.
 */
import {
  accept,
  connect,
  expect,
  kernel,
  listen,
  on,
  scenario,
  socket,
  syn,
  synAck,
  sysctl,
  topology,
  wait,
} from "../../mod.ts";

scenario("isolation: three kernel hosts, a connection across the router, then idle", [
  on("client", sysctl("net.ipv4.tcp_timestamps", 0)),
  on("router", sysctl("net.ipv4.tcp_sack", 0)),
  on("server", sysctl("net.ipv4.tcp_window_scaling", 0), listen(8080)),
  on("client", socket(), connect(8080, "server").returns(0)),
  expect(syn()).from("router"),
  expect(synAck()),
  on("server", accept()),
  wait("1500ms"),
], {
  register: false,
  topology: topology({
    hosts: { client: kernel(), router: kernel({ forward: true }), server: kernel() },
    links: [["client", "router"], ["router", "server"]],
    tap: "router-server",
  }),
});
