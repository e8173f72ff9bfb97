/**
 * `synack convert`: a packetdrill script as a synack scenario file, line for
 * line, in the DSL's own words: `< S 0:0(0) win 1000 <mss 1460>` becomes
 * `inject(syn().seq(0).win(1000).opts("<mss 1460>"))`, `+.1` a `wait("100ms")`,
 * `> P. 1:101(100) ack 1` an `expect(...)` with packetdrill's tolerance,
 * `close(4) = 0` a `close()`. Every step keeps a comment with its `.pkt` line.
 *
 * What the DSL cannot say yet is listed, one line each (`file.pkt:23:
 * recvmsg() with MSG_ERRQUEUE: …`), and nothing is printed: a converted file
 * that ran with a different verdict would be worse than none.
 *
 * Outbound data longer than the peer's MSS becomes one expectation per
 * segment: synack's targets do not merge segments as packetdrill does.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePkt } from "./pkt_parser.ts";
 * import { convertPkt } from "./pkt_convert.ts";
 * const s = parsePkt("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 bind(3, ..., ...) = 0\n+0 listen(3, 1) = 0\n" +
 *   "+.1 < S 0:0(0) win 1000 <mss 1460>\n+0 > S. 0:0(0) ack 1 <mss 1460>\n", "x.pkt");
 * const out = convertPkt(s);
 * assert.deepEqual(out.problems, []);
 * assert.match(out.source, /^  wait\("100ms"\), \/\/ x\.pkt:4$/m);
 * assert.match(out.source, /^  inject\(syn\(\)\.seq\(0\)\.win\(1000\)\.opts\("<mss 1460>"\)\), \/\/ x\.pkt:4$/m);
 * assert.match(out.source, /^  expect\(synAck\(\)\.seq\(0\)\.ack\(1\)\.opts\("<mss 1460>"\)\)\.within\("4ms"\), \/\/ x\.pkt:5$/m);
 * const bad = convertPkt(parsePkt("0 epoll_create(1) = 5\n", "y.pkt"));
 * assert.deepEqual(bad.problems, ["y.pkt:1: epoll_create(): synack's DSL has no epoll calls yet"]);
 * ```
 */
import type { PktEvent, PktExpr, PktOption, PktPacket, PktScript, PktSyscall } from "./pkt_ast.ts";

/** A converted script, or why it cannot be. */
export interface Converted {
  source: string;
  problems: string[];
}

/** packetdrill's defaults for the parts of a script that convert needs. */
export interface ConvertSettings {
  bindPort: number;
  connectPort: number;
  toleranceUsecs: number;
}

const DEFAULTS: ConvertSettings = { bindPort: 8080, connectPort: 8080, toleranceUsecs: 4000 };

/** Socket options the DSL's setsockopt takes, with how their value is written. */
const SOCKOPTS: Record<string, "bool" | "int" | "linger"> = {
  SO_REUSEADDR: "bool",
  SO_KEEPALIVE: "bool",
  TCP_NODELAY: "bool",
  TCP_CORK: "bool",
  SO_SNDBUF: "int",
  SO_RCVBUF: "int",
  TCP_MAXSEG: "int",
  TCP_KEEPIDLE: "int",
  TCP_KEEPINTVL: "int",
  TCP_KEEPCNT: "int",
  SO_LINGER: "linger",
};

/** tcp_info fields a `%{ assert tcpi_x == N }%` may name, and their names in synack's TcpInfo. */
const TCPI: Record<string, string> = {
  tcpi_state: "state",
  tcpi_ca_state: "caState",
  tcpi_retransmits: "retransmits",
  tcpi_probes: "probes",
  tcpi_backoff: "backoff",
  tcpi_snd_wscale: "sndWscale",
  tcpi_rcv_wscale: "rcvWscale",
  tcpi_rto: "rto",
  tcpi_snd_mss: "sndMss",
  tcpi_rcv_mss: "rcvMss",
  tcpi_unacked: "unacked",
  tcpi_sacked: "sacked",
  tcpi_lost: "lost",
  tcpi_retrans: "retrans",
  tcpi_snd_ssthresh: "sndSsthresh",
  tcpi_snd_cwnd: "sndCwnd",
  tcpi_advmss: "advmss",
  tcpi_total_retrans: "totalRetrans",
};

