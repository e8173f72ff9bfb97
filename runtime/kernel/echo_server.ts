/**
 * A small TCP echo server, the "real server process" the raw-socket target
 * can start in the far namespace: `deno run --allow-net echo_server.ts 7`.
 * It listens on every address (IPv4 and IPv6), writes back what each
 * connection sends, prints `listening <port>` once ready, and exits when its
 * standard input closes: when synack closes the target, or dies, so does
 * the server.
 *
 * @example
 * ```ts ignore
 * // started by rawTarget({ echoPort: 7 }) through nsenter, never by hand
 * ```
 */
if (import.meta.main) {
  const port = Number(Deno.args[0]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    console.error(`echo_server: want a port 1..65535, got ${JSON.stringify(Deno.args[0])}`);
    Deno.exit(2);
  }
  const listener = Deno.listen({ hostname: "::", port });
  console.log(`listening ${port}`);
  (async () => {
    for await (const conn of listener) {
      conn.readable.pipeTo(conn.writable).catch(() => {});
    }
  })();
  // Standard input is a pipe from synack: its end means synack is gone.
  for await (const _ of Deno.stdin.readable) { /* nothing is sent on it */ }
  Deno.exit(0);
}
