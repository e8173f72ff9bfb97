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
import { lineSplitter } from "./pkt_shell.ts";
import { type PktJob, runPktJobs } from "./pkt_suite.ts";

if (import.meta.main) {
  const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream()).pipeThrough(
    lineSplitter(),
  );
  for await (const line of lines) {
    const [r] = await runPktJobs([JSON.parse(line) as PktJob], 1);
    console.log(JSON.stringify(r));
  }
  Deno.exit(0);
}
