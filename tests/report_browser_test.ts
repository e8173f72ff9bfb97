/**
 * The HTML report in a real browser: `synack run --report` of a known run
 * (the linger-zero story, which passes, and one scenario that fails on
 * purpose), opened in Debian's chromium, headless. A page beside it loads
 * the report in a frame and checks the rendered DOM: one section per
 * scenario, one ladder diagram in each with a real size, the RSTs drawn with
 * their reasons, and the failing step drawn as a highlighted box with its
 * field diff. A screenshot is saved under out/report-test/ for a person to
 * look at. Skips visibly where chromium is not installed.
 */
import assert from "node:assert/strict";

const CLI = new URL("../cli/main.ts", import.meta.url).pathname;
const MOD = new URL("../mod.ts", import.meta.url).href;
const OUT = new URL("../out/report-test/", import.meta.url).pathname;

function chromium(): string | undefined {
  for (const c of ["chromium", "chromium-browser", "google-chrome"]) {
    try {
      if (new Deno.Command("which", { args: [c], stdout: "piped" }).outputSync().success) return c;
    } catch { /* no which */ }
  }
  return undefined;
}

const browser = chromium();

/** A scenario that fails at a known step: the RST's seq is 0, not 5. */
const FAILING = `import { expect, inject, rstAck, scenario, syn } from "${MOD}";
scenario("fails on purpose: the RST's seq", [
  inject(syn().ports(40000, 9)),
  expect(rstAck().seq(5)),
]);
`;

/** Loads the report in a frame and writes what it finds into #result. */
const HARNESS = (report: string) =>
  `<!doctype html><html><body>
<iframe id="r" src="${report}" width="1400" height="900"></iframe><pre id="result">pending</pre>
<script>
document.getElementById("r").addEventListener("load", () => {
  const d = document.getElementById("r").contentDocument;
  const sections = [...d.querySelectorAll("section.scenario")].map((s) => {
    const ladders = [...s.querySelectorAll("svg.ladder")];
    const box = ladders[0] ? ladders[0].getBoundingClientRect() : { width: 0, height: 0 };
    const failing = [...s.querySelectorAll("g.failing")];
    return {
      verdict: s.dataset.verdict,
      ladders: ladders.length,
      width: Math.round(box.width),
      height: Math.round(box.height),
      rsts: s.querySelectorAll("g.segment.rst").length,
      reasons: [...s.querySelectorAll("text.reason")].map((t) => t.textContent),
      failing: failing.map((g) => ({
        text: g.textContent,
        height: Math.round(g.getBoundingClientRect().height),
      })),
    };
  });
  document.getElementById("result").textContent = JSON.stringify(sections);
});
</script></body></html>`;

Deno.test({
  name: `report: the HTML report renders in headless chromium${
    browser ? "" : " (skipped: chromium is not installed; apt-get install chromium)"
  }`,
  ignore: browser === undefined,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeTextFile(`${dir}/failing.ts`, FAILING);
      const report = `${dir}/report.html`;
      const run = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          CLI,
          "run",
          "examples/rst_linger_zero.ts",
          `${dir}/failing.ts`,
          "--report",
          report,
        ],
        stdout: "piped",
      }).output();
      assert.equal(run.code, 1, "one scenario fails");
      await Deno.writeTextFile(`${dir}/harness.html`, HARNESS("report.html"));
      const flags = ["--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"];
      const dom = await new Deno.Command(browser!, {
        args: [
          ...flags,
          "--allow-file-access-from-files",
          "--virtual-time-budget=10000",
          "--dump-dom",
          `file://${dir}/harness.html`,
        ],
        stdout: "piped",
        stderr: "null",
      }).output();
      const text = new TextDecoder().decode(dom.stdout);
      const json = /<pre id="result">([^<]*)<\/pre>/.exec(text)?.[1] ?? "";
      const sections = JSON.parse(json.replaceAll("&quot;", '"').replaceAll("&amp;", "&"));
      assert.equal(sections.length, 2, "one section per scenario");
      const [linger, failing] = sections;
      for (const s of sections) {
        assert.equal(s.ladders, 1, "one ladder diagram per scenario");
        assert.ok(s.width > 500 && s.height > 100, `drawn with a size: ${s.width}×${s.height}`);
      }
      assert.equal(linger.verdict, "pass");
      assert.equal(linger.rsts, 2);
      assert.deepEqual(linger.reasons, [
        "builtin: TCP_STATE in CLOSE",
        "builtin dropped: TCP_FLAGS",
        "builtin: TCP_FLAGS in LISTEN",
      ]);
      assert.deepEqual(linger.failing, []);
      assert.equal(failing.verdict, "fail");
      assert.equal(failing.failing.length, 1, "the failing step is highlighted");
      assert.match(
        failing.failing[0].text,
        /expect\(rstAck\) did not match.*tcp\.seq: want 5, got 0/,
      );
      assert.ok(failing.failing[0].height > 20);
      // For a person: the report as the browser drew it.
      await Deno.mkdir(OUT, { recursive: true });
      const shot = `${OUT}report.png`;
      await new Deno.Command(browser!, {
        args: [...flags, "--window-size=1400,1600", `--screenshot=${shot}`, `file://${report}`],
        stdout: "null",
        stderr: "null",
      }).output();
      assert.ok((await Deno.stat(shot)).size > 10_000, `a screenshot at ${shot}`);
      await Deno.copyFile(report, `${OUT}report.html`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
