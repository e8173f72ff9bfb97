/**
 * `synack convert`: a packetdrill script as a TypeScript module of
 * `pkt_steps.ts` steps, a step per event, each with its `.pkt` line in a
 * comment. Nothing is lost: the module's steps are the script's events
 * (packet lines as written, `-D` symbols kept as symbols so one file runs
 * in every family), so `synack run x.pkt.ts` gives the verdict of `x.pkt`,
 * failing at the step that stands for the failing line.
 *
 * Parse the script with `{ symbolic: true }`; `text` is its source, from
 * which packet lines are taken as written and checked to read back the same.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePkt } from "./pkt_parser.ts";
 * import { pktScriptSource } from "./pkt_source.ts";
 * const text = "--tolerance_usecs=10000\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n" +
 *   "+0 setsockopt(3, SOL_SOCKET, SO_LINGER, {onoff=1, linger=0}, 8) = 0\n" +
 *   "+.1 < S 0:0(0) win 1000 <mss 1460> // the peer's SYN\n";
 * const out = pktScriptSource(parsePkt(text, "x.pkt", {}, { symbolic: true }), text, {});
 * assert.deepEqual(out.problems, []);
 * assert.match(out.source, /^export default pkt\.script\(\{ flags: \["--tolerance_usecs=10000"\] \}, \[$/m);
 * assert.match(out.source, /^  at\("0"\)\.call\("socket", ANY, "SOCK_STREAM", "IPPROTO_TCP"\)\.returns\(3\), \/\/ x\.pkt:2$/m);
 * assert.match(out.source, /\.call\("setsockopt", 3, "SOL_SOCKET", "SO_LINGER", \{ onoff: 1, linger: 0 \}, 8\)/);
 * assert.match(out.source, /^  at\("\+0\.1"\)\.inject\("S 0:0\(0\) win 1000 <mss 1460>"\), \/\/ x\.pkt:4$/m);
 * ```
 */
import { type PktEvent, type PktExpr, type PktScript, timeLabel } from "./pkt_ast.ts";
import { parsePkt } from "./pkt_parser.ts";
import { assertNever } from "../../runtime/wire/assert_never.ts";