const BUILDERS: Record<string, string> = {
  "S": "syn()",
  "S.": "synAck()",
  ".": "ack()",
  "R": "rst()",
  "R.": "rstAck()",
  "F": "fin()",
  "F.": "finAck()",
};

const usecsLabel = (u: number) => u % 1000 === 0 ? `${u / 1000}ms` : `${u}us`;

/** Converts a parsed script; `settings` are its packetdrill flags that matter here. */
export function convertPkt(script: PktScript, settings: Partial<ConvertSettings> = {}): Converted {
  return new Converter(script, { ...DEFAULTS, ...settings }).run();
}

class Converter {
  readonly lines: string[] = [];
  readonly problems: string[] = [];
  readonly names = new Set<string>(["scenario"]);
  /** The DSL's current socket: the last one socket() or accept() gave. */
  current: number | undefined;
  listener: number | undefined;
  /** Script time of the previous event, for absolute times. */
  last = 0;
  /** Payload per segment the peer allows (its SYN's MSS, less 12 with timestamps). */
  segment = 1460;

  constructor(readonly script: PktScript, readonly s: ConvertSettings) {}

  problem(line: number, why: string): void {
    this.problems.push(`${this.script.file}:${line}: ${why}`);
  }

  use(...names: string[]): void {
    for (const n of names) this.names.add(n);
  }

  emit(line: number, code: string): void {
    this.lines.push(`  ${code}, // ${this.script.file}:${line}`);
  }

  run(): Converted {
    for (const o of this.script.options) {
      if (o.name === "tolerance_usecs" && o.value) this.s.toleranceUsecs = Number(o.value);
      else if (o.name === "bind_port" && o.value) this.s.bindPort = Number(o.value);
      else if (o.name === "connect_port" && o.value) this.s.connectPort = Number(o.value);
      else if (o.name !== "ip_version") {
        this.problem(o.line, `--${o.name}: convert does not carry this flag over`);
      }
    }
    if (this.script.init) this.command(this.script.init.line, this.script.init.text);
    for (const e of this.script.events) this.event(e);
    if (this.script.cleanup) {
      this.problem(
        this.script.cleanup.line,
        "a cleanup command: a synack scenario's sysctls end with its namespace",
      );
    }
    const name = this.script.file.replace(/\.pkt$/, "");
    const source = [
      `// Converted from ${this.script.file} by synack convert.`,
      `import { ${[...this.names].sort().join(", ")} } from "synack";`,
      "",
      `export default scenario(${JSON.stringify(name)}, [`,
      ...this.lines,
      "]);",
      "",
    ].join("\n");
    return { source, problems: this.problems };
  }

  /** A time as a wait before the step, relative to the previous event. */
  delay(e: PktEvent): number | undefined {
    const t = e.time;
    let d: number | undefined;
    switch (t.kind) {
      case "relative":
      case "relativeRange":
        d = t.usecs;
        break;
      case "absolute":
      case "absoluteRange":
        d = t.usecs - this.last;
        break;
      case "any":
        d = undefined;
    }
    if (t.kind === "absolute" || t.kind === "absoluteRange") this.last = t.usecs;
    else if (d !== undefined) this.last += d;
    return d;
  }

  event(e: PktEvent): void {
    const a = e.action;
    const d = this.delay(e);
    switch (a.kind) {
      case "packet":
        if (a.packet.dir === "in") {
          if (d) this.wait(e.line, d);
          this.inbound(e, a.packet);
        } else this.outbound(e, a.packet, d);
        return;
      case "syscall":
        if (d) this.wait(e.line, d);
        this.call(e, a.call);
        return;
      case "command":
        if (d) this.wait(e.line, d);
        this.command(e.line, a.text);
        return;
      case "code":
        if (d) this.wait(e.line, d);
        this.code(e.line, a.text);
        return;
    }
  }

  wait(line: number, usecs: number): void {
    this.use("wait");
    this.emit(line, `wait(${JSON.stringify(usecsLabel(usecs))})`);
  }

