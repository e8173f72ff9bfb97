/**
 * packetdrill's script language, parsed: `parsePkt(text, file)` gives a
 * `PktScript` or throws a `PktSyntaxError` naming `file:line:col`, what was
 * expected and what was found. The grammar is google/packetdrill's
 * (`gtests/net/packetdrill/parser.y` and `lexer.l`), written anew:
 *
 * ```text
 * script  := option* [`init`] event* [`cleanup`]
 * option  := --name[=value]
 * event   := time action
 * time    := [+]secs | * | secs~secs | +secs~+secs        (ranges: outbound packets only)
 *            and, before a system call, [+]secs...secs  (a blocking call and its end)
 * action  := packet | syscall | `shell command` | %{ python }%
 * packet  := (<|>) outer* ip_info* (tcp | udp | icmp)
 * tcp     := [port > port] FLAGS start:end(len) [ack N] [win N] [urg N] [<options> | <...>]
 * syscall := name(expr, ...) = expr [ERRNO] [(note)]
 * ```
 *
 * `-D NAME=value` definitions (`defines`) replace a word wherever packetdrill's
 * lexer would: in option values, TCP option cookies and system-call arguments.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePkt } from "./pkt_parser.ts";
 * const s = parsePkt("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+.1 < S 0:0(0) win 1000 <mss 1460>\n", "a.pkt");
 * assert.equal(s.events.length, 2);
 * assert.deepEqual(s.events[1].time, { kind: "relative", usecs: 100_000 });
 * const p = s.events[1].action;
 * assert.ok(p.kind === "packet" && p.packet.transport.kind === "tcp");
 * assert.deepEqual(p.packet.transport.options, [{ kind: "mss", value: 1460 }]);
 * assert.throws(
 *   () => parsePkt("0 < S 0:0(0) win 10 <mss>\n", "b.pkt"),
 *   { message: 'b.pkt:1:25: expected the MSS value (an integer), found ">"' },
 * );
 * ```
 */
import type {
  PktAction,
  PktEvent,
  PktExpr,
  PktIpInfo,
  PktOption,
  PktOptionLine,
  PktOuter,
  PktPacket,
  PktScript,
  PktSyscall,
  PktTime,
  PktTransport,
} from "./pkt_ast.ts";
import { PktScanner, PktSyntaxError } from "./pkt_scanner.ts";
import { assertNever } from "../../runtime/wire/assert_never.ts";

export { PktSyntaxError };

/** Valid characters of a TCP flags word (tcp_packet.c): ACK, FIN… and AccECN's ACE digits. */
const FLAG_CHARS = /^[.FSRPEWAU0-7]+$/;
const ECN_WORDS = new Set(["noecn", "ect0", "ect1", "ce", "ect01"]);

/**
 * Parses a whole script. `defines` are `-D` symbols (`TFO_COOKIE` →
 * `3021b9d889017eeb`). `symbolic`: the words of system calls stay as
 * written (`CMSG_LEVEL_IP`), for `resolveDefines` to replace at run time:
 * `synack convert` keeps one file for every family.
 */
export function parsePkt(
  text: string,
  file: string,
  defines: Readonly<Record<string, string>> = {},
  o: { symbolic?: boolean } = {},
): PktScript {
  return new Parser(new PktScanner(text, file), defines, o.symbolic ?? false).script();
}

/** A system call value with its `-D` words replaced, as the parser replaces them. */
export function resolveDefines(e: PktExpr, defines: Readonly<Record<string, string>>): PktExpr {
  const r = (x: PktExpr) => resolveDefines(x, defines);
  switch (e.kind) {
    case "ellipsis":
    case "int":
    case "string":
      return e;
    case "word":
      return defines[e.name] === undefined ? e : defineValue(defines[e.name]);
    case "array":
      return { kind: "array", items: e.items.map(r) };
    case "struct":
      return { kind: "struct", items: e.items.map(r) };
    case "or":
      return { kind: "or", terms: e.terms.map(r) };
    case "call":
      return { kind: "call", name: e.name, args: e.args.map(r) };
    case "field":
      return { kind: "field", name: e.name, arg: e.arg && r(e.arg), value: r(e.value) };
    default:
      return assertNever(e);
  }
}

