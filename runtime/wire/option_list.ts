/**
 * TCP option lists in packetdrill's notation (its `tcp_options` grammar, as
 * tcpdump prints them too): `<mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>`.
 *
 * Beyond packetdrill's names, every option synack decodes has a spelling, so
 * any decoded list prints and reads back to the same bytes:
 * `md5 0x…`, `FO 0x…`, `FOEXP 0x…`, `AccECN0 a b c`, `AccECN1 a b c`,
 * `sack l:r l:r`, `eol 0x…` (trailing padding), `opt K 0x…` (any kind, raw) and
 * `malformed 0x…` (bytes past the point where the list could not be walked).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatOptionList, parseOptionList } from "./option_list.ts";
 * const text = "<mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>";
 * const opts = parseOptionList(text);
 * assert.equal(opts.length, 5);
 * assert.equal(formatOptionList(opts), text);
 * assert.throws(() => parseOptionList("<mss>"), /col 5: want an integer 0\.\.65535, got ">"/);
 * ```
 */
import { assertNever } from "./assert_never.ts";
import { hex } from "./hex.ts";
import { LineSyntaxError } from "./line_syntax_error.ts";
import { TokenCursor } from "./token_cursor.ts";
import type { TcpOption } from "./tcp_options.ts";

/** Prints one option as it appears inside `<…>`. */
export function formatOption(o: TcpOption): string {
  switch (o.kind) {
    case "eol":
      return o.trailing && o.trailing.some((b) => b !== 0)
        ? `eol 0x${hex.encode(o.trailing)}`
        : "eol";
    case "nop":
      return "nop";
    case "mss":
      return `mss ${o.value}`;
    case "wscale":
      return `wscale ${o.shift}`;
    case "sackOk":
      return "sackOK";
    case "sack":
      return `sack ${o.blocks.map(([l, r]) => `${l}:${r}`).join(" ")}`;
    case "ts":
      return `TS val ${o.val} ecr ${o.ecr}`;
    case "md5":
      return `md5 0x${hex.encode(o.digest)}`;
    case "fastOpen":
      return o.cookie.length ? `FO 0x${hex.encode(o.cookie)}` : "FO";
    case "fastOpenExp":
      return o.cookie.length ? `FOEXP 0x${hex.encode(o.cookie)}` : "FOEXP";
    case "accEcn":
      return [`AccECN${o.order}`, ...o.counters.map(String)].join(" ");
    case "raw":
      return o.data.length ? `opt ${o.type} 0x${hex.encode(o.data)}` : `opt ${o.type}`;
    case "malformed":
      return `malformed 0x${hex.encode(o.bytes)}`;
    default:
      return assertNever(o, "TCP option");
  }
}

/** Prints a list as `<a,b,c>`; an empty list prints as `<>`. */
export function formatOptionList(opts: readonly TcpOption[]): string {
  return `<${opts.map(formatOption).join(",")}>`;
}

const U32 = 0xffffffff;

/**
 * Reads an option list. `text` is the whole `<…>` group; `col` is the column
 * of its `<` in the enclosing line, so errors point into that line.
 */
export function parseOptionList(text: string, col = 1): TcpOption[] {
  if (!text.startsWith("<") || !text.endsWith(">")) {
    throw new LineSyntaxError(col, "an option list in <...>", JSON.stringify(text));
  }
  const inner = text.slice(1, -1);
  const out: TcpOption[] = [];
  if (inner.trim() === "") return out;
  let at = 0;
  for (const item of inner.split(",")) {
    const itemCol = col + 1 + at;
    at += item.length + 1;
    const w = new TokenCursor(TokenCursor.words(item, itemCol), itemCol + item.length, `">"`);
    out.push(parseOne(w, itemCol));
    const extra = w.peek();
    if (extra) throw new LineSyntaxError(extra.col, `"," or ">"`, JSON.stringify(extra.text));
  }
  return out;
}

function parseOne(w: TokenCursor, col: number): TcpOption {
  const head = w.next("an option name");
  switch (head.text) {
    case "eol": {
      const t = w.peek();
      return t ? { kind: "eol", trailing: w.bytes("padding bytes as 0x…") } : { kind: "eol" };
    }
    case "nop":
      return { kind: "nop" };
    case "mss":
      return { kind: "mss", value: w.int(0xffff) };
    case "wscale":
      return { kind: "wscale", shift: w.int(0xff) };
    case "sackOK":
      return { kind: "sackOk" };
    case "sack": {
      const blocks: Array<[number, number]> = [];
      while (w.peek()) {
        const b = w.next("a SACK block l:r");
        const m = /^(\d+):(\d+)$/.exec(b.text);
        if (!m || Number(m[1]) > U32 || Number(m[2]) > U32) {
          throw new LineSyntaxError(
            b.col,
            "a SACK block l:r of 32-bit numbers",
            JSON.stringify(b.text),
          );
        }
        blocks.push([Number(m[1]), Number(m[2])]);
      }
      if (!blocks.length) throw new LineSyntaxError(w.endCol, "at least one SACK block l:r", `">"`);
      return { kind: "sack", blocks };
    }
    case "TS": {
      w.expect("val");
      const val = w.int(U32);
      w.expect("ecr");
      return { kind: "ts", val, ecr: w.int(U32) };
    }
    case "md5":
      return { kind: "md5", digest: w.bytes("a 16-byte digest as 0x…") };
    case "FO":
      return {
        kind: "fastOpen",
        cookie: w.peek() ? w.bytes("a cookie as 0x…") : new Uint8Array(0),
      };
    case "FOEXP":
      return {
        kind: "fastOpenExp",
        cookie: w.peek() ? w.bytes("a cookie as 0x…") : new Uint8Array(0),
      };
    case "AccECN0":
    case "AccECN1": {
      const counters: number[] = [];
      while (w.peek() && counters.length < 3) counters.push(w.int(0xffffff));
      return { kind: "accEcn", order: head.text === "AccECN0" ? 0 : 1, counters };
    }
    case "opt": {
      const type = w.int(0xff, "an option kind 0..255");
      return {
        kind: "raw",
        type,
        data: w.peek() ? w.bytes("option data as 0x…") : new Uint8Array(0),
      };
    }
    case "malformed":
      return {
        kind: "malformed",
        bytes: w.bytes("raw bytes as 0x…"),
        reason: "given as raw bytes",
      };
    default:
      throw new LineSyntaxError(
        col + (head.col - col),
        "an option name (nop, eol, mss, wscale, sackOK, sack, TS, md5, FO, FOEXP, AccECN0, AccECN1, opt, malformed)",
        JSON.stringify(head.text),
      );
  }
}
