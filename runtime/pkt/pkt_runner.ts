/**
 * Runs a packetdrill script against the Linux kernel in a private network
 * namespace, with packetdrill's semantics and verdict (`run.c`,
 * `run_packet.c`, `run_system_call.c`): events in order at their times,
 * injected packets mapped to live numbers, sniffed ones checked field by
 * field, system calls checked by result and errno, backtick commands in the
 * namespace, `%{ }%` blocks after the end. The first error ends the run, as
 * packetdrill's `die()` does; the cleanup command runs either way.
 *
 * A failure names the script line and says what was expected and what came,
 * with the packets as lines on both sides:
 *
 * ```text
 * tcp_x.pkt:21: error handling packet: live packet payload: expected 5000 bytes vs actual 6000 bytes
 *   script packet:  0.300000 P. 1:5001(5000) ack 1
 *   actual packet:  0.300417 P. 1:6001(6000) ack 1 win 502
 * ```
 *
 * @example
 * ```ts ignore
 * // root only
 * const r = await runPkt(parsePkt(text, "x.pkt"), pktConfig([]), { dir: "." });
 * console.log(r.passed ? "PASS" : r.failure!.message);
 * ```
 */
import type { PktEvent, PktPacket, PktScript, PktSyscall } from "../../dsl/pkt/pkt_ast.ts";
import { assertNever } from "../wire/assert_never.ts";
import { PktCode } from "./pkt_code.ts";
import type { PktConfig } from "./pkt_config.ts";
import { Arena } from "./pkt_memory.ts";
import { nowUsecs, PktNetdev, type Sniffed } from "./pkt_netdev.ts";
import { describeLive, errnoLabel, scriptLine, short, tail } from "./pkt_lines.ts";
import {
  aggregate,
  flagBits,
  inboundIcmp,
  inboundTcp,
  inboundUdp,
  type LivePacket,
  parseLive,
  type PktConn,
  verifyIcmp,
  verifyTcp,
  verifyUdp,
  wireAddrs,
} from "./pkt_packet.ts";
import { PktShell } from "./pkt_shell.ts";
import { PktSockets } from "./pkt_sockets.ts";
import { sockoptBytes } from "./pkt_structs.ts";
import { errnoNumber } from "./pkt_symbols.ts";
import { type CallOutcome, PktCalls } from "./pkt_syscalls.ts";
import { type Expected, seconds, verifyTime } from "./pkt_timing.ts";
import { describe, numberOf, PktCallError } from "./pkt_values.ts";
import { libc } from "../kernel/libc.ts";

/** Why a run failed, in packetdrill's categories (what `synack test --pkt` compares). */
export type PktFailureKind =
  | "timing"
  | "payload"
  | "packet"
  | "timeout"
  | "socket"
  | "syscall"
  | "command"
  | "python"
  | "unsupported"
  | "setup";

/** The first error of a run. */
export interface PktFailure {
  line: number;
  kind: PktFailureKind;
  /** packetdrill-style text: `file.pkt:21: error handling packet: …`. */
  message: string;
  /** Further lines: the script and actual packets, a Python traceback's last line. */
  detail: string[];
}

/** A run's verdict. */
export interface PktResult {
  file: string;
  passed: boolean;
  failure?: PktFailure | undefined;
  events: number;
  elapsedMs: number;
  /** Mismatches `--non_fatal` let pass, one line each. */
  warnings?: string[] | undefined;
  /** `--dry_run`: parsed, not run. */
  dryRun?: boolean | undefined;
  /**
   * How late synack itself was, at worst: an injection or call after its
   * time, or a sent packet noticed after it came (µs), and at which line.
   */
  late?: { usecs: number; line: number } | undefined;
  /** Earlier runs of the same job thrown away because synack was late in them (`runPktFile`). */
  reruns?: { usecs: number; line: number }[] | undefined;
  /**
   * A timing failure seen while other runs shared the machine, which a run
   * alone did not repeat (`runPktJobs`): the first failure's message.
   */
  underLoad?: string | undefined;
}

class Stop extends Error {
  constructor(readonly failure: PktFailure) {
    super(failure.message);
  }
}

interface Blocking {
  event: PktEvent;
  call: PktSyscall;
  endUsecs: number;
  lastUsecs: number | undefined;
  done?: { out: CallOutcome; at: number } | undefined;
  error?: unknown;
}

