/**
 * Behaviour profiles of the built-in stack. A profile is plain data: the
 * built-in ones are below, and users make their own by spreading one and
 * changing fields (`{ ...profiles.linux, rtoMinMs: 1000 }`), validated by
 * `checkProfile`. Each default names where it comes from.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkProfile, notLinux, profiles } from "./profile.ts";
 * assert.equal(profiles.linux.initialCwnd, 10);
 * assert.equal(profiles["rfc7323-strict"].acceptMissingTs, false);
 * assert.equal(notLinux("linux"), undefined);
 * assert.match(notLinux("rfc7323-strict")!, /models gVisor's netstack/);
 * const mine = checkProfile({ ...profiles.linux, name: "slow", rtoMinMs: 1000 });
 * assert.equal(mine.rtoMinMs, 1000);
 * assert.throws(() => checkProfile({ ...profiles.linux, wscale: 15 }), /profile\.wscale: want an integer 0\.\.14, got 15/);
 * ```
 */
import { z } from "zod";
import { checkFields } from "../../dsl/field_schema.ts";

/** Everything that varies between stacks. Times in ms, sizes in bytes. */
export interface StackProfile {
  name: string;
  /** Initial congestion window in segments. RFC 6928 §2 / Linux TCP_INIT_CWND: 10. */
  initialCwnd: number;
  /**
   * Our window-scale shift. Linux derives it from max(tcp_rmem[2], rmem_max)
   * (tcp_select_initial_window): the 32 MB tcp_rmem[2] of current kernels
   * gives 10, the older 6 MB gave 7. RFC 7323 §2.3 caps it at 14.
   */
  wscale: number;
  /** MSS we advertise: MTU 1500 − 40 (RFC 9293 §3.7.1). */
  mss: number;
  /** RFC 6298 §2.1: 1 s before any RTT sample. */
  rtoInitMs: number;
  /** RFC 6298 §2.4 says 1 s; Linux TCP_RTO_MIN is 200 ms. */
  rtoMinMs: number;
  /** RFC 6298 §2.5 allows a cap of at least 60 s; Linux TCP_RTO_MAX is 120 s. */
  rtoMaxMs: number;
  /**
   * net.ipv4.tcp_syncookies: 1 answers a SYN with a cookie once more
   * requests wait than the backlog, 2 always, 0 never (the SYN is dropped).
   */
  synCookies: number;
  /**
   * Loss recovery. `linux`: RACK-TLP loss detection with SACK (RFC 8985),
   * NewReno's head rule without, PRR (RFC 6937) and undo (RFC 3522, D-SACK),
   * as tcp_input.c and tcp_recovery.c do. `rfc6675`: RFC 6582 NewReno
   * without SACK and RFC 6675's scoreboard with it, as the RFCs state them.
   */
  recovery: "linux" | "rfc6675";
  /**
   * Congestion control (net.ipv4.tcp_congestion_control): Linux's `reno`, or
   * `cubic` (RFC 9438), most distributions' default. The `linux` profile
   * runs Reno, as the kernel target's namespace does for comparison.
   */
  congestionControl: "reno" | "cubic";
  /** Delay before a lone ACK is sent. Linux TCP_DELACK_MIN: 40 ms. RFC 9293 §3.8.6.3: under 0.5 s. */
  delayedAckMs: number;
  /** ACKs sent at once when data first arrives (Linux quickack mode, TCP_MAX_QUICKACKS = 16). */
  quickAcks: number;
  /**
   * Linux tcp_fin: a FIN that ends ESTABLISHED puts the socket in pingpong
   * mode, so its ACK waits for the delayed-ACK timer (unless more than one
   * full segment is unacknowledged). Off: the FIN is ACKed at once.
   */
  finPingpong: boolean;
  /**
   * One timer tick (a jiffy: 4 ms at Debian's CONFIG_HZ=250). A delayed ACK
   * before any data has arrived (icsk_ack.ato still 0) waits only for it.
   */
  jiffyMs: number;
  /**
   * Whether a non-SYN, non-RST segment without TSopt is accepted after
   * timestamps were negotiated. RFC 7323 §3.2 says it SHOULD be dropped
   * (gVisor does); Linux accepts it.
   */
  acceptMissingTs: boolean;
  /** RFC 5961 §3 and §4: challenge ACKs for in-window RSTs and SYNs. */
  challengeAcks: boolean;
  /**
   * Linux's reading of PAWS for pure ACKs (`tcp_disordered_ack_check`): a
   * duplicate ACK at rcv.nxt that moves no window, with a timestamp at most
   * 1.2 RTO old, is taken, not dropped; one below rcv.nxt is dropped without
   * an answer (TCP_RFC7323_PAWS_ACK). Off: every PAWS failure is dropped and
   * ACKed, as RFC 7323 §5.3 says.
   */
  disorderedAcks: boolean;
  /** net.ipv4.tcp_timestamps: offer TSopt (RFC 7323 §3). */
  timestamps: boolean;
  /** net.ipv4.tcp_sack: offer SACK-permitted (RFC 2018). */
  sack: boolean;
  /** net.ipv4.tcp_window_scaling: offer WSopt (RFC 7323 §2). */
  windowScaling: boolean;
  /** TIME-WAIT length. RFC 9293 says 2×MSL; Linux TCP_TIMEWAIT_LEN is 60 s. */
  timeWaitMs: number;
  /**
   * Tail loss probes (RFC 8985 §7; Linux tcp_early_retrans = 3): with SACK,
   * the last segment is probed 2·SRTT after it (plus 200 ms when it is the
   * only one in flight), before the RTO.
   */
  tlp: boolean;
  /** net.ipv4.tcp_syn_retries (Linux 6). */
  synRetries: number;
  /**
   * net.ipv4.tcp_syn_linear_timeouts (Linux 6.13+: 4): the first SYN
   * retransmissions wait 1 s each, before exponential backoff starts.
   */
  synLinearTimeouts: number;
  /** net.ipv4.tcp_synack_retries (Linux 5). */
  synAckRetries: number;
  /** net.ipv4.tcp_retries2 (Linux 15). */
  dataRetries: number;
  /** Receive buffer; the window offered is half of it (Linux tcp_adv_win_scale = 1). */
  rcvBuf: number;
  /** Send buffer (Linux tcp_wmem[1] = 16 KiB). */
  sndBuf: number;
  /** setsockopt(SO_RCVBUF/SO_SNDBUF) stores twice the value asked for, as Linux does (socket(7)). */
  doubleBufOpts: boolean;
  /** Listen backlog cap (net.core.somaxconn, Linux 4096). */
  somaxconn: number;
  /**
   * What the final ACK of a handshake meets when the accept queue is full:
   * `false` drops it, so the SYN-ACK is retransmitted later (Linux default);
   * `true` answers with a reset (net.ipv4.tcp_abort_on_overflow).
   */
  abortOnOverflow: boolean;
  /** net.ipv4.tcp_dsack: report duplicate segments with D-SACK (RFC 2883). */
  dsack: boolean;
  /**
   * An acceptable RST in SYN-SENT: RFC 9293 §3.10.7.3 signals "connection
   * reset" (ECONNRESET); Linux's tcp_reset reports ECONNREFUSED there.
   */
  synSentRst: "linux" | "rfc9293";
  /** RFC 5961 §7: challenge ACKs the whole stack may send per second (net.ipv4.tcp_challenge_ack_limit). */
  challengeAckLimit: number;
  /**
   * Per connection, the least time between two ACKs answering invalid
   * segments (out of window, PAWS, challenges): net.ipv4.tcp_invalid_ratelimit, 500 ms.
   */
  invalidRateLimitMs: number;
  /** An orphaned connection's FIN-WAIT-2 lifetime (net.ipv4.tcp_fin_timeout, 60 s). */
  finTimeoutMs: number;
  /** Idle time before the first keepalive probe (net.ipv4.tcp_keepalive_time, 7200 s). */
  keepaliveTimeMs: number;
  /** Time between keepalive probes (net.ipv4.tcp_keepalive_intvl, 75 s). */
  keepaliveIntvlMs: number;
  /** Unanswered keepalive probes before the connection is reset (net.ipv4.tcp_keepalive_probes, 9). */
  keepaliveProbes: number;
  /** Duplicate ACKs that start fast retransmit (RFC 5681 §3.2 DupThresh; net.ipv4.tcp_reordering, 3). */
  dupThresh: number;
  /** The lowest path MTU an ICMP message may set (Linux ip_rt_min_pmtu: 552; IPv6 is always 1280). */
  minPmtu: number;
}

