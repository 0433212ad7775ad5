import { describe, expect, it } from "vitest";
import { writeKubeconfig } from "../../k8s-sync/test/support/kube-api-double/kubeconfig.js";
import { answeredBy, readyz, useCluster } from "./support/cluster-harness.js";
import { eventually, sleep } from "./support/http.js";
import { ingress, ingressClass, type Manifest, serviceWithEndpoints, simpleIngress } from "./support/manifests.js";

const cluster = useCluster();

async function cheeses(): Promise<Manifest[]> {
  const cheddar = await cluster.backend({ host: "127.0.0.2", name: "cheddar" });
  return [
    ingressClass("rennet", { isDefault: true }),
    ...serviceWithEndpoints("cheddar", cheddar.port, [cheddar.host]),
    simpleIngress("cheddar", "cheddar.example.com", "cheddar"),
  ];
}

const CANNOT_LIST = "cannot list from the Kubernetes API; not ready until it answers";

describe("cluster mode without the permissions it needs", () => {
  it("denied list on endpointslices: says which verb to grant on which resource, and stays unready", async () => {
    const api = await cluster.api(await cheeses());
    const lift = api.forbid({ resource: "endpointslices", verb: "list" });
    const rennet = await cluster.rennet(api);

    const line = await rennet.waitForLog((l) => l.msg === CANNOT_LIST && l.resource === "EndpointSlice", 3000);
    expect(line.level).toBe("error");
    const problem = String(line.problem);
    expect(problem).toContain("forbidden (403) to list endpointslices.discovery.k8s.io");
    expect(problem).toContain('grant verb "list" on resource "endpointslices" in API group "discovery.k8s.io"');
    // The API server's own words come along (who was refused, where).
    expect(problem).toContain('User "system:serviceaccount:rennet:rennet" cannot list resource "endpointslices"');
    // Only that resource is named: the others listed.
    expect(rennet.logs().filter((l) => l.msg === CANNOT_LIST && l.resource !== "EndpointSlice")).toEqual([]);

    // Unready for as long as the denial lasts (retries included).
    for (let i = 0; i < 6; i++) {
      expect(await readyz(rennet)).toBe(503);
      await sleep(250);
    }
    expect(rennet.logs().filter((l) => l.msg === CANNOT_LIST).length).toBeGreaterThanOrEqual(2);

    // Granted: ready at the next retry, and serving.
    lift();
    await eventually(async () => (await readyz(rennet)) === 200, 5000, "ready once list is allowed");
    expect(await answeredBy(rennet, "cheddar.example.com")).toBe("cheddar");
  });

  it("denied watch on endpointslices: names the watch verb and keeps serving what it listed", async () => {
    const api = await cluster.api(await cheeses());
    api.forbid({ resource: "endpointslices", verb: "watch" });
    const rennet = await cluster.rennet(api);

    const line = await rennet.waitForLog(
      (l) => l.msg === "watch failed; the last configuration keeps serving" && l.resource === "EndpointSlice",
      3000,
    );
    expect(String(line.problem)).toContain(
      'forbidden (403) to watch endpointslices.discovery.k8s.io: grant verb "watch" on resource "endpointslices"',
    );
    await eventually(
      async () => (await answeredBy(rennet, "cheddar.example.com")) === "cheddar",
      3000,
      "what was listed is served",
    );
  });

  it("denied writes (Ingress status, Events, the Lease): names the verb and resource to grant, and keeps serving", async () => {
    const api = await cluster.api([
      ...(await cheeses()),
      ingress("broken", { rules: [{ host: "broken.example.com", paths: [{ path: "no-slash", service: "cheddar" }] }] }),
    ]);
    api.forbid({ resource: "ingresses/status", verb: "update" });
    api.forbid({ resource: "events", verb: "create" });
    const rennet = await cluster.rennet(api, { args: ["--publish-address", "203.0.113.7"] });

    const status = await rennet.waitForLog((l) => l.msg === "could not write Ingress status", 3000);
    expect(status.ingress).toBe("default/cheddar");
    expect(String(status.problem)).toContain(
      'forbidden (403) to update ingresses/status.networking.k8s.io: grant verb "update" on resource "ingresses/status" in API group "networking.k8s.io"',
    );
    const event = await rennet.waitForLog((l) => l.msg === "could not record an Event", 3000);
    expect(event.target).toBe("default/broken");
    expect(String(event.problem)).toContain('grant verb "create" on resource "events" in API group ""');
    // One line each, without the HTTP response headers of the failed call.
    expect(rennet.stderr.filter((line) => line.includes("could not") && /content-type|Headers:/i.test(line))).toEqual(
      [],
    );

    api.forbid({ resource: "leases", verb: "update" });
    const lease = await rennet.waitForLog((l) => l.msg === "leader election: lease update failed", 3000);
    expect(String(lease.problem)).toContain(
      'forbidden (403) to update leases.coordination.k8s.io: grant verb "update" on resource "leases" in API group "coordination.k8s.io"',
    );
    expect(await answeredBy(rennet, "cheddar.example.com")).toBe("cheddar");
    expect(await readyz(rennet)).toBe(200);
  });

  it("refused credentials (401): says so, naming the resource and verb", async () => {
    const api = await cluster.api(await cheeses());
    const wrong = await writeKubeconfig({ server: api.url, token: "not-the-token", namespace: "default" });
    cluster.defer(() => wrong.remove());
    const rennet = await cluster.rennet(api, { kubeconfig: wrong.path });

    const line = await rennet.waitForLog((l) => l.msg === CANNOT_LIST && l.resource === "Ingress", 3000);
    expect(String(line.problem)).toMatch(
      /^unauthorized \(401\) to list ingresses\.networking\.k8s\.io: the credentials were refused/,
    );
    expect(await readyz(rennet)).toBe(503);
  });
});
