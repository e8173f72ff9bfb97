import assert from "node:assert/strict";
import { fragNeeded, mss, opts, syn, tcp, unreachable, wscale } from "../mod.ts";

Deno.test("builders are immutable: methods return new builders over frozen definitions", () => {
  const base = tcp().ports(40000, 8080);
  const s = base.syn();
  assert.equal(base.def.flags, 0);
  assert.equal(s.def.flags, 2);
  assert.notEqual(base, s);
  assert.throws(() => ((s.def as { seq?: number }).seq = 5), TypeError);
});

Deno.test("opts() object, string and factory forms describe the same options", () => {
  const a = syn().opts({ mss: 1460, sackOk: true, ts: { val: 100, ecr: 0 }, wscale: 7 });
  const b = syn().opts("<mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>");
  assert.deepEqual(a.def.options, {
    mode: "override",
    set: { mss: 1460, sackOk: true, ts: { val: 100, ecr: 0 }, wscale: 7 },
  });
  assert.equal(b.def.options?.mode, "exact");
  assert.deepEqual(syn(opts(mss(1460), wscale(7))).def.options, {
    mode: "exact",
    list: [{ kind: "mss", value: 1460 }, { kind: "wscale", shift: 7 }],
  });
});

Deno.test("opts() rejects a bad literal with the column, what was wanted and what was found", () => {
  assert.throws(() => syn().opts("<mss 1460,wscal 7>"), /col 11: want an option name.*got "wscal"/);
  assert.throws(
    () => syn().opts({ mss: 70000 }),
    /opts\.mss: want an integer 0\.\.65535, got 70000/,
  );
  assert.throws(() => syn().opts("<mss 1460>", { ts: false }), /got both in one call/);
});

Deno.test("unreachable() rejects an unknown code name and names the known ones", () => {
  assert.throws(
    // deno-lint-ignore no-explicit-any
    () => unreachable("nowhere" as any),
    /unreachable\(\): want one of net, host, protocol, port, admin or a code number, got "nowhere"/,
  );
  assert.equal(unreachable("port").def.code, 3);
  assert.equal(fragNeeded(1400).def.rest, 1400);
});
