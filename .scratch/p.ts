import { parsePkt } from "../dsl/pkt/pkt_parser.ts";
const dir = "/tmp/corpus/linux-source-6.12/tools/testing/selftests/net/packetdrill/";
for (const e of Deno.readDirSync(dir)) {
  if (!e.name.endsWith(".pkt")) continue;
  try {
    const s = parsePkt(Deno.readTextFileSync(dir + e.name), e.name);
    console.log("ok", e.name, s.events.length, s.init?.text.length, s.cleanup?.text);
  } catch (err) {
    console.log("ERR", (err as Error).message);
  }
}
