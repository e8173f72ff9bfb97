// `synack test`: summary, JUnit XML, TAP, shards, exit codes.
import assert from "node:assert/strict";
import { main } from "../cli/main.ts";
import { testCommand } from "../cli/test_command.ts";

Deno.test("synack test: shards split the suite; JUnit and TAP report every scenario", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const counts: number[] = [];
    for (const i of [1, 2]) {
      const lines: string[] = [];
      const code = await testCommand("examples", {
        shard: `${i}/2`,
        junit: `${dir}/junit${i}.xml`,
        tap: `${dir}/tap${i}.tap`,
        print: (l) => lines.push(l),
      });
      assert.equal(code, 0);
      const m = /^(\d+) passed, 0 failed(?:, (\d+) skipped)? \(shard \d\/2\)$/.exec(lines.at(-1)!);
      assert.ok(m, lines.at(-1));
      // The topology example's kernel hosts are skipped on the built-in target, with the reason.
      const run = Number(m[1]) + Number(m[2] ?? 0);
      counts.push(run);
      const tap = await Deno.readTextFile(`${dir}/tap${i}.tap`);
      assert.match(tap, new RegExp(`^TAP version 14\\n1\\.\\.${run}\\n`));
      assert.equal((tap.match(/ # SKIP the topology's hosts/g) ?? []).length, Number(m[2] ?? 0));
      const junit = await Deno.readTextFile(`${dir}/junit${i}.xml`);
      assert.match(junit, new RegExp(`<testsuites name="synack" tests="${run}" failures="0"`));
    }
    assert.equal(counts[0] + counts[1], 25);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("synack test: a failure is exit 1 with its report; bad flags are exit 2", async () => {
  const dir = await Deno.makeTempDir();
  const mod = new URL("../mod.ts", import.meta.url).href;
  await Deno.writeTextFile(
    `${dir}/fails_test.ts`,
    `import { expect, inject, listen, scenario, syn, synAck } from "${mod}";
scenario("wrong ack", [listen(8080), inject(syn()), expect(synAck().ack(5))]);\n`,
  );
  try {
    const lines: string[] = [];
    const code = await testCommand(dir, {
      tap: `${dir}/r.tap`,
      junit: `${dir}/r.xml`,
      print: (l) => lines.push(l),
    });
    assert.equal(code, 1);
    assert.ok(lines.some((l) => l.startsWith("FAIL wrong ack")));
    assert.equal(lines.at(-1), "0 passed, 1 failed");
    assert.match(
      await Deno.readTextFile(`${dir}/r.tap`),
      /not ok 1 - wrong ack\n {2}---\n {2}at: .*fails_test\.ts:2\n {2}message: \|\n {4}.*tcp\.ack: want 5, got 1/s,
    );
    assert.match(
      await Deno.readTextFile(`${dir}/r.xml`),
      /<failure message=".*expect\(synAck\) did not match">/,
    );
    const err = console.error;
    console.error = () => {};
    try {
      assert.equal(await main(["test", dir, "--shard", "3/2"]), 2);
      assert.equal(await main(["test", dir, "--target", "nope"]), 2);
    } finally {
      console.error = err;
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