  /** `sysctl -q net.x=v` lines become sysctl() steps; anything else cannot be said. */
  command(line: number, text: string): void {
    text.split("\n").forEach((row, i) => {
      for (const raw of row.split(";")) {
        const cmd = raw.trim();
        if (!cmd) continue;
        const m = /^sysctl\s+(?:-q\s+|-w\s+|-e\s+)*([\w.\/-]+)=("[^"]*"|\S+)$/.exec(cmd);
        if (!m) {
          this.problem(
            line + i,
            `the shell command \`${cmd}\`: a scenario runs no shell; only sysctl -q name=value converts`,
          );
          continue;
        }
        this.use("sysctl");
        const value = m[2].replace(/^"|"$/g, "");
        const v = /^\d+$/.test(value) ? value : JSON.stringify(value);
        this.emit(line + i, `sysctl(${JSON.stringify(m[1].replaceAll("/", "."))}, ${v})`);
      }
    });
  }

  code(line: number, text: string): void {
    const want: string[] = [];
    for (const stmt of text.split("\n").map((l) => l.trim()).filter(Boolean)) {
      const m = /^assert\s+(tcpi_\w+)\s*==\s*(\d+)\s*(,.*)?$/.exec(stmt);
      if (!m || !TCPI[m[1]] || m[1] === "tcpi_state") {
        this.problem(
          line,
          `Python code \`${stmt}\`: only assert tcpi_<field> == <number> converts`,
        );
        return;
      }
      want.push(`${TCPI[m[1]]}: ${m[2]}`);
    }
    this.use("getsockopt");
    this.emit(
      line,
      `getsockopt("TCP_INFO")${this.on(this.current)}.returns({ ${want.join(", ")} })`,
    );
  }

  /** `.on(fd)` when the call is not on the DSL's current socket. */
  on(fd: number | undefined): string {
    return fd === undefined || fd === this.current ? "" : `.on(${fd})`;
  }

  fdOf(c: PktSyscall): number | undefined {
    const a = c.args[0];
    return a?.kind === "int" ? a.value : undefined;
  }

  /** `.returns(n)` / `.fails("E…")` for what the script says the call returns. */
  result(c: PktSyscall, fdResult = false): string {
    if (c.errno) return `.fails(${JSON.stringify(c.errno)})`;
    if (c.result.kind !== "int") return ".anyResult()";
    if (!fdResult && c.result.value === 0) return "";
    return `.returns(${c.result.value})`;
  }

