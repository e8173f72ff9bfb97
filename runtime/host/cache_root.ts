/**
 * Where synack keeps what it builds or extracts outside any repository
 * (gVisor's helper, the kernel's packetdrill scripts): `$SYNACK_CACHE`, else
 * `$XDG_CACHE_HOME/synack`, else `~/.cache/synack`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cacheRoot } from "./cache_root.ts";
 * assert.match(cacheRoot({ SYNACK_CACHE: "/tmp/c" }), /^\/tmp\/c$/);
 * assert.match(cacheRoot({ HOME: "/home/u" }), /^\/home\/u\/\.cache\/synack$/);
 * ```
 */

/** The cache's root for an environment. */
export function cacheRoot(env: Record<string, string | undefined> = Deno.env.toObject()): string {
  if (env.SYNACK_CACHE) return env.SYNACK_CACHE;
  if (env.XDG_CACHE_HOME) return `${env.XDG_CACHE_HOME}/synack`;
  return `${env.HOME ?? "/tmp"}/.cache/synack`;
}
