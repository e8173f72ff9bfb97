import { parsePkt } from "../dsl/pkt/pkt_parser.ts";
const src = Deno.readTextFileSync("tests/pkt_parser_test.ts");
const block = src.slice(
  src.indexOf("const ERRORS"),
  src.indexOf("];\n", src.indexOf("const ERRORS")),
);
const re = /\["([^"]+)", ("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'), /g;
for (const m of block.matchAll(re)) {
  const text = eval(m[2]);
  try {
    parsePkt(text, "t.pkt");
    console.log("NO ERROR", m[1]);
  } catch (e) {
    console.log(m[1].padEnd(40), (e as Error).message);
  }
}
