/**
 * `%{ … }%` blocks, run as packetdrill runs them (`code.c`): at each block's
 * time the socket under test's `getsockopt(TCP_INFO)`, `TCP_CC_INFO` and
 * `SO_MEMINFO` are snapshotted as `tcpi_*` (and `bbr_*`, `SK_MEMINFO_*`)
 * Python assignments; after the script ends every snapshot and block goes
 * into one Python program, in order, which `python3` runs. A failing
 * assertion names the block's line: `file.pkt:27: error in Python code`,
 * followed here by the assertion's own message.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tcpInfoAssignments } from "./pkt_code.ts";
 * const info = new Uint8Array(104);
 * info[0] = 1;
 * new DataView(info.buffer).setUint32(80, 10, true);
 * const py = tcpInfoAssignments(info);
 * assert.match(py, /^tcpi_state = 1$/m);
 * assert.match(py, /^tcpi_snd_cwnd = 10$/m);
 * assert.match(py, /^TCP_CA_Recovery = 3$/m);
 * ```
 */
import { sockoptBytes } from "./pkt_structs.ts";

const SYMBOLS = `TCP_ESTABLISHED = 1
TCP_SYN_SENT = 2
TCP_SYN_RECV = 3
TCP_FIN_WAIT1 = 4
TCP_FIN_WAIT2 = 5
TCP_TIME_WAIT = 6
TCP_CLOSE = 7
TCP_CLOSE_WAIT = 8
TCP_LAST_ACK = 9
TCP_LISTEN = 10
TCP_CLOSING = 11
TCP_CA_Open = 0
TCP_CA_Disorder = 1
TCP_CA_CWR = 2
TCP_CA_Recovery = 3
TCP_CA_Loss = 4
TCPI_OPT_TIMESTAMPS = 1
TCPI_OPT_WSCALE = 4
TCPI_OPT_ECN = 8
TCPI_OPT_SYN_DATA = 32
`;

/** struct tcp_info (uapi/linux/tcp.h): [name, offset, bytes]; u8 bitfields handled apart. */
const TCP_INFO: [string, number, number][] = [
  ["tcpi_state", 0, 1],
  ["tcpi_ca_state", 1, 1],
  ["tcpi_retransmits", 2, 1],
  ["tcpi_probes", 3, 1],
  ["tcpi_backoff", 4, 1],
  ["tcpi_options", 5, 1],
  ["tcpi_rto", 8, 4],
  ["tcpi_ato", 12, 4],
  ["tcpi_snd_mss", 16, 4],
  ["tcpi_rcv_mss", 20, 4],
  ["tcpi_unacked", 24, 4],
  ["tcpi_sacked", 28, 4],
  ["tcpi_lost", 32, 4],
  ["tcpi_retrans", 36, 4],
  ["tcpi_fackets", 40, 4],
  ["tcpi_last_data_sent", 44, 4],
  ["tcpi_last_ack_sent", 48, 4],
  ["tcpi_last_data_recv", 52, 4],
  ["tcpi_last_ack_recv", 56, 4],
  ["tcpi_pmtu", 60, 4],
  ["tcpi_rcv_ssthresh", 64, 4],
  ["tcpi_rtt", 68, 4],
  ["tcpi_rttvar", 72, 4],
  ["tcpi_snd_ssthresh", 76, 4],
  ["tcpi_snd_cwnd", 80, 4],
  ["tcpi_advmss", 84, 4],
  ["tcpi_reordering", 88, 4],
  ["tcpi_rcv_rtt", 92, 4],
  ["tcpi_rcv_space", 96, 4],
  ["tcpi_total_retrans", 100, 4],
  ["tcpi_pacing_rate", 104, 8],
  ["tcpi_max_pacing_rate", 112, 8],
  ["tcpi_bytes_acked", 120, 8],
  ["tcpi_bytes_received", 128, 8],
  ["tcpi_segs_out", 136, 4],
  ["tcpi_segs_in", 140, 4],
  ["tcpi_notsent_bytes", 144, 4],
  ["tcpi_min_rtt", 148, 4],
  ["tcpi_data_segs_in", 152, 4],
  ["tcpi_data_segs_out", 156, 4],
  ["tcpi_delivery_rate", 160, 8],
  ["tcpi_busy_time", 168, 8],
  ["tcpi_rwnd_limited", 176, 8],
  ["tcpi_sndbuf_limited", 184, 8],
  ["tcpi_delivered", 192, 4],
  ["tcpi_delivered_ce", 196, 4],
  ["tcpi_bytes_sent", 200, 8],
  ["tcpi_bytes_retrans", 208, 8],
  ["tcpi_dsack_dups", 216, 4],
  ["tcpi_reord_seen", 220, 4],
  ["tcpi_rcv_ooopack", 224, 4],
  ["tcpi_snd_wnd", 228, 4],
  ["tcpi_rcv_wnd", 232, 4],
  ["tcpi_rehash", 236, 4],
  ["tcpi_total_rto", 240, 2],
  ["tcpi_total_rto_recoveries", 242, 2],
  ["tcpi_total_rto_time", 244, 4],
];

const MEMINFO = [
  "RMEM_ALLOC",
  "RCVBUF",
  "WMEM_ALLOC",
  "SNDBUF",
  "FWD_ALLOC",
  "WMEM_QUEUED",
  "OPTMEM",
  "BACKLOG",
  "DROPS",
];

