/**
 * packetdrill's settings (`config.c`): the flags on its command line and the
 * `--flag=value` lines at the top of a script, with packetdrill's defaults
 * and meanings. The command line comes first and a script's own lines
 * override it, as in packetdrill (`parse_script` applies them after argv).
 *
 * Flags that only make sense for packetdrill's remote and shared-object
 * modes (`--wire_client`, `--so_filename`…) are refused with that reason;
 * unknown ones are refused by name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pktConfig } from "./pkt_config.ts";
 * const c = pktConfig(["--ip_version=ipv6", "-D", "TFO_COOKIE=3021b9d889017eeb", "--tolerance_usecs=7000"]);
 * assert.equal(c.ipVersion, "ipv6");
 * assert.equal(c.toleranceUsecs, 7000);
 * assert.equal(c.defines.TFO_COOKIE, "3021b9d889017eeb");
 * assert.equal(c.remoteIp, "2001:db8::1");
 * assert.throws(() => pktConfig(["--wire_client"]), /--wire_client: packetdrill's remote and shared-object modes/);
 * ```
 */
import type { PktOptionLine } from "../../dsl/pkt/pkt_ast.ts";

/** Which addresses the sockets and the wire use. */
export type IpVersion = "ipv4" | "ipv6" | "ipv4-mapped-ipv6";

/** Everything a run needs to know besides the script. */
export interface PktConfig {
  ipVersion: IpVersion;
  localIp: string;
  remoteIp: string;
  gatewayIp: string;
  netmaskIp: string;
  /** Prefix length of the local address (from --netmask_ip, or 64 for IPv6). */
  prefixLen: number;
  mtu: number;
  mss: number;
  bindPort: number;
  connectPort: number;
  toleranceUsecs: number;
  tolerancePercent: number;
  tsTickUsecs: number;
  tsEcrScaled: boolean;
  strictSegments: boolean;
  nonFatal: { packet: boolean; syscall: boolean };
  sendOmitFree: boolean;
  defines: Record<string, string>;
  /** `-v`/`--verbose`: each event's times and each sniffed packet on stderr. */
  verbose: boolean;
  /** `--dry_run`: parse the script and its flags, run nothing. */
  dryRun: boolean;
}

const REMOTE_ONLY = new Set([
  "wire_client",
  "wire_server",
  "wire_server_ip",
  "wire_server_at",
  "wire_server_port",
  "wire_client_dev",
  "wire_server_dev",
  "so_filename",
  "so_flags",
  "is_anyip",
  "psp_udp_port",
]);

/** Flags that take no value. */
const BOOLEAN = new Set([
  "strict_segments",
  "tcp_ts_ecr_scaled",
  "send_omit_free",
  "dry_run",
  "verbose",
  "debug",
]);

/** Flags packetdrill has that synack does not carry out, and why. */
const NOT_SUPPORTED: Record<string, string> = {
  speed: "setting tun0's link speed (ethtool) is not supported",
  init_scripts: "a folder of init scripts is not supported; put the commands in the script",
  code_command: "the Python command is always python3",
  code_format: "the code format is always Python",
  code_sockopt: "the snapshot is always TCP_INFO, TCP_CC_INFO and SO_MEMINFO",
};

function defaults(): PktConfig {
  return {
    ipVersion: "ipv4",
    localIp: "192.168.0.1",
    remoteIp: "192.0.2.1",
    gatewayIp: "192.168.0.1",
    netmaskIp: "255.255.0.0",
    prefixLen: 16,
    mtu: 1500,
    mss: 1460,
    bindPort: 8080,
    connectPort: 8080,
    toleranceUsecs: 4000,
    tolerancePercent: 12.5,
    tsTickUsecs: 0,
    tsEcrScaled: false,
    strictSegments: false,
    nonFatal: { packet: false, syscall: false },
    sendOmitFree: false,
    defines: {},
    verbose: false,
    dryRun: false,
  };
}

/**
 * Settings from packetdrill-style arguments (`--name=value`, `--name value`,
 * `-D SYM=val`, `-v`) and then a script's own option lines.
 */
export function pktConfig(
  argv: readonly string[],
  lines: readonly PktOptionLine[] = [],
): PktConfig {
  const c = defaults();
  const set: Record<string, true> = {};
  const flags: [string, string | undefined, string][] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "-D" || a === "--define") {
      flags.push(["define", argv[++i], a]);
      continue;
    }
    if (a.startsWith("-D")) {
      flags.push(["define", a.slice(2), a]);
      continue;
    }
    if (a === "-v") {
      flags.push(["verbose", undefined, a]);
      continue;
    }
    const m = /^--([A-Za-z0-9_]+)(?:=(.*))?$/.exec(a);
    if (!m) throw new RangeError(`${a}: want a packetdrill flag such as --tolerance_usecs=7000`);
    let value = m[2];
    if (
      value === undefined && !BOOLEAN.has(m[1]) && argv[i + 1] !== undefined &&
      !argv[i + 1].startsWith("-")
    ) {
      value = argv[++i];
    }
    flags.push([m[1], value, a]);
  }
  for (const l of lines) flags.push([l.name, l.value, `--${l.name} (line ${l.line})`]);
  for (const [name, value, shown] of flags) {
    apply(c, name, value, shown);
    set[name] = true;
  }
  const v6 = c.ipVersion === "ipv6";
  if (v6) {
    if (!set.local_ip) c.localIp = "fd3d:fa7b:d17d::1";
    if (!set.remote_ip) c.remoteIp = "2001:db8::1";
    if (!set.gateway_ip) c.gatewayIp = "fd3d:fa7b:d17d:8888::0";
    c.prefixLen = 64;
  } else {
    c.prefixLen = prefixOf(c.netmaskIp);
  }
  if (!set.mss) c.mss = c.mtu - (v6 ? 60 : 40);
  return c;
}