/** A converted script, or the lines that would not read back the same. */
export interface ScriptSource {
  source: string;
  problems: string[];
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** The module for `script`; `defines` are the ones it was parsed with (for the read-back check). */
export function pktScriptSource(
  script: PktScript,
  text: string,
  defines: Readonly<Record<string, string>>,
): ScriptSource {
  const lines = text.split("\n");
  const problems: string[] = [];
  const used = new Set<string>(["at"]);
  const body: string[] = [];
  for (const e of script.events) {
    const step = eventSource(e, lines, script.file, defines, used);
    if (typeof step === "string") body.push(`  ${step}, // ${script.file}:${e.line}`);
    else problems.push(`${script.file}:${e.line}: ${step.problem}`);
  }
  const settings: string[] = [];
  if (script.options.length) {
    const flags = script.options.map((o) =>
      `--${o.name}${o.value === undefined ? "" : `=${o.value}`}`
    );
    settings.push(`flags: [${flags.map((f) => JSON.stringify(f)).join(", ")}]`);
  }
  if (script.init) settings.push(`init: ${template(script.init.text)}`);
  if (script.cleanup) settings.push(`cleanup: ${template(script.cleanup.text)}`);
  const source = [
    `// ${script.file}, converted by synack convert: packetdrill's own steps and timing, a step`,
    `// per line (the comments say which). Run it as the script runs:`,
    `//   synack run [packetdrill flags] ${script.file}.ts`,
    `import { pkt } from "synack";`,
    "",
    `const { ${[...used].sort().join(", ")} } = pkt;`,
    "",
    `export default pkt.script(${settings.length ? `{ ${settings.join(", ")} }` : "{}"}, [`,
    ...body,
    "]);",
    "",
  ].join("\n");
  return { source, problems };
}

function eventSource(
  e: PktEvent,
  lines: readonly string[],
  file: string,
  defines: Readonly<Record<string, string>>,
  used: Set<string>,
): string | { problem: string } {
  const a = e.action;
  const end = a.kind === "syscall" && a.call.endUsecs !== undefined
    ? `...${a.call.endUsecs / 1e6}`
    : "";
  const at = `at(${JSON.stringify(timeLabel(e.time) + end)})`;
  switch (a.kind) {
    case "packet": {
      const text = packetText(lines[e.line - 1] ?? "", e.col);
      const dir = a.packet.dir === "in" ? "<" : ">";
      let back: unknown;
      try {
        back = parsePkt(`0 ${dir} ${text}\n`, file, defines).events[0]?.action;
      } catch {
        back = undefined;
      }
      if (JSON.stringify(back) !== JSON.stringify(a)) {
        return { problem: "this packet line does not read back the same from its text alone" };
      }
      return `${at}.${a.packet.dir === "in" ? "inject" : "expect"}(${JSON.stringify(text)})`;
    }
    case "syscall": {
      const c = a.call;
      const args = c.args.map((x) => exprSource(x, used)).join(", ");
      const ret = [exprSource(c.result, used)];
      if (c.errno !== undefined || c.note !== undefined) {
        ret.push(c.errno === undefined ? "undefined" : JSON.stringify(c.errno));
      }
      if (c.note !== undefined) ret.push(JSON.stringify(c.note));
      return `${at}.call(${[JSON.stringify(c.name), args].filter(Boolean).join(", ")}).returns(${
        ret.join(", ")
      })`;
    }
    case "command":
      return `${at}.sh(${template(a.text)})`;
    case "code":
      return `${at}.python(${template(a.text)})`;
    default:
      return assertNever(a);
  }
}

/** A packet line's text as written: after its `<` or `>`, without comments. */
function packetText(line: string, col: number): string {
  const rest = line.slice(col - 1);
  const dir = rest.search(/[<>]/);
  return rest.slice(dir + 1).replace(/\/\*.*?\*\//g, " ").replace(/\/\/.*$/, "").trim()
    .replace(/\s+/g, " ");
}

/** A multi-line text as a template literal. */
function template(text: string): string {
  return "`" + text.replace(/[\\`]/g, (c) => `\\${c}`).replace(/\$\{/g, "\\${") + "`";
}

/** An expression as the `PktArg` that `toExpr` reads back to it. */
export function exprSource(e: PktExpr, used: Set<string>): string {
  const r = (x: PktExpr) => exprSource(x, used);
  const helper = (name: string, args: string[]) => {
    used.add(name);
    return `${name}(${args.join(", ")})`;
  };
  switch (e.kind) {
    case "ellipsis":
      used.add("ANY");
      return "ANY";
    case "int":
      return String(e.value);
    case "word":
      return JSON.stringify(e.name);
    case "string":
      return helper("str", [JSON.stringify(e.value)]);
    case "array":
      return `[${e.items.map(r).join(", ")}]`;
    case "or":
      return helper("or", e.terms.map(r));
    case "call":
      return helper("fn", [JSON.stringify(e.name), ...e.args.map(r)]);
    case "field": {
      const args = [JSON.stringify(e.name), r(e.value)];
      if (e.arg) args.push(r(e.arg));
      return helper("field", args);
    }
    case "struct": {
      const keys = e.items.map((i) =>
        i.kind !== "field"
          ? undefined
          : i.arg === undefined
          ? i.name
          : i.arg.kind === "int"
          ? `${i.name}(${i.arg.value})`
          : i.arg.kind === "ellipsis"
          ? `${i.name}(...)`
          : undefined
      );
      const plain = keys.every((k) => k !== undefined) && new Set(keys).size === keys.length;
      if (!plain) return helper("struct", e.items.map(r));
      if (!e.items.length) return "{}";
      const fields = e.items.map((i, n) => {
        const k = keys[n]!;
        return `${IDENT.test(k) ? k : JSON.stringify(k)}: ${r((i as { value: PktExpr }).value)}`;
      });
      return `{ ${fields.join(", ")} }`;
    }
    default:
      return assertNever(e);
  }
}
