/**
 * What a client gets when there is nowhere to go or the upstream misbehaves: 404 without a route,
 * 503 without endpoints, a retry on another endpoint when one refuses connections (502 when all
 * do), 504 when the upstream does not answer in time, a visibly broken response when the upstream
 * dies mid-body, and an aborted upstream request when the client goes away.
 */
import { request as httpRequest } from "node:http";
import { beforeAll, describe, expect, it } from "vitest";
import type { Backend, Echo, Pods } from "./support/backends.js";
import { refusedPort } from "./support/backends.js";
import { useHarness } from "./support/harness.js";
import { eventually, request } from "./support/http.js";
import {
  endpointSlice,
  ingressClass,
  type Manifest,
  type ManifestDir,
  service,
  serviceWithEndpoints,
  simpleIngress,
} from "./support/manifests.js";
import type { Rennet } from "./support/rennet.js";

const harness = useHarness("all");
let rennet: Rennet;
let app: Backend;
let halfDead: Pods;
let dir: ManifestDir;

const LIVE = "127.0.0.3";
const DEAD = "127.0.0.13";

function routeTo(name: string, objects: Manifest[]): Manifest[] {
  return [...objects, simpleIngress(name, `${name}.test`, name)];
}

beforeAll(async () => {
  app = await harness.backend({ host: "127.0.0.2", name: "app" });
  halfDead = await harness.pods("half", [LIVE]);
  // Nothing listens on the dead addresses, at the pods' port and at another one.
  await refusedPort(DEAD, halfDead.port);
  const deadPort = await refusedPort("127.0.0.14");
  dir = await harness.manifestDir();
  await dir.write("failures.yaml", [
    ingressClass("rennet"),
    ...routeTo("app", serviceWithEndpoints("app", app.port, ["127.0.0.2"])),
    ...routeTo("half-dead", serviceWithEndpoints("half-dead", halfDead.port, [DEAD, LIVE])),
    ...routeTo("all-dead", serviceWithEndpoints("all-dead", deadPort, ["127.0.0.14", "127.0.0.15"])),
    ...routeTo("empty", [
      service("empty"),
      endpointSlice("empty", { ports: [{ name: "http", port: 80 }], endpoints: [] }),
    ]),
  ]);
  rennet = await harness.rennet({ manifests: [dir.dir], args: ["--upstream-response-timeout", "500ms"] });
});

describe("nowhere to go", () => {
  it("answers 404 with '404 page not found' when no rule matches and there is no default backend", async () => {
    const reply = await request(rennet.httpPort, { host: "nobody.test", path: "/x" });
    expect(reply.status).toBe(404);
    expect(reply.body.trim()).toBe("404 page not found");
  });

  it("answers 503 when the Service has no endpoints", async () => {
    const reply = await request(rennet.httpPort, { host: "empty.test" });
    expect(reply.status).toBe(503);
    expect(reply.body).toMatch(/^503 Service Unavailable/);
  });
});

describe("endpoints refusing connections", () => {
  it("retries a GET on another endpoint when one refuses the connection", async () => {
    for (let i = 0; i < 6; i++) {
      const reply = await request(rennet.httpPort, { host: "half-dead.test", path: `/try/${i}` });
      expect(reply.status).toBe(200);
      expect(reply.json<Echo>().me).toBe("half-1");
    }
  });

  it("does not replay a request with a body on another endpoint", async () => {
    // Round robin alternates between the dead and the live endpoint; a POST that drew the dead
    // one fails rather than being sent twice.
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      statuses.push((await request(rennet.httpPort, { host: "half-dead.test", method: "POST", body: "once" })).status);
    }
    expect(statuses.sort()).toEqual([200, 200, 502, 502]);
  });

  it("answers 502 when every endpoint refuses", async () => {
    const reply = await request(rennet.httpPort, { host: "all-dead.test" });
    expect(reply.status).toBe(502);
    expect(reply.body).toMatch(/^502 Bad Gateway/);
    const logged = await rennet.waitForAccessLog((line) => line.host === "all-dead.test");
    expect(logged).toMatchObject({ status: 502, upstreamError: "connect-refused", ingress: "default/all-dead" });
  });

  it("answers 502 when the upstream resets the connection without answering", async () => {
    const reply = await request(rennet.httpPort, { host: "app.test", path: "/?do=reset" });
    expect(reply.status).toBe(502);
  });
});

