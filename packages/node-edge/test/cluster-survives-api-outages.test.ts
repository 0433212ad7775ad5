import { describe, expect, it } from "vitest";
import { answeredBy, apply, logsWith, readyz, useCluster } from "./support/cluster-harness.js";
import { eventually, sleep } from "./support/http.js";
import { ingressClass, serviceWithEndpoints, simpleIngress } from "./support/manifests.js";

const cluster = useCluster();

async function cheeses() {
  const cheddar = await cluster.backend({ host: "127.0.0.2", name: "cheddar" });
  const stilton = await cluster.backend({ host: "127.0.0.3", name: "stilton" });
  return [
    ingressClass("rennet", { isDefault: true }),
    ...serviceWithEndpoints("cheddar", cheddar.port, [cheddar.host]),
    ...serviceWithEndpoints("stilton", stilton.port, [stilton.host]),
    simpleIngress("cheddar", "cheddar.example.com", "cheddar"),
  ];
}

describe("cluster mode when the API server is away", () => {
  it("unreachable at start: not ready, says why on stderr, and serves once the API answers", async () => {
    const api = await cluster.api(await cheeses());
    await api.setDown(true);
    const rennet = await cluster.rennet(api);

    // It listens (so probes get an answer) but is not ready, and says why, per resource.
    expect(await readyz(rennet)).toBe(503);
    const cannot = await rennet.waitForLog(
      (line) =>
        line.msg === "cannot list from the Kubernetes API; not ready until it answers" && line.resource === "Ingress",
      3000,
    );
    expect(cannot.level).toBe("error");
    expect(String(cannot.problem)).toMatch(/^cannot list ingresses\.networking\.k8s\.io: ECONNREFUSED/);
    expect(cannot.retryInMs).toBe(1000);
    for (const kind of ["IngressClass", "Service", "EndpointSlice", "Secret"]) {
      expect(
        logsWith(rennet, cannot.msg as string).some((line) => line.resource === kind),
        kind,
      ).toBe(true);
    }
    expect(await answeredBy(rennet, "cheddar.example.com")).not.toBe("cheddar");

    // Still away after a retry or two.
    await sleep(1200);
    expect(await readyz(rennet)).toBe(503);
    expect(rennet.exit).toBeUndefined();

    await api.setDown(false);
    const took = await eventually(async () => (await readyz(rennet)) === 200, 5000, "ready once the API answers");
    expect(took).toBeLessThan(3500);
    expect(await answeredBy(rennet, "cheddar.example.com")).toBe("cheddar");
    expect(logsWith(rennet, "every informer has listed; configuration follows the cluster")).toHaveLength(1);
  });

  it("lost after the sync: the last configuration keeps serving and stays ready; back up, changes flow again", async () => {
    const api = await cluster.api(await cheeses());
    const rennet = await cluster.rennet(api);
    await eventually(async () => (await readyz(rennet)) === 200, 5000, "ready");
    await eventually(
      async () => (await answeredBy(rennet, "cheddar.example.com")) === "cheddar",
      2000,
      "initial sync serves cheddar",
    );
    const appliedBefore = rennet.appliedCount();

    await api.setDown(true);
    await rennet.waitForLog((line) => line.msg === "watch failed; the last configuration keeps serving", 3000);
    // Changes the API server holds while rennet cannot see them.
    apply(api, [simpleIngress("stilton", "stilton.example.com", "stilton")]);
    const answers: string[] = [];
    const ready: number[] = [];
    const started = Date.now();
    while (Date.now() - started < 2000) {
      answers.push(await answeredBy(rennet, "cheddar.example.com"));
      ready.push(await readyz(rennet));
      await sleep(100);
    }
    expect(answers.length).toBeGreaterThanOrEqual(10);
    expect(new Set(answers)).toEqual(new Set(["cheddar"]));
    expect(new Set(ready)).toEqual(new Set([200]));
    expect(rennet.appliedCount()).toBe(appliedBefore);
    expect(await answeredBy(rennet, "stilton.example.com")).toBe("404");

    await api.setDown(false);
    // The informers retry on their backoff (1 s, 2 s, … from the first failure); the change made meanwhile arrives.
    await eventually(
      async () => (await answeredBy(rennet, "stilton.example.com")) === "stilton",
      6000,
      "the change made while the API was away reaches traffic",
    );
    await eventually(() => api.openWatches >= 5, 6000, "every informer watches again");
    apply(api, [simpleIngress("stilton", "stilton.example.com", "cheddar")]);
    await eventually(
      async () => (await answeredBy(rennet, "stilton.example.com")) === "cheddar",
      1500,
      "later changes flow again",
    );
    expect(await readyz(rennet)).toBe(200);
  });
});