const int = (min: number, max: number) => {
  const want = `an integer ${min}..${max}`;
  return z.number({ error: want }).int({ error: want }).min(min, { error: want }).max(max, {
    error: want,
  });
};
const bool = z.boolean({ error: "true or false" });

/** The zod schema of a profile. */
export const profileSchema = z.strictObject({
  name: z.string({ error: "a name" }).min(1, { error: "a non-empty name" }),
  initialCwnd: int(1, 1000),
  wscale: int(0, 14),
  mss: int(88, 65495),
  rtoInitMs: int(1, 600_000),
  rtoMinMs: int(1, 600_000),
  tlp: bool,
  rtoMaxMs: int(1, 3_600_000),
  synCookies: int(0, 2),
  congestionControl: z.enum(["reno", "cubic"], { error: '"reno" or "cubic"' }),
  recovery: z.enum(["linux", "rfc6675"], { error: '"linux" or "rfc6675"' }),
  delayedAckMs: int(1, 500),
  quickAcks: int(0, 1000),
  finPingpong: bool,
  jiffyMs: int(1, 100),
  acceptMissingTs: bool,
  challengeAcks: bool,
  disorderedAcks: bool,
  timestamps: bool,
  sack: bool,
  windowScaling: bool,
  timeWaitMs: int(0, 3_600_000),
  synRetries: int(0, 255),
  synLinearTimeouts: int(0, 255),
  synAckRetries: int(0, 255),
  dataRetries: int(0, 255),
  rcvBuf: int(256, 1 << 30),
  sndBuf: int(256, 1 << 30),
  doubleBufOpts: bool,
  somaxconn: int(1, 65535),
  abortOnOverflow: bool,
  dsack: bool,
  synSentRst: z.enum(["linux", "rfc9293"], { error: '"linux" or "rfc9293"' }),
  challengeAckLimit: int(0, 2 ** 31 - 1),
  invalidRateLimitMs: int(0, 600_000),
  finTimeoutMs: int(0, 3_600_000),
  keepaliveTimeMs: int(1000, 32_767_000),
  keepaliveIntvlMs: int(1000, 32_767_000),
  keepaliveProbes: int(1, 127),
  dupThresh: int(1, 300),
  minPmtu: int(68, 65535),
});

