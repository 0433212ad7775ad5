/**
 * --workers 2: the first process keeps the control plane (manifests, translation, admin port)
 * and two data-plane workers share the listeners. Connections reach both workers, a change
 * reaches both, a worker that dies is replaced with the current configuration, /metrics sums
 * the workers, and SIGTERM stops them all.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { Backend, Echo } from "./support/backends.js";
import { useHarness } from "./support/harness.js";
import { admin, eventually, metricValue, request } from "./support/http.js";
import { ingressClass, type ManifestDir, serviceWithEndpoints, simpleIngress } from "./support/manifests.js";
import type { Rennet } from "./support/rennet.js";

const harness = useHarness("all");
let rennet: Rennet;
let backend: Backend;
let dir: ManifestDir;

interface WorkerInfo {
  pid: number;
  generation: number;
  listening: boolean;
}

async function workers(): Promise<WorkerInfo[]> {
  return (await admin(rennet.adminPort, "/api/workers")).json<WorkerInfo[]>();
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** `count` requests, each on a new connection (so the primary hands them to the workers in turn). */
async function spread(count: number, host: string, path: string): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < count; i++)
    statuses.push((await request(rennet.httpPort, { host, path: `${path}-${i}` })).status);
  return statuses;
}

beforeAll(async () => {
  backend = await harness.backend({ host: "127.0.0.61", name: "web" });
  dir = await harness.manifestDir();
  await dir.write("app.yaml", [
    ingressClass("rennet"),
    ...serviceWithEndpoints("web", backend.port, ["127.0.0.61"]),
    simpleIngress("web", "web.workers.test", "web"),
  ]);
  rennet = await harness.rennet({ manifests: [dir.dir], args: ["--workers", "2", "--grace-period", "2s"] });
});

describe("data-plane workers", () => {
  it("are two processes besides the control plane, listening, with the control plane's configuration", async () => {
    const list = await workers();
    expect(list).toHaveLength(2);
    expect(new Set(list.map((w) => w.pid)).size).toBe(2);
    expect(list.map((w) => w.pid)).not.toContain(rennet.pid);
    const config = (await admin(rennet.adminPort, "/api/config")).json<{ generation: number }>();
    for (const worker of list) {
      expect(worker.listening).toBe(true);
      expect(worker.generation).toBe(config.generation);
    }
    expect((await admin(rennet.adminPort, "/readyz")).status).toBe(200);
  });

  it("share the connections, and each proxies them", async () => {
    const statuses = await spread(10, "web.workers.test", "/spread");
    expect(statuses).toEqual(new Array(10).fill(200));
    await eventually(
      () => rennet.accessLog().filter((line) => line.path.startsWith("/spread-")).length === 10,
      3000,
      "ten access log lines",
    );
    const served = new Set(
      rennet
        .accessLog()
        .filter((line) => line.path.startsWith("/spread-"))
        .map((line) => (line as unknown as { worker: number }).worker),
    );
    expect(served).toEqual(new Set((await workers()).map((w) => w.pid)));
  });

  it("sum their requests in the control plane's /metrics", async () => {
    const before = metricValue((await admin(rennet.adminPort, "/metrics")).body, "rennet_requests_total", {
      ingress: "default/web",
      status_class: "2xx",
    });
    await spread(6, "web.workers.test", "/counted");
    const after = metricValue((await admin(rennet.adminPort, "/metrics")).body, "rennet_requests_total", {
      ingress: "default/web",
      status_class: "2xx",
    });
    expect((after ?? 0) - (before ?? 0)).toBe(6);
  });

  it("all apply a change made to the manifests", async () => {
    await dir.write("more.yaml", [simpleIngress("later", "later.workers.test", "web")]);
    await eventually(
      async () => (await request(rennet.httpPort, { host: "later.workers.test" })).status === 200,
      5000,
      "the new Ingress served",
    );
    // Every worker has it: requests on new connections alternate between them.
    expect(await spread(6, "later.workers.test", "/later")).toEqual(new Array(6).fill(200));
  });

  it("replace a worker that dies, and the new one serves the current configuration", async () => {
    const [victim] = await workers();
    process.kill(victim?.pid as number, "SIGKILL");
    await eventually(
      async () => {
        const list = await workers();
        return list.length === 2 && list.every((w) => w.listening) && !list.some((w) => w.pid === victim?.pid);
      },
      10_000,
      "a replacement worker",
    );
    expect(await spread(6, "later.workers.test", "/after-kill")).toEqual(new Array(6).fill(200));
    const reply = await request(rennet.httpPort, { host: "web.workers.test", path: "/echo" });
    expect(reply.json<Echo>().me).toBe("web");
    expect(rennet.logs().some((line) => line.msg === "data-plane worker exited; starting another")).toBe(true);
  });

  it("stop with the control plane on SIGTERM, which exits 0", async () => {
    const pids = (await workers()).map((w) => w.pid);
    rennet.signal("SIGTERM");
    const exit = await rennet.exited;
    expect(exit.code).toBe(0);
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });
});