/** Runs `script` with `config`; `dir` is where its backtick commands run (the script's folder). */
export async function runPkt(
  script: PktScript,
  config: PktConfig,
  opts: { dir: string },
): Promise<PktResult> {
  const started = performance.now();
  const run = new Run(script, config);
  let failure: PktFailure | undefined;
  try {
    failure = await run.execute(opts.dir);
  } finally {
    await run.close();
  }
  return {
    file: script.file,
    passed: !failure,
    failure,
    events: run.eventsDone,
    elapsedMs: performance.now() - started,
    warnings: run.warnings,
    late: run.late,
  };
}

class Run {
  dev?: PktNetdev;
  shell?: PktShell;
  calls?: PktCalls;
  readonly arena = new Arena();
  readonly code = new PktCode();
  readonly sockets: PktSockets;
  readonly addrs: { local: Uint8Array; remote: Uint8Array };
  liveStart = 0;
  lastEvent: { event: PktEvent; usecs: number } | undefined;
  blocking: Blocking | undefined;
  eventsDone = 0;
  initComplaints: string[] = [];
  readonly warnings: string[] = [];
  late: { usecs: number; line: number } | undefined;

  constructor(readonly script: PktScript, readonly c: PktConfig) {
    this.sockets = new PktSockets(c);
    this.addrs = wireAddrs(c);
  }

  fail(line: number, kind: PktFailureKind, text: string, detail: string[] = []): never {
    throw new Stop({ line, kind, message: `${this.script.file}:${line}: ${text}`, detail });
  }

  /**
   * A mismatch that `--non_fatal=packet` (a packet's fields, payload or
   * time) or `--non_fatal=syscall` (a call's result) turns into a warning,
   * as packetdrill's STATUS_WARN; without the flag, a failure.
   */
  soft(line: number, kind: PktFailureKind, text: string, detail: string[] = []): void {
    const warn = kind === "syscall" ? this.c.nonFatal.syscall : this.c.nonFatal.packet;
    if (!warn) this.fail(line, kind, text, detail);
    this.warnings.push(
      `${this.script.file}:${line}: warning: ${text.replace(/^error handling/, "handling")}`,
    );
  }

  async execute(dir: string): Promise<PktFailure | undefined> {
    let failure: PktFailure | undefined;
    try {
      this.unsupported();
      try {
        // The helper for backtick commands starts only for a script that has some, while tun0 is set up.
        const commands = this.script.init || this.script.cleanup ||
          this.script.events.some((e) => e.action.kind === "command");
        let shell: Promise<PktShell> | undefined;
        this.dev = await PktNetdev.open(this.c, (ns) => {
          if (commands) shell = PktShell.start(ns.path, dir);
        });
        this.shell = await shell;
      } catch (e) {
        this.fail(0, "setup", `setting up the namespace failed: ${(e as Error).message}`);
      }
      this.calls = new PktCalls(
        this.c,
        this.dev.ns,
        this.dev.waiter,
        this.arena,
        this.sockets.hooks(),
      );
      if (this.script.init) {
        const r = await this.shell!.run(this.script.init.text);
        this.initComplaints = r.err.trim().split("\n").filter(Boolean);
        if (r.status !== 0) {
          this.fail(
            this.script.init.line,
            "command",
            `error executing init command: non-zero status ${r.status}`,
            tail(r.err),
          );
        }
      }
      realtime(true);
      this.liveStart = nowUsecs();
      for (const e of this.script.events) {
        this.calls.recheck();
        await Promise.resolve();
        await this.settleBlocking();
        const t0 = this.now();
        await this.event(e);
        if (this.c.verbose) {
          console.error(
            `${this.script.file}:${e.line}: ${e.action.kind} ${seconds(t0)} → ${
              seconds(this.now())
            } s`,
          );
        }
        this.eventsDone++;
      }
      await this.finishBlocking();
    } catch (e) {
      if (!(e instanceof Stop)) throw e;
      failure = e.failure;
    } finally {
      realtime(false);
    }
    if (this.script.cleanup && this.shell) {
      const r = await this.shell.run(this.script.cleanup.text);
      if (r.status !== 0 && !failure) {
        failure = {
          line: this.script.cleanup.line,
          kind: "command",
          message:
            `${this.script.file}: error executing cleanup command: non-zero status ${r.status}`,
          detail: tail(r.err),
        };
      }
    }
    if (!failure) {
      const py = await this.code.execute(dir).catch((e) => ({ line: 0, message: String(e) }));
      if (py) {
        failure = {
          line: py.line,
          kind: "python",
          message: `${this.script.file}:${py.line}: error in Python code`,
          detail: [py.message],
        };
      }
    }
    if (failure) failure.detail.push(...this.context());
    return failure;
  }

