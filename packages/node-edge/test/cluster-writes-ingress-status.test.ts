import { describe, expect, it } from "vitest";
import type { KubeApiDouble, RecordedRequest } from "../../k8s-sync/test/support/kube-api-double/index.js";
import {
  answeredBy,
  apply,
  leaseHolder,
  loadBalancerOf,
  logsWith,
  update,
  useCluster,
} from "./support/cluster-harness.js";
import { eventually, sleep } from "./support/http.js";
import { ingress, ingressClass, type Manifest, serviceWithEndpoints, simpleIngress } from "./support/manifests.js";
import type { Rennet } from "./support/rennet.js";

const cluster = useCluster();

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const cleared = (value: unknown) => value === undefined || same(value, []);

async function cheeses(): Promise<Manifest[]> {
  const cheddar = await cluster.backend({ host: "127.0.0.2", name: "cheddar" });
  return [
    ingressClass("rennet", { isDefault: true }),
    ingressClass("other", { controller: "example.com/other-controller" }),
    ...serviceWithEndpoints("cheddar", cheddar.port, [cheddar.host]),
    simpleIngress("cheddar", "cheddar.example.com", "cheddar"),
  ];
}

const statusWrites = (api: KubeApiDouble) =>
  api.requestsMatching({ resource: "ingresses", subresource: "status", verb: ["update", "patch"] });
const addressesIn = (write: RecordedRequest) =>
  JSON.stringify((write.body as { status?: { loadBalancer?: { ingress?: unknown } } }).status?.loadBalancer?.ingress);