const linux: StackProfile = Object.freeze({
  name: "linux",
  initialCwnd: 10,
  wscale: 10,
  mss: 1460,
  rtoInitMs: 1000,
  rtoMinMs: 200,
  rtoMaxMs: 120_000,
  synCookies: 1,
  congestionControl: "reno",
  recovery: "linux",
  delayedAckMs: 40,
  quickAcks: 16,
  finPingpong: true,
  jiffyMs: 4,
  acceptMissingTs: true,
  challengeAcks: true,
  disorderedAcks: true,
  timestamps: true,
  sack: true,
  windowScaling: true,
  timeWaitMs: 60_000,
  tlp: true,
  synRetries: 6,
  synLinearTimeouts: 4,
  synAckRetries: 5,
  dataRetries: 15,
  rcvBuf: 131_072,
  sndBuf: 16_384,
  doubleBufOpts: true,
  somaxconn: 4096,
  abortOnOverflow: false,
  dsack: true,
  synSentRst: "linux",
  challengeAckLimit: 1000,
  invalidRateLimitMs: 500,
  finTimeoutMs: 60_000,
  keepaliveTimeMs: 7_200_000,
  keepaliveIntvlMs: 75_000,
  keepaliveProbes: 9,
  dupThresh: 3,
  minPmtu: 552,
});