/** Python assignments for a tcp_info buffer of the length the kernel filled. */
export function tcpInfoAssignments(info: Uint8Array): string {
  const v = new DataView(info.buffer, info.byteOffset, info.byteLength);
  const lines = [SYMBOLS];
  for (const [name, at, n] of TCP_INFO) {
    if (at + n > info.length) break;
    const val = n === 1
      ? info[at]
      : n === 2
      ? v.getUint16(at, true)
      : n === 4
      ? v.getUint32(at, true)
      : v.getBigUint64(at, true);
    lines.push(`${name} = ${val}`);
    if (name === "tcpi_options") {
      lines.push(`tcpi_snd_wscale = ${info[6] & 0xf}`, `tcpi_rcv_wscale = ${info[6] >> 4}`);
      lines.push(
        `tcpi_delivery_rate_app_limited = ${info[7] & 1}`,
        `tcpi_fastopen_client_fail = ${(info[7] >> 1) & 3}`,
      );
    }
  }
  return lines.join("\n") + "\n\n";
}

/** Congestion-control info as packetdrill writes it (BBR, DCTCP and Vegas readings of the same bytes). */
function ccAssignments(b: Uint8Array): string {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: string[] = [];
  if (b.length >= 20) {
    const lo = v.getUint32(0, true);
    const hi = v.getUint32(4, true);
    out.push(
      `bbr_bw_lo = ${lo}`,
      `bbr_bw_hi = ${hi}`,
      `bbr_bw = ${BigInt(hi) * 2n ** 32n + BigInt(lo)}`,
    );
    out.push(
      `bbr_min_rtt = ${v.getUint32(8, true)}`,
      `bbr_pacing_gain = ${v.getUint32(12, true)}`,
      `bbr_cwnd_gain = ${v.getUint32(16, true)}`,
    );
  }
  if (b.length >= 16) {
    out.push(`dctcp_enabled = ${v.getUint16(0, true)}`, `dctcp_ce_state = ${v.getUint16(2, true)}`);
    out.push(
      `dctcp_alpha = ${v.getUint32(4, true)}`,
      `dctcp_ab_ecn = ${v.getUint32(8, true)}`,
      `dctcp_ab_tot = ${v.getUint32(12, true)}`,
    );
    out.push(`tcpv_enabled = ${v.getUint32(0, true)}`, `tcpv_rttcnt = ${v.getUint32(4, true)}`);
    out.push(`tcp_rtt = ${v.getUint32(8, true)}`, `tcp_minrtt = ${v.getUint32(12, true)}`);
  }
  return out.length ? out.join("\n") + "\n\n" : "\n";
}

/** The Python program of one run: snapshots and blocks in script order. */
export class PktCode {
  readonly #parts: string[] = [];
  count = 0;

  /** Takes the snapshot for the block at `line` (`fd`: the socket under test's real fd). */
  snapshot(fd: number | undefined): string {
    if (fd === undefined) return "";
    let out = "";
    const info = sockoptBytes(fd, 6, 11, 256);
    if (info && info.length >= 104) out += tcpInfoAssignments(info);
    const cc = sockoptBytes(fd, 6, 26, 64);
    if (cc) out += ccAssignments(cc);
    const mem = sockoptBytes(fd, 1, 55, 4 * 16);
    if (mem) {
      const v = new DataView(mem.buffer, mem.byteOffset, mem.byteLength);
      out += MEMINFO.map((
        n,
        i,
      ) => (i * 4 + 4 <= mem.length ? `SK_MEMINFO_${n} = ${v.getUint32(i * 4, true)}` : ""))
        .filter(Boolean).join("\n") + "\n\n";
    }
    return out;
  }

  /** Adds a block with the snapshot taken at its time. */
  add(file: string, line: number, snapshot: string, text: string): void {
    this.count++;
    this.#parts.push(
      snapshot,
      `_file = ${JSON.stringify(file)}\n_line = ${line}\n${dedent(text)}\n\n`,
    );
  }

  /** The whole program. */
  program(): string {
    return `import sys\nimport traceback\ndef excepthook(etype, value, tb):\n` +
      `  sys.stderr.write("%s:%d: error in Python code\\n" % (_file, _line))\n` +
      `  traceback.print_exception(etype, value, tb)\n\nsys.excepthook = excepthook\n\n` +
      this.#parts.join("");
  }

  /**
   * Runs the program with python3. Undefined when it passed; else the line
   * of the failing block and the error's last line (`AssertionError: cwnd=12`).
   */
  async execute(dir: string): Promise<{ line: number; message: string } | undefined> {
    if (!this.count) return undefined;
    const path = await Deno.makeTempFile({ dir, prefix: "synack-pkt-", suffix: ".py" });
    try {
      await Deno.writeTextFile(path, this.program());
      const out = await new Deno.Command("python3", {
        args: [path],
        stdout: "piped",
        stderr: "piped",
      }).output();
      if (out.success) return undefined;
      const err = new TextDecoder().decode(out.stderr);
      const m = /:(\d+): error in Python code/.exec(err);
      const last = err.trim().split("\n").at(-1) ?? "";
      return { line: m ? Number(m[1]) : 0, message: last };
    } finally {
      await Deno.remove(path).catch(() => {});
    }
  }
}

/** packetdrill strips the spaces and tabs that indent a block; Python wants none on its first line. */
function dedent(text: string): string {
  const lines = text.split("\n");
  const indents = lines.filter((l) => l.trim()).map((l) => /^[ \t]*/.exec(l)![0].length);
  const cut = Math.min(...indents, Infinity);
  return lines.map((l) => l.slice(Number.isFinite(cut) ? cut : 0)).join("\n");
}
