import { describe, expect, it } from "vitest";
import type { KubeApiDouble, StoredObject } from "../../k8s-sync/test/support/kube-api-double/index.js";
import { answeredBy, apply, update, useCluster } from "./support/cluster-harness.js";
import { eventually, sleep } from "./support/http.js";
import { ingress, ingressClass, type Manifest, serviceWithEndpoints } from "./support/manifests.js";

const cluster = useCluster();

interface CoreEvent extends StoredObject {
  readonly type?: string;
  readonly reason?: string;
  readonly message?: string;
  readonly involvedObject?: { kind?: string; namespace?: string; name?: string; uid?: string };
  readonly source?: { component?: string };
  readonly reportingInstance?: string;
}

const coreEvents = (api: KubeApiDouble) =>
  api.events().filter((event) => event.apiVersion === "v1" || event.apiVersion === undefined) as CoreEvent[];
const eventsOn = (api: KubeApiDouble, name: string) =>
  coreEvents(api).filter((event) => event.involvedObject?.name === name);

describe("cluster mode records Warning Events on Ingresses it rejects", () => {
  it("for invalid rules, path conflicts and missing Services, each once", async () => {
    const cheddar = await cluster.backend({ host: "127.0.0.2", name: "cheddar" });
    const objects: Manifest[] = [
      ingressClass("rennet", { isDefault: true }),
      ...serviceWithEndpoints("cheddar", cheddar.port, [cheddar.host]),
      // Older (and first by name should both be created in the same second): it keeps /api.
      ingress("a-first", { rules: [{ host: "shop.example.com", paths: [{ path: "/api", service: "cheddar" }] }] }),
      ingress("b-second", {
        rules: [
          {
            host: "shop.example.com",
            paths: [
              { path: "/api", service: "cheddar" },
              { path: "/web", service: "cheddar" },
            ],
          },
        ],
      }),
      ingress("broken", {
        rules: [{ host: "broken.example.com", paths: [{ path: "no-slash", service: "cheddar" }] }],
      }),
      ingress("orphan", { rules: [{ host: "orphan.example.com", paths: [{ service: "missing" }] }] }),
    ];
    const api = await cluster.api(objects);
    const rennet = await cluster.rennet(api, { podName: "rennet-events" });
    await eventually(
      () =>
        eventsOn(api, "b-second").length > 0 &&
        eventsOn(api, "broken").length > 0 &&
        eventsOn(api, "orphan").length > 0,
      5000,
      "Warning Events recorded",
    );
    // The parts that are fine are served.
    expect(await answeredBy(rennet, "shop.example.com", "/api")).toBe("cheddar");
    expect(await answeredBy(rennet, "shop.example.com", "/web")).toBe("cheddar");

    const [conflict] = eventsOn(api, "b-second");
    expect(conflict).toMatchObject({
      type: "Warning",
      reason: "PathConflict",
      involvedObject: {
        kind: "Ingress",
        namespace: "default",
        name: "b-second",
        uid: api.get("Ingress", "default", "b-second")?.metadata.uid,
      },
      source: { component: "rennet" },
      reportingInstance: "rennet-events",
    });
    expect(conflict?.message).toBe(
      'rules[0].http.paths[0]: Prefix path "/api" on host "shop.example.com" is already served by default/a-first, which is older or sorts first; it is not served',
    );
    const [invalid] = eventsOn(api, "broken");
    expect(invalid).toMatchObject({ type: "Warning", reason: "InvalidRule" });
    expect(invalid?.message).toBe(`rules[0].http.paths[0]: path "no-slash" must start with '/'`);
    const [orphan] = eventsOn(api, "orphan");
    expect(orphan).toMatchObject({ type: "Warning", reason: "BackendUnavailable" });
    expect(orphan?.message).toContain("default/missing");
    expect(eventsOn(api, "a-first")).toEqual([]);
    // In the Ingress's namespace, through the core/v1 API.
    expect(
      api
        .requestsMatching({ verb: "create", resource: "events" })
        .every((r) => r.namespace === "default" && r.group === ""),
    ).toBe(true);

    // The same problems again — the same objects re-applied (a no-op), then touched so that the configuration is
    // rebuilt several times — add no Event.
    const before = coreEvents(api).length;
    const appliedBefore = rennet.appliedCount();
    apply(api, objects);
    for (const round of [1, 2, 3]) {
      update(
        api,
        objects
          .filter((object) => object.kind === "Ingress")
          .map((object) => ({
            ...object,
            metadata: { ...(object.metadata as object), labels: { round: String(round) } },
          })),
      );
      await sleep(150);
    }
    await eventually(() => rennet.appliedCount() >= appliedBefore + 3, 2000, "the configuration is rebuilt");
    await sleep(300);
    expect(coreEvents(api)).toHaveLength(before);
    expect(before).toBe(3);
  });

  it("a burst of rejected Ingresses does not flood the API with Events", async () => {
    const cheddar = await cluster.backend({ host: "127.0.0.2", name: "cheddar" });
    const broken = Array.from({ length: 60 }, (_, i) =>
      ingress(`broken-${String(i).padStart(2, "0")}`, {
        rules: [{ host: `broken-${i}.example.com`, paths: [{ path: "no-slash", service: "cheddar" }] }],
      }),
    );
    const api = await cluster.api([
      ingressClass("rennet", { isDefault: true }),
      ...serviceWithEndpoints("cheddar", cheddar.port, [cheddar.host]),
      ...broken,
    ]);
    const rennet = await cluster.rennet(api);
    await eventually(() => coreEvents(api).length > 0, 5000, "some Events recorded");
    await sleep(1000);
    // A burst of 25, then about one a second.
    const recorded = coreEvents(api).length;
    expect(recorded).toBeGreaterThanOrEqual(20);
    expect(recorded).toBeLessThanOrEqual(28);
    expect(new Set(coreEvents(api).map((event) => event.involvedObject?.name)).size).toBe(recorded);
    expect(rennet.exit).toBeUndefined();
  });
});
