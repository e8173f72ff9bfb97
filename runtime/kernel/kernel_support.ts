/**
 * Whether this process can run the kernel and raw-socket targets, and if
 * not, why, in words a user can act on. Tests use it to skip visibly:
 * `Deno.test({ name: "… (skipped: not root)", ignore: true })`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { kernelUnavailable } from "./kernel_support.ts";
 * const why = kernelUnavailable();
 * assert.ok(why === undefined || why.length > 0);
 * ```
 */
import { cString, libc } from "./libc.ts";

let cached: string | undefined | null = null;

/** Undefined when the kernel target can run here; otherwise the reason it cannot. */
export function kernelUnavailable(): string | undefined {
  if (cached !== null) return cached;
  cached = check();
  return cached;
}

function check(): string | undefined {
  if (Deno.build.os !== "linux") return `the kernel target needs Linux, this is ${Deno.build.os}`;
  if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") {
    return "the kernel target calls libc through FFI: run deno with --allow-ffi";
  }
  if (Deno.permissions.querySync({ name: "run", command: "nsenter" }).state !== "granted") {
    return "the kernel target runs nsenter and ip: run deno with --allow-run";
  }
  const c = libc();
  const euid = c.geteuid();
  // Deno's own stat of a device file wants --allow-all; access(2) through FFI does not.
  const tun = c.access(cString("/dev/net/tun"), 0);
  if (euid !== 0) {
    return "the kernel target makes network namespaces and TUN devices: it needs root (run as root)";
  }
  if (tun !== 0) return "/dev/net/tun is missing: load the tun module (modprobe tun)";
  return missingTool("nsenter", "util-linux") ?? missingTool("ip", "iproute2");
}

/**
 * Undefined when `tool` can be run; otherwise the reason, naming the Debian
 * package that has it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { missingTool } from "./kernel_support.ts";
 * assert.match(missingTool("no-such-tool-here", "nothing")!, /no-such-tool-here is not installed/);
 * ```
 */
export function missingTool(tool: string, pkg: string): string | undefined {
  try {
    new Deno.Command(tool, { args: ["-V"], stdout: "null", stderr: "null" }).outputSync();
    return undefined;
  } catch {
    return `${tool} is not installed: install Debian's ${pkg}`;
  }
}
