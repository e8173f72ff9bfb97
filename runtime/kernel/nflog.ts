/**
 * The kernel's own words on INVALID segments, from inside one namespace.
 *
 * Conntrack says why it found a segment INVALID through `nf_log` when
 * `net.netfilter.nf_conntrack_log_invalid` names the protocol (6, TCP):
 * "nf_ct_proto_6: SEQ is over upper bound 66537 (over the window of the
 * receiver)". Outside the initial namespace the syslog logger stays silent
 * unless the host-wide `nf_log_all_netns` is set, which synack never
 * touches; so the namespace's IPv4 logger is set to `nfnetlink_log` (a
 * per-namespace sysctl, `net.netfilter.nf_log.2`), and this reader takes
 * the messages from NFLOG group 0 over a netlink socket opened in the
 * namespace (`nfnetlink_log.c`; message layout in
 * `include/uapi/linux/netfilter/nfnetlink_log.h`). Each message carries the
 * prefix (the reason) and the segment as conntrack saw it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseNflog, nflogConfig } from "./nflog.ts";
 * // A config message: nlmsghdr (16) + nfgenmsg (4) + one 8-byte attribute.
 * assert.equal(nflogConfig(1, 0, 1, new Uint8Array([1])).length, 28);
 * // A packet message with a prefix and a 1-byte payload.
 * const msg = new Uint8Array([
 *   40, 0, 0, 0, 0x00, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // nlmsghdr: len 40, NFULNL_MSG_PACKET
 *   2, 0, 0, 0, // nfgenmsg: AF_INET, group 0
 *   8, 0, 10, 0, 0x68, 0x69, 0x20, 0, // NFULA_PREFIX "hi "
 *   5, 0, 9, 0, 0x45, 0, 0, 0, // NFULA_PAYLOAD, one byte
 *   4, 0, 1, 0, // NFULA_PACKET_HDR (empty here)
 * ]);
 * assert.deepEqual(parseNflog(msg), [{ prefix: "hi", payload: new Uint8Array([0x45]) }]);
 * ```
 */
import type { FdWaiter } from "./fd_waiter.ts";
import { K, libc, sysError } from "./libc.ts";
import type { PrivateNetns } from "./netns.ts";

const AF_NETLINK = 16;
const SOCK_RAW = 3;
const NETLINK_NETFILTER = 12;
/** NFNL_SUBSYS_ULOG << 8 | NFULNL_MSG_CONFIG, and | NFULNL_MSG_PACKET. */
const MSG_CONFIG = (4 << 8) | 1;
const MSG_PACKET = (4 << 8) | 0;
const NLMSG_ERROR = 2;
const NLM_F_REQUEST = 1, NLM_F_ACK = 4;
/** Attributes. */
const NFULA_CFG_CMD = 1, NFULA_CFG_MODE = 2;
const NFULA_PAYLOAD = 9, NFULA_PREFIX = 10;
const CMD_BIND = 1;
const COPY_PACKET = 2;
const MSG_DONTWAIT = 0x40;

const pad4 = (n: number) => (n + 3) & ~3;

/** One config message: `cmd` for group `group` of `family`, with one attribute. */
export function nflogConfig(
  type: number,
  group: number,
  family: number,
  attr: Uint8Array,
  attrType = NFULA_CFG_CMD,
): Uint8Array {
  const len = 16 + 4 + pad4(4 + attr.length);
  const b = new Uint8Array(len);
  const v = new DataView(b.buffer);
  v.setUint32(0, len, true);
  v.setUint16(4, MSG_CONFIG, true);
  v.setUint16(6, NLM_F_REQUEST | NLM_F_ACK, true);
  v.setUint32(8, type, true); // the sequence number: which request an ACK answers
  b[16] = family;
  v.setUint16(18, group, false); // res_id is big-endian
  v.setUint16(20, 4 + attr.length, true);
  v.setUint16(22, attrType, true);
  b.set(attr, 24);
  return b;
}

/** What one NFLOG message says: the prefix (the reason) and the segment. */
export interface NflogEntry {
  prefix: string;
  payload: Uint8Array;
}

