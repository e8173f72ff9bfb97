/**
 * Connections as packetdrill follows them (`socket.h`, `run_packet.c`'s
 * find_or_create_socket_for_script_packet): one socket under test at a
 * time; an injected SYN on a listener makes a new one (the remote port a
 * fresh one, the remote ISN the SYN's own seq); connect() and sendto() with
 * MSG_FASTOPEN make an active one, whose local port and ISN come from the
 * SYN the kernel sends; accept() gives the passive one its fd.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PktSockets } from "./pkt_sockets.ts";
 * import { pktConfig } from "./pkt_config.ts";
 * const s = new PktSockets(pktConfig([]));
 * s.hooks().listen(3);
 * import { parsePkt } from "../../dsl/pkt/pkt_parser.ts";
 * const line = parsePkt("0 < S 0:0(0) win 1\n", "x.pkt").events[0].action;
 * assert.ok(line.kind === "packet");
 * const conn = s.forLine(line.packet)!;
 * assert.deepEqual([conn.state, conn.localPort, conn.listenFd], ["synReceived", 8080, 3]);
 * s.hooks().accept(3, 4);
 * assert.equal(s.underTest?.scriptFd, 4);
 * ```
 */
import type { PktPacket } from "../../dsl/pkt/pkt_ast.ts";
import type { PktConfig } from "./pkt_config.ts";
import { flagBits, type LivePacket, type PktConn } from "./pkt_packet.ts";
import type { CallHooks } from "./pkt_syscalls.ts";

/** Every connection of a run, and the one under test. */
export class PktSockets {
  readonly conns: PktConn[] = [];
  readonly listeners = new Set<number>();
  underTest: PktConn | undefined;
  /** The remote port of the next injected SYN: any port works in a namespace of its own. */
  nextPort = 40000 + Math.floor(Math.random() * 20000);

  constructor(readonly c: PktConfig) {}

  /** What the system calls tell this table. */
  hooks(): CallHooks {
    return {
      socket: (fd, info) => {
        // A UDP socket has one "connection" from the start: its packets are its own.
        if (!info.dgram) return;
        const conn = this.newConn("established", fd);
        conn.proto = "udp";
        this.underTest = conn;
      },
      bind: (fd, port) => {
        const conn = this.conns.find((k) => k.proto === "udp" && k.scriptFd === fd);
        if (conn) conn.localPort = port;
      },
      listen: (fd: number) => {
        this.listeners.add(fd);
      },
      connect: (fd: number) => {
        const udp = this.conns.find((k) => k.proto === "udp" && k.scriptFd === fd);
        if (udp) {
          udp.remotePort = this.c.connectPort;
          return;
        }
        const conn = this.newConn("connecting", fd);
        conn.remotePort = this.c.connectPort;
        this.underTest = conn;
      },
      accept: (listenFd: number, fd: number) => {
        const conn = this.conns.find((k) => k.listenFd === listenFd && k.scriptFd === undefined);
        if (conn) {
          conn.scriptFd = fd;
          this.underTest = conn;
        }
      },
      close: (fd: number) => {
        this.listeners.delete(fd);
      },
    };
  }

  newConn(state: PktConn["state"], fd?: number): PktConn {
    const conn: PktConn = {
      state,
      scriptFd: fd,
      localPort: 0,
      remotePort: 0,
      script: { localIsn: 0, remoteIsn: 0 },
      live: { localIsn: 0, remoteIsn: 0 },
      tsVals: new Map(),
    };
    this.conns.push(conn);
    return conn;
  }

  /** The connection a packet line is about (packetdrill's find_or_create_socket_for_script_packet). */
  forLine(p: PktPacket): PktConn | undefined {
    if (p.transport.kind === "udp") {
      const u = this.underTest?.proto === "udp" ? this.underTest : undefined;
      if (u && !u.remotePort) u.remotePort = this.nextPort++;
      return u;
    }
    if (p.transport.kind === "tcp") {
      const { bits } = flagBits(p.transport.flags);
      const syn = (bits & 0x02) !== 0;
      const ack = (bits & 0x10) !== 0;
      if (p.dir === "in" && syn && !ack && this.listeners.size) {
        const listenFd = [...this.listeners].at(-1)!;
        const conn = this.newConn("synReceived");
        conn.listenFd = listenFd;
        conn.localPort = this.c.bindPort;
        conn.remotePort = this.nextPort++;
        conn.script.remoteIsn = conn.live.remoteIsn = p.transport.seq;
        this.underTest = conn;
        return conn;
      }
      if (p.dir === "out" && syn && !ack && this.underTest?.state === "connecting") {
        this.underTest.state = "synSent";
        this.underTest.script.localIsn = p.transport.seq;
        return this.underTest;
      }
    }
    return this.underTest;
  }

  /** Which connection a sniffed packet belongs to; learns a connecting socket's port from its SYN. */
  owner(live: LivePacket): PktConn | undefined {
    // ICMP the stack sends (a port unreachable) is about the socket under test.
    if (live.proto === 1 || live.proto === 58) return this.underTest;
    if (live.proto === 17) {
      const udp = this.conns.find((k) =>
        k.proto === "udp" && (!k.localPort || k.localPort === live.srcPort)
      );
      if (udp) {
        udp.localPort ||= live.srcPort;
        udp.remotePort ||= live.dstPort;
      }
      return udp;
    }
    const exact = this.conns.find((k) =>
      k.proto !== "udp" &&
      k.localPort === live.srcPort && k.remotePort === live.dstPort
    );
    if (exact) return exact;
    const u = this.underTest;
    if (
      u && (u.state === "synSent" || u.state === "connecting") && !u.localPort &&
      live.dstPort === u.remotePort && live.flags & 0x02
    ) {
      u.localPort = live.srcPort;
      return u;
    }
    return undefined;
  }
}