describe("cluster mode writes Ingress status", () => {
  it("sets the publish address on served Ingresses only, and takes it back from those it stops serving", async () => {
    const api = await cluster.api([
      ...(await cheeses()),
      ingress("theirs", {
        className: "other",
        rules: [{ host: "theirs.example.com", paths: [{ service: "cheddar" }] }],
      }),
      // Another controller's Ingress, with that controller's status: left alone.
      {
        ...ingress("owned", {
          className: "other",
          rules: [{ host: "owned.example.com", paths: [{ service: "cheddar" }] }],
        }),
        status: { loadBalancer: { ingress: [{ ip: "198.51.100.9" }] } },
      },
      simpleIngress("emptied", "emptied.example.com", "cheddar"),
    ]);
    const rennet = await cluster.rennet(api, { args: ["--publish-address", "203.0.113.7"] });
    const mine = [{ ip: "203.0.113.7" }];
    await eventually(() => same(loadBalancerOf(api, "cheddar"), mine), 5000, "status of a served Ingress");
    await eventually(() => same(loadBalancerOf(api, "emptied"), mine), 2000, "status of the other served Ingress");

    // Through the status subresource, never by rewriting the Ingress itself.
    expect(statusWrites(api).length).toBeGreaterThanOrEqual(2);
    expect(
      api.requestsMatching({ resource: "ingresses", subresource: "", verb: ["update", "patch", "create"] }),
    ).toEqual([]);

    // The class moves to another controller: the status goes.
    update(api, [
      ingress("cheddar", {
        className: "other",
        rules: [{ host: "cheddar.example.com", paths: [{ service: "cheddar" }] }],
      }),
    ]);
    expect(loadBalancerOf(api, "cheddar")).toEqual(mine);
    await eventually(() => cleared(loadBalancerOf(api, "cheddar")), 2000, "status removed after the class change");
    expect(await answeredBy(rennet, "cheddar.example.com")).toBe("404");

    // No rule left to serve: the status goes too.
    update(api, [ingress("emptied", {})]);
    expect(loadBalancerOf(api, "emptied")).toEqual(mine);
    await eventually(() => cleared(loadBalancerOf(api, "emptied")), 2000, "status removed after the rules went");

    // Back in our class: the status comes back.
    update(api, [simpleIngress("cheddar", "cheddar.example.com", "cheddar")]);
    await eventually(() => same(loadBalancerOf(api, "cheddar"), mine), 2000, "status written again");

    // Other classes were never touched.
    await sleep(300);
    expect(loadBalancerOf(api, "theirs")).toBeUndefined();
    expect(loadBalancerOf(api, "owned")).toEqual([{ ip: "198.51.100.9" }]);
    expect(statusWrites(api).filter((write) => write.name === "theirs" || write.name === "owned")).toEqual([]);
  });

  it("publishes a host name as {hostname}", async () => {
    const api = await cluster.api(await cheeses());
    await cluster.rennet(api, { args: ["--publish-address", "lb.example.net"] });
    await eventually(
      () => same(loadBalancerOf(api, "cheddar"), [{ hostname: "lb.example.net" }]),
      5000,
      "status with a hostname",
    );
  });

  it("with two instances, only the leader writes status; when it stops, the other takes over within seconds", async () => {
    const api = await cluster.api(await cheeses());
    const addresses: Record<string, string> = { "rennet-a": "192.0.2.1", "rennet-b": "192.0.2.2" };
    const [a, b] = await Promise.all(
      Object.entries(addresses).map(([podName, address]) =>
        cluster.rennet(api, { podName, args: ["--publish-address", address] }),
      ),
    );
    const instances = new Map<string, Rennet>([
      ["rennet-a", a as Rennet],
      ["rennet-b", b as Rennet],
    ]);
    await eventually(() => leaseHolder(api)?.startsWith("rennet-") === true, 5000, "a leader is elected");
    const leader = leaseHolder(api) as string;
    const follower = leader === "rennet-a" ? "rennet-b" : "rennet-a";
    await eventually(
      () => same(loadBalancerOf(api, "cheddar"), [{ ip: addresses[leader] }]),
      5000,
      "the leader writes status",
    );

    // Over several renewals, and several configuration changes (each one a reconcile), nothing else is written.
    for (let i = 0; i < 3; i++) {
      apply(api, [simpleIngress(`extra-${i}`, `extra-${i}.example.com`, "cheddar")]);
      await sleep(400);
    }
    await eventually(
      () => [0, 1, 2].every((i) => same(loadBalancerOf(api, `extra-${i}`), [{ ip: addresses[leader] }])),
      2000,
      "the leader writes status of new Ingresses",
    );
    expect(leaseHolder(api)).toBe(leader);
    expect(new Set(statusWrites(api).map(addressesIn))).toEqual(new Set([JSON.stringify([{ ip: addresses[leader] }])]));
    expect(logsWith(instances.get(leader) as Rennet, "became the leader")).toHaveLength(1);
    expect(logsWith(instances.get(follower) as Rennet, "became the leader")).toHaveLength(0);
    // Both serve traffic, leader or not.
    for (const instance of instances.values())
      expect(await answeredBy(instance, "cheddar.example.com")).toBe("cheddar");

    // SIGTERM: the leader releases the Lease on its way out, so the other need not wait for it to expire.
    const stopped = Date.now();
    await (instances.get(leader) as Rennet).stop();
    await eventually(() => leaseHolder(api) === follower, 3000, "the other instance takes the Lease");
    await eventually(
      () =>
        ["cheddar", "extra-0", "extra-1", "extra-2"].every((name) =>
          same(loadBalancerOf(api, name), [{ ip: addresses[follower] }]),
        ),
      3000,
      "the new leader writes its address",
    );
    expect(Date.now() - stopped).toBeLessThan(4000);
    expect(logsWith(instances.get(follower) as Rennet, "became the leader")).toHaveLength(1);
  });

  it("a leader that dies without releasing the Lease is replaced once the Lease expires", async () => {
    const api = await cluster.api(await cheeses());
    const a = await cluster.rennet(api, { podName: "rennet-a", args: ["--publish-address", "192.0.2.1"] });
    await eventually(() => leaseHolder(api) === "rennet-a", 5000, "the first instance leads");
    await eventually(() => same(loadBalancerOf(api, "cheddar"), [{ ip: "192.0.2.1" }]), 5000, "status written");
    const b = await cluster.rennet(api, { podName: "rennet-b", args: ["--publish-address", "192.0.2.2"] });
    await eventually(async () => (await answeredBy(b, "cheddar.example.com")) === "cheddar", 5000, "b serves");
    expect(leaseHolder(api)).toBe("rennet-a");

    a.signal("SIGKILL");
    await a.exited;
    const killed = Date.now();
    // Lease duration 1.5 s (rounded up to 2 s in the Lease), retry every 200 ms.
    await eventually(() => leaseHolder(api) === "rennet-b", 5000, "the survivor takes over after expiry");
    await eventually(() => same(loadBalancerOf(api, "cheddar"), [{ ip: "192.0.2.2" }]), 2000, "the new leader writes");
    expect(Date.now() - killed).toBeLessThan(5000);
    const lease = api.get("Lease", "rennet", "rennet-leader") as { spec?: { leaseTransitions?: number } };
    expect(lease.spec?.leaseTransitions).toBe(1);
  });
});
