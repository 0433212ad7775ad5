import { describe, expect, it } from "vitest";
import type { KubeApiDouble } from "../../k8s-sync/test/support/kube-api-double/index.js";
import { answeredBy, apply, useCluster } from "./support/cluster-harness.js";
import { eventually } from "./support/http.js";
import { ingressClass, serviceWithEndpoints, simpleIngress } from "./support/manifests.js";
import type { Rennet } from "./support/rennet.js";

const cluster = useCluster();

// A failed informer restarts after 1 s (the first backoff step); the rest is slack.
const RECOVERY_MS = 3000;

async function servingCheddar(): Promise<{ api: KubeApiDouble; rennet: Rennet }> {
  const cheddar = await cluster.backend({ host: "127.0.0.2", name: "cheddar" });
  const stilton = await cluster.backend({ host: "127.0.0.3", name: "stilton" });
  const api = await cluster.api([
    ingressClass("rennet", { isDefault: true }),
    ...serviceWithEndpoints("cheddar", cheddar.port, [cheddar.host]),
    ...serviceWithEndpoints("stilton", stilton.port, [stilton.host]),
    simpleIngress("cheddar", "cheddar.example.com", "cheddar"),
  ]);
  const rennet = await cluster.rennet(api);
  await eventually(
    async () => (await answeredBy(rennet, "cheddar.example.com")) === "cheddar",
    5000,
    "initial sync serves cheddar",
  );
  await eventually(() => api.openWatches === 5, 2000, "five informers watch");
  return { api, rennet };
}

const ingressLists = (api: KubeApiDouble) => api.requestsMatching({ verb: "list", resource: "ingresses" });
const ingressWatches = (api: KubeApiDouble) => api.requestsMatching({ verb: "watch", resource: "ingresses" });

describe("cluster mode when watches break", () => {
  for (const mode of ["abrupt", "graceful"] as const) {
    it(`resumes from its resourceVersion after the watches are dropped (${mode}), without a relist`, async () => {
      const { api, rennet } = await servingCheddar();
      expect(ingressLists(api)).toHaveLength(1);
      const watchesBefore = ingressWatches(api).length;

      expect(api.dropWatches({ mode })).toBe(5);
      apply(api, [simpleIngress("stilton", "stilton.example.com", "stilton")]);
      await eventually(
        async () => (await answeredBy(rennet, "stilton.example.com")) === "stilton",
        RECOVERY_MS,
        "a change made after the drop reaches traffic",
      );
      expect(await answeredBy(rennet, "cheddar.example.com")).toBe("cheddar");

      // A new watch, from a resourceVersion, and no second list.
      expect(ingressLists(api)).toHaveLength(1);
      const rewatch = ingressWatches(api).slice(watchesBefore);
      expect(rewatch.length).toBeGreaterThanOrEqual(1);
      expect(Number(rewatch[0]?.query.resourceVersion)).toBeGreaterThan(0);
      await eventually(() => api.openWatches === 5, 2000, "every informer watches again");
    });
  }

  it("recovers as fast from the third drop in a row as from the first (the backoff starts over)", async () => {
    const { api, rennet } = await servingCheddar();
    const took: number[] = [];
    for (const [round, service] of ["stilton", "cheddar", "stilton"].entries()) {
      api.dropWatches();
      apply(api, [simpleIngress("moving", "moving.example.com", service)]);
      took.push(
        await eventually(
          async () => (await answeredBy(rennet, "moving.example.com")) === service,
          8000,
          `round ${round + 1}: the change reaches traffic`,
        ),
      );
      await eventually(() => api.openWatches === 5, 8000, `round ${round + 1}: every informer watches again`);
    }
    // 1 s, then 1 s again — not 1 s, 2 s, 4 s as if every blip since start-up counted against the API.
    expect(
      took.every((ms) => ms < 2000),
      `recovery times ${took.join(", ")} ms`,
    ).toBe(true);
    expect(ingressLists(api)).toHaveLength(1);
  });

  for (const form of ["an ERROR event", "an HTTP 410"] as const) {
    it(`relists after 410 Gone (${form}) and applies what changed while it was disconnected, deletions included`, async () => {
      const { api, rennet } = await servingCheddar();
      api.gone410AsHttpStatus(form === "an HTTP 410");
      expect(ingressLists(api)).toHaveLength(1);

      // Disconnected (the informers restart after a 1 s backoff); meanwhile the cluster changes and the history
      // the informers would resume from is compacted away.
      api.dropWatches();
      apply(api, [simpleIngress("stilton", "stilton.example.com", "stilton")]);
      api.delete("Ingress", "default", "cheddar");
      api.compact();

      await eventually(
        async () => (await answeredBy(rennet, "stilton.example.com")) === "stilton",
        RECOVERY_MS,
        "an Ingress added while disconnected serves",
      );
      await eventually(
        async () => (await answeredBy(rennet, "cheddar.example.com")) === "404",
        RECOVERY_MS,
        "an Ingress deleted while disconnected stops serving",
      );

      // The expired watch, then a list, then a watch from the list's resourceVersion.
      const expired = ingressWatches(api).filter((r) => r.status === 410);
      if (form === "an HTTP 410") expect(expired.length).toBeGreaterThanOrEqual(1);
      else expect(expired).toEqual([]);
      expect(ingressLists(api).length).toBeGreaterThanOrEqual(2);
      await eventually(() => api.openWatches === 5, 2000, "every informer watches again");

      // And it follows the cluster again.
      apply(api, [simpleIngress("cheddar", "cheddar.example.com", "cheddar")]);
      await eventually(
        async () => (await answeredBy(rennet, "cheddar.example.com")) === "cheddar",
        1500,
        "a change after the relist reaches traffic",
      );
    });
  }
});
