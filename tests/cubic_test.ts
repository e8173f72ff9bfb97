// CUBIC as tcp_cubic.c computes it (runtime/stack/cubic.ts). The kernel's namespaces here may
// choose only reno or bbr, so these check the arithmetic against RFC 9438's formulas instead.
import assert from "node:assert/strict";
import { cubicK, cubicRoot, cubicSsthresh, cubicUpdate } from "../runtime/stack/cubic.ts";
import { CubicState } from "../runtime/stack/cubic_state.ts";

const HZ = 250;

Deno.test("CUBIC: the kernel's integer cube root is within 1, or 0.3 %, of the real one", () => {
  for (const n of [1, 8, 27, 64, 1000, 12345, 1e6, 8e9, 1.2e12, 9e15]) {
    const got = cubicRoot(BigInt(n)), want = Math.cbrt(n);
    assert.ok(Math.abs(got - want) <= Math.max(1, want * 0.003), `∛${n}: got ${got}, want ${want}`);
  }
});

Deno.test("CUBIC: K = ∛(W_max·(1 − β) / C) seconds (RFC 9438 §4.2), in 1/1024 s", () => {
  for (const wmax of [20, 100, 1000]) {
    const cwnd = Math.floor((wmax * 717) / 1024);
    const want = Math.cbrt((wmax - cwnd) / 0.4);
    const got = cubicK(wmax, cwnd) / 1024;
    assert.ok(Math.abs(got - want) < 0.01, `W_max ${wmax}: K ${got}, want ${want}`);
  }
});

Deno.test("CUBIC: ssthresh is β·cwnd, and a loss before the plateau lowers W_max (fast convergence)", () => {
  const ca = new CubicState();
  assert.equal(cubicSsthresh(ca, 100), 70);
  assert.equal(ca.lastMaxCwnd, 100);
  // The next loss at 90 < W_max: W_max becomes 90·(1 + β)/2.
  assert.equal(cubicSsthresh(ca, 90), 63);
  assert.equal(ca.lastMaxCwnd, Math.floor((90 * (1024 + 717)) / 2048));
  assert.equal(cubicSsthresh(new CubicState(), 2), 2);
});

Deno.test("CUBIC: concave up to W_max at K, then convex beyond it (RFC 9438 §4.2)", () => {
  const ca = new CubicState();
  cubicSsthresh(ca, 100); // W_max 100, cwnd 70
  const start = 1000;
  // cnt: segments per cwnd increase. Right after the loss W(t) ≈ cwnd: the slowest growth.
  cubicUpdate(ca, 70, 1, start, HZ);
  assert.equal(ca.epochStart, start);
  const early = ca.cnt;
  // Halfway to K, W(t) is well above 70: faster growth (smaller cnt).
  const kJiffies = Math.round((ca.k / 1024) * HZ);
  cubicUpdate(ca, 70, 1, start + Math.floor(kJiffies / 2), HZ);
  assert.ok(ca.cnt < early, `cnt ${ca.cnt} after ${kJiffies / 2} jiffies, ${early} at the start`);
  // Near the plateau with cwnd already at W_max: growth almost stops.
  cubicUpdate(ca, 100, 1, start + kJiffies, HZ);
  assert.ok(ca.cnt >= 100, `at the plateau cnt ${ca.cnt}`);
  // Well past K the cubic rises again.
  cubicUpdate(ca, 100, 1, start + 3 * kJiffies, HZ);
  assert.ok(ca.cnt < 100, `past the plateau cnt ${ca.cnt}`);
});