/** The packet messages of one netlink read. */
export function parseNflog(buf: Uint8Array): NflogEntry[] {
  const out: NflogEntry[] = [];
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  for (let off = 0; off + 16 <= buf.length;) {
    const len = v.getUint32(off, true);
    if (len < 16 || off + len > buf.length) break;
    if (v.getUint16(off + 4, true) === MSG_PACKET) {
      let prefix = "", payload: Uint8Array | undefined;
      for (let a = off + 20; a + 4 <= off + len;) {
        const alen = v.getUint16(a, true), type = v.getUint16(a + 2, true) & 0x3fff;
        if (alen < 4) break;
        const data = buf.subarray(a + 4, a + alen);
        if (type === NFULA_PREFIX) {
          prefix = new TextDecoder().decode(data).replace(/\0.*$/s, "").trim();
        } else if (type === NFULA_PAYLOAD) payload = data.slice();
        a += pad4(alen);
      }
      if (payload) out.push({ prefix, payload });
    }
    off += pad4(len);
  }
  return out;
}

/** Reads a config ACK; throws the kernel's errno if it refused. */
function checkAck(fd: number, what: string): void {
  const buf = new Uint8Array(4096);
  const n = Number(libc().recv(fd, buf, BigInt(buf.length), 0));
  if (n < 0) throw sysError(`nflog ${what}`);
  const v = new DataView(buf.buffer);
  if (v.getUint16(4, true) === NLMSG_ERROR && v.getInt32(16, true) !== 0) {
    throw new Error(`nflog ${what}: the kernel refused (errno ${-v.getInt32(16, true)})`);
  }
}

/**
 * Listens to the namespace's NFLOG group 0 and turns conntrack's INVALID
 * logging on, calling `onEntry` for each message until `close()`. Throws
 * when the kernel has no nfnetlink_log; the caller says so in the trace.
 */
export function listenInvalid(
  ns: PrivateNetns,
  waiter: FdWaiter,
  onEntry: (e: NflogEntry) => void,
): { close(): void } {
  const c = libc();
  // A netlink socket belongs to the namespace it is opened in.
  const fd = ns.inside(() => c.socket(AF_NETLINK, SOCK_RAW | K.SOCK_CLOEXEC, NETLINK_NETFILTER));
  if (fd < 0) throw sysError("socket(AF_NETLINK)");
  let open = true;
  try {
    const addr = new Uint8Array(12);
    new DataView(addr.buffer).setUint16(0, AF_NETLINK, true);
    if (c.bind(fd, addr, addr.length) < 0) throw sysError("bind(AF_NETLINK)");
    const send = (m: Uint8Array, what: string) => {
      if (Number(c.send(fd, m, BigInt(m.length), 0)) !== m.length) throw sysError(`nflog ${what}`);
      checkAck(fd, what);
    };
    send(nflogConfig(1, 0, 0, new Uint8Array([CMD_BIND])), "bind group 0");
    // Copy the whole segment (copy_range is big-endian), so it can be found in the trace.
    const mode = new Uint8Array([0, 0, 0xff, 0xff, COPY_PACKET, 0]);
    send(nflogConfig(2, 0, 0, mode, NFULA_CFG_MODE), "copy mode");
    // With the group bound, nfnetlink_log is loaded: the namespace's logger can be it.
    ns.writeSysctl("net.netfilter.nf_log.2", "nfnetlink_log"); // NFPROTO_IPV4
    ns.writeSysctl("net.netfilter.nf_log.10", "nfnetlink_log"); // NFPROTO_IPV6
    ns.writeSysctl("net.netfilter.nf_conntrack_log_invalid", K.IPPROTO_TCP);
  } catch (e) {
    c.close(fd);
    throw e;
  }
  const buf = new Uint8Array(1 << 16);
  /** Takes one message if there is one; false when none was waiting. */
  const take = () => {
    const n = Number(c.recv(fd, buf, BigInt(buf.length), MSG_DONTWAIT));
    if (n <= 0) return false;
    for (const e of parseNflog(buf.subarray(0, n))) onEntry(e);
    return true;
  };
  void (async () => {
    while (open) {
      const r = await waiter.wait(fd, K.POLLIN, Infinity);
      if (r === "cancelled" || !open) return;
      take();
    }
  })();
  return {
    close() {
      if (!open) return;
      open = false;
      // The kernel sends each message as it logs (queue threshold 1): what the run's last
      // segments drew is here already.
      while (take());
      c.close(fd);
    },
  };
}
