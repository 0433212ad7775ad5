/**
 * Cluster mode with --workers 2: the control plane alone watches the API (its informers are the
 * only ones) and writes status; both workers serve what the API holds and follow its changes.
 */
import { describe, expect, it } from "vitest";
import { apply, loadBalancerOf, useCluster } from "./support/cluster-harness.js";
import { admin, eventually, request } from "./support/http.js";
import { ingressClass, serviceWithEndpoints, simpleIngress } from "./support/manifests.js";

const cluster = useCluster();

describe("cluster mode with data-plane workers", () => {
  it("serves and follows the API from every worker, with one set of watches and one status writer", async () => {
    const cheddar = await cluster.backend({ host: "127.0.0.2", name: "cheddar" });
    const api = await cluster.api([
      ingressClass("rennet", { isDefault: true }),
      ...serviceWithEndpoints("cheddar", cheddar.port, [cheddar.host]),
      simpleIngress("cheddar", "cheddar.example.com", "cheddar"),
    ]);
    const rennet = await cluster.rennet(api, { args: ["--publish-address", "203.0.113.9", "--workers", "2"] });
    await eventually(async () => (await admin(rennet.adminPort, "/readyz")).status === 200, 10_000, "ready");
    // New connections go to the workers in turn: all of them serve the Ingress.
    for (let i = 0; i < 6; i++)
      expect((await request(rennet.httpPort, { host: "cheddar.example.com" })).status).toBe(200);
    await eventually(
      () => JSON.stringify(loadBalancerOf(api, "cheddar")) === JSON.stringify([{ ip: "203.0.113.9" }]),
      5000,
      "status written",
    );

    apply(api, [simpleIngress("later", "later.example.com", "cheddar")]);
    await eventually(
      async () => (await request(rennet.httpPort, { host: "later.example.com" })).status === 200,
      3000,
      "an added Ingress served",
    );
    for (let i = 0; i < 6; i++)
      expect((await request(rennet.httpPort, { host: "later.example.com" })).status).toBe(200);

    // One list and one watch per resource: only the control plane talks to the API.
    expect(api.openWatches).toBe(5);
    expect(api.requestsMatching({ verb: "list", resource: "ingresses" })).toHaveLength(1);
  });
});
