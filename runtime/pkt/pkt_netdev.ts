/**
 * The wire of a packetdrill run, as packetdrill's `netdev.c` builds it, in a
 * private network namespace:
 *
 * - **tun0** with IFF_VNET_HDR and TUNSETOFFLOAD(CSUM, TSO4, TSO6, TSO_ECN),
 *   like a typical Ethernet device: the kernel sends TSO super-segments, as
 *   the scripts expect (`> P. 1:14601(14600)`), and a script's injected
 *   segment is written whole.
 * - **Addresses** from the run's settings: the local address on tun0, a
 *   route to the remote one through it, the MTU (`--mtu`).
 * - **Sniffing** through an AF_PACKET socket on tun0, outgoing packets only,
 *   each with the kernel's own timestamp (SO_TIMESTAMPNS). A packet's time
 *   is when the kernel sent it, not when synack got round to reading it, so
 *   timing verdicts do not depend on how busy this process is. The TUN queue
 *   is drained too: the kernel frees a sent skb (and reports MSG_ZEROCOPY
 *   completions) only once its packet has been read.
 *
 * All times are CLOCK_REALTIME microseconds (`nowUsecs()`), the clock the
 * packet timestamps use.
 *
 * @example
 * ```ts ignore
 * // root only
 * const dev = await PktNetdev.open(pktConfig([]));
 * dev.inject(bytes);
 * const p = await dev.next(nowUsecs() + 2_000_000);
 * await dev.close();
 * ```
 */
import { FdWaiter } from "../kernel/fd_waiter.ts";
import { cString, K, libc, sysError } from "../kernel/libc.ts";
import { PrivateNetns } from "../kernel/netns.ts";
import { openPacketSocket } from "../kernel/packet_socket.ts";
import { openTun } from "../kernel/tun_backend.ts";
import type { PktConfig } from "./pkt_config.ts";

const IFF_VNET_HDR = 0x4000;
const TUNSETOFFLOAD = 0x400454d0;
const TUN_F = { CSUM: 1, TSO4: 2, TSO6: 4, TSO_ECN: 8 };
const VNET_HDR = 10;
const VIRTIO_GSO_TCPV4 = 1;
const VIRTIO_GSO_TCPV6 = 4;
const SO_TIMESTAMPNS = 35;
const PACKET_OUTGOING = 4;

const ts = new BigInt64Array(2);
const tsBytes = new Uint8Array(ts.buffer);

/** CLOCK_REALTIME in microseconds. */
export function nowUsecs(): number {
  libc().clock_gettime(0, tsBytes);
  return Number(ts[0]) * 1e6 + Math.floor(Number(ts[1]) / 1000);
}

/** One outgoing datagram and when the kernel sent it. */
export interface Sniffed {
  bytes: Uint8Array;
  timeUsecs: number;
}

/** tun0 in a namespace of its own, with a sniffer on it. */
export class PktNetdev {
  readonly #queue: Sniffed[] = [];
  #closed = false;
  readonly #pktBuf = new Uint8Array(new ArrayBuffer(70000));
  readonly #tunBuf = new Uint8Array(new ArrayBuffer(70000));
  readonly #msg = new Uint8Array(new ArrayBuffer(56));
  readonly #name = new Uint8Array(new ArrayBuffer(32));
  readonly #ctl = new Uint8Array(new ArrayBuffer(128));
  readonly #iov = new Uint8Array(new ArrayBuffer(16));

