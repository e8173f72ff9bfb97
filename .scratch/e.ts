import { parsePkt } from "../dsl/pkt/pkt_parser.ts";
const cases = [
  "x socket(..., SOCK_STREAM, 0) = 3\n",
  "0 > S 0:10(5)\n",
  "0 < S 0:0(0) win 70000\n",
  "0 > S 0:0(0) <mss 1460,bogus 3>\n",
  "0 > . 1:1(0) ack 1 <md5 xyz>\n",
  "0 > S 0:0(0) <ECN ceb 1>\n",
  "0 < [ect0] udp (10)\n",
  "0 bind(3, ..., ... = 0\n",
  "0 write(3, ?, 1) = 1\n",
  "0 setsockopt(3, SOL_SOCKET, SO_LINGER, {onoff=1, 8) = 0\n",
  "0 connect(3, ..., ...) = -1 EINPROGRESS (Operation\n",
  "0 `sysctl -q x=1\n",
  "0 %{ assert 1\n",
  "--tolerance_usecs=\n0 close(3) = 0\n",
];
for (const c of cases) {
  try {
    parsePkt(c, "t.pkt");
    console.log("OK?", JSON.stringify(c));
  } catch (e) {
    console.log(JSON.stringify(c), "=>", (e as Error).message.slice(0, 200));
  }
}
try {
  parsePkt("/* note\n0 close(3) = 0\n", "t.pkt");
} catch (e) {
  console.log((e as Error).stack?.slice(0, 600));
}
