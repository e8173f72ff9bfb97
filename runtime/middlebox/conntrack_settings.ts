/**
 * The per-namespace settings of Linux conntrack's TCP tracking, under their
 * sysctl names (`Documentation/networking/nf_conntrack-sysctl.rst`), with
 * the kernel's defaults. A model middlebox takes the same
 * `sysctl("net.netfilter.…", v)` steps a kernel host does.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { applyConntrackSysctl, CONNTRACK_DEFAULTS } from "./conntrack_settings.ts";
 * const s = applyConntrackSysctl(CONNTRACK_DEFAULTS, "net.netfilter.nf_conntrack_tcp_be_liberal", 1);
 * assert.equal(s.beLiberal, true);
 * assert.equal(applyConntrackSysctl(s, "net.netfilter.nf_conntrack_tcp_timeout_close", 3).timeouts.close, 3);
 * assert.throws(() => applyConntrackSysctl(s, "net.netfilter.nf_nope", 1), /not modelled/);
 * ```
 */

/** Timeouts by state, in seconds (`nf_conntrack_tcp_timeout_*`). */
export interface CtTimeouts {
  syn_sent: number;
  syn_recv: number;
  established: number;
  fin_wait: number;
  close_wait: number;
  last_ack: number;
  time_wait: number;
  close: number;
  /** After `maxRetrans` identical retransmissions, or a zero window. */
  max_retrans: number;
  /** While either side has data not yet acknowledged. */
  unacknowledged: number;
}

/** Conntrack's TCP settings. */
export interface ConntrackSettings {
  /** `nf_conntrack_tcp_be_liberal`: only out-of-window RSTs are INVALID. */
  readonly beLiberal: boolean;
  /** `nf_conntrack_tcp_loose`: pick up connections already established. */
  readonly loose: boolean;
  /** `nf_conntrack_tcp_ignore_invalid_rst`: RSTs are not marked INVALID by the seq check. */
  readonly ignoreInvalidRst: boolean;
  /** `nf_conntrack_tcp_max_retrans`. */
  readonly maxRetrans: number;
  /** `nf_conntrack_checksum`: a bad checksum arriving (PRE_ROUTING) is INVALID. */
  readonly checksum: boolean;
  readonly timeouts: Readonly<CtTimeouts>;
}

/** The kernel's defaults. */
export const CONNTRACK_DEFAULTS: ConntrackSettings = Object.freeze({
  beLiberal: false,
  loose: true,
  ignoreInvalidRst: false,
  maxRetrans: 3,
  checksum: true,
  timeouts: Object.freeze({
    syn_sent: 120,
    syn_recv: 60,
    established: 432000,
    fin_wait: 120,
    close_wait: 60,
    last_ack: 30,
    time_wait: 120,
    close: 10,
    max_retrans: 300,
    unacknowledged: 300,
  }),
});

const FLAGS = {
  "net.netfilter.nf_conntrack_tcp_be_liberal": "beLiberal",
  "net.netfilter.nf_conntrack_tcp_loose": "loose",
  "net.netfilter.nf_conntrack_tcp_ignore_invalid_rst": "ignoreInvalidRst",
  "net.netfilter.nf_conntrack_checksum": "checksum",
} as const;

const TIMEOUT = /^net\.netfilter\.nf_conntrack_tcp_timeout_([a-z_]+)$/;

/**
 * Settings with one sysctl changed. A `RangeError` names what is modelled
 * when the sysctl is not, and what is wanted when the value is wrong.
 */
export function applyConntrackSysctl(
  s: ConntrackSettings,
  name: string,
  value: number | string,
): ConntrackSettings {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) {
    throw new RangeError(
      `sysctl ${name}: want a whole number of 0 or more, got ${JSON.stringify(value)}`,
    );
  }
  if (name in FLAGS) return { ...s, [FLAGS[name as keyof typeof FLAGS]]: n !== 0 };
  if (name === "net.netfilter.nf_conntrack_tcp_max_retrans") return { ...s, maxRetrans: n };
  const t = TIMEOUT.exec(name)?.[1];
  if (t !== undefined && t in s.timeouts) return { ...s, timeouts: { ...s.timeouts, [t]: n } };
  throw new RangeError(
    `sysctl ${name} is not modelled by the conntrack model: want one of ${
      [
        ...Object.keys(FLAGS),
        "net.netfilter.nf_conntrack_tcp_max_retrans",
        ...Object.keys(s.timeouts).map((k) => `net.netfilter.nf_conntrack_tcp_timeout_${k}`),
      ].join(", ")
    }`,
  );
}
