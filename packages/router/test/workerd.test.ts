/**
 * @rennet/router runs inside workerd (Cloudflare's Workers runtime, no Node APIs) and answers
 * exactly as it does under Node. Both sides load the same built files from packages/router/dist
 * (build first: `tsc -b` in packages/router, or `npm test` at the root, which builds).
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { distModules, startWorkerd, type WorkerdInstance } from "./support/workerd-harness.js";
import { ingresses, requests, timeZoneScenario, update } from "./support/workerd-scenario.js";

const here = dirname(fileURLToPath(import.meta.url));
const pkg = join(here, "..");
const dist = join(pkg, "dist");
const fixtures = join(here, "support", "workerd");
const TIMEOUT = 15_000;

interface Answer {
  host: string;
  target: string;
  normalizedHost: string;
  rejected?: string;
  path?: string;
  query?: string;
  match?: {
    backend: { service: { name: string } };
    ingress: { namespace: string; name: string };
    host: string | null;
    path: string;
    pathType: string;
  } | null;
  backend?: { service: { name: string } } | null;
}

interface Report {
  table: {
    ingressCount: number;
    routeCount: number;
    defaultBackend: { backend: { service: { name: string } }; ingress: { namespace: string; name: string } } | null;
    diagnostics: Array<{
      namespace: string;
      name: string;
      diagnostics: Array<{
        code: string;
        message: string;
        rule?: number;
        pathIndex?: number;
        winner?: { namespace: string; name: string };
      }>;
    }>;
  };
  answers: Answer[];
  updated: { table: Report["table"]; answers: Answer[] };
  original: Answer[];
}

const scenario = { ingresses, requests, update };

async function builtFiles(): Promise<string[]> {
  const entries = await readdir(dist, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && /\.(m?js|d\.ts)$/.test(e.name))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** dist must exist and hold a .js for every source file (a stale build would test old code). */
function checkBuilt(): void {
  const missing = readdirSync(join(pkg, "src"), { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))
    .map((f) => f.replace(/\.ts$/, ".js"))
    .filter((f) => !existsSync(join(dist, f)));
  if (!existsSync(join(dist, "index.js"))) missing.unshift("index.js");
  if (missing.length > 0) {
    throw new Error(`${dist} lacks ${missing.join(", ")}: build the router first (cd packages/router && tsc -b)`);
  }
}

async function post(worker: WorkerdInstance | undefined, body: unknown): Promise<unknown> {
  if (!worker) throw new Error("workerd is not running");
  const response = await fetch(worker.url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(TIMEOUT),
  });
  const text = await response.text();
  if (response.status !== 200) {
    throw new Error(`workerd answered ${response.status}: ${text}\n--- workerd output ---\n${worker.output()}`);
  }
  return JSON.parse(text);
}

