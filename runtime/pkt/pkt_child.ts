/**
 * A worker process for `PktWorker`: reads `PktJob`s as JSON lines on stdin,
 * runs each in turn, and answers each with its `PktResult` as one JSON
 * line. Syntax errors and bad flags come back as failed results. It exits
 * when stdin closes.
 *
 * @example
 * ```ts ignore
 * // echo '{"path":"x.pkt","family":"ipv4","argv":[]}' | deno run --allow-all runtime/pkt/pkt_child.ts
 * ```
 */
import { type PktJob, runPktJobs } from "./pkt_suite.ts";

if (import.meta.main) {
  let buf = "";
  for await (const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
    buf += chunk;
    for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
      const job = JSON.parse(buf.slice(0, nl)) as PktJob;
      buf = buf.slice(nl + 1);
      const [r] = await runPktJobs([job], 1);
      console.log(JSON.stringify(r));
    }
  }
  Deno.exit(0);
}
