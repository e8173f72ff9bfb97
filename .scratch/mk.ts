import { bigCapture } from "../bench/capture_fixture.ts";
bigCapture("/tmp/synack-bench-2M.pcap", 2_000_000);
