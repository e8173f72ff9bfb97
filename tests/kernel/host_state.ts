/**
 * What the isolation tests compare before and after: the host's interfaces,
 * addresses, routes and a sysctl synack's scenarios set; namespaces pinned
 * by a mount (`ip netns add` would leave one); and every process that came
 * from a run, found by an environment marker that all its descendants
 * inherit (nsenter, the namespace holder, the echo server). A namespace
 * exists only while a process, an fd or a mount holds it, so no process and
 * no new mount means no namespace left.
 */

import { inPrivateTracefs } from "../../runtime/kernel/tracefs.ts";

/** The host namespace's links, addresses and routes, its tcp_timestamps, and its netfilter logging. */
export function hostNetwork(): string {
  const run = (args: string[]) =>
    new TextDecoder().decode(new Deno.Command("ip", { args }).outputSync().stdout);
  return [
    run(["-o", "link"]).replace(/\s+link\/.*$/gm, ""),
    run(["-o", "addr"]),
    run(["route"]),
    run(["-6", "route"]),
    Deno.readTextFileSync("/proc/sys/net/ipv4/tcp_timestamps"),
    // What a netfilter host sets inside its namespace for the kernel's INVALID reasons.
    ...["nf_log/2", "nf_log/10", "nf_conntrack_log_invalid", "nf_log_all_netns"].map((f) => {
      try {
        return `${f}=${Deno.readTextFileSync(`/proc/sys/net/netfilter/${f}`).trim()}`;
      } catch {
        return `${f}: none`;
      }
    }),
  ].join("\n");
}

/** Namespace files mounted anywhere (nsfs mounts), such as /run/netns/<name>. */
export function nsMounts(): string[] {
  return Deno.readTextFileSync("/proc/self/mountinfo").split("\n")
    .filter((l) => / - nsfs /.test(l)).map((l) => l.split(" ")[4]).sort();
}

/** Processes whose environment holds `marker`, and the network namespaces they hold. */
export function markedProcesses(marker: string): { pid: number; cmd: string; netns: string[] }[] {
  const out: { pid: number; cmd: string; netns: string[] }[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name) || Number(e.name) === Deno.pid) continue;
    try {
      if (!Deno.readTextFileSync(`/proc/${e.name}/environ`).includes(marker)) continue;
      const cmd = Deno.readTextFileSync(`/proc/${e.name}/cmdline`).replaceAll("\0", " ");
      const netns = [Deno.readLinkSync(`/proc/${e.name}/ns/net`)];
      for (const f of Deno.readDirSync(`/proc/${e.name}/fd`)) {
        const l = Deno.readLinkSync(`/proc/${e.name}/fd/${f.name}`);
        if (l.startsWith("net:[")) netns.push(l);
      }
      out.push({ pid: Number(e.name), cmd, netns });
    } catch { /* the process ended while we looked */ }
  }
  return out;
}

/**
 * The machine's tracing as synack could touch it: tracefs mounts in the
 * host's mount table, and, read through a private mount of tracefs, the
 * `synack-*` instances left by a helper that is gone, and what the
 * top-level buffer has enabled.
 */
export function tracingState(): { mounts: string[]; instances: string[]; topLevel: string } {
  const mounts = Deno.readTextFileSync("/proc/self/mountinfo").split("\n")
    .filter((l) => / - tracefs /.test(l)).map((l) => l.split(" ")[4]).sort();
  const out = new Deno.Command("unshare", {
    args: inPrivateTracefs(
      "cd /sys/kernel/tracing && ls instances; echo ---; cat set_event tracing_on events/enable",
    ),
  }).outputSync();
  const [list, top] = new TextDecoder().decode(out.stdout).split("---\n");
  return {
    mounts,
    // Only instances whose helper is gone: another synack running now is not a leftover.
    instances: list.split("\n").filter((n) =>
      n.startsWith("synack-") && !alive(Number(n.slice(7)))
    ),
    topLevel: top ?? "",
  };
}

/** Whether a process runs (and is not a zombie). */
function alive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(Deno.readTextFileSync(`/proc/${pid}/status`));
  } catch {
    return false;
  }
}