  /** Outer headers parse, but this runner does not inject or expect them. */
  unsupported(): void {
    for (const e of this.script.events) {
      if (e.action.kind !== "packet") continue;
      const p = e.action.packet;
      if (p.outer.length) {
        this.fail(
          e.line,
          "unsupported",
          `outer ${
            p.outer[0].kind
          } headers are not supported: synack's namespace has no tunnel device to carry them`,
        );
      }
    }
  }

  // ---- time ------------------------------------------------------------------

  now(): number {
    return nowUsecs() - this.liveStart;
  }

  /** The event's expected time (script µs from the start), anchoring relative times as packetdrill does. */
  expected(e: PktEvent): Expected & { anchor: number } {
    const t = e.time;
    const inbound = (x: PktEvent) => x.action.kind === "packet" && x.action.packet.dir === "in";
    const offset = () =>
      this.lastEvent && inbound(this.lastEvent.event) && inbound(e)
        ? this.lastEvent.usecs
        : this.now();
    switch (t.kind) {
      case "absolute":
        return { kind: "point", usecs: t.usecs, anchor: 0 };
      case "relative": {
        const o = offset();
        return { kind: "point", usecs: o + t.usecs, anchor: o };
      }
      case "any":
        return { kind: "any", anchor: this.now() };
      case "absoluteRange":
        return { kind: "range", usecs: t.usecs, endUsecs: t.endUsecs, anchor: 0 };
      case "relativeRange": {
        const o = offset();
        return {
          kind: "range",
          usecs: o + t.usecs,
          endUsecs: o + t.endUsecs,
          relative: { offset: o },
          anchor: o,
        };
      }
      default:
        return assertNever(t);
    }
  }

  /**
   * Waits until `usecs` (script time) on this thread, as packetdrill does:
   * usleep(3) to just before, then a spin. The thread runs at real-time
   * priority during the script when it may, so a busy machine does not
   * wake it late; nothing else of the run needs the event loop meanwhile
   * (packets wait in the sniffer with their kernel timestamps).
   */
  waitUntil(usecs: number): void {
    for (;;) {
      const left = usecs - this.now();
      if (left <= 0) return;
      if (left > 300) libc().usleep(Math.min(left - 200, 1_000_000));
    }
  }

  /** Keeps the worst lateness of synack's own: what made a run's timing not the stack's alone. */
  noteLate(line: number, usecs: number): void {
    if (usecs > (this.late?.usecs ?? 0)) this.late = { usecs, line };
  }

  checkTime(e: PktEvent, want: Expected, actual: number, what: string): void {
    if (!this.eventsDone) return;
    const err = verifyTime(this.c, want, actual, this.lastEvent?.usecs, what);
    if (err) this.fail(e.line, "timing", err);
  }

  // ---- events ----------------------------------------------------------------

  async event(e: PktEvent): Promise<void> {
    const want = this.expected(e);
    const usecs = want.kind === "any" ? this.now() : want.usecs;
    const a = e.action;
    switch (a.kind) {
      case "packet":
        if (a.packet.dir === "out") this.outbound(e, a.packet, want);
        else {
          this.waitUntil(usecs);
          this.noteLate(e.line, this.now() - usecs);
          this.checkTime(e, want, this.now(), "inbound packet");
          this.inbound(e, a.packet);
        }
        break;
      case "syscall":
        this.waitUntil(usecs);
        this.noteLate(e.line, this.now() - usecs);
        this.checkTime(e, want, this.now(), "system call start");
        await this.syscall(e, a.call, want);
        break;
      case "command": {
        this.waitUntil(usecs);
        this.noteLate(e.line, this.now() - usecs);
        this.checkTime(e, want, this.now(), "command");
        const r = await this.shell!.run(a.text);
        if (r.status !== 0) {
          this.fail(
            e.line,
            "command",
            `error executing \`${a.text.trim()}\` command: non-zero status ${r.status}`,
            tail(r.err),
          );
        }
        break;
      }
      case "code": {
        this.waitUntil(usecs);
        this.noteLate(e.line, this.now() - usecs);
        this.checkTime(e, want, this.now(), "data collection for code");
        this.code.add(this.script.file, e.line, this.code.snapshot(this.realFdUnderTest()), a.text);
        break;
      }
      default:
        assertNever(a);
    }
    this.lastEvent = { event: e, usecs };
  }