class Parser {
  constructor(
    readonly s: PktScanner,
    readonly defines: Readonly<Record<string, string>>,
    readonly symbolic: boolean,
  ) {}

  script(): PktScript {
    const s = this.s;
    const options: PktOptionLine[] = [];
    s.skipSpace();
    while (s.startsWith("--")) options.push(this.optionLine());
    const events: PktEvent[] = [];
    let init: PktScript["init"];
    let cleanup: PktScript["cleanup"];
    s.skipSpace();
    if (s.peek() === "`") init = this.backtick();
    for (;;) {
      s.skipSpace();
      if (s.eof) break;
      if (s.peek() === "`") {
        cleanup = this.backtick();
        s.skipSpace();
        if (!s.eof) s.fail("the end of the script after its cleanup command");
        break;
      }
      events.push(this.event());
    }
    return { file: s.file, options, init, events, cleanup };
  }

  optionLine(): PktOptionLine {
    const s = this.s;
    const { line } = s.where();
    s.pos += 2;
    const name = s.word("an option name after --");
    let value: string | undefined;
    if (s.peek() === "=") {
      s.pos++;
      const start = s.pos;
      if (s.peek() === '"') value = s.string();
      else {
        while (!s.eof && !/\s/.test(s.peek())) s.pos++;
        value = s.text.slice(start, s.pos);
      }
      if (value === "") s.error(`--${name}= wants a value`, start - 1);
    }
    s.skipSpace();
    return { name, value, line };
  }

  backtick(): { text: string; line: number } {
    const s = this.s;
    const { line } = s.where();
    s.pos++;
    const text = s.until("`", "`", "shell command");
    return { text, line };
  }

  event(): PktEvent {
    const s = this.s;
    s.skipSpace();
    const start = s.pos;
    const { line, col } = s.where();
    const time = this.time();
    let endUsecs: number | undefined;
    if (s.eat("...")) {
      if (time.kind !== "absolute" && time.kind !== "relative") {
        s.error("a blocking call's start must be a single time, not a range or *", start);
      }
      s.eat("+");
      endUsecs = s.seconds("the end time of the blocking call");
    }
    const action = this.action(endUsecs);
    if (time.kind !== "absolute" && time.kind !== "relative") {
      const outbound = action.kind === "packet" && action.packet.dir === "out";
      if (!outbound) {
        s.error(
          `a time of ${time.kind === "any" ? "*" : "a range"} is only for outbound packets`,
          start,
        );
      }
    }
    if (endUsecs !== undefined && action.kind !== "syscall") {
      s.error("only a system call may block (+a...b)", start);
    }
    return { line, col, time, action };
  }

  time(): PktTime {
    const s = this.s;
    s.skipSpace();
    if (s.eat("*")) return { kind: "any" };
    const rel = s.eat("+");
    const usecs = s.seconds(rel ? "a time after +" : "a time (0, +0.1, *, or a~b)");
    s.skipSpace();
    if (s.peek() === "~") {
      s.pos++;
      const rel2 = s.eat("+");
      if (rel !== rel2) {
        s.fail(rel ? "+ before the end of a relative range" : "an absolute end time");
      }
      const endUsecs = s.seconds("the end of the time range");
      if (endUsecs < usecs) s.error("the time range ends before it starts");
      return { kind: rel ? "relativeRange" : "absoluteRange", usecs, endUsecs };
    }
    return rel ? { kind: "relative", usecs } : { kind: "absolute", usecs };
  }

  action(endUsecs: number | undefined): PktAction {
    const s = this.s;
    s.skipSpace();
    const c = s.peek();
    if (c === "<" || c === ">") return { kind: "packet", packet: this.packet() };
    if (c === "`") return { kind: "command", text: this.backtick().text };
    if (s.startsWith("%{")) {
      s.pos += 2;
      const text = s.until("}%", "%{", "code block");
      return { kind: "code", text: text.trim() };
    }
    if (/[A-Za-z_]/.test(c)) return { kind: "syscall", call: this.syscall(endUsecs) };
    return s.fail("a packet (< or >), a system call, a `command` or %{ code }%");
  }