describe("slow and broken upstreams", () => {
  it("answers 504 when the upstream sends no response within --upstream-response-timeout", async () => {
    const started = Date.now();
    const reply = await request(rennet.httpPort, { host: "app.test", path: "/?do=hang", timeoutMs: 5000 });
    const elapsed = Date.now() - started;
    expect(reply.status).toBe(504);
    expect(reply.body).toMatch(/^504 Gateway Timeout/);
    expect(elapsed).toBeGreaterThanOrEqual(450);
    expect(elapsed).toBeLessThan(3000);
  });

  it("breaks the client's response when the upstream stalls mid-body longer than the timeout", async () => {
    const started = Date.now();
    await expect(request(rennet.httpPort, { host: "app.test", path: "/?do=sse", timeoutMs: 5000 })).rejects.toThrow(
      /aborted|complete|socket hang up|ECONNRESET/,
    );
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it("never lets a body cut short by a dying upstream look complete (Content-Length)", async () => {
    await expect(request(rennet.httpPort, { host: "app.test", path: "/?do=die-mid-body" })).rejects.toThrow(
      /aborted|complete|socket hang up|ECONNRESET/,
    );
    const logged = await rennet.waitForAccessLog((line) => line.path === "/?do=die-mid-body");
    expect(logged).toMatchObject({ status: 200, upstreamError: "broken-mid-response" });
  });

  it("never lets a body cut short by a dying upstream look complete (chunked)", async () => {
    await expect(request(rennet.httpPort, { host: "app.test", path: "/?do=die-mid-chunked" })).rejects.toThrow(
      /aborted|complete|socket hang up|ECONNRESET/,
    );
  });
});

describe("clients that go away", () => {
  // Default timeouts here: whatever ends the upstream request early is the client leaving.
  let patient: Rennet;
  beforeAll(async () => {
    patient = await harness.rennet({ manifests: [dir.dir] });
  });

  function abandon(path: string, when: "first-byte" | "after-200ms"): Promise<void> {
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: "127.0.0.1", port: patient.httpPort, path, headers: { host: "app.test" } });
      req.on("error", () => resolve());
      const timer = setTimeout(() => {
        req.destroy();
        resolve();
      }, 200);
      if (when === "first-byte") clearTimeout(timer);
      req.on("response", (res) => {
        if (when !== "first-byte") return;
        res.once("data", () => {
          req.destroy();
          resolve();
        });
      });
      setTimeout(() => reject(new Error("no response within 3 s")), 3000).unref();
      req.end();
    });
  }

  it("aborts the upstream request when the client disconnects mid-response", async () => {
    await abandon("/?do=drip&n=1", "first-byte");
    const seen = await app.waitFor((request) => request.url === "/?do=drip&n=1");
    await eventually(() => seen.outcome !== undefined, 2000, "upstream request over");
    expect(seen.outcome).toBe("aborted");
    const logged = await patient.waitForAccessLog((line) => line.path === "/?do=drip&n=1");
    expect(logged.status).toBe(200);
  });

  it("aborts the upstream request when the client disconnects while waiting for the response", async () => {
    await abandon("/?do=hang&n=2", "after-200ms");
    const seen = await app.waitFor((request) => request.url === "/?do=hang&n=2");
    await eventually(() => seen.outcome !== undefined, 2000, "upstream request over");
    expect(seen.outcome).toBe("aborted");
  });
});