  private constructor(
    readonly ns: PrivateNetns,
    readonly waiter: FdWaiter,
    readonly tun: number,
    readonly sniffer: number,
  ) {
    const ptr = (b: Uint8Array) =>
      BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(b as Uint8Array<ArrayBuffer>)));
    const iv = new DataView(this.#iov.buffer);
    iv.setBigUint64(0, ptr(this.#pktBuf), true);
    iv.setBigUint64(8, BigInt(this.#pktBuf.length), true);
    const mv = new DataView(this.#msg.buffer);
    mv.setBigUint64(0, ptr(this.#name), true);
    mv.setBigUint64(16, ptr(this.#iov), true);
    mv.setBigUint64(24, 1n, true);
    mv.setBigUint64(32, ptr(this.#ctl), true);
    void this.#pump(this.sniffer, () => this.#readSniffer());
    void this.#pump(this.tun, () => this.#drainTun());
  }

  /**
   * Makes the namespace and tun0, addresses and routes. Needs root.
   * `created` is called as soon as the namespace exists.
   */
  static async open(c: PktConfig, created?: (ns: PrivateNetns) => void): Promise<PktNetdev> {
    const ns = PrivateNetns.create();
    // What else needs the namespace (the shell helper) starts now, alongside the setup below.
    created?.(ns);
    const lib = libc();
    let tun = -1;
    let sniffer = -1;
    try {
      tun = ns.inside(() => openTunTso());
      const v6wire = c.ipVersion === "ipv6";
      // One `ip -batch` for the whole configuration: one process, not four.
      await ns.exec(
        ["ip", "-batch", "-"],
        [
          "link set lo up",
          `link set tun0 mtu ${c.mtu} up`,
          `addr add ${c.localIp}/${c.prefixLen} dev tun0${v6wire ? " nodad" : ""}`,
          `route add ${c.remoteIp}/${v6wire ? 128 : 32} dev tun0`,
          "",
        ].join("\n"),
      );
      sniffer = ns.inside(() => {
        const ifindex = lib.if_nametoindex(cString("tun0"));
        if (!ifindex) throw sysError("if_nametoindex(tun0)", lib);
        return openPacketSocket(ifindex);
      });
      const one = new Uint8Array([1, 0, 0, 0]);
      lib.setsockopt(sniffer, K.SOL_SOCKET, SO_TIMESTAMPNS, one, 4);
      return new PktNetdev(ns, new FdWaiter(), tun, sniffer);
    } catch (e) {
      if (sniffer >= 0) lib.close(sniffer);
      if (tun >= 0) lib.close(tun);
      ns.close();
      throw e;
    }
  }

  async #pump(fd: number, drain: () => void): Promise<void> {
    while (!this.#closed) {
      const r = await this.waiter.wait(fd, K.POLLIN, Infinity);
      if (r === "cancelled" || this.#closed) return;
      drain();
    }
  }

  #drainTun(): void {
    const lib = libc();
    while (Number(lib.read(this.tun, this.#tunBuf, BigInt(this.#tunBuf.length))) > 0) {
      // Only freeing the kernel's skb matters; the copy the sniffer took is the one checked.
    }
  }

  #readSniffer(): void {
    const lib = libc();
    const mv = new DataView(this.#msg.buffer);
    for (;;) {
      mv.setUint32(8, this.#name.length, true);
      mv.setBigUint64(40, BigInt(this.#ctl.length), true);
      const n = Number(lib.recvmsg(this.sniffer, this.#msg, 0x40 /* MSG_DONTWAIT */));
      if (n <= 0) break;
      if (this.#name[10] !== PACKET_OUTGOING) continue;
      const bytes = this.#pktBuf.slice(0, n);
      this.#queue.push({ bytes, timeUsecs: this.#stamp() ?? nowUsecs() });
    }
    this.#drainTun();
  }

  /** The SCM_TIMESTAMPNS of the last recvmsg. */
  #stamp(): number | undefined {
    const mv = new DataView(this.#msg.buffer);
    const len = Number(mv.getBigUint64(40, true));
    const cv = new DataView(this.#ctl.buffer);
    for (let at = 0; at + 16 <= len;) {
      const l = Number(cv.getBigUint64(at, true));
      if (l < 16) break;
      if (
        cv.getInt32(at + 8, true) === K.SOL_SOCKET && cv.getInt32(at + 12, true) === SO_TIMESTAMPNS
      ) {
        return Number(cv.getBigInt64(at + 16, true)) * 1e6 +
          Math.floor(Number(cv.getBigInt64(at + 24, true)) / 1000);
      }
      at += (l + 7) & ~7;
    }
    return undefined;
  }

  /** Writes one datagram to tun0, as if it came from the wire; `gsoSize` makes it a GSO packet. */
  inject(bytes: Uint8Array, gsoSize = 0): void {
    const b = new Uint8Array(VNET_HDR + bytes.length);
    b.set(bytes, VNET_HDR);
    if (gsoSize) {
      // A TCP segment longer than --mss comes in as one GSO packet of mss-sized segments, as
      // packetdrill writes it: the kernel then estimates the peer's MSS from gso_size.
      b[1] = bytes[0] >> 4 === 6 ? VIRTIO_GSO_TCPV6 : VIRTIO_GSO_TCPV4;
      new DataView(b.buffer).setUint16(4, gsoSize, true);
    }
    const n = Number(libc().write(this.tun, b, BigInt(b.length)));
    if (n !== b.length) {
      throw new Error(`writing ${bytes.length} bytes to tun0 failed: ${libc().errnoName()}`);
    }
  }

  /**
   * The next outgoing datagram, or undefined once `deadlineUsecs` passes.
   * Waits in poll(2) on this thread, which wakes the moment the kernel
   * sends, as packetdrill's own sniffing does.
   */
  next(deadlineUsecs: number): Sniffed | undefined {
    const pfd = new Uint8Array(8);
    const pv = new DataView(pfd.buffer);
    pv.setInt32(0, this.sniffer, true);
    pv.setInt16(4, K.POLLIN, true);
    for (;;) {
      this.#readSniffer();
      const p = this.#queue.shift();
      if (p) return p;
      const left = deadlineUsecs - nowUsecs();
      if (left <= 0 || this.#closed) return undefined;
      libc().poll(pfd, 1n, Math.max(1, Math.min(Math.ceil(left / 1000), 1000)));
    }
  }

  /** Closes the sniffer, the device and the namespace. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.waiter.close();
    const lib = libc();
    lib.close(this.sniffer);
    lib.closeAsync(this.tun).catch(() => {});
    this.ns.close();
  }
}

/** tun0 with a virtio header on each packet and the offloads of a typical Ethernet device. */
function openTunTso(): number {
  const c = libc();
  const fd = openTun("tun0", IFF_VNET_HDR);
  // TUNSETOFFLOAD takes its flags as the argument itself, not a pointer.
  const off = TUN_F.CSUM | TUN_F.TSO4 | TUN_F.TSO6 | TUN_F.TSO_ECN;
  if (c.ioctlInt(fd, BigInt(TUNSETOFFLOAD), BigInt(off)) !== 0) {
    const e = sysError("ioctl(TUNSETOFFLOAD)", c);
    c.close(fd);
    throw e;
  }
  return fd;
}