  /**
   * What packetdrill does not say and a failure often turns on: the
   * connection's congestion control, and what the init command (defaults.sh)
   * complained about — a sysctl the namespace refused is a setting the script
   * assumed and did not get.
   */
  context(): string[] {
    const out: string[] = [];
    const fd = this.realFdUnderTest();
    if (fd !== undefined) {
      const b = sockoptBytes(fd, 6, 13, /* TCP_CONGESTION */ 16);
      if (b) {
        const cc = new TextDecoder().decode(
          b.subarray(0, b.indexOf(0) < 0 ? b.length : b.indexOf(0)),
        );
        out.push(`the connection ran congestion control ${cc}`);
      }
    }
    for (const l of this.initComplaints.slice(0, 4)) out.push(`the init command said: ${l}`);
    return out;
  }

  realFdUnderTest(): number | undefined {
    const fd = this.sockets.underTest?.scriptFd ?? this.sockets.underTest?.listenFd;
    return fd === undefined ? undefined : this.calls!.fds.get(fd)?.real;
  }

  /** The connection a packet line is about; a line with none fails as packetdrill's does. */
  connFor(e: PktEvent, p: PktPacket): PktConn {
    const conn = this.sockets.forLine(p);
    if (!conn) {
      this.fail(e.line, "socket", "error handling packet: no matching socket for script packet");
    }
    return conn;
  }

  inbound(e: PktEvent, p: PktPacket): void {
    const conn = this.connFor(e, p);
    let bytes: Uint8Array;
    try {
      if (p.transport.kind === "icmp") bytes = inboundIcmp(this.c, p, conn);
      else if (p.transport.kind === "udp") bytes = inboundUdp(this.c, p, conn);
      else {
        const { bits } = flagBits((p.transport as { flags: string }).flags);
        if (conn.state === "synackSent" && bits & 0x10) conn.state = "established";
        else if (conn.state === "synSent" && bits & 0x02 && bits & 0x10) {
          conn.state = "established";
          conn.script.remoteIsn = conn.live.remoteIsn = (p.transport as { seq: number }).seq;
        }
        bytes = inboundTcp(this.c, p, conn);
      }
    } catch (err) {
      this.fail(e.line, "packet", `error handling packet: ${(err as Error).message}`);
    }
    const payload = p.transport.kind === "tcp" ? p.transport.len : 0;
    this.dev!.inject(bytes, payload > this.c.mss ? this.c.mss : 0);
    this.calls!.recheck();
  }

  /**
   * The next packet of the line's protocol from the local address to the
   * remote one (the kernel's own IPv6 router solicitations and MLD reports
   * on tun0 are nobody's), that belongs to `conn`.
   */
  sniff(
    e: PktEvent,
    conn: PktConn,
    deadline: number,
  ): { live: LivePacket; time: number } {
    const t = e.action.kind === "packet" ? e.action.packet.transport.kind : "tcp";
    const protos = t === "tcp" ? [6] : t === "udp" ? [17] : [1, 58];
    const started = this.now();
    for (;;) {
      const got: Sniffed | undefined = this.dev!.next(this.liveStart + deadline);
      if (!got) this.fail(e.line, "timeout", "error handling packet: Timed out waiting for packet");
      const live = parseLive(got.bytes);
      if (!live || !protos.includes(live.proto) || !this.ours(live)) continue;
      const owner = this.sockets.owner(live);
      if (!owner) continue;
      if (owner !== conn) {
        this.fail(e.line, "socket", "error handling packet: packet is not for expected socket", [
          `actual packet: ${describeLive(live, owner)}`,
        ]);
      }
      const time = got.timeUsecs - this.liveStart;
      // How long after the packet came (or after looking began, if it was waiting) this thread woke.
      this.noteLate(e.line, this.now() - Math.max(time, started));
      return { live, time };
    }
  }