  // ---- packets -------------------------------------------------------------

  packet(): PktPacket {
    const s = this.s;
    const dir = s.peek() === "<" ? "in" : "out";
    s.pos++;
    const outer: PktOuter[] = [];
    for (;;) {
      if (s.atWord("ipv4") || s.atWord("ipv6")) outer.push(this.outerIp());
      else if (s.atWord("gre")) outer.push(this.outerGre());
      else if (s.atWord("mpls")) outer.push(this.outerMpls());
      else break;
    }
    s.skipSpace();
    const ipAt = s.pos;
    const ip = this.ipInfo();
    let transport: PktTransport;
    if (s.atWord("udp")) transport = this.udp();
    else if (s.atWord("icmp")) transport = this.icmp();
    else transport = this.tcp(dir);
    if (ip.ecn && transport.kind === "udp") {
      s.error("ECN marks cannot be used on a UDP packet", ipAt);
    }
    if (ip.ecn === "ect01" && dir === "in") s.error("[ect01] is for outbound packets only", ipAt);
    return { dir, outer, ip, transport };
  }

  outerIp(): PktOuter {
    const s = this.s;
    const version = s.word() === "ipv4" ? 4 : 6;
    const info = this.ipInfo();
    const src = this.address(version);
    s.expect(">", "> between the outer addresses");
    const dst = this.address(version);
    s.expect(":", ": after the outer IP header");
    return { kind: "ip", version, src, dst, info };
  }

  address(version: 4 | 6): string {
    const s = this.s;
    s.skipSpace();
    const at = s.pos;
    let a = s.raw(">,)]");
    // The header ends with ':' — for IPv6 that colon is not part of the address.
    if (a.endsWith(":") && !a.endsWith("::")) {
      a = a.slice(0, -1);
      s.pos--;
    }
    const ok = version === 4
      ? /^\d{1,3}(\.\d{1,3}){3}$/.test(a)
      : /^[0-9a-fA-F:.]+$/.test(a) && a.includes(":");
    if (!ok) {
      s.pos = at;
      s.fail(`an IPv${version} address`);
    }
    return a;
  }

  outerGre(): PktOuter {
    const s = this.s;
    s.word();
    const fields: Record<string, number> = {};
    s.eat("[");
    while (!s.eat(":")) {
      s.eat(",");
      if (s.eat("]")) continue;
      const name = s.word("a GRE field (flags, sum, off, key, seq) or :");
      if (name === "GREv0") continue;
      fields[name] = s.integer(`the value of GRE ${name}`);
    }
    return { kind: "gre", fields };
  }

  outerMpls(): PktOuter {
    const s = this.s;
    s.word();
    const labels: Record<string, number>[] = [];
    while (s.eat("(")) {
      const entry: Record<string, number> = {};
      do {
        const name = s.word("an MPLS field (label, tc, S, ttl)");
        entry[name] = name === "S" ? 1 : s.integer(`the value of MPLS ${name}`);
      } while (s.eat(","));
      s.expect(")", ") after the MPLS label");
      labels.push(entry);
    }
    if (!labels.length) s.fail("an MPLS label entry: (label L, tc T, [S,] ttl N)");
    s.expect(":", ": after the MPLS labels");
    return { kind: "mpls", labels };
  }

