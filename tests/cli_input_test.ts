/**
 * Bad input on the command line gets one clear line, `synack: …`, and exit 2:
 * what was expected and what was found, before anything runs.
 */
import assert from "node:assert/strict";
import { main } from "../cli/main.ts";

async function errorsOf(args: string[]): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  const err = console.error, log = console.log;
  console.error = (...a: unknown[]) => lines.push(a.join(" "));
  console.log = () => {};
  try {
    return { code: await main(args), lines };
  } finally {
    console.error = err;
    console.log = log;
  }
}

const cases: [string[], RegExp][] = [
  [["show", "examples"], /^synack: examples: want a pcap or pcapng file, got a folder$/],
  [["show", "nope.pcap"], /^synack: .*nope\.pcap.*no such file/],
  [
    ["run", "--pcap", "examples", "examples/rst_closed_port.ts"],
    /^synack: --pcap: want a file name, got the folder examples$/,
  ],
  [
    ["run", "--trace", "/nonexistent/dir/t.json", "examples/rst_closed_port.ts"],
    /^synack: --trace: want a file in an existing folder, got \/nonexistent\/dir\/t\.json$/,
  ],
  [
    ["test", "--junit", "examples", "examples"],
    /^synack: --junit: want a file name, got the folder examples$/,
  ],
  [
    ["run", "--timeout", "forever", "examples"],
    /^synack: --timeout: want a duration such as "200ms" or "1s", got "forever"$/,
  ],
  [["run", "nope.ts"], /^synack: Cannot load nope\.ts: no such file$/],
  [["compile", "nope.ts"], /^synack: Cannot load nope\.ts: no such file$/],
  [["run", "--target", "nope", "examples"], /^synack: .*nope/],
  [
    ["run", "https://example.invalid/a.ts#sha256=12"],
    /^synack: https:\/\/example\.invalid\/a\.ts#sha256=12: want #sha256=<64 hex digits> after the URL, got "#sha256=12"$/,
  ],
];

for (const [args, want] of cases) {
  Deno.test(`bad input: synack ${args.join(" ")}`, async () => {
    const r = await errorsOf(args);
    assert.equal(r.code, 2, r.lines.join("\n"));
    assert.equal(r.lines.length, 1, r.lines.join("\n"));
    assert.match(r.lines[0], want);
  });
}
