// The examples register their scenarios with Deno.test as they load.
import "../examples/gvisor_timestamp_handshake.ts";
import "../examples/rst_closed_port.ts";
import "../examples/rst_linger_zero.ts";
import "../examples/rst_unread_data.ts";
import "../examples/late_ack.ts";
import "../examples/peer_transfer.ts";
import "../examples/topology_router.ts";
import "../examples/docker_conntrack.ts";
import "../examples/k8s_conntrack.ts";
import "../examples/dnat_early_demux.ts";