/** evaluate() in a separate Node process, so its environment (TZ) can differ from this one's. */
function evaluateInNode(input: unknown, env: Record<string, string>): unknown {
  const script = `
    const router = await import(${JSON.stringify(pathToFileURL(join(dist, "index.js")).href)});
    const { evaluate } = await import(${JSON.stringify(pathToFileURL(join(fixtures, "evaluate.js")).href)});
    let input = "";
    for await (const chunk of process.stdin) input += chunk;
    process.stdout.write(JSON.stringify(evaluate(router, JSON.parse(input))));
  `;
  const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    input: JSON.stringify(input),
    env: { ...process.env, ...env },
    encoding: "utf8",
    timeout: TIMEOUT,
  });
  if (result.status !== 0) throw new Error(`node exited with ${result.status ?? result.signal}: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

describe("router inside workerd", () => {
  let worker: WorkerdInstance | undefined;
  let inWorkerd: Report;
  let inNode: Report;

  beforeAll(async () => {
    checkBuilt();
    worker = await startWorkerd({
      modules: [
        { name: "worker.js", path: join(fixtures, "router-worker.js") },
        { name: "evaluate.js", path: join(fixtures, "evaluate.js") },
        ...(await distModules(dist, "router/")),
      ],
      timeoutMs: TIMEOUT,
    });
    inWorkerd = (await post(worker, scenario)) as Report;
    const router = await import(pathToFileURL(join(dist, "index.js")).href);
    const { evaluate } = await import(pathToFileURL(join(fixtures, "evaluate.js")).href);
    inNode = JSON.parse(JSON.stringify(evaluate(router, structuredClone(scenario))));
  }, 4 * TIMEOUT);

  afterAll(async () => {
    await worker?.stop();
  });

  it("runs without Node APIs: nodejs_compat off, no process/Buffer/require", async () => {
    expect(worker?.config).toContain(`compatibilityFlags = ["no_nodejs_compat", "no_nodejs_compat_v2"]`);
    const response = await fetch(worker?.url ?? "", { signal: AbortSignal.timeout(TIMEOUT) });
    expect(await response.json()).toMatchObject({
      userAgent: "Cloudflare-Workers",
      process: "undefined",
      Buffer: "undefined",
      require: "undefined",
    });
  });

  it("gives the same answers as Node", () => {
    expect(inWorkerd.answers).toHaveLength(requests.length);
    expect(inWorkerd).toEqual(inNode);
  });

  it("orders conflicts the same whatever the host's time zone (workerd runs in UTC)", async () => {
    const fromWorkerd = await post(worker, timeZoneScenario);
    expect(evaluateInNode(timeZoneScenario, { TZ: "UTC" })).toEqual(fromWorkerd);
    for (const TZ of ["America/New_York", "Asia/Tokyo"]) {
      expect(evaluateInNode(timeZoneScenario, { TZ }), `Node with TZ=${TZ}`).toEqual(fromWorkerd);
    }
  });

  it("routes known requests to the expected backends", () => {
    const byRequest = new Map(inWorkerd.answers.map((a) => [`${a.host} ${a.target}`, a]));
    const get = (host: string, target: string): Answer => {
      const answer = byRequest.get(`${host} ${target}`);
      if (!answer) throw new Error(`no answer for ${host} ${target}`);
      return answer;
    };
    // [host, target, backend service, winning Ingress ("ns/name"), or null when the default backend serves it]
    const expected: Array<[string, string, string, string | null]> = [
      ["shop.example.com", "/", "web", "shop/storefront"],
      ["SHOP.example.com:8443", "/cart", "cart-exact", "shop/storefront"],
      ["shop.example.com.", "/cart/items?x=1&y=%2f", "cart", "shop/storefront"],
      ["shop.example.com", "/cartoon", "web", "shop/storefront"],
      ["shop.example.com", "/cart/", "cart", "shop/storefront"],
      ["shop.example.com", "/api/v1", "api-v1", "shop/storefront"],
      ["shop.example.com", "/api/v1x", "web", "shop/storefront"],
      ["shop.example.com", "/static/app.css", "static", "shop/storefront"],
      ["shop.example.com", "/checkout/%2e%2e/cart", "cart-exact", "shop/storefront"],
      ["shop.example.com", "/a/%2E%2E/%2e/cart/", "cart", "shop/storefront"],
      ["shop.example.com", "//cart//items", "cart", "shop/storefront"],
      ["shop.example.com", "/%63art", "cart-exact", "shop/storefront"],
      ["shop.example.com", "/cart%2fitems", "web", "shop/storefront"],
      ["shop.example.com", "/caf%c3%a9/menu", "cafe", "shop/storefront"],
      ["shop.example.com", "/~user/x", "tilde", "shop/storefront"],
      ["shop.example.com", "/checkout", "checkout", "team-b/api-override"],
      ["blog.example.com", "/healthz", "wildcard-health", "shop/storefront"],
      ["Blog.Example.Com:80", "/healthz/", "wildcard-web", "shop/storefront"],
      ["a.b.example.com", "/", "catch-all", "default/catch-all"],
      ["example.com", "/", "catch-all", "default/catch-all"],
      ["ghost.example.com", "/", "wildcard-web", "shop/storefront"],
      ["api.example.com", "/v2", "api-v2", "shop/storefront"],
      ["api.example.com", "/", "default-a", null],
      ["unknown.test", "/robots.txt", "robots", "default/catch-all"],
      ["unknown.test", "/robots.txt/", "catch-all", "default/catch-all"],
      ["10.0.0.1", "/", "catch-all", "default/catch-all"],
      ["[::1]:8080", "/", "catch-all", "default/catch-all"],
      ["", "/", "catch-all", "default/catch-all"],
      ["legacy.example.org", "/x", "older", "legacy/older"],
      ["tie.example.org", "/t", "tie-a", "a-ns/tie"],
      ["tie.example.org", "/t/", "default-a", null],
      // one label under *.example.com; after the update it gets its own host
      ["new.example.com", "/x", "wildcard-web", "shop/storefront"],
    ];
    const actual = expected.map(([host, target]) => {
      const a = get(host, target);
      const ingress = a.match ? `${a.match.ingress.namespace}/${a.match.ingress.name}` : null;
      return [host, target, a.rejected === undefined ? a.backend?.service.name : `rejected`, ingress];
    });
    expect(actual).toEqual(expected);

    expect(get("shop.example.com.", "/cart/items?x=1&y=%2f")).toMatchObject({
      normalizedHost: "shop.example.com",
      path: "/cart/items",
      query: "?x=1&y=%2f",
      match: { host: "shop.example.com", path: "/cart", pathType: "Prefix" },
    });
    expect(get("shop.example.com", "/caf%c3%a9/menu")).toMatchObject({
      path: "/caf%C3%A9/menu",
      match: { path: "/caf%C3%A9" },
    });
    expect(get("shop.example.com", "/cart%2fitems").path).toBe("/cart%2Fitems");
    expect(get("shop.example.com", "/api/v1/users").match).toMatchObject({ path: "/api/v1/", pathType: "Prefix" });
    expect(get("shop.example.com", "/static/app.css").match?.pathType).toBe("ImplementationSpecific");
    expect(get("Blog.Example.Com:80", "/healthz/")).toMatchObject({
      normalizedHost: "blog.example.com",
      match: { host: "*.example.com" },
    });
    expect(get("[::1]:8080", "/")).toMatchObject({ normalizedHost: "[::1]", match: { host: null } });
    expect(get("api.example.com", "/").match).toBeNull();

    for (const target of [
      "/../etc/passwd",
      "/a/b/../../..",
      "/a b",
      "/a\tb",
      "/x#frag",
      "*",
      "http://shop.example.com/",
      "",
      "/%zz",
      "/%0",
      "/%00",
    ]) {
      const answer = get("shop.example.com", target);
      expect(answer.rejected, `target ${JSON.stringify(target)}`).toEqual(expect.any(String));
      expect(answer.match, `target ${JSON.stringify(target)}`).toBeUndefined();
    }
  });

  it("reports the table, its diagnostics and its default backend", () => {
    const { table } = inWorkerd;
    expect(table.ingressCount).toBe(ingresses.length);
    expect(table.routeCount).toBe(15);
    expect(table.defaultBackend).toMatchObject({
      backend: { service: { name: "default-a" } },
      ingress: { namespace: "shop", name: "storefront" },
    });
    const codes = Object.fromEntries(
      table.diagnostics.map((d) => [
        `${d.namespace}/${d.name}`,
        d.diagnostics
          .map((x) =>
            [x.code, x.rule ?? "-", x.pathIndex ?? "-", x.winner ? `${x.winner.namespace}/${x.winner.name}` : "-"].join(
              " ",
            ),
          )
          .sort(),
      ]),
    );
    expect(codes).toEqual({
      "shop/storefront": [
        "invalid-host 2 - -",
        "invalid-path 3 1 -",
        "invalid-path 3 2 -",
        "invalid-path-type 3 0 -",
        "missing-backend 3 3 -",
        "path-conflict 0 5 shop/storefront",
      ],
      "team-b/api-override": ["default-backend-conflict - - shop/storefront", "path-conflict 0 0 shop/storefront"],
      "default/catch-all": [],
      "ops/all-invalid": ["invalid-path 0 0 -"],
      "ops/ip-host": ["invalid-host 0 - -"],
      "legacy/newer": ["path-conflict 0 0 legacy/older"],
      "legacy/older": [],
      "b-ns/tie": ["path-conflict 0 0 a-ns/tie"],
      "a-ns/tie": [],
    });
    for (const d of table.diagnostics.flatMap((x) => x.diagnostics)) expect(d.message).toMatch(/\w/);
  });

  it("applies update() to a new table and leaves the old one unchanged", () => {
    const after = new Map(inWorkerd.updated.answers.map((a) => [`${a.host} ${a.target}`, a]));
    expect(after.get("unknown.test /robots.txt")).toMatchObject({
      match: null,
      backend: { service: { name: "default-a" } },
    });
    expect(after.get("new.example.com /x")?.match).toMatchObject({
      backend: { service: { name: "new-web" } },
      ingress: { namespace: "shop", name: "new" },
    });
    expect(after.get("SHOP.example.com:8443 /cart")?.backend?.service.name).toBe("cart-exact");
    expect(inWorkerd.updated.table.ingressCount).toBe(ingresses.length);
    expect(inWorkerd.original).toEqual(inWorkerd.answers);
  });
});

describe("router dist is self-contained", () => {
  it("imports nothing but its own files (no node: modules, no bare specifiers)", async () => {
    checkBuilt();
    const files = await builtFiles();
    const specifiers: string[] = [];
    const problems: string[] = [];
    for (const file of files) {
      const name = relative(dist, file);
      const text = await readFile(file, "utf8");
      const found = [
        ...text.matchAll(/^\s*(?:import|export)\b[^"'`]*?\bfrom\s*["']([^"']+)["']/gm),
        ...text.matchAll(/^\s*import\s*["']([^"']+)["']/gm),
        ...text.matchAll(/\bimport\s*\(\s*["']([^"']+)["']\s*\)/g),
      ].map((m) => m[1] as string);
      for (const specifier of found) {
        // The optional Hono adapter may name its peer dependency in its type declarations only.
        const honoTypes = name.startsWith("hono/") && name.endsWith(".d.ts") && specifier === "hono";
        if (honoTypes) continue;
        specifiers.push(specifier);
        if (!/^\.\.?\//.test(specifier)) problems.push(`${name}: imports ${JSON.stringify(specifier)}`);
        else if (!existsSync(join(dirname(file), specifier))) problems.push(`${name}: ${specifier} does not exist`);
      }
      if (/\bimport\s*\(\s*[^"'\s]/.test(text)) problems.push(`${name}: computed dynamic import()`);
      if (/\brequire\s*\(/.test(text)) problems.push(`${name}: require()`);
      if (/\/\/\/\s*<reference\s+types=/.test(text)) problems.push(`${name}: references ambient types`);
    }
    expect(problems).toEqual([]);
    // not vacuous: the entry point re-exports from the other files
    expect(files.map((f) => relative(dist, f))).toContain("index.js");
    expect(specifiers.length).toBeGreaterThan(0);
    expect(specifiers.every((s) => s.endsWith(".js"))).toBe(true);
  });
});

