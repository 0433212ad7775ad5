import { describe, expect, it } from "vitest";
import { startPods } from "./support/backends.js";
import { answeredBy, apply, loadBalancerOf, useCluster } from "./support/cluster-harness.js";
import { eventually, request } from "./support/http.js";
import { endpointSlice, ingress, ingressClass, serviceWithEndpoints, simpleIngress } from "./support/manifests.js";

const cluster = useCluster();

// A change in the API reaches traffic within about a second (coalescing is 5 ms; the rest is slack for busy CI).
const PROPAGATION_MS = 1500;

describe("cluster mode against a Kubernetes API", () => {
  it("serves what the API holds, follows changes, and writes Ingress status as the leader", async () => {
    const cheddar = await cluster.backend({ host: "127.0.0.2", name: "cheddar" });
    const stilton = await cluster.backend({ host: "127.0.0.3", name: "stilton" });
    const api = await cluster.api([
      ingressClass("rennet", { isDefault: true }),
      ...serviceWithEndpoints("cheddar", cheddar.port, [cheddar.host]),
      ...serviceWithEndpoints("stilton", stilton.port, [stilton.host]),
      simpleIngress("cheddar", "cheddar.example.com", "cheddar"),
    ]);
    const rennet = await cluster.rennet(api, { args: ["--publish-address", "203.0.113.7"] });
    const port = rennet.httpPort;
    await eventually(
      async () => (await request(port, { host: "cheddar.example.com" })).status === 200,
      5000,
      "initial sync serves cheddar",
    );
    expect(JSON.parse((await request(port, { host: "cheddar.example.com" })).body).me).toBe("cheddar");
    await eventually(
      () => JSON.stringify(loadBalancerOf(api, "cheddar")) === JSON.stringify([{ ip: "203.0.113.7" }]),
      5000,
      "status written",
    );

    apply(api, [simpleIngress("stilton", "stilton.example.com", "stilton")]);
    await eventually(
      async () => (await request(port, { host: "stilton.example.com" })).status === 200,
      PROPAGATION_MS,
      "an added Ingress reaches traffic",
    );

    api.delete("Ingress", "default", "cheddar");
    await eventually(
      async () => (await request(port, { host: "cheddar.example.com" })).status === 404,
      PROPAGATION_MS,
      "a deleted Ingress stops serving",
    );
  });

  it("follows a changed path and backend of an Ingress within a second", async () => {
    const cheddar = await cluster.backend({ host: "127.0.0.2", name: "cheddar" });
    const stilton = await cluster.backend({ host: "127.0.0.3", name: "stilton" });
    const shop = (path: string, service: string) =>
      ingress("shop", { rules: [{ host: "shop.example.com", paths: [{ path, service }] }] });
    const api = await cluster.api([
      ingressClass("rennet", { isDefault: true }),
      ...serviceWithEndpoints("cheddar", cheddar.port, [cheddar.host]),
      ...serviceWithEndpoints("stilton", stilton.port, [stilton.host]),
      shop("/v1", "cheddar"),
    ]);
    const rennet = await cluster.rennet(api);
    await eventually(
      async () => (await answeredBy(rennet, "shop.example.com", "/v1/items")) === "cheddar",
      5000,
      "initial sync serves /v1",
    );
    expect(await answeredBy(rennet, "shop.example.com", "/v2/items")).toBe("404");

    apply(api, [shop("/v2", "stilton")]);
    const took = await eventually(
      async () => (await answeredBy(rennet, "shop.example.com", "/v2/items")) === "stilton",
      PROPAGATION_MS,
      "the new path and backend serve",
    );
    expect(took).toBeLessThan(PROPAGATION_MS);
    expect(await answeredBy(rennet, "shop.example.com", "/v1/items")).toBe("404");

    // Only the backend changes: same path, the other Service.
    apply(api, [shop("/v2", "cheddar")]);
    await eventually(
      async () => (await answeredBy(rennet, "shop.example.com", "/v2/items")) === "cheddar",
      PROPAGATION_MS,
      "the changed backend serves",
    );
  });

  it("follows EndpointSlice changes: a new pod IP gets the traffic within a second", async () => {
    const pods = await startPods("gouda", ["127.0.0.4", "127.0.0.5"]);
    cluster.defer(() => pods.close());
    const slice = (addresses: readonly string[]) =>
      endpointSlice("gouda", { ports: [{ name: "http", port: pods.port }], endpoints: addresses });
    const api = await cluster.api([
      ingressClass("rennet", { isDefault: true }),
      ...serviceWithEndpoints("gouda", pods.port, ["127.0.0.4"]),
      simpleIngress("gouda", "gouda.example.com", "gouda"),
    ]);
    const rennet = await cluster.rennet(api);
    await eventually(
      async () => (await answeredBy(rennet, "gouda.example.com")) === "gouda-1",
      5000,
      "initial sync serves the first pod",
    );

    // The pod is replaced: its successor has a new IP.
    apply(api, [slice(["127.0.0.5"])]);
    const took = await eventually(
      async () => (await answeredBy(rennet, "gouda.example.com")) === "gouda-2",
      PROPAGATION_MS,
      "the new pod IP gets traffic",
    );
    expect(took).toBeLessThan(PROPAGATION_MS);
    for (let i = 0; i < 5; i++) expect(await answeredBy(rennet, "gouda.example.com")).toBe("gouda-2");

    // Scaled to two: both get requests (round-robin).
    apply(api, [slice(["127.0.0.4", "127.0.0.5"])]);
    const seen = new Set<string>();
    await eventually(
      async () => {
        seen.add(await answeredBy(rennet, "gouda.example.com"));
        return seen.has("gouda-1") && seen.has("gouda-2");
      },
      PROPAGATION_MS,
      "both pods get traffic",
    );

    // No ready endpoint left: 503, not the old pod.
    apply(api, [slice([])]);
    await eventually(
      async () => (await answeredBy(rennet, "gouda.example.com")) === "503",
      PROPAGATION_MS,
      "an empty EndpointSlice answers 503",
    );
  });

  it("with --watch-namespace, serves that namespace only and asks the API for nothing else", async () => {
    const cheddar = await cluster.backend({ host: "127.0.0.2", name: "cheddar" });
    const stilton = await cluster.backend({ host: "127.0.0.3", name: "stilton" });
    const api = await cluster.api([
      ingressClass("rennet", { isDefault: true }),
      ...serviceWithEndpoints("cheddar", cheddar.port, [cheddar.host], "team-a"),
      ...serviceWithEndpoints("stilton", stilton.port, [stilton.host], "team-b"),
      ingress("cheddar", {
        namespace: "team-a",
        rules: [{ host: "cheddar.example.com", paths: [{ service: "cheddar" }] }],
      }),
      ingress("stilton", {
        namespace: "team-b",
        rules: [{ host: "stilton.example.com", paths: [{ service: "stilton" }] }],
      }),
    ]);
    const rennet = await cluster.rennet(api, {
      args: ["--watch-namespace", "team-a", "--publish-address", "203.0.113.7"],
    });
    await eventually(
      async () => (await answeredBy(rennet, "cheddar.example.com")) === "cheddar",
      5000,
      "the watched namespace is served",
    );
    expect(await answeredBy(rennet, "stilton.example.com")).toBe("404");

    // A change in the other namespace is not seen either, while one in the watched namespace is.
    apply(api, [
      ingress("brie", { namespace: "team-b", rules: [{ host: "brie.example.com", paths: [{ service: "stilton" }] }] }),
      ingress("gouda", {
        namespace: "team-a",
        rules: [{ host: "gouda.example.com", paths: [{ service: "cheddar" }] }],
      }),
    ]);
    await eventually(
      async () => (await answeredBy(rennet, "gouda.example.com")) === "cheddar",
      PROPAGATION_MS,
      "a new Ingress in the watched namespace serves",
    );
    expect(await answeredBy(rennet, "brie.example.com")).toBe("404");
    expect(await answeredBy(rennet, "stilton.example.com")).toBe("404");
    await eventually(
      () => JSON.stringify(loadBalancerOf(api, "cheddar", "team-a")) === JSON.stringify([{ ip: "203.0.113.7" }]),
      5000,
      "status written in the watched namespace",
    );
    expect(loadBalancerOf(api, "stilton", "team-b")).toBeUndefined();

    // Reads of namespaced kinds all went to team-a; only IngressClasses (cluster-scoped) were read cluster-wide.
    const reads = api.requestsMatching({ verb: ["list", "watch"] });
    expect(reads.length).toBeGreaterThan(0);
    const elsewhere = reads.filter(
      (r) => r.resource !== "ingressclasses" && !(r.resource === "leases" && r.namespace === "rennet"),
    );
    expect(elsewhere.filter((r) => r.namespace !== "team-a").map((r) => `${r.verb} ${r.path}`)).toEqual([]);
    expect(new Set(elsewhere.map((r) => r.resource))).toEqual(
      new Set(["ingresses", "services", "endpointslices", "secrets"]),
    );
  });
});
