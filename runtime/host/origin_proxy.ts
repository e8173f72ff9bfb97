/**
 * Serves a scenario file from a URL to a sandboxed child, on 127.0.0.1, with
 * exactly the bytes whose sha256 synack showed the user. The child may import
 * only from this server (and synack's own files), so:
 *
 * - what runs is what was hashed: the file is fetched once, by synack, and
 *   never again by the child (a server cannot serve one copy to be checked
 *   and another to be run);
 * - modules of the same origin (`./helper.ts` beside a gist file) are
 *   fetched on demand from that origin and served as they come; anything
 *   else is refused here, and the child could not reach it directly anyway;
 * - `fetched` lists every upstream request, for the user and the tests.
 *
 * The child sees `http://127.0.0.1:<port>/<nonce>/<path>`; the host turns
 * those back into the origin's URLs in everything the child says.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OriginProxy, pinnedHash } from "./origin_proxy.ts";
 * assert.equal(pinnedHash("https://x.test/a.ts#sha256=" + "ab".repeat(32)), "ab".repeat(32));
 * assert.equal(pinnedHash("https://x.test/a.ts"), undefined);
 * assert.throws(() => pinnedHash("https://x.test/a.ts#sha256=12"), /want #sha256=<64 hex digits>/);
 * const upstream = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => new Response("export const x = 1;"));
 * const proxy = await OriginProxy.open(`http://127.0.0.1:${upstream.addr.port}/a.ts`);
 * assert.equal(proxy.sha256.length, 64);
 * assert.equal(await (await fetch(proxy.entry)).text(), "export const x = 1;");
 * await proxy.close();
 * await upstream.shutdown();
 * ```
 */

/** The hash a URL pins with `#sha256=<hex>`, if it does. */
export function pinnedHash(url: string): string | undefined {
  const hash = new URL(url).hash;
  if (!hash) return undefined;
  const m = /^#sha256=([0-9a-fA-F]{64})$/.exec(hash);
  if (!m) {
    throw new RangeError(
      `${url}: want #sha256=<64 hex digits> after the URL, got ${JSON.stringify(hash)}`,
    );
  }
  return m[1].toLowerCase();
}

async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A local server that serves one URL's file, pinned, and its origin's other modules. */
export class OriginProxy {
  /** The URL as the user gave it, without its fragment. */
  readonly url: string;
  /** The origin modules may come from: the file's own, after redirects. */
  readonly origin: string;
  readonly sha256: string;
  /** Every upstream request: `GET <url> <status>`, or `refused <url>: why`. */
  readonly fetched: string[];
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  readonly #prefix: string;
  readonly #path: string;

  private constructor(
    url: string,
    final: URL,
    body: Uint8Array<ArrayBuffer>,
    type: string,
    hash: string,
    fetched: string[],
  ) {
    this.url = url;
    this.origin = final.origin;
    this.sha256 = hash;
    this.fetched = fetched;
    const nonce = crypto.randomUUID();
    this.#path = final.pathname + final.search;
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      (req) => this.#serve(req, nonce, body, type),
    );
    this.#prefix = `http://127.0.0.1:${this.#server.addr.port}/${nonce}`;
  }

  /** Fetches `url` once and starts serving it. */
  static async open(url: string): Promise<OriginProxy> {
    const bare = url.replace(/#.*$/, "");
    const fetched: string[] = [];
    let res: Response;
    try {
      res = await fetch(bare);
    } catch (e) {
      throw new RangeError(`Cannot load ${bare}: ${(e as Error).message}`);
    }
    fetched.push(`GET ${bare} ${res.status}`);
    if (!res.ok) {
      await res.body?.cancel();
      throw new RangeError(`Cannot load ${bare}: want 200 OK, got ${res.status} ${res.statusText}`);
    }
    const body = new Uint8Array(await res.arrayBuffer());
    const type = res.headers.get("content-type") ?? "application/typescript";
    return new OriginProxy(bare, new URL(res.url || bare), body, type, await sha256(body), fetched);
  }

  /** The file's URL as the child imports it. */
  get entry(): string {
    return `${this.#prefix}${this.#path}`;
  }

  /** `host:port` for the child's `--allow-import`. */
  get host(): string {
    return `127.0.0.1:${this.#server.addr.port}`;
  }

  /** Text replacements that turn the child's URLs back into the origin's. */
  get rewrite(): [string, string][] {
    return [[this.#prefix, this.origin]];
  }

  async #serve(
    req: Request,
    nonce: string,
    body: Uint8Array<ArrayBuffer>,
    type: string,
  ): Promise<Response> {
    const u = new URL(req.url);
    const head = `/${nonce}`;
    if (req.method !== "GET" || !u.pathname.startsWith(`${head}/`)) {
      this.fetched.push(`refused ${req.method} ${u.pathname}: not a module of ${this.origin}`);
      return new Response("not here", { status: 404 });
    }
    const path = u.pathname.slice(head.length) + u.search;
    if (path === this.#path) return new Response(body, { headers: { "content-type": type } });
    const upstream = `${this.origin}${path}`;
    let res: Response;
    try {
      res = await fetch(upstream, { redirect: "manual" });
    } catch (e) {
      this.fetched.push(`failed ${upstream}: ${(e as Error).message}`);
      return new Response("unreachable", { status: 502 });
    }
    this.fetched.push(`GET ${upstream} ${res.status}`);
    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel();
      // A redirect could lead to another origin: the sandbox does not follow it.
      this.fetched.push(`refused ${upstream}: a redirect to ${res.headers.get("location")}`);
      return new Response("redirect refused", { status: 403 });
    }
    return new Response(res.body, {
      status: res.status,
      headers: { "content-type": res.headers.get("content-type") ?? "application/typescript" },
    });
  }

  async close(): Promise<void> {
    await this.#server.shutdown();
  }
}