describe("workerd harness", () => {
  let backend: Server | undefined;
  afterAll(async () => {
    await new Promise((resolve) => (backend ? backend.close(resolve) : resolve(undefined)));
  });

  it("lets a worker reach a loopback backend only when outbound is local", async () => {
    backend = createServer((req, res) => res.end(`backend saw ${req.method} ${req.url}`));
    await new Promise<void>((resolve) => backend?.listen(0, "127.0.0.1", resolve));
    const origin = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`;
    const worker = `export default {
      async fetch(request, env) {
        try {
          const r = await fetch(env.BACKEND + new URL(request.url).pathname, { method: "PUT" });
          return new Response(await r.text());
        } catch (error) {
          return new Response(String(error), { status: 502 });
        }
      },
    };`;
    for (const outbound of ["local", "none"] as const) {
      const instance = await startWorkerd({
        modules: [{ name: "proxy.js", contents: worker }],
        bindings: { BACKEND: { text: origin } },
        outbound,
        timeoutMs: TIMEOUT,
      });
      try {
        const response = await fetch(`${instance.url}/hello`, { signal: AbortSignal.timeout(TIMEOUT) });
        if (outbound === "local") {
          expect(await response.text()).toBe("backend saw PUT /hello");
        } else {
          // the worker's fetch() threw (workerd logs "connecting to 127.0.0.1:… is not allowed")
          expect(response.status).toBe(502);
          await response.arrayBuffer();
        }
      } finally {
        await instance.stop();
      }
    }
  });

  it("refuses node: modules and reports workerd's error", async () => {
    const started = startWorkerd({
      modules: [
        {
          name: "main.js",
          contents: `import { Buffer } from "node:buffer";\nexport default { fetch: () => new Response(typeof Buffer) };`,
        },
      ],
      timeoutMs: TIMEOUT,
    });
    await expect(started).rejects.toThrow(/node:buffer/);
  });
});
