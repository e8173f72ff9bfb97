/**
 * The Linux kernel's own packetdrill scripts
 * (`tools/testing/selftests/net/packetdrill/`), taken from Debian's
 * `linux-source-6.12` package: the folder is extracted from the source
 * tarball the package installs into synack's cache, outside any repository
 * (the scripts are GPL-2.0 kernel files and are never copied into synack's
 * tree). The extraction is redone only when the tarball changes.
 *
 * @example
 * ```ts ignore
 * const dir = await kernelCorpus(); // ~/.cache/synack/linux-source-6.12/packetdrill
 * ```
 */

import { cacheRoot } from "../host/cache_root.ts";

/** Where Debian's package puts the kernel source. */
export const KERNEL_TARBALL = "/usr/src/linux-source-6.12.tar.xz";

const INSIDE = "tools/testing/selftests/net/packetdrill";

/** Why the corpus cannot be had here, or undefined. */
export async function kernelCorpusMissing(): Promise<string | undefined> {
  try {
    await Deno.stat(KERNEL_TARBALL);
    return undefined;
  } catch {
    return `${KERNEL_TARBALL} is missing: apt-get install linux-source-6.12`;
  }
}

/** The folder of the kernel's .pkt scripts, extracted on first use. */
export async function kernelCorpus(): Promise<string> {
  const missing = await kernelCorpusMissing();
  if (missing) throw new RangeError(missing);
  const st = await Deno.stat(KERNEL_TARBALL);
  const stamp = `${st.size}-${st.mtime?.getTime() ?? 0}`;
  const base = `${cacheRoot()}/linux-source-6.12`;
  const dir = `${base}/packetdrill`;
  const ok = await Deno.readTextFile(`${base}/stamp`).catch(() => "");
  if (ok === stamp) return dir;
  await Deno.remove(base, { recursive: true }).catch(() => {});
  await Deno.mkdir(dir, { recursive: true });
  // The tarball's top folder is linux-source-6.12/; four more levels to the scripts.
  const out = await new Deno.Command("tar", {
    args: [
      "-xJf",
      KERNEL_TARBALL,
      "-C",
      dir,
      "--strip-components=6",
      "--wildcards",
      `*/${INSIDE}/*`,
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(
      `extracting ${INSIDE} from ${KERNEL_TARBALL} failed: ${
        new TextDecoder().decode(out.stderr).trim()
      }`,
    );
  }
  await Deno.writeTextFile(`${base}/stamp`, stamp);
  return dir;
}
