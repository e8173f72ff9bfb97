/**
 * The scenarios a command line names, loaded where their code may run:
 *
 * - local files and folders in one trusted scenario host (synack's own
 *   permissions), or a sandboxed one under `--sandbox`;
 * - each URL in a sandbox of its own: fetched once by synack, shown to the
 *   user as one line (URL, sha256, what it may do) before any of its code
 *   runs, refused if a `#sha256=` pin does not match, and served to its
 *   child from a local proxy (`runtime/host/origin_proxy.ts`).
 *
 * A file that does not load is a failure of its own, and the rest still
 * load. What scenario code prints is kept apart, to be shown as its own.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ScenarioSuite } from "./scenario_suite.ts";
 * const suite = await ScenarioSuite.open(["examples/rst_closed_port.ts"], {});
 * assert.equal(suite.scenarios.length, 3);
 * assert.deepEqual(suite.failures, []);
 * await suite.close();
 * ```
 */
import type { Scenario } from "../dsl/scenario_def.ts";
import type { SourceLoc } from "../dsl/source_location.ts";
import { scenarioFiles, urlOf } from "../runtime/host/scenario_files.ts";
import { OriginProxy, pinnedHash } from "../runtime/host/origin_proxy.ts";
import {
  type Allowance,
  describeSandbox,
  sandboxPermissions,
  trustedPermissions,
} from "../runtime/host/permissions.ts";
import { ScenarioHost } from "../runtime/host/scenario_host.ts";

/** How to load. */
export interface SuiteOptions {
  /** Folders' `_test.ts` files too (`synack test`). */
  includeTests?: boolean;
  /** Run local files sandboxed, as code from a URL runs. */
  sandbox?: boolean;
  /** What the user's flags allow sandboxed code besides its imports. */
  allow?: Allowance;
  /** How long a file's top level may take, in ms. */
  loadTimeoutMs?: number;
  /** Where the line shown before remote code runs goes (default: stderr). */
  notice?: (line: string) => void;
}

/** A file that did not load. */
export interface LoadFailure {
  file: string;
  message: string;
  at?: SourceLoc;
}

/** A scenario and the host its code lives in. */
export interface SuiteScenario {
  scenario: Scenario;
  host: ScenarioHost;
}

const isUrl = (p: string) => /^https?:\/\//.test(p);

/** Loaded scenarios, their load failures, and what their code printed. */
export class ScenarioSuite {
  readonly scenarios: SuiteScenario[] = [];
  readonly failures: LoadFailure[] = [];
  readonly #hosts: ScenarioHost[] = [];
  readonly #proxies: OriginProxy[] = [];
  #output: string[] = [];

  private constructor() {}

  /**
   * Loads every scenario `paths` name. Throws (before any code runs) for
   * input that names nothing: a missing file, a bad or failed `#sha256=` pin,
   * a URL that does not answer.
   */
  static async open(paths: readonly string[], o: SuiteOptions): Promise<ScenarioSuite> {
    const suite = new ScenarioSuite();
    try {
      await suite.#open(paths, o);
    } catch (e) {
      await suite.close();
      throw e;
    }
    return suite;
  }

  async #open(paths: readonly string[], o: SuiteOptions): Promise<void> {
    const notice = o.notice ?? ((l: string) => console.error(l));
    const local: string[] = [];
    for (const p of paths) {
      if (!isUrl(p)) local.push(...await scenarioFiles(p, o.includeTests ?? false));
    }
    const remote: OriginProxy[] = [];
    for (const p of paths.filter(isUrl)) {
      const pin = pinnedHash(p);
      const proxy = await OriginProxy.open(p);
      this.#proxies.push(proxy);
      if (pin && pin !== proxy.sha256) {
        throw new RangeError(
          `${proxy.url}: want content with sha256 ${pin} (#sha256=), got ${proxy.sha256}; nothing was run`,
        );
      }
      remote.push(proxy);
    }
    if (local.length) {
      const folders = [
        ...new Set(local.map((f) => urlOf(f)).map((u) => dirOf(new URL(u).pathname))),
      ];
      if (o.sandbox) {
        notice(
          `synack: sandboxed ${local.join(", ")}: ${
            describeSandbox({ origins: folders, allow: o.allow })
          }`,
        );
      }
      const host = this.#host(
        o.sandbox
          ? sandboxPermissions({ importFrom: [], read: folders, allow: o.allow })
          : trustedPermissions(),
        o.sandbox ? ["--no-lock"] : [],
        [],
        o.loadTimeoutMs,
      );
      for (const f of local) await this.#load(host, f, urlOf(f));
    }
    for (const proxy of remote) {
      notice(
        `synack: running ${proxy.url} (sha256 ${proxy.sha256}) sandboxed: ${
          describeSandbox({ origins: [proxy.origin], allow: o.allow })
        }`,
      );
      const host = this.#host(
        sandboxPermissions({ importFrom: [proxy.host], allow: o.allow }),
        // Nothing of a served URL goes into synack's lock file.
        ["--no-lock"],
        proxy.rewrite,
        o.loadTimeoutMs,
      );
      await this.#load(host, proxy.url, proxy.entry);
    }
  }

  #host(
    permissions: string[],
    denoFlags: string[],
    rewrite: [string, string][],
    loadTimeoutMs: number | undefined,
  ): ScenarioHost {
    const host = new ScenarioHost({
      permissions,
      denoFlags,
      rewrite,
      loadTimeoutMs,
      onOutput: (text) => this.#output.push(text),
    });
    this.#hosts.push(host);
    return host;
  }

  async #load(host: ScenarioHost, shown: string, url: string): Promise<void> {
    const r = await host.load(url);
    if (r.ok) { for (const scenario of r.scenarios) this.scenarios.push({ scenario, host }); }
    else this.failures.push({ file: shown, message: r.message, at: r.at });
  }

  /** The scenarios whose name contains `filter` (all without one). */
  select(filter?: string): SuiteScenario[] {
    return this.scenarios.filter((s) => !filter || s.scenario.name.includes(filter));
  }

  /** What scenario code printed since the last call, a line each. */
  takeOutput(): string[] {
    const out = this.#output;
    this.#output = [];
    return out;
  }

  /** Upstream requests made for code from URLs. */
  get fetched(): string[] {
    return this.#proxies.flatMap((p) => p.fetched);
  }

  async close(): Promise<void> {
    for (const h of this.#hosts) await h.close();
    for (const p of this.#proxies) await p.close();
  }
}

function dirOf(path: string): string {
  return path.slice(0, path.lastIndexOf("/")) || "/";
}
