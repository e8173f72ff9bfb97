/**
 * A TUN device as a `Backend`: what the script injects is written to the
 * device and arrives at the kernel as if from the wire; what the kernel
 * routes to the script's addresses is read back. IFF_TUN | IFF_NO_PI, so
 * each read and write is one bare IPv4 or IPv6 datagram; the fd is
 * non-blocking and reads wait in poll(2) on a worker thread.
 *
 * Only datagrams from the stack's own addresses are handed to the runner.
 * The kernel also sends IPv6 router solicitations and MLD reports from its
 * link-local address when the device comes up; those are not the scenario's.
 *
 * A datagram's time is when it arrived, not when the runner asked for it: a
 * pump keeps one poll(2) on the fd at all times, and reads what comes as it
 * comes, during a `wait()` too (two SYN-ACK retransmissions during a wait
 * show 1 s apart, not both at its end). Closing the fd, which takes the
 * kernel a few tens of milliseconds for a TUN device, is done on a worker
 * thread: the next scenario does not wait for it.
 *
 * @example
 * ```ts ignore
 * import { openTun } from "./tun_backend.ts";
 * const fd = ns.inside(() => openTun("tun0")); // root, inside a PrivateNetns
 * ```
 */
import type { Clock } from "../engine/clock.ts";
import { receiveQueued } from "../engine/queue_receive.ts";
import type { Backend, Received } from "../engine/target.ts";
import type { FdWaiter } from "./fd_waiter.ts";
import { cString, K, libc, sysError } from "./libc.ts";

/**
 * Opens /dev/net/tun and creates interface `name`. Call it inside the
 * namespace. `flags` are added to IFF_TUN | IFF_NO_PI (IFF_VNET_HDR).
 */
export function openTun(name: string, flags = 0): number {
  if (name.length > 15) throw new RangeError(`TUN name ${JSON.stringify(name)} is over 15 bytes`);
  const c = libc();
  const fd = c.open(cString("/dev/net/tun"), K.O_RDWR | K.O_NONBLOCK | K.O_CLOEXEC, 0);
  if (fd < 0) throw sysError("open(/dev/net/tun)", c);
  // struct ifreq: char ifr_name[16]; short ifr_flags; padding to 40 bytes.
  const ifr = new Uint8Array(40);
  ifr.set(cString(name));
  new DataView(ifr.buffer).setUint16(16, K.IFF_TUN | K.IFF_NO_PI | flags, true);
  if (c.ioctl(fd, BigInt(K.TUNSETIFF), ifr) !== 0) {
    const e = sysError("ioctl(TUNSETIFF)", c);
    c.close(fd);
    throw e;
  }
  return fd;
}

/** True when `bytes` is an IPv4 or IPv6 datagram whose source is one of `sources`. */
export function fromOneOf(bytes: Uint8Array, sources: readonly Uint8Array[]): boolean {
  const ver = bytes[0] >> 4;
  const [at, len] = ver === 4 ? [12, 4] : ver === 6 ? [8, 16] : [0, 0];
  if (!len || bytes.length < at + len) return false;
  return sources.some((s) => {
    if (s.length !== len) return false;
    for (let i = 0; i < len; i++) if (bytes[at + i] !== s[i]) return false;
    return true;
  });
}

/**
 * True for a datagram a host sends on purpose: not from an IPv6 link-local
 * address and not to a multicast group (router solicitations, MLD reports).
 */
export function notLinkLocal(bytes: Uint8Array): boolean {
  const ver = bytes[0] >> 4;
  if (ver === 4) return bytes.length >= 20 && (bytes[16] & 0xf0) !== 0xe0;
  if (ver !== 6 || bytes.length < 40) return false;
  const fe80 = bytes[8] === 0xfe && (bytes[9] & 0xc0) === 0x80;
  return !fe80 && bytes[24] !== 0xff;
}

/** Reads and writes datagrams on an fd (TUN, or a packet socket through `io`). */
export class FdBackend implements Backend {
  readonly #fd: number;
  readonly #clock: Clock;
  readonly #waiter: FdWaiter;
  readonly #accept: (bytes: Uint8Array) => boolean;
  readonly #io: DatagramIo;
  readonly #queue: Received[] = [];
  readonly #buf = new Uint8Array(65536);
  #closed = false;
  /** When set, takes each datagram as it is read, instead of the queue (a live peer). */
  onPacket?: ((bytes: Uint8Array, time: number) => void) | undefined;
  /** Sees each datagram written (just before) and each one read (the kernel's reasons). */
  tap?: { injected(bytes: Uint8Array): void; received(bytes: Uint8Array): void } | undefined;

  constructor(
    fd: number,
    clock: Clock,
    waiter: FdWaiter,
    sources: readonly Uint8Array[] | ((bytes: Uint8Array) => boolean),
    io: DatagramIo = fdIo,
  ) {
    this.#fd = fd;
    this.#clock = clock;
    this.#waiter = waiter;
    this.#accept = typeof sources === "function" ? sources : (b) => fromOneOf(b, sources);
    this.#io = io;
    this.#pump();
  }

  /** Reads datagrams as they arrive, until the waiter is cancelled or the fd closed. */
  async #pump(): Promise<void> {
    while (!this.#closed) {
      const r = await this.#waiter.wait(this.#fd, K.POLLIN, Infinity);
      if (r === "cancelled" || this.#closed) return;
      this.#drain();
      this.#clock.poke();
    }
  }

  send(bytes: Uint8Array): void {
    if (this.#closed) throw new Error("The TUN device is closed");
    this.tap?.injected(bytes);
    const n = this.#io.write(this.#fd, bytes);
    if (n !== bytes.length) {
      throw new Error(
        `Writing ${bytes.length} bytes to the device failed: ${n < 0 ? libc().errnoName() : n}`,
      );
    }
  }

  /** Moves every datagram the kernel has queued into our queue, without waiting. */
  #drain(): void {
    for (;;) {
      const n = this.#io.read(this.#fd, this.#buf);
      if (n <= 0) return;
      const bytes = this.#buf.slice(0, n);
      if (!this.#accept(bytes)) continue;
      this.tap?.received(bytes);
      if (this.onPacket) this.onPacket(bytes, this.#clock.now());
      else this.#queue.push({ bytes, time: this.#clock.now() });
    }
  }

  receive(deadline: number, signal?: AbortSignal): Promise<Received | undefined> {
    // The pump pokes the clock when something arrives.
    return receiveQueued(this.#queue, this.#clock, deadline, signal, {
      stopped: () => this.#closed || this.#waiter.cancelled,
      refill: () => this.#drain(),
    });
  }

  pending(): number {
    if (!this.#closed) this.#drain();
    return this.#queue.length;
  }

  /**
   * Closes the fd on a worker thread, without waiting for it; call once the
   * waiter is closed, so that no poll still watches the fd.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    libc().closeAsync(this.#fd).catch(() => {});
  }
}

/** How an `FdBackend` moves one datagram: plain read/write, or sendto on a packet socket. */
export interface DatagramIo {
  /** Bytes written, or -1 with errno set. */
  write(fd: number, bytes: Uint8Array): number;
  /** Bytes read; 0 or less when nothing is waiting. */
  read(fd: number, buf: Uint8Array): number;
}

const fdIo: DatagramIo = {
  write: (fd, b) => Number(libc().write(fd, b, BigInt(b.length))),
  read: (fd, buf) => Number(libc().read(fd, buf, BigInt(buf.length))),
};