/**
 * gVisor's netstack as measured against the real one (`--target gvisor`):
 * its reading of RFC 7323 §3.2 (a non-SYN segment without TSopt is dropped
 * once timestamps are on), six SYN-ACK retransmissions (its handshake backs
 * off until the timeout passes MaxRTO, 120 s), SACK off unless set
 * (`TCPSACKEnabled`), and window scale 5 (its 1 MB default receive buffer).
 */
const gvisor: StackProfile = Object.freeze({
  ...linux,
  name: "gvisor",
  acceptMissingTs: false,
  disorderedAcks: false,
  finPingpong: false,
  recovery: "rfc6675",
  synAckRetries: 6,
  sack: false,
  wscale: 5,
});

/**
 * The built-in profiles: `linux`, and `gvisor`, the model of gVisor's
 * netstack (its older name, `rfc7323-strict`, stays as an alias).
 */
export const profiles: Readonly<Record<"linux" | "gvisor" | "rfc7323-strict", StackProfile>> =
  Object.freeze({
    linux,
    gvisor,
    "rfc7323-strict": Object.freeze({ ...gvisor, name: "rfc7323-strict" }),
  });

/**
 * The stack each built-in profile stands for. A scenario pinned to a profile
 * runs on the real stack it models, and is skipped on the others.
 */
export const PROFILE_MODELS: Readonly<Record<keyof typeof profiles, string>> = Object.freeze({
  linux: "Linux",
  gvisor: "gVisor's netstack",
  "rfc7323-strict": "gVisor's netstack",
});

/**
 * Why a scenario pinned to `profile` does not run on the Linux kernel, or
 * undefined when it does (the `linux` profile, by name or as an object).
 */
export function notLinux(profile: string | Readonly<Record<string, unknown>>): string | undefined {
  const name = typeof profile === "string" ? profile : String(profile.name ?? "custom");
  if (name === "linux") return undefined;
  const model = (PROFILE_MODELS as Record<string, string>)[name];
  return model
    ? `profile ${name} models ${model}, not the Linux kernel`
    : `profile ${name} is a model of the built-in stack, not the Linux kernel`;
}

/**
 * Why a scenario pinned to `profile` does not run on gVisor's real netstack,
 * or undefined when it does (a profile that models it).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { notGvisor } from "./profile.ts";
 * assert.equal(notGvisor("rfc7323-strict"), undefined);
 * assert.match(notGvisor("linux")!, /profile linux models Linux, not gVisor's netstack/);
 * ```
 */
export function notGvisor(profile: string | Readonly<Record<string, unknown>>): string | undefined {
  const name = typeof profile === "string" ? profile : String(profile.name ?? "custom");
  const model = (PROFILE_MODELS as Record<string, string>)[name];
  if (model === "gVisor's netstack") return undefined;
  return model
    ? `profile ${name} models ${model}, not gVisor's netstack`
    : `profile ${name} is a model of the built-in stack, not gVisor's netstack`;
}

/**
 * sysctl names the built-in stack models, the profile field each sets, and
 * the factor from the kernel's unit to the field's (seconds to ms). Booleans
 * take 0/1 as the kernel's do.
 */
