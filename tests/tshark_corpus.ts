/**
 * Packets for the tshark cross-check: every TCP option kind, IPv4 and IPv6,
 * UDP, ICMPv4 and ICMPv6, and deliberately bad checksums. Each entry says
 * whether its checksums are meant to be right.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TSHARK_CORPUS } from "./tshark_corpus.ts";
 * assert.ok(TSHARK_CORPUS.length >= 20);
 * ```
 */
export const TSHARK_CORPUS: ReadonlyArray<{ line: string; goodChecksums: boolean }> = [
  ...[
    "192.0.2.1:40000 > 192.168.0.1:40001 S 0:0(0) win 65535 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>",
    "192.168.0.1:40001 > 192.0.2.1:40000 S. 1000:1000(0) ack 1 win 65535 <mss 1460,nop,nop,sackOK,nop,wscale 14> DF",
    "192.0.2.1:40000 > 192.168.0.1:40001 . 1:1(0) ack 1001 win 502 <nop,nop,TS val 5 ecr 6>",
    "192.0.2.1:40000 > 192.168.0.1:40001 P. 1:12(11) ack 1001 win 502 data 0x68656c6c6f20776f726c64",
    "192.168.0.1:40001 > 192.0.2.1:40000 . 1001:1001(0) ack 1 win 500 <nop,nop,sack 11:21 31:41>",
    "192.0.2.1:40000 > 192.168.0.1:40001 R 1:1(0) win 0",
    "192.168.0.1:40001 > 192.0.2.1:40000 R. 0:0(0) ack 2 win 0",
    "192.0.2.1:40000 > 192.168.0.1:40001 F. 12:12(0) ack 1001 win 502",
    "192.0.2.1:40000 > 192.168.0.1:40001 FS 0:0(0) win 1",
    "192.0.2.1:40000 > 192.168.0.1:40001 SEW 0:0(0) win 1 <mss 536>",
    "192.0.2.1:40000 > 192.168.0.1:40001 S 0:0(0) win 1 <md5 0x000102030405060708090a0b0c0d0e0f,nop,nop>",
    "192.0.2.1:40000 > 192.168.0.1:40001 S 0:0(0) win 1 <FO 0x0102030405060708,nop,nop>",
    "192.0.2.1:40000 > 192.168.0.1:40001 S 0:0(0) win 1 <FO,nop,nop>",
    "192.0.2.1:40000 > 192.168.0.1:40001 S 0:0(0) win 1 <FOEXP 0x01020304>",
    "192.0.2.1:40000 > 192.168.0.1:40001 . 1:1(0) ack 1 win 1 <AccECN0 1 2 3,nop>",
    "192.0.2.1:40000 > 192.168.0.1:40001 . 1:1(0) ack 1 win 1 <AccECN1 4 5 6,nop>",
    "192.0.2.1:40000 > 192.168.0.1:40001 S 0:0(0) win 1 <opt 29 0x0102030405060708090a0b0c0d0e0f10,nop,nop>",
    "192.0.2.1:40000 > 192.168.0.1:40001 S 0:0(0) win 1 <opt 30 0x0081aabbccddeeff0011,nop,nop>",
    "192.0.2.1:40000 > 192.168.0.1:40001 S 0:0(0) win 1 <opt 99 0x01,nop>",
    "192.0.2.1:40000 > 192.168.0.1:40001 U. 1:2(1) ack 1 win 1 urg 1 data 0x21",
    "[fd3d:fa7b:d17d::1]:40000 > [fd3d:a0b:17d6::1]:40001 S 0:0(0) win 65535 <mss 1440,sackOK,TS val 1 ecr 0,nop,wscale 7> flow 0x12345",
    "[fd3d:a0b:17d6::1]:40001 > [fd3d:fa7b:d17d::1]:40000 R. 0:0(0) ack 1 win 0",
    "192.0.2.1:40002 > 192.168.0.1:40003 udp (4) data 0x01020304",
    "[fd3d::1]:40002 > [fd3d::2]:40003 udp (3) data 0x010203",
    "192.168.0.1 > 192.0.2.1 icmp echo_request id 9 seq 1 (4) data 0x61626364",
    "192.168.0.1 > 192.0.2.1 icmp unreachable frag_needed mtu 1400 (28) data 0x4500003c000040004006b811c0000201c0a800019c401f9000000000",
    "192.168.0.1 > 192.0.2.1 icmp unreachable port_unreachable (28) data 0x4500003c000040004006b811c0000201c0a800019c401f9000000000",
    "fd3d::1 > fd3d::2 icmp echo_request id 1 seq 2 (0)",
  ].map((line) => ({ line, goodChecksums: true })),
  ...[
    "192.0.2.1:40000 > 192.168.0.1:40001 S 0:0(0) win 1 cksum 0xbeef",
    "192.0.2.1:40002 > 192.168.0.1:40003 udp (1) cksum 0x1234 data 0x01",
    "192.0.2.1:40000 > 192.168.0.1:40001 . 1:1(0) ack 1 win 1 ipcksum 0x0001",
  ].map((line) => ({ line, goodChecksums: false })),
];
