/**
 * Behaviour profiles of the built-in stack. A profile is plain data: the
 * built-in ones are below, and users make their own by spreading one and
 * changing fields (`{ ...profiles.linux, rtoMinMs: 1000 }`), validated by
 * `checkProfile`. Each default names where it comes from.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkProfile, profiles } from "./profile.ts";
 * assert.equal(profiles.linux.initialCwnd, 10);
 * assert.equal(profiles["rfc7323-strict"].acceptMissingTs, false);
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
  /** Our window-scale shift. Linux picks 7 for the default tcp_rmem; RFC 7323 §2.3 caps it at 14. */
  wscale: number;
  /** MSS we advertise: MTU 1500 − 40 (RFC 9293 §3.7.1). */
  mss: number;
  /** RFC 6298 §2.1: 1 s before any RTT sample. */
  rtoInitMs: number;
  /** RFC 6298 §2.4 says 1 s; Linux TCP_RTO_MIN is 200 ms. */
  rtoMinMs: number;
  /** RFC 6298 §2.5 allows a cap of at least 60 s; Linux TCP_RTO_MAX is 120 s. */
  rtoMaxMs: number;
  /** Delay before a lone ACK is sent. Linux TCP_DELACK_MIN: 40 ms. RFC 9293 §3.8.6.3: under 0.5 s. */
  delayedAckMs: number;
  /** ACKs sent at once when data first arrives (Linux quickack mode, TCP_MAX_QUICKACKS = 16). */
  quickAcks: number;
  /**
   * Whether a non-SYN, non-RST segment without TSopt is accepted after
   * timestamps were negotiated. RFC 7323 §3.2 says it SHOULD be dropped
   * (gVisor does); Linux accepts it.
   */
  acceptMissingTs: boolean;
  /** RFC 5961 §3 and §4: challenge ACKs for in-window RSTs and SYNs. */
  challengeAcks: boolean;
  /** net.ipv4.tcp_timestamps: offer TSopt (RFC 7323 §3). */
  timestamps: boolean;
  /** net.ipv4.tcp_sack: offer SACK-permitted (RFC 2018). */
  sack: boolean;
  /** net.ipv4.tcp_window_scaling: offer WSopt (RFC 7323 §2). */
  windowScaling: boolean;
  /** TIME-WAIT length. RFC 9293 says 2×MSL; Linux TCP_TIMEWAIT_LEN is 60 s. */
  timeWaitMs: number;
  /** net.ipv4.tcp_syn_retries (Linux 6). */
  synRetries: number;
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
  rtoMaxMs: int(1, 3_600_000),
  delayedAckMs: int(1, 500),
  quickAcks: int(0, 1000),
  acceptMissingTs: bool,
  challengeAcks: bool,
  timestamps: bool,
  sack: bool,
  windowScaling: bool,
  timeWaitMs: int(0, 3_600_000),
  synRetries: int(0, 255),
  synAckRetries: int(0, 255),
  dataRetries: int(0, 255),
  rcvBuf: int(256, 1 << 30),
  sndBuf: int(256, 1 << 30),
  doubleBufOpts: bool,
  somaxconn: int(1, 65535),
});

const linux: StackProfile = Object.freeze({
  name: "linux",
  initialCwnd: 10,
  wscale: 7,
  mss: 1460,
  rtoInitMs: 1000,
  rtoMinMs: 200,
  rtoMaxMs: 120_000,
  delayedAckMs: 40,
  quickAcks: 16,
  acceptMissingTs: true,
  challengeAcks: true,
  timestamps: true,
  sack: true,
  windowScaling: true,
  timeWaitMs: 60_000,
  synRetries: 6,
  synAckRetries: 5,
  dataRetries: 15,
  rcvBuf: 131_072,
  sndBuf: 16_384,
  doubleBufOpts: true,
  somaxconn: 4096,
});

/** The built-in profiles. */
export const profiles: Readonly<Record<"linux" | "rfc7323-strict", StackProfile>> = Object.freeze({
  linux,
  /** gVisor netstack's reading of RFC 7323 §3.2: drop non-SYN segments that lack TSopt. */
  "rfc7323-strict": Object.freeze({ ...linux, name: "rfc7323-strict", acceptMissingTs: false }),
});

/**
 * sysctl names the built-in stack models, and the profile field each sets.
 * Booleans take 0/1 as the kernel's do.
 */
export const SYSCTLS: Readonly<Record<string, keyof StackProfile>> = Object.freeze({
  "net.ipv4.tcp_timestamps": "timestamps",
  "net.ipv4.tcp_sack": "sack",
  "net.ipv4.tcp_window_scaling": "windowScaling",
  "net.ipv4.tcp_syn_retries": "synRetries",
  "net.ipv4.tcp_synack_retries": "synAckRetries",
  "net.ipv4.tcp_retries2": "dataRetries",
  "net.core.somaxconn": "somaxconn",
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

/** Applies a modelled sysctl to a profile, returning a new profile. */
export function applySysctl(p: StackProfile, name: string, value: number | string): StackProfile {
  const field = SYSCTLS[name];
  if (!field) {
    throw new RangeError(
      `sysctl ${name} is not modelled by the built-in stack: want one of ${
        Object.keys(SYSCTLS).join(", ")
      }`,
    );
  }
  const n = Number(value);
  const v = typeof p[field] === "boolean" ? n !== 0 : n;
  return checkProfile({ ...p, [field]: v });
}
