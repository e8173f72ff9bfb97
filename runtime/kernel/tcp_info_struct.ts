/**
 * Decodes Linux's `struct tcp_info` (include/uapi/linux/tcp.h), as
 * getsockopt(TCP_INFO) fills it, into synack's named `TcpInfo`. The layout
 * is fixed by the kernel ABI: fields are only ever appended, so a shorter
 * answer from an older kernel simply stops early. Byte order is the host's
 * (little-endian on the machines synack runs on).
 *
 * ```text
 *  0 state  1 ca_state  2 retransmits  3 probes  4 backoff  5 options
 *  6 snd_wscale:4 | rcv_wscale:4   7 app_limited:1 fastopen_fail:2
 *  8 rto  12 ato  16 snd_mss  20 rcv_mss  24 unacked  28 sacked  32 lost
 * 36 retrans  40 fackets  44..56 last_*  60 pmtu  64 rcv_ssthresh  68 rtt
 * 72 rttvar  76 snd_ssthresh  80 snd_cwnd  84 advmss  88 reordering
 * 92 rcv_rtt  96 rcv_space  100 total_retrans  104..135 rates and bytes (u64)
 * 136 segs_out  140 segs_in  144 notsent_bytes  148 min_rtt
 * 152 data_segs_in  156 data_segs_out
 * ```
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeTcpInfo, TCP_INFO_SIZE } from "./tcp_info_struct.ts";
 * const b = new Uint8Array(TCP_INFO_SIZE);
 * b[0] = 1; // TCP_ESTABLISHED
 * b[6] = 0x77; // snd_wscale 7, rcv_wscale 7
 * new DataView(b.buffer).setUint32(80, 10, true); // snd_cwnd
 * const info = decodeTcpInfo(b);
 * assert.equal(info.state, "ESTABLISHED");
 * assert.equal(info.sndWscale, 7);
 * assert.equal(info.sndCwnd, 10);
 * ```
 */
import { type TcpInfo, TcpState, type TcpStateName } from "../wire/socket_call.ts";

/** Bytes synack asks for: up to tcpi_data_segs_out, the last field it reads. */
export const TCP_INFO_SIZE = 160;

const STATE_NAMES = new Map<number, TcpStateName>(
  Object.entries(TcpState).map(([k, v]) => [v, k as TcpStateName]),
);

/** `TcpInfo` from the bytes getsockopt(TCP_INFO) wrote. */
export function decodeTcpInfo(b: Uint8Array): TcpInfo {
  if (b.length < 104) {
    throw new RangeError(`Cannot decode tcp_info: want at least 104 bytes, got ${b.length}`);
  }
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const u32 = (at: number) => (at + 4 <= b.length ? v.getUint32(at, true) : 0);
  const state = STATE_NAMES.get(b[0]);
  if (!state) throw new RangeError(`Cannot decode tcp_info: unknown state ${b[0]}`);
  return {
    state,
    caState: b[1],
    retransmits: b[2],
    probes: b[3],
    backoff: b[4],
    options: b[5],
    sndWscale: b[6] & 0xf,
    rcvWscale: b[6] >> 4,
    rto: u32(8),
    sndMss: u32(16),
    rcvMss: u32(20),
    unacked: u32(24),
    sacked: u32(28),
    lost: u32(32),
    retrans: u32(36),
    rtt: u32(68),
    rttvar: u32(72),
    sndSsthresh: u32(76),
    sndCwnd: u32(80),
    advmss: u32(84),
    totalRetrans: u32(100),
    segsOut: u32(136),
    segsIn: u32(140),
    dataSegsIn: u32(152),
    dataSegsOut: u32(156),
  };
}