  call(e: PktEvent, c: PktSyscall): void {
    const fd = this.fdOf(c);
    const word = (
      i: number,
    ) => (c.args[i]?.kind === "word" ? (c.args[i] as { name: string }).name : undefined);
    const int = (
      i: number,
    ) => (c.args[i]?.kind === "int" ? (c.args[i] as { value: number }).value : undefined);
    const no = (why: string) => this.problem(e.line, `${c.name}(): ${why}`);
    switch (c.name) {
      case "socket": {
        const type = c.args[1];
        const nonblock = type?.kind === "or" &&
          type.terms.some((t) => t.kind === "word" && t.name === "SOCK_NONBLOCK");
        const family = word(0) === "AF_INET6"
          ? "family: 6"
          : word(0) === "AF_INET"
          ? "family: 4"
          : undefined;
        const o = [family, nonblock ? "nonblock: true" : undefined].filter(Boolean).join(", ");
        this.use("socket");
        this.emit(e.line, `socket(${o ? `{ ${o} }` : ""})${this.result(c, true)}`);
        if (c.result.kind === "int") this.current = c.result.value;
        return;
      }
      case "bind": {
        const port = sockaddrPort(c.args[1]) ?? this.s.bindPort;
        this.use("bind");
        this.emit(e.line, `bind(${port})${this.on(fd)}${this.result(c)}`);
        return;
      }
      case "listen":
        this.use("listen");
        this.emit(e.line, `listen(undefined, ${int(1) ?? 1})${this.on(fd)}${this.result(c)}`);
        this.listener = fd;
        return;
      case "accept":
        this.use("accept");
        this.emit(
          e.line,
          `accept()${fd !== this.listener ? this.on(fd) : ""}${this.result(c, true)}`,
        );
        if (c.result.kind === "int" && c.result.value >= 0) this.current = c.result.value;
        return;
      case "connect": {
        const port = sockaddrPort(c.args[1]) ?? this.s.connectPort;
        this.use("connect");
        this.emit(e.line, `connect(${port})${this.on(fd)}${this.result(c)}`);
        return;
      }
      case "write":
      case "send": {
        const n = int(2);
        if (n === undefined || c.args[1]?.kind !== "ellipsis") {
          return no("want a length and ... for the data");
        }
        if (c.name === "send" && !(c.args[3]?.kind === "int" && c.args[3].value === 0)) {
          return no("send() flags do not convert");
        }
        this.use("write");
        this.emit(
          e.line,
          `write(new Uint8Array(${n}))${this.on(fd)}${
            c.result.kind === "int" && !c.errno ? `.returns(${c.result.value})` : this.result(c)
          }`,
        );
        return;
      }
      case "read": {
        const n = int(2);
        if (n === undefined) return no("want a length");
        // A number is the length read, the one thing packetdrill compares.
        this.use("read");
        this.emit(
          e.line,
          `read(${n})${this.on(fd)}${
            c.errno ? this.result(c) : `.returns(${c.result.kind === "int" ? c.result.value : 0})`
          }`,
        );
        return;
      }
      case "close":
        this.use("close");
        this.emit(e.line, `close()${this.on(fd)}${this.result(c)}`);
        return;
      case "shutdown": {
        const how = word(1);
        if (!how?.startsWith("SHUT_")) return no("want SHUT_RD, SHUT_WR or SHUT_RDWR");
        this.use("shutdown");
        this.emit(e.line, `shutdown(${JSON.stringify(how)})${this.on(fd)}${this.result(c)}`);
        return;
      }
      case "fcntl": {
        if (word(1) === "F_GETFL") return no("F_GETFL: the DSL's fcntl only sets O_NONBLOCK");
        const flags = c.args[2];
        const nonblock = flags?.kind === "or"
          ? flags.terms.some((t) => t.kind === "word" && t.name === "O_NONBLOCK")
          : flags?.kind === "word" && flags.name === "O_NONBLOCK";
        this.use("fcntl");
        this.emit(e.line, `fcntl(${nonblock})${this.on(fd)}${this.result(c)}`);
        return;
      }
      case "setsockopt": {
        const name = word(2);
        const kind = name ? SOCKOPTS[name] : undefined;
        if (!name || !kind) {
          return no(`${name ?? "this option"}: the DSL's setsockopt does not take it yet`);
        }
        const v = c.args[3];
        let value: string;
        if (kind === "linger") {
          const f = v?.kind === "struct" ? v.items : [];
          const get = (n: string) => {
            const it = f.find((x) => x.kind === "field" && x.name === n);
            return it?.kind === "field" && it.value.kind === "int" ? it.value.value : 0;
          };
          value = `{ onoff: ${get("onoff") !== 0}, linger: ${get("linger")} }`;
        } else {
          const n = v?.kind === "array" && v.items[0]?.kind === "int"
            ? v.items[0].value
            : undefined;
          if (n === undefined) return no(`${name}: want [value]`);
          value = kind === "bool" ? String(n !== 0) : String(n);
        }
        this.use("setsockopt");
        this.emit(
          e.line,
          `setsockopt(${JSON.stringify(name)}, ${value})${this.on(fd)}${this.result(c)}`,
        );
        return;
      }
      case "getsockopt": {
        const name = word(2);
        const v = c.args[3];
        if (
          name !== "SO_ERROR" && name !== "SO_SNDBUF" && name !== "SO_RCVBUF" &&
          name !== "TCP_MAXSEG"
        ) {
          return no(`${name ?? "this option"}: the DSL's getsockopt does not read it yet`);
        }
        const item = v?.kind === "array" ? v.items[0] : undefined;
        const want = item?.kind === "int"
          ? String(item.value)
          : item?.kind === "word"
          ? JSON.stringify(item.name)
          : undefined;
        this.use("getsockopt");
        this.emit(
          e.line,
          `getsockopt(${JSON.stringify(name)})${this.on(fd)}${
            want ? `.returns(${want})` : this.result(c)
          }`,
        );
        return;
      }
      default:
        return no(
          c.name.startsWith("epoll")
            ? "synack's DSL has no epoll calls yet"
            : `synack's DSL has no ${c.name}() yet`,
        );
    }
  }

