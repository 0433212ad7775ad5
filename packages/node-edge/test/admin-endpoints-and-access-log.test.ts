/**
 * What an operator sees: the admin port's /healthz, /readyz, /metrics and /api/config, and one
 * JSON access log line per request on stdout (none with --access-log off).
 */
import { execFileSync } from "node:child_process";
import { once } from "node:events";
import { constants } from "node:fs";
import { open, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { createServer } from "node:net";
import { beforeAll, describe, expect, it } from "vitest";
import type { Backend } from "./support/backends.js";
import { useHarness } from "./support/harness.js";
import { admin, eventually, metricValue, request, sleep } from "./support/http.js";
import { ingressClass, type ManifestDir, serviceWithEndpoints, simpleIngress, toYaml } from "./support/manifests.js";
import { Rennet } from "./support/rennet.js";

const harness = useHarness("all");
let rennet: Rennet;
let app: Backend;
let dir: ManifestDir;

const objects = () => [
  ingressClass("rennet"),
  ...serviceWithEndpoints("app", app.port, ["127.0.0.2"]),
  simpleIngress("app", "app.test", "app"),
];

beforeAll(async () => {
  app = await harness.backend({ host: "127.0.0.2", name: "app" });
  dir = await harness.manifestDir();
  await dir.write("app.yaml", objects());
  rennet = await harness.rennet({ manifests: [dir.dir] });
});

describe("admin port", () => {
  it("answers /healthz with 200", async () => {
    const reply = await admin(rennet.adminPort, "/healthz");
    expect(reply.status).toBe(200);
    expect(reply.body.trim()).toBe("ok");
  });

  it("answers /readyz 503 until the first configuration is applied", async () => {
    // A manifest path that is a FIFO holds the first read until the test writes to it, while the
    // admin port already answers. The admin port is chosen up front: it is logged only later.
    const fifoDir = await harness.manifestDir();
    const fifo = fifoDir.path("slow-storage.yaml");
    execFileSync("mkfifo", [fifo]);
    const probe = createServer().listen(0, "127.0.0.1");
    await once(probe, "listening");
    const adminPort = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const waiting = new Rennet([
      ...["serve", "--bind", "127.0.0.1", "--http-port", "0", "--https-port", "0"],
      ...["--admin-port", String(adminPort), "--manifests", fifo],
    ]);
    harness.defer(async () => {
      waiting.signal("SIGTERM");
      // A later rescan may be waiting to read the FIFO again, and the process cannot exit while a
      // read is pending: give it an empty write until it is gone.
      for (let i = 0; i < 40 && waiting.exit === undefined; i++) {
        await open(fifo, constants.O_WRONLY | constants.O_NONBLOCK)
          .then((handle) => handle.close())
          .catch(() => undefined);
        await sleep(50);
      }
      await waiting.stop(3000);
    });

    let early: { status: number; body: string } | undefined;
    await eventually(
      async () => {
        early = await admin(adminPort, "/readyz", 500);
        return true;
      },
      5000,
      "admin port answering",
    );
    expect(early?.status).toBe(503);
    expect(early?.body.trim()).toBe("waiting for the first configuration");
    expect((await admin(adminPort, "/healthz")).status).toBe(200);

    await writeFile(fifo, toYaml(objects()));
    await waiting.waitForLog((line) => line.msg === "rennet is serving", 5000);
    expect((await admin(adminPort, "/readyz")).status).toBe(200);
  });

  it("answers /readyz with 200 once the configuration is applied", async () => {
    const reply = await admin(rennet.adminPort, "/readyz");
    expect(reply.status).toBe(200);
    expect(reply.body.trim()).toBe("ready");
  });

  it("counts requests per Ingress and configuration reloads in /metrics", async () => {
    for (let i = 0; i < 3; i++) expect((await request(rennet.httpPort, { host: "app.test" })).status).toBe(200);
    expect((await request(rennet.httpPort, { host: "nobody.test" })).status).toBe(404);
    const reply = await admin(rennet.adminPort, "/metrics");
    expect(reply.status).toBe(200);
    expect(reply.headers["content-type"]).toMatch(/^text\/plain/);
    const text = reply.body;
    expect(text).toContain("# TYPE rennet_requests_total counter");
    expect(
      metricValue(text, "rennet_requests_total", {
        ingress: "default/app",
        service: "default/app",
        status_class: "2xx",
      }),
    ).toBeGreaterThanOrEqual(3);
    expect(metricValue(text, "rennet_requests_total", { ingress: "", status_class: "4xx" })).toBeGreaterThanOrEqual(1);
    const reloads = metricValue(text, "rennet_config_reloads_total", { result: "success" }) ?? 0;
    expect(reloads).toBeGreaterThanOrEqual(1);

    // A change to the files counts as one more reload.
    await dir.replace("app.yaml", [...objects(), simpleIngress("more", "more.test", "app")]);
    await eventually(
      async () =>
        (metricValue((await admin(rennet.adminPort, "/metrics")).body, "rennet_config_reloads_total", {
          result: "success",
        }) ?? 0) > reloads,
      3000,
      "reload counted",
    );
  });

  it("lists routes, backends and endpoints in /api/config", async () => {
    const config = (await admin(rennet.adminPort, "/api/config")).json<{
      routes: { host: string; path: string; ingress: string; backend: string }[];
      backends: Record<string, { service: string; endpoints: string[] }>;
      problems: unknown[];
    }>();
    expect(config.routes).toContainEqual(
      expect.objectContaining({ host: "app.test", path: "/", ingress: "default/app", backend: "default/app:http" }),
    );
    expect(config.backends["default/app:http"]).toEqual({ service: "default/app", endpoints: [app.origin] });
    expect(config.problems).toEqual([]);
  });

  it("answers unknown admin paths with 404", async () => {
    expect((await admin(rennet.adminPort, "/nope")).status).toBe(404);
  });
});

describe("access log", () => {
  it("writes one JSON line per request on stdout", async () => {
    const reply = await request(rennet.httpPort, { host: "app.test", path: "/logged?x=1" });
    const line = await rennet.waitForAccessLog((entry) => entry.path === "/logged?x=1");
    expect(line).toMatchObject({
      method: "GET",
      host: "app.test",
      path: "/logged?x=1",
      status: 200,
      bytes: Buffer.byteLength(reply.body),
      upstream: app.origin,
      ingress: "default/app",
      service: "default/app",
    });
    expect(typeof line.durationMs).toBe("number");
    expect(line.durationMs).toBeGreaterThanOrEqual(0);
    expect(Number.isNaN(Date.parse(line.time))).toBe(false);
    // Exactly one line for it.
    expect(rennet.accessLog().filter((entry) => entry.path === "/logged?x=1")).toHaveLength(1);
  });

  it("logs requests rennet answers itself", async () => {
    await request(rennet.httpPort, { host: "nobody.test", path: "/not-routed", method: "DELETE" });
    const line = await rennet.waitForAccessLog((entry) => entry.path === "/not-routed");
    expect(line).toMatchObject({ method: "DELETE", host: "nobody.test", status: 404, upstream: "", ingress: "" });
  });

  it("prints nothing on stdout with --access-log off", async () => {
    const quiet = await harness.rennet({ manifests: [dir.dir], args: ["--access-log", "off"] });
    for (let i = 0; i < 3; i++) expect((await request(quiet.httpPort, { host: "app.test" })).status).toBe(200);
    await request(quiet.httpPort, { host: "nobody.test" });
    await sleep(300);
    expect(quiet.stdout.filter((line) => line !== "")).toEqual([]);
    // Metrics still count.
    const metrics = (await admin(quiet.adminPort, "/metrics")).body;
    expect(metricValue(metrics, "rennet_requests_total", { ingress: "default/app", status_class: "2xx" })).toBe(3);
  });
});