/** What a flag's handler gets: the config, and readers of its value that name the flag on error. */
interface FlagInput {
  c: PktConfig;
  text(): string;
  int(min: number): number;
  shown: string;
}

/** One handler per packetdrill flag (config.c's option table). */
const FLAGS: Record<string, (f: FlagInput) => void> = {
  ip_version: (f) => {
    const v = f.text();
    if (v !== "ipv4" && v !== "ipv6" && v !== "ipv4-mapped-ipv6") {
      throw new RangeError(
        `${f.shown}: want ipv4, ipv6 or ipv4-mapped-ipv6, got ${JSON.stringify(v)}`,
      );
    }
    f.c.ipVersion = v;
  },
  local_ip: (f) => void (f.c.localIp = f.text()),
  remote_ip: (f) => void (f.c.remoteIp = f.text()),
  gateway_ip: (f) => void (f.c.gatewayIp = f.text()),
  netmask_ip: (f) => void (f.c.netmaskIp = f.text()),
  mtu: (f) => void (f.c.mtu = f.int(68)),
  mss: (f) => void (f.c.mss = f.int(1)),
  bind_port: (f) => void (f.c.bindPort = f.int(1)),
  connect_port: (f) => void (f.c.connectPort = f.int(1)),
  tolerance_usecs: (f) => void (f.c.toleranceUsecs = f.int(0)),
  tolerance_percent: (f) => {
    const n = Number(f.text());
    if (!(n >= 0 && n <= 100)) throw new RangeError(`${f.shown}: want a percentage 0..100`);
    f.c.tolerancePercent = n;
  },
  tcp_ts_tick_usecs: (f) => void (f.c.tsTickUsecs = f.int(0)),
  tcp_ts_ecr_scaled: (f) => void (f.c.tsEcrScaled = true),
  strict_segments: (f) => void (f.c.strictSegments = true),
  send_omit_free: (f) => void (f.c.sendOmitFree = true),
  verbose: (f) => void (f.c.verbose = true),
  debug: (f) => void (f.c.verbose = true),
  dry_run: (f) => void (f.c.dryRun = true),
  non_fatal: (f) => {
    for (const k of f.text().split(",")) {
      if (k !== "packet" && k !== "syscall") {
        throw new RangeError(`${f.shown}: want packet and/or syscall`);
      }
      f.c.nonFatal[k] = true;
    }
  },
  define: (f) => {
    const v = f.text();
    const eq = v.indexOf("=");
    if (eq <= 0) throw new RangeError(`${f.shown}: want SYMBOL=value`);
    f.c.defines[v.slice(0, eq)] = v.slice(eq + 1);
  },
};

function apply(c: PktConfig, name: string, value: string | undefined, shown: string): void {
  if (REMOTE_ONLY.has(name)) {
    throw new RangeError(
      `${shown}: packetdrill's remote and shared-object modes are not supported; synack runs the stack in a private namespace`,
    );
  }
  const text = () => {
    if (value === undefined || value === "") throw new RangeError(`${shown}: want a value`);
    return value;
  };
  const int = (min: number) => {
    const v = text();
    const n = /^(0x[0-9a-f]+|\d+)$/i.test(v) ? Number(v) : NaN;
    if (!(n >= min)) {
      throw new RangeError(`${shown}: want an integer ≥ ${min}, got ${JSON.stringify(v)}`);
    }
    return n;
  };
  const handler = Object.hasOwn(FLAGS, name) ? FLAGS[name] : undefined;
  if (handler) return handler({ c, text, int, shown });
  if (Object.hasOwn(NOT_SUPPORTED, name)) throw new RangeError(`${shown}: ${NOT_SUPPORTED[name]}`);
  throw new RangeError(`${shown}: not a packetdrill flag synack knows`);
}

function prefixOf(mask: string): number {
  const parts = mask.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !(p >= 0 && p <= 255))) {
    throw new RangeError(`--netmask_ip=${mask}: want a dotted IPv4 netmask`);
  }
  const bits = parts.reduce((a, p) => a * 256 + p, 0);
  let n = 0;
  while (n < 32 && bits & (2 ** (31 - n))) n++;
  return n;
}

/** The variants packetdrill's runners use: ksft_runner.sh's two, and run_all.py's mapped one. */
export const KSFT_FAMILIES: Record<"ipv4" | "ipv6", string[]> = {
  ipv4: [
    "--ip_version=ipv4",
    "--local_ip=192.168.0.1",
    "--gateway_ip=192.168.0.1",
    "--netmask_ip=255.255.0.0",
    "--remote_ip=192.0.2.1",
    "-D",
    "CMSG_LEVEL_IP=SOL_IP",
    "-D",
    "CMSG_TYPE_RECVERR=IP_RECVERR",
  ],
  ipv6: [
    "--ip_version=ipv6",
    "--mtu=1520",
    "--local_ip=fd3d:0a0b:17d6::1",
    "--gateway_ip=fd3d:0a0b:17d6:8888::1",
    "--remote_ip=fd3d:fa7b:d17d::1",
    "-D",
    "CMSG_LEVEL_IP=SOL_IPV6",
    "-D",
    "CMSG_TYPE_RECVERR=IPV6_RECVERR",
  ],
};
