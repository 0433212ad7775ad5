/**
 * Requests reach the Service the Ingress rules name: exact and wildcard hosts, Prefix and Exact
 * paths, the default backend, Service ports by name and by number, EndpointSlices merged,
 * ExternalName Services, and 503 with a reported problem when the Service is missing.
 * One rennet serves all of it; each test sends requests as a user would.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { Backend, Echo, Pods } from "./support/backends.js";
import { useHarness } from "./support/harness.js";
import { admin, request } from "./support/http.js";
import {
  endpointSlice,
  ingress,
  ingressClass,
  type Manifest,
  service,
  serviceWithEndpoints,
  simpleIngress,
} from "./support/manifests.js";
import type { Rennet } from "./support/rennet.js";

const harness = useHarness("all");
let rennet: Rennet;
let web: Pods;
let merged: Pods;
let api: Backend;
let exact: Backend;
let wild: Backend;
let fallback: Backend;
let portsHttp: Backend;
let portsAdmin: Backend;
let local: Backend;
let byIp: Backend;

async function get(host: string, path = "/"): Promise<{ status: number; echo: Echo; body: string }> {
  const reply = await request(rennet.httpPort, { host, path });
  return {
    status: reply.status,
    body: reply.body,
    echo: reply.headers["content-type"] === "application/json" ? reply.json<Echo>() : ({} as Echo),
  };
}

beforeAll(async () => {
  web = await harness.pods("web", ["127.0.0.2", "127.0.0.3"]);
  merged = await harness.pods("merged", ["127.0.0.10", "127.0.0.11"]);
  api = await harness.backend({ host: "127.0.0.4", name: "api" });
  exact = await harness.backend({ host: "127.0.0.5", name: "exact" });
  wild = await harness.backend({ host: "127.0.0.6", name: "wild" });
  fallback = await harness.backend({ host: "127.0.0.7", name: "fallback" });
  portsHttp = await harness.backend({ host: "127.0.0.8", name: "ports-http" });
  portsAdmin = await harness.backend({ host: "127.0.0.8", name: "ports-admin" });
  local = await harness.backend({ host: "127.0.0.1", name: "localhost" });
  byIp = await harness.backend({ host: "127.0.0.12", name: "external-ip" });

  const objects: Manifest[] = [
    ingressClass("rennet"),
    ...serviceWithEndpoints("web", web.port, ["127.0.0.2", "127.0.0.3"]),
    ...serviceWithEndpoints("api", api.port, ["127.0.0.4"]),
    ...serviceWithEndpoints("exact", exact.port, ["127.0.0.5"]),
    ...serviceWithEndpoints("wild", wild.port, ["127.0.0.6"]),
    ...serviceWithEndpoints("fallback", fallback.port, ["127.0.0.7"]),
    ingress("shop", {
      rules: [
        {
          host: "shop.example.com",
          paths: [
            { path: "/", service: "web" },
            { path: "/api", service: "api" },
            { path: "/exact", pathType: "Exact", service: "exact" },
          ],
        },
        { host: "*.example.com", paths: [{ path: "/", service: "wild" }] },
      ],
    }),
    ingress("fallback", { defaultBackend: { service: "fallback" } }),
    // Service ports: "http" (80) and "admin" (9000), each mapped to an EndpointSlice port of the same name.
    service("ports", {
      ports: [
        { name: "http", port: 80, targetPort: 8080 },
        { name: "admin", port: 9000, targetPort: 9090 },
      ],
    }),
    endpointSlice("ports", {
      ports: [
        { name: "admin", port: portsAdmin.port },
        { name: "http", port: portsHttp.port },
      ],
      endpoints: ["127.0.0.8"],
    }),
    ingress("ports", {
      rules: [
        {
          host: "ports.example.org",
          paths: [
            { path: "/by-name", service: "ports", port: "http" },
            { path: "/by-number", service: "ports", port: 9000 },
            { path: "/by-number-80", service: "ports", port: 80 },
          ],
        },
      ],
    }),
    // One Service, two EndpointSlices.
    service("merged"),
    endpointSlice("merged", {
      name: "merged-one",
      ports: [{ name: "http", port: merged.port }],
      endpoints: ["127.0.0.10"],
    }),
    endpointSlice("merged", {
      name: "merged-two",
      ports: [{ name: "http", port: merged.port }],
      endpoints: ["127.0.0.11"],
    }),
    simpleIngress("merged", "merged.example.org", "merged"),
    // ExternalName Services: a DNS name and an address.
    service("ext-localhost", { externalName: "localhost", ports: [{ name: "http", port: local.port }] }),
    simpleIngress("ext-localhost", "localhost.example.org", "ext-localhost"),
    service("ext-ip", { externalName: "127.0.0.12", ports: [{ name: "http", port: byIp.port }] }),
    simpleIngress("ext-ip", "ip.example.org", "ext-ip"),
    // A backend whose Service does not exist.
    simpleIngress("orphan", "orphan.example.org", "no-such-service"),
  ];
  const dir = await harness.manifestDir();
  await dir.write("all.yaml", objects);
  rennet = await harness.rennet({ manifests: [dir.dir] });
});

describe("host and path routing", () => {
  it("sends a Prefix match to its Service and forwards the path unchanged", async () => {
    const reply = await get("shop.example.com", "/api/users?id=7");
    expect(reply.status).toBe(200);
    expect(reply.echo.me).toBe("api");
    expect(reply.echo.url).toBe("/api/users?id=7");
    expect((await get("shop.example.com", "/api")).echo.me).toBe("api");
    expect((await get("shop.example.com", "/api/")).echo.me).toBe("api");
  });

  it("matches Prefix paths element by element (/api does not match /apis)", async () => {
    const reply = await get("shop.example.com", "/apis");
    expect(reply.status).toBe(200);
    expect(reply.echo.me).toMatch(/^web-/);
  });

  it("matches an Exact path only exactly", async () => {
    expect((await get("shop.example.com", "/exact")).echo.me).toBe("exact");
    expect((await get("shop.example.com", "/exact/")).echo.me).toMatch(/^web-/);
    expect((await get("shop.example.com", "/exact/more")).echo.me).toMatch(/^web-/);
  });

  it("ignores the case of the host, a port and a trailing dot in the Host header", async () => {
    expect((await get("SHOP.Example.COM:8000", "/api")).echo.me).toBe("api");
    expect((await get("shop.example.com.", "/api")).echo.me).toBe("api");
  });

  it("forwards escapes as they came, decoding only unreserved characters", async () => {
    expect((await get("shop.example.com", "/api/a%20b/c%2Fd")).echo.url).toBe("/api/a%20b/c%2Fd");
    expect((await get("shop.example.com", "/api/%7Euser/%2f")).echo.url).toBe("/api/~user/%2F");
    // An escaped rule path matches too: /%61pi is /api.
    expect((await get("shop.example.com", "/%61pi/x")).echo.me).toBe("api");
  });

  it("sends hosts matching a wildcard to the wildcard rule, one DNS label deep only", async () => {
    const one = await get("foo.example.com", "/anything");
    expect(one.echo.me).toBe("wild");
    // Neither a deeper name nor the bare domain matches *.example.com: the default backend serves.
    expect((await get("a.b.example.com")).echo.me).toBe("fallback");
    expect((await get("example.com")).echo.me).toBe("fallback");
  });

  it("prefers the exact host over the wildcard", async () => {
    expect((await get("shop.example.com", "/")).echo.me).toMatch(/^web-/);
  });

  it("serves spec.defaultBackend when no rule matches", async () => {
    const reply = await get("unknown.test", "/whatever");
    expect(reply.status).toBe(200);
    expect(reply.echo.me).toBe("fallback");
    expect(reply.echo.url).toBe("/whatever");
  });

  it("spreads requests over the ready endpoints of a Service", async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 8; i++) seen.add((await get("shop.example.com", "/")).echo.me);
    expect([...seen].sort()).toEqual(["web-1", "web-2"]);
  });
});

describe("Services and EndpointSlices", () => {
  it("resolves a Service port by name to the EndpointSlice port of that name", async () => {
    const reply = await get("ports.example.org", "/by-name");
    expect(reply.status).toBe(200);
    expect(reply.echo.me).toBe("ports-http");
  });

  it("resolves a Service port by number to the EndpointSlice port named like it", async () => {
    expect((await get("ports.example.org", "/by-number")).echo.me).toBe("ports-admin");
    expect((await get("ports.example.org", "/by-number-80")).echo.me).toBe("ports-http");
  });

  it("merges the endpoints of all EndpointSlices of a Service", async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 8; i++) seen.add((await get("merged.example.org")).echo.me);
    expect([...seen].sort()).toEqual(["merged-1", "merged-2"]);
    expect(merged.backends.every((backend) => backend.seen.length > 0)).toBe(true);
  });

  it("proxies to an ExternalName Service named by a DNS name (localhost)", async () => {
    const reply = await get("localhost.example.org", "/hello");
    expect(reply.status).toBe(200);
    expect(reply.echo.me).toBe("localhost");
    // The client's Host is kept.
    expect(reply.echo.headers.host).toBe("localhost.example.org");
  });

  it("proxies to an ExternalName Service named by an address", async () => {
    const reply = await get("ip.example.org", "/hello");
    expect(reply.status).toBe(200);
    expect(reply.echo.me).toBe("external-ip");
  });

  it("answers 503 when the Service does not exist, and reports it in /api/config", async () => {
    const reply = await get("orphan.example.org", "/");
    expect(reply.status).toBe(503);
    expect(reply.body).toContain("no-such-service");

    const config = (await admin(rennet.adminPort, "/api/config")).json<{
      problems: { ingress: string; problems: { code: string; message: string }[] }[];
      backends: Record<string, { endpoints: string[]; reason?: string }>;
    }>();
    const orphan = config.problems.find((entry) => entry.ingress === "default/orphan");
    expect(orphan?.problems).toEqual([
      expect.objectContaining({
        code: "backend-unavailable",
        message: expect.stringContaining("Service default/no-such-service not found"),
      }),
    ]);
    expect(config.backends["default/no-such-service:http"]).toEqual({
      service: "default/no-such-service",
      endpoints: [],
      reason: "Service default/no-such-service not found",
    });
    // The working Ingresses report nothing.
    expect(config.problems.map((entry) => entry.ingress)).toEqual(["default/orphan"]);
  });

  it("lists every route with its backend and the endpoints behind it in /api/config", async () => {
    const config = (await admin(rennet.adminPort, "/api/config")).json<{
      generation: number;
      routes: { host: string | null; path: string; pathType: string; ingress: string; backend: string }[];
      defaultBackend: string | null;
      backends: Record<string, { service: string; endpoints: string[] }>;
    }>();
    expect(config.generation).toBeGreaterThanOrEqual(1);
    expect(config.routes).toContainEqual({
      host: "shop.example.com",
      path: "/api",
      pathType: "Prefix",
      ingress: "default/shop",
      backend: "default/api:http",
    });
    expect(config.routes).toContainEqual(
      expect.objectContaining({ host: "*.example.com", path: "/", ingress: "default/shop" }),
    );
    expect(config.defaultBackend).toBe("default/fallback:http");
    expect(config.backends["default/web:http"]).toEqual({
      service: "default/web",
      endpoints: [`127.0.0.2:${web.port}`, `127.0.0.3:${web.port}`],
    });
    expect(config.backends["default/ports:9000"]?.endpoints).toEqual([`127.0.0.8:${portsAdmin.port}`]);
  });
});