  /** True for a datagram from the local address to the remote one. */
  ours(live: LivePacket): boolean {
    const at = live.v6 ? 8 : 12;
    const n = live.v6 ? 16 : 4;
    const same = (a: Uint8Array, off: number) => a.every((x, i) => live.bytes[off + i] === x);
    return same(this.addrs.local, at) && same(this.addrs.remote, at + n);
  }

  outbound(e: PktEvent, p: PktPacket, want: Expected): void {
    const conn = this.connFor(e, p);
    const t = p.transport;
    if (t.kind !== "tcp") return this.outboundOther(e, p, want, conn);
    const syn = (flagBits(t.flags).bits & 0x12) === 0x12;
    if (conn.state === "synReceived" && syn) conn.script.localIsn = t.seq;
    const end = want.kind === "range"
      ? want.endUsecs
      : want.kind === "point"
      ? want.usecs
      : this.now() + 8_000_000;
    const deadline = Math.max(end, this.now()) + 2_000_000;
    const first = this.sniff(e, conn, deadline);
    if (conn.state === "synReceived" && syn) {
      conn.state = "synackSent";
      conn.live.localIsn = first.live.seq;
    }
    if (conn.state === "synSent" && (first.live.flags & 0x12) === 0x02) {
      conn.live.localIsn = first.live.seq;
    }
    let live = first.live;
    let total = live.payloadLen;
    const parts = [live];
    // Segments of one scripted packet are gathered; the whole counts as sent when its last part was.
    let sentAt = first.time;
    while (total < t.len && !this.c.strictSegments) {
      const next = this.sniff(e, conn, deadline);
      parts.push(next.live);
      total += next.live.payloadLen;
      sentAt = next.time;
    }
    if (parts.length > 1) live = aggregate(parts);
    const shown = (l: LivePacket) => [
      `script packet: ${(want.kind === "point" ? want.usecs / 1e6 : 0).toFixed(6)} ${
        scriptLine(p)
      }`,
      `actual packet: ${(sentAt / 1e6).toFixed(6)} ${describeLive(l, conn)}${
        parts.length > 1 ? ` (${parts.length} segments)` : ""
      }`,
    ];
    if (total !== t.len) {
      this.fail(
        e.line,
        "payload",
        `error handling packet: live packet payload: expected ${t.len} bytes vs actual ${total} bytes`,
        shown(live),
      );
    }
    const bad = verifyTcp(this.c, p, live, conn);
    // A header mismatch under --non_fatal=packet is its one warning: the time is not checked then.
    if (bad) return this.soft(e.line, "packet", `error handling packet: ${bad}`, shown(live));
    if (this.c.verbose) {
      console.error(
        `${this.script.file}:${e.line}: sniffed ${seconds(sentAt)} ${describeLive(live, conn)}`,
      );
    }
    const late = verifyTime(this.c, want, sentAt, this.lastEvent?.usecs, "outbound packet");
    if (late) this.soft(e.line, "timing", `error handling packet: ${late}`, shown(live));
  }

  /** An outbound udp or icmp line: one datagram, checked as packetdrill checks them. */
  outboundOther(e: PktEvent, p: PktPacket, want: Expected, conn: PktConn): void {
    const end = want.kind === "range"
      ? want.endUsecs
      : want.kind === "point"
      ? want.usecs
      : this.now() + 8_000_000;
    const got = this.sniff(e, conn, Math.max(end, this.now()) + 2_000_000);
    const bad = p.transport.kind === "udp"
      ? verifyUdp(p, got.live)
      : verifyIcmp(this.c, p, got.live);
    if (bad) return this.soft(e.line, "packet", `error handling packet: ${bad}`);
    const late = verifyTime(this.c, want, got.time, this.lastEvent?.usecs, "outbound packet");
    if (late) this.soft(e.line, "timing", `error handling packet: ${late}`);
  }

  // ---- system calls ------------------------------------------------------------

