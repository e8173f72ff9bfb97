/**
 * The API reference (`npx deno task doc`, from `deno doc`) has an example for
 * every function, class and value the DSL exports: each is an asserting
 * `@example` that `deno test --doc` runs. Types are shown by the examples of
 * the functions that take them.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url).pathname;
const DSL = [
  "packet_builder.ts",
  "steps.ts",
  "socket_steps.ts",
  "matcher.ts",
  "option_spec.ts",
  "scenario_def.ts",
  "duration.ts",
];

interface DocNode {
  name: string;
  declarations: { declarationKind: string; kind: string; jsDoc?: { tags?: { kind: string }[] } }[];
}

Deno.test("API reference: every DSL function, class and value has an example", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--json", ...DSL.map((f) => `${ROOT}dsl/${f}`)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const doc = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    nodes: Record<string, { symbols: DocNode[] }>;
  };
  const missing: string[] = [];
  let checked = 0;
  for (const [file, { symbols }] of Object.entries(doc.nodes)) {
    for (const s of symbols) {
      for (const d of s.declarations) {
        if (d.declarationKind !== "export" || !["function", "class", "variable"].includes(d.kind)) {
          continue;
        }
        checked++;
        if (!d.jsDoc?.tags?.some((t) => t.kind === "example")) {
          missing.push(`${file.slice(file.lastIndexOf("/") + 1)}: ${s.name}`);
        }
      }
    }
  }
  assert.ok(checked >= 70, `only ${checked} exports found`);
  assert.deepEqual(missing, [], "exports without an @example");
});
