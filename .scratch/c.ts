import { parsePkt } from "../dsl/pkt/pkt_parser.ts";
import { convertPkt } from "../dsl/pkt/pkt_convert.ts";
for (const f of Deno.args) {
  const r = convertPkt(parsePkt(Deno.readTextFileSync(f), f.split("/").at(-1)!));
  console.log(r.problems.length ? r.problems.join("\n") : r.source);
}