export const SYSCTLS: Readonly<Record<string, readonly [keyof StackProfile, number]>> = Object
  .freeze({
    "net.ipv4.tcp_timestamps": ["timestamps", 1],
    "net.ipv4.tcp_sack": ["sack", 1],
    "net.ipv4.tcp_dsack": ["dsack", 1],
    "net.ipv4.tcp_window_scaling": ["windowScaling", 1],
    "net.ipv4.tcp_syn_retries": ["synRetries", 1],
    "net.ipv4.tcp_syn_linear_timeouts": ["synLinearTimeouts", 1],
    "net.ipv4.tcp_synack_retries": ["synAckRetries", 1],
    "net.ipv4.tcp_retries2": ["dataRetries", 1],
    "net.ipv4.tcp_abort_on_overflow": ["abortOnOverflow", 1],
    "net.ipv4.tcp_syncookies": ["synCookies", 1],
    "net.ipv4.tcp_challenge_ack_limit": ["challengeAckLimit", 1],
    "net.ipv4.tcp_invalid_ratelimit": ["invalidRateLimitMs", 1],
    "net.ipv4.tcp_fin_timeout": ["finTimeoutMs", 1000],
    "net.ipv4.tcp_keepalive_time": ["keepaliveTimeMs", 1000],
    "net.ipv4.tcp_keepalive_intvl": ["keepaliveIntvlMs", 1000],
    "net.ipv4.tcp_keepalive_probes": ["keepaliveProbes", 1],
    "net.ipv4.tcp_reordering": ["dupThresh", 1],
    "net.core.somaxconn": ["somaxconn", 1],
  });

/** Validates a user's profile; errors read `profile.field: want …, got …`. */
export function checkProfile(input: unknown): StackProfile {
  return Object.freeze(checkFields(profileSchema, input, "profile"));
}

/** Looks a profile up by name, or validates a profile object. */
export function resolveProfile(p: string | Readonly<Record<string, unknown>>): StackProfile {
  if (typeof p !== "string") return checkProfile(p);
  if (p in profiles) return profiles[p as keyof typeof profiles];
  throw new RangeError(
    `Unknown profile ${JSON.stringify(p)}: want one of ${Object.keys(profiles).join(", ")}`,
  );
}

/**
 * net.ipv4.tcp_rmem ("min default max"): of the three, the built-in stack
 * models what its maximum does to the window scale it offers, as
 * tcp_select_initial_window computes it: ilog2(max(rmem[2], rmem_max)) − 15,
 * within 0..14 (rmem_max at its default, 212992, never the larger).
 */
function rmemWscale(value: number | string): number {
  const parts = String(value).trim().split(/\s+/).map(Number);
  if (parts.length !== 3 || parts.some((n) => !Number.isInteger(n) || n < 0)) {
    throw new RangeError(
      `sysctl net.ipv4.tcp_rmem: want "min default max" in bytes, got ${JSON.stringify(value)}`,
    );
  }
  const space = Math.max(parts[2], 212992);
  return Math.min(14, Math.max(0, Math.floor(Math.log2(space)) - 15));
}

/** Applies a modelled sysctl to a profile, returning a new profile. */
export function applySysctl(p: StackProfile, name: string, value: number | string): StackProfile {
  if (name === "net.ipv4.tcp_rmem") return checkProfile({ ...p, wscale: rmemWscale(value) });
  if (name === "net.ipv4.tcp_congestion_control") {
    const cc = String(value).trim();
    if (cc !== "reno" && cc !== "cubic") {
      throw new RangeError(
        `sysctl ${name}: the built-in stack models reno and cubic, got ${JSON.stringify(value)}`,
      );
    }
    return checkProfile({ ...p, congestionControl: cc });
  }
  const entry = Object.hasOwn(SYSCTLS, name) ? SYSCTLS[name] : undefined;
  if (!entry) {
    throw new RangeError(
      `sysctl ${name} is not modelled by the built-in stack: want one of ${
        [...Object.keys(SYSCTLS), "net.ipv4.tcp_rmem", "net.ipv4.tcp_congestion_control"].join(", ")
      }`,
    );
  }
  const [field, scale] = entry;
  const n = Number(value);
  const v = typeof p[field] === "boolean" ? n !== 0 : n * scale;
  return checkProfile({ ...p, [field]: v });
}