  /** A packet line as a builder chain. */
  builder(e: PktEvent, p: PktPacket): string | undefined {
    const t = p.transport;
    if (t.kind !== "tcp") {
      this.problem(e.line, `${t.kind} packet lines do not convert yet`);
      return undefined;
    }
    if (p.outer.length || Object.keys(p.ip).length) {
      this.problem(e.line, "IP marks and outer headers do not convert yet");
      return undefined;
    }
    const base = BUILDERS[t.flags];
    let b: string;
    if (base) {
      b = base;
      this.use(base.slice(0, -2));
    } else {
      this.use("ack");
      b = `ack().flags(${JSON.stringify(t.flags)})`;
    }
    b += `.seq(${t.seq})`;
    if (t.ack !== undefined) b += `.ack(${t.ack})`;
    if (t.win !== undefined) b += `.win(${t.win})`;
    if (t.urg) b += `.urg(${t.urg})`;
    if (t.options === "any") b += ".anyOpts()";
    else b += `.opts(${JSON.stringify(optionText(t.options ?? []))})`;
    if (t.len) b += `.payload(${t.len})`;
    return b;
  }

  inbound(e: PktEvent, p: PktPacket): void {
    const t = p.transport;
    if (t.kind === "tcp" && t.flags.includes("S") && Array.isArray(t.options)) {
      const mss = t.options.find((o) => o.kind === "mss");
      const ts = t.options.some((o) => o.kind === "ts");
      if (mss?.kind === "mss") this.segment = mss.value - (ts ? 12 : 0);
    }
    const b = this.builder(e, p);
    if (!b) return;
    this.use("inject");
    this.emit(e.line, `inject(${b})`);
  }

  /** Timing as packetdrill's tolerance around the scripted time. */
  timing(d: number | undefined): string {
    if (d === undefined) return "";
    const tol = Math.max(this.s.toleranceUsecs, d / 8);
    return d <= tol
      ? `.within(${JSON.stringify(usecsLabel(tol))})`
      : `.after(${JSON.stringify(usecsLabel(d))})`;
  }

  outbound(e: PktEvent, p: PktPacket, d: number | undefined): void {
    const t = p.transport;
    if (t.kind === "tcp" && t.len > this.segment) {
      // One expectation per segment: the last keeps the script's flags, the others drop PSH/FIN.
      const n = Math.ceil(t.len / this.segment);
      for (let i = 0; i < n; i++) {
        const len = Math.min(this.segment, t.len - i * this.segment);
        const flags = i === n - 1 ? t.flags : t.flags.replace(/[PF]/g, "") || ".";
        const part: PktPacket = {
          ...p,
          transport: { ...t, flags, seq: (t.seq + i * this.segment) >>> 0, len },
        };
        const b = this.builder(e, part);
        if (!b) return;
        this.use("expect");
        this.emit(e.line, `expect(${b})${i === 0 ? this.timing(d) : `.within("1ms")`}`);
      }
      return;
    }
    const b = this.builder(e, p);
    if (!b) return;
    this.use("expect");
    this.emit(e.line, `expect(${b})${this.timing(d)}`);
  }
}

function sockaddrPort(e: PktExpr | undefined): number | undefined {
  if (e?.kind !== "struct") return undefined;
  for (const it of e.items) {
    if (it.kind === "field" && (it.name === "sin_port" || it.name === "sin6_port")) {
      const v = it.value;
      if (v.kind === "call" && v.args[0]?.kind === "int") return v.args[0].value;
      if (v.kind === "int") return v.value;
    }
  }
  return undefined;
}

/** Options back in packetdrill's list syntax, which the DSL's opts() reads as an exact list. */
export function optionText(opts: readonly PktOption[]): string {
  const one = (o: PktOption): string => {
    switch (o.kind) {
      case "nop":
      case "eol":
      case "sackOK":
        return o.kind;
      case "mss":
      case "wscale":
        return `${o.kind} ${o.value}`;
      case "sack":
        return `sack ${o.blocks.map(([a, b]) => `${a}:${b}`).join(" ")}`;
      case "ts":
        return `TS val ${o.val} ecr ${o.ecr}`;
      case "md5":
        return `md5 ${o.hex}`;
      case "fo":
        return `${o.exp ? "FOEXP" : "FO"}${o.cookie ? ` ${o.cookie}` : ""}`;
      case "accecn":
        return `ECN ${o.fields.map((f) => `${f.name} ${f.value}`).join(" ")}`;
    }
  };
  return `<${opts.map(one).join(",")}>`;
}
