/**
 * Linux's congestion-avoidance states (`enum tcp_ca_state`, include/net/tcp.h),
 * numbered as TCP_INFO's `tcpi_ca_state` reports them: what a connection's
 * sender is doing about loss. CWR (2) is not entered by this stack: it has
 * no ECN congestion response or local congestion to react to.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CaState } from "./ca_state.ts";
 * assert.equal(CaState.RECOVERY, 3);
 * ```
 */
export const CaState = { OPEN: 0, DISORDER: 1, RECOVERY: 3, LOSS: 4 } as const;