  /** `[ect0]`, `[ce]`, `[noecn]`, `[ect01]`, `[ttl N]`, `(tos 0x..)`, `(flowlabel 0x..)`, repeated. */
  ipInfo(): PktIpInfo {
    const s = this.s;
    const info: PktIpInfo = {};
    for (;;) {
      s.skipSpace();
      const open = s.peek();
      if (open !== "[" && open !== "(") return info;
      const m = /^[[(]\s*(noecn|ect01|ect0|ect1|ce|ttl|tos|flowlabel|ecn)\b/.exec(
        s.text.slice(s.pos, s.pos + 20),
      );
      if (!m) return info;
      s.pos++;
      do {
        const w = s.word();
        if (ECN_WORDS.has(w)) info.ecn = w as PktIpInfo["ecn"];
        else if (w === "ttl") info.ttl = s.integer("the TTL");
        else if (w === "tos") info.tos = s.integer("the TOS byte");
        else if (w === "flowlabel") info.flowlabel = s.integer("the flow label");
        else if (w === "ecn") {
          const e = s.word("an ECN mark");
          if (!ECN_WORDS.has(e)) s.fail("noecn, ect0, ect1, ce or ect01");
          info.ecn = e as PktIpInfo["ecn"];
        } else s.fail("ect0, ect1, ce, noecn, ect01, ttl, tos or flowlabel");
      } while (s.eat(","));
      s.expect(open === "[" ? "]" : ")", open === "[" ? "]" : ")");
    }
  }

  ports(): [number, number] | undefined {
    const s = this.s;
    s.skipSpace();
    if (!/^\d+\s*>/.test(s.text.slice(s.pos, s.pos + 12))) return undefined;
    const a = s.integer("a source port");
    s.expect(">");
    const b = s.integer("a destination port");
    for (const p of [a, b]) if (p > 65535) s.error(`port ${p} is over 65535`);
    return [a, b];
  }

  tcp(dir: "in" | "out"): PktTransport {
    const s = this.s;
    const ports = this.ports();
    s.skipSpace();
    const flagsAt = s.pos;
    const flags = s.raw();
    if (!flags || (flags !== "-" && !FLAG_CHARS.test(flags))) {
      s.pos = flagsAt;
      s.fail("TCP flags (S, S., ., P., F., R, -) or udp/icmp");
    }
    if (/[0-7]/.test(flags) && /[EWA]/.test(flags)) {
      s.error("TCP flags: an ACE digit cannot be combined with E, W or A", flagsAt);
    }
    const { seq, len } = this.range();
    const ack = this.keyed("ack", () => this.u32("the ACK number"));
    let win: number | undefined;
    if (s.atWord("win")) {
      s.word();
      s.skipSpace();
      const at = s.pos;
      win = s.integer("the window");
      if (win < 0 || win > 65535) s.error(`window ${win} is outside 0..65535`, at);
    }
    const urg = this.keyed("urg", () => s.integer("the urgent pointer"));
    if (dir === "in" && win === undefined) {
      s.fail("win N: a window must be given for inbound packets");
    }
    let options: PktOption[] | "any" | undefined;
    if (s.eat("<")) {
      if (s.eat("...")) {
        if (dir === "in") s.error("<...> is for outbound packets only");
        options = "any";
      } else {
        options = [];
        do options.push(this.option()); while (s.eat(","));
      }
      s.expect(">", ", or > to end the TCP options");
    }
    return { kind: "tcp", ports, flags, seq, len, ack, win, urg, options };
  }

  /** `word N` when `word` comes next, with N read by `read`; undefined otherwise. */
  keyed<T>(word: string, read: () => T): T | undefined {
    if (!this.s.atWord(word)) return undefined;
    this.s.word();
    return read();
  }

  u32(what: string): number {
    const v = this.s.integer(what);
    if (v < 0 || v > 0xffffffff) this.s.error(`${what} ${v} is outside 0..4294967295`);
    return v;
  }

  /** `start:end(len)`, with end = start + len. */
  range(): { seq: number; len: number } {
    const s = this.s;
    s.skipSpace();
    const at = s.pos;
    const seq = this.u32("the sequence range start:end(length)");
    s.expect(":", ": in start:end(length)");
    const end = this.u32("the end of the sequence range");
    s.expect("(", "(length) after start:end");
    const len = s.integer("the payload length");
    s.expect(")", ") after the payload length");
    if (((seq + len) >>> 0) !== end) {
      s.error(
        `sequence range ${seq}:${end}(${len}): end should be start + length (${(seq + len) >>> 0})`,
        at,
      );
    }
    return { seq, len };
  }

  option(): PktOption {
    const s = this.s;
    const name = s.word(
      "a TCP option (nop, eol, mss, wscale, sackOK, sack, TS, md5, FO, FOEXP, ECN)",
    );
    switch (name) {
      case "nop":
      case "eol":
      case "sackOK":
        return { kind: name };
      case "mss":
        return { kind: "mss", value: s.integer("the MSS value (an integer)") };
      case "wscale":
        return { kind: "wscale", value: s.integer("the window scale shift (an integer)") };
      case "sack": {
        const blocks: [number, number][] = [];
        while (s.atInteger()) {
          const a = this.u32("a SACK block start");
          s.expect(":", ": in a SACK block");
          blocks.push([a, this.u32("a SACK block end")]);
        }
        if (!blocks.length) s.fail("a SACK block start:end");
        return { kind: "sack", blocks };
      }
      case "TS": {
        if (s.word("val") !== "val") s.fail("val");
        const val = this.u32("the TS value");
        if (!s.atWord("ecr")) s.fail("ecr");
        s.word();
        return { kind: "ts", val, ecr: this.u32("the TS echo reply") };
      }
      case "md5":
        return { kind: "md5", hex: this.hex("the MD5 signature in hex", true) };
      case "FO":
      case "FOEXP": {
        s.skipSpace();
        const cookie = /[A-Za-z0-9_]/.test(s.peek()) ? this.hex("a cookie in hex", false) : "";
        return { kind: "fo", exp: name === "FOEXP", cookie };
      }
      case "ECN": {
        if (!s.atWord("e0b") && !s.atWord("e1b")) s.fail("e0b N or e1b N after ECN");
        const fields: { name: "e0b" | "e1b" | "ceb"; value: number }[] = [];
        while (s.atWord("e0b") || s.atWord("e1b") || s.atWord("ceb")) {
          const n = s.word() as "e0b" | "e1b" | "ceb";
          fields.push({ name: n, value: s.integer(`the ${n} counter`) });
        }
        return { kind: "accecn", fields };
      }
      default:
        s.pos -= name.length;
        return s.fail(
          "a TCP option (nop, eol, mss, wscale, sackOK, sack, TS, md5, FO, FOEXP, ECN)",
        );
    }
  }

  /** A hex string (md5 key, TFO cookie), or a -D name that stands for one. */
  hex(what: string, required: boolean): string {
    const s = this.s;
    const at = s.pos;
    let w = s.word(what);
    w = this.defines[w] ?? w;
    if (w.startsWith("0x")) w = w.slice(2);
    if (!/^[0-9a-fA-F]*$/.test(w) || w.length % 2 || (required && !w.length)) {
      s.pos = at;
      s.fail(what);
    }
    return w.toLowerCase();
  }

  udp(): PktTransport {
    const s = this.s;
    s.word();
    const ports = this.ports();
    s.expect("(", "(length) of the UDP payload");
    const len = s.integer("the UDP payload length");
    s.expect(")");
    return { kind: "udp", ports, len };
  }

  icmp(): PktTransport {
    const s = this.s;
    s.word();
    const type = this.symbol("an ICMP type (unreachable, time_exceeded, echo_request…)");
    let code: string | undefined;
    if (s.atInteger() || (/[A-Za-z_]/.test(s.peek()) && !s.atWord("mtu") && !s.atWord("id"))) {
      code = s.atInteger() ? String(s.integer()) : this.symbol("an ICMP code");
    }
    const mtu = this.keyed("mtu", () => s.integer("the MTU"));
    const id = this.keyed("id", () => s.integer("the ICMP id"));
    let echoed: Extract<PktTransport, { kind: "icmp" }>["echoed"];
    if (s.eat("[")) {
      if (s.atWord("udp") || s.atWord("raw")) {
        const k = s.word() as "udp" | "raw";
        s.expect("(");
        echoed = { kind: k, len: s.integer("a length") };
        s.expect(")");
      } else {
        const { seq, len } = this.range();
        echoed = { kind: "tcp", seq, len };
      }
      s.expect("]", "] after what the ICMP message quotes");
    }
    return { kind: "icmp", type, code, mtu, id, echoed };
  }

  /** A word, or the -D value it stands for. */
  symbol(what: string): string {
    const w = this.s.word(what);
    return this.defines[w] ?? w;
  }

  // ---- system calls --------------------------------------------------------

  syscall(endUsecs: number | undefined): PktSyscall {
    const s = this.s;
    const name = s.word("a system call name");
    s.expect("(", `( after ${name}`);
    const args: PktExpr[] = [];
    if (!s.eat(")")) {
      do args.push(this.expr()); while (s.eat(","));
      s.expect(")", `, or ) in the arguments of ${name}`);
    }
    s.expect("=", `= and the result of ${name}()`);
    const result = this.expr();
    let errno: string | undefined;
    let note: string | undefined;
    s.skipSpace();
    if (/^E[A-Z0-9]+\b/.test(s.text.slice(s.pos, s.pos + 20))) errno = s.word();
    if (s.eat("(")) note = this.note();
    return { name, args, result, errno, note, endUsecs };
  }

  /** The free text of `(Operation now in progress)`, nested parentheses kept. */
  note(): string {
    const s = this.s;
    const start = s.pos;
    let depth = 1;
    while (!s.eof) {
      const c = s.text[s.pos++];
      if (c === "\n") break;
      if (c === "(") depth++;
      if (c === ")" && --depth === 0) return s.text.slice(start, s.pos - 1).trim();
    }
    return s.error("no ) closes the note that opens here", start - 1);
  }

  expr(): PktExpr {
    const first = this.term();
    if (!this.s.eat("|")) return first;
    const terms = [first];
    do terms.push(this.term()); while (this.s.eat("|"));
    return { kind: "or", terms };
  }

  term(): PktExpr {
    const s = this.s;
    s.skipSpace();
    const c = s.peek();
    if (s.startsWith("...")) {
      s.pos += 3;
      return { kind: "ellipsis" };
    }
    if (c === '"') return { kind: "string", value: s.string() };
    if (c === "[") return { kind: "array", items: this.list("[", "]") };
    if (c === "{") return { kind: "struct", items: this.list("{", "}") };
    if (/[-0-9]/.test(c)) return { kind: "int", value: s.integer("a number") };
    if (!/[A-Za-z_]/.test(c)) s.fail('a value (a number, a symbol, ..., [..], {..} or "text")');
    const name = s.word();
    let call: PktExpr | undefined;
    s.skipSpace();
    if (s.peek() === "(") {
      call = { kind: "call", name, args: this.list("(", ")") };
    }
    if (s.peek() === "=" && s.peek(1) !== "=") {
      s.pos++;
      const arg = call?.kind === "call"
        ? (call.args.length === 1 ? call.args[0] : { kind: "struct" as const, items: call.args })
        : undefined;
      return { kind: "field", name, arg, value: this.expr() };
    }
    if (call) return call;
    const d = this.symbolic ? undefined : this.defines[name];
    if (d !== undefined) return defineValue(d);
    return { kind: "word", name };
  }

  list(open: string, close: string): PktExpr[] {
    const s = this.s;
    s.expect(open);
    const items: PktExpr[] = [];
    if (s.eat(close)) return items;
    do items.push(this.expr()); while (s.eat(","));
    s.expect(close, `, or ${close}`);
    return items;
  }
}

/** A -D value as the lexer would read it: a number, a string, or a word. */
function defineValue(v: string): PktExpr {
  if (/^-?(0x[0-9a-fA-F]+|[0-9]+)$/.test(v)) return { kind: "int", value: Number(v) };
  if (/^".*"$/.test(v)) return { kind: "string", value: v.slice(1, -1) };
  return { kind: "word", name: v };
}
