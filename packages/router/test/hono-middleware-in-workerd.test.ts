import { readFile } from "node:fs/promises";
import { createServer, type IncomingHttpHeaders, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { distModules, startWorkerd, type WorkerdInstance } from "./support/workerd-harness.js";

const here = dirname(fileURLToPath(import.meta.url));
const pkg = join(here, "..");
const honoDist = join(pkg, "node_modules", "hono", "dist");

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  bodyBytes: number;
}

function send(
  worker: WorkerdInstance,
  path: string,
  options: { host: string; method?: string; body?: string; headers?: Record<string, string> },
) {
  return new Promise<{ status: number; body: string; headers: IncomingHttpHeaders }>((resolve, reject) => {
    const req = request(
      `${worker.url}${path}`,
      { method: options.method ?? "GET", headers: { host: options.host, ...options.headers }, timeout: 10_000 },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk) => {
          body += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      },
    );
    req.on("timeout", () => req.destroy(new Error("request timed out")));
    req.on("error", reject);
    req.end(options.body);
  });
}

describe("@rennet/router/hono inside workerd", () => {
  let backend: Server;
  let worker: WorkerdInstance;

  beforeAll(async () => {
    backend = createServer((req, res) => {
      let bodyBytes = 0;
      req.on("data", (chunk: Buffer) => {
        bodyBytes += chunk.length;
      });
      req.on("end", () => {
        const seen: Seen = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, bodyBytes };
        res.writeHead(200, { "content-type": "application/json", "x-backend": "yes", "keep-alive": "timeout=5" });
        res.end(JSON.stringify(seen));
      });
    });
    await new Promise<void>((resolve) => backend.listen(0, "127.0.0.1", resolve));
    const origin = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`;
    const honoModules = (await distModules(honoDist, "hono/dist/")).filter(
      (module) => !module.name.startsWith("hono/dist/cjs/") && !module.name.startsWith("hono/dist/types/"),
    );
    worker = await startWorkerd({
      modules: [
        {
          name: "worker.js",
          contents: await readFile(join(here, "support", "workerd", "hono-proxy-worker.js"), "utf8"),
        },
        { name: "hono", contents: 'export * from "./hono/dist/index.js";' },
        ...honoModules,
        ...(await distModules(join(pkg, "dist"), "router/")),
      ],
      bindings: { BACKEND: { text: origin } },
      outbound: "local",
      timeoutMs: 15_000,
    });
  }, 30_000);

  afterAll(async () => {
    await worker?.stop();
    await new Promise((resolve) => backend?.close(resolve));
  });

  it("forwards a matched request to the backend the resolver names, with forwarding headers", async () => {
    const response = await send(worker, "/api/items?page=2", { host: "shop.example.com" });
    expect(response.status).toBe(200);
    const seen = JSON.parse(response.body) as Seen;
    expect(seen.url).toBe("/api/items?page=2");
    expect(seen.headers["x-forwarded-host"]).toBe("shop.example.com");
    expect(seen.headers["x-forwarded-for"]).toBe("203.0.113.9");
    expect(response.headers["x-backend"]).toBe("yes");
    expect(response.headers["keep-alive"]).toBeUndefined();
  });

  it("streams a request body through", async () => {
    const body = "x".repeat(100_000);
    const response = await send(worker, "/api/upload", { host: "shop.example.com", method: "POST", body });
    expect(response.status).toBe(200);
    const seen = JSON.parse(response.body) as Seen;
    expect(seen.method).toBe("POST");
    expect(seen.bodyBytes).toBe(body.length);
  });

  it("answers 404 for a host without rules and 503 when the resolver has no endpoint", async () => {
    const missing = await send(worker, "/api/items", { host: "elsewhere.example.com" });
    expect(missing.status).toBe(404);
    expect(missing.body).toBe("404 page not found\n");
    const noEndpoint = await send(worker, "/health", { host: "shop.example.com" });
    expect(noEndpoint.status).toBe(503);
  });

  it("answers 400 for a path the normaliser rejects, without reaching the backend", async () => {
    const response = await send(worker, "/api/a%00b", { host: "shop.example.com" });
    expect(response.status).toBe(400);
    expect(response.body).toContain("NUL");
  });
});