  async syscall(e: PktEvent, call: PktSyscall, want: Expected & { anchor: number }): Promise<void> {
    const calls = this.calls!;
    if (call.endUsecs !== undefined) {
      if (this.blocking) {
        this.fail(
          e.line,
          "syscall",
          "blocking system call while another blocking system call is already in progress",
        );
      }
      const endUsecs = call.endUsecs + (e.time.kind === "relative" ? want.anchor : 0);
      const b: Blocking = { event: e, call, endUsecs, lastUsecs: this.lastEvent?.usecs };
      this.blocking = b;
      calls.run(call).then(
        (out) => (b.done = { out, at: (out.doneUsecs ?? nowUsecs()) - this.liveStart }),
        (err) => (b.error = err),
      );
      // A call that does not block has returned by now (its promise only needs the microtask queue),
      // as packetdrill waits for its syscall thread to finish or to sleep.
      for (let i = 0; i < 8; i++) await Promise.resolve();
      await this.settleBlocking();
      return;
    }
    let out: CallOutcome;
    try {
      out = await calls.run(call);
    } catch (err) {
      if (err instanceof PktCallError) this.fail(e.line, "syscall", err.message);
      throw err;
    }
    this.checkCall(e, call, out);
  }

  /** A blocking call that has returned is checked: result, then its end time. */
  async settleBlocking(): Promise<void> {
    const b = this.blocking;
    if (!b || (!b.done && !b.error)) return;
    this.blocking = undefined;
    if (b.error) {
      if (b.error instanceof PktCallError) this.fail(b.event.line, "syscall", b.error.message);
      throw b.error;
    }
    this.checkCall(b.event, b.call, b.done!.out);
    const err = verifyTime(
      this.c,
      { kind: "point", usecs: b.endUsecs },
      b.done!.at,
      b.lastUsecs,
      "system call return",
    );
    if (err) this.fail(b.event.line, "timing", err);
    await Promise.resolve();
  }

  async finishBlocking(): Promise<void> {
    const b = this.blocking;
    if (!b) return;
    const limit = nowUsecs() + 2_000_000;
    while (!b.done && !b.error && nowUsecs() < limit) await libc().usleepAsync(2000);
    if (!b.done && !b.error) {
      this.fail(
        b.event.line,
        "syscall",
        `${b.call.name}(): the blocking call had not returned when the script ended`,
      );
    }
    await this.settleBlocking();
  }

  checkCall(e: PktEvent, call: PktSyscall, out: CallOutcome): void {
    const r = call.result;
    const wantRet = r.kind === "ellipsis" ? undefined : numberOf(r, "result");
    const wantErrno = call.errno === undefined ? undefined : errnoNumber(call.errno);
    if (call.errno !== undefined && wantErrno === undefined) {
      this.fail(e.line, "syscall", `unknown errno ${call.errno}`);
    }
    const gotText = out.ret < 0 ? `-1 ${errnoLabel(out.errno)}` : String(out.ret);
    const wantText = `${wantRet ?? "..."}${call.errno ? ` ${call.errno}` : ""}`;
    const head = `${call.name}(${call.args.map(describe).join(", ")})`;
    const fdCall = ["socket", "accept", "epoll_create", "open"].includes(call.name);
    const retOk = wantRet === undefined ||
      (fdCall && wantRet >= 0 ? out.ret >= 0 : out.ret === wantRet);
    const errnoOk = wantErrno === undefined || (out.ret < 0 && out.errno === wantErrno);
    if (!retOk || !errnoOk) {
      return this.soft(e.line, "syscall", `${short(head)}: want ${wantText}, got ${gotText}`);
    }
    // What a call wrote back means something only when it succeeded.
    const bad = out.ret >= 0 ? out.check?.() : undefined;
    if (bad) this.soft(e.line, "syscall", `${short(head)}: ${bad}`);
  }

  async close(): Promise<void> {
    const shell = this.shell?.close().catch(() => {});
    if (this.calls) {
      for (const fd of this.calls.fds.values()) {
        // The namespace goes with the device; the sockets with their fds.
        libc().close(fd.real);
      }
    }
    await Promise.all([shell, this.dev?.close()]);
  }
}

/**
 * SCHED_RR at the lowest real-time priority for this thread while a script
 * runs (packetdrill's set_scheduling_priority), SCHED_OTHER after. Without
 * the right (not root) it stays as it is.
 */
function realtime(on: boolean): void {
  const param = new Uint8Array(4);
  new DataView(param.buffer).setInt32(0, on ? 1 : 0, true);
  libc().sched_setscheduler(0, on ? 2 : 0, param);
}
