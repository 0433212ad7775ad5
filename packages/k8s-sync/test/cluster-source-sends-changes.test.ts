/**
 * ClusterSource against the Kubernetes API double: the first update carries every object, later ones only what
 * a burst of watch events changed (so a change costs what it touches, not the size of the cluster), and the
 * informers cache slim objects.
 */
import { afterEach, describe, expect, it } from "vitest";
import { ClusterSource, loadKubeConfig, type ObjectChanges } from "../src/cluster/index.js";
import type { KubeObject, LogEntry } from "../src/index.js";
import { type KubeApiDouble, startKubeApiDouble } from "./support/kube-api-double/index.js";
import { waitFor } from "./support/kube-api-double/testing.js";

const service = (name: string) => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { namespace: "default", name },
  spec: { ports: [{ name: "http", port: 80 }] },
});

const slice = (name: string, address: string) => ({
  apiVersion: "discovery.k8s.io/v1",
  kind: "EndpointSlice",
  metadata: { namespace: "default", name: `${name}-abc`, labels: { "kubernetes.io/service-name": name } },
  addressType: "IPv4",
  ports: [{ name: "http", port: 8080 }],
  endpoints: [{ addresses: [address], conditions: { ready: true }, targetRef: { kind: "Pod", name: `${name}-pod` } }],
});

const ingress = (name: string, host: string) => ({
  apiVersion: "networking.k8s.io/v1",
  kind: "Ingress",
  metadata: {
    namespace: "default",
    name,
    annotations: { "kubectl.kubernetes.io/last-applied-configuration": `{"big":"${"x".repeat(200)}"}` },
    managedFields: [{ manager: "kubectl", operation: "Update", fieldsType: "FieldsV1", fieldsV1: {} }],
  },
  spec: {
    ingressClassName: "rennet",
    rules: [
      {
        host,
        http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name, port: { name: "http" } } } }] },
      },
    ],
  },
});

const names = (objects: readonly KubeObject[]) => objects.map((o) => `${o.kind}/${o.metadata?.name}`).sort();

let api: KubeApiDouble | undefined;
let source: ClusterSource | undefined;

afterEach(async () => {
  await source?.stop();
  await api?.stop();
  source = undefined;
  api = undefined;
});

async function startSource(seed: readonly object[]) {
  api = await startKubeApiDouble({ seed: seed as Parameters<KubeApiDouble["apply"]>[0][] });
  const updates: ObjectChanges[] = [];
  const logs: LogEntry[] = [];
  source = new ClusterSource({
    config: loadKubeConfig(api.kubeconfigPath).config,
    log: (entry) => logs.push(entry),
    onChange: (changes) => updates.push(changes),
    coalesceMs: 20,
    backoffMs: { initial: 20, max: 100 },
  });
  await source.start();
  return { updates, logs, source, api };
}

describe("ClusterSource", () => {
  it("sends every object once listed, then only what each burst of watch events changed", async () => {
    const { updates, api } = await startSource([service("web"), slice("web", "10.0.0.1"), ingress("web", "a.test")]);
    expect(updates).toHaveLength(1);
    expect(names(updates[0]?.upserts ?? [])).toEqual(["EndpointSlice/web-abc", "Ingress/web", "Service/web"]);
    expect(updates[0]?.deletes).toEqual([]);

    // A burst: three versions of one slice and a new Ingress make one update with the last version of each.
    api.apply(slice("web", "10.0.0.2"));
    api.apply(slice("web", "10.0.0.3"));
    api.apply(ingress("api", "b.test"));
    api.apply(slice("web", "10.0.0.4"));
    await waitFor("the burst", () => updates.length === 2);
    expect(names(updates[1]?.upserts ?? [])).toEqual(["EndpointSlice/web-abc", "Ingress/api"]);
    const moved = updates[1]?.upserts.find((o) => o.kind === "EndpointSlice") as {
      endpoints?: { addresses?: string[] }[];
    };
    expect(moved.endpoints?.[0]?.addresses).toEqual(["10.0.0.4"]);

    api.delete("Ingress", "default", "api");
    await waitFor("the deletion", () => updates.length === 3);
    expect(updates[2]?.upserts).toEqual([]);
    expect(names(updates[2]?.deletes ?? [])).toEqual(["Ingress/api"]);

    // Added and deleted within one burst: a deletion of something never sent, which changes nothing downstream.
    api.apply(ingress("brief", "c.test"));
    api.delete("Ingress", "default", "brief");
    await waitFor("the short-lived Ingress", () => updates.length === 4);
    expect(names(updates[3]?.deletes ?? [])).toEqual(["Ingress/brief"]);
    expect(updates[3]?.upserts).toEqual([]);
  });

  it("caches slim objects: no managedFields, no last-applied annotation, no endpoint targetRef", async () => {
    const { updates, source } = await startSource([service("web"), slice("web", "10.0.0.1"), ingress("web", "a.test")]);
    const cached = source.get("Ingress", "default", "web");
    expect(cached).toBe(updates[0]?.upserts.find((o) => o.kind === "Ingress"));
    expect(cached?.metadata).not.toHaveProperty("managedFields");
    expect(cached?.metadata?.annotations).toEqual({});
    expect(cached?.metadata?.uid).toEqual(expect.any(String));
    expect(cached?.metadata?.creationTimestamp).toEqual(expect.any(String));
    const cachedSlice = source.get("EndpointSlice", "default", "web-abc") as { endpoints?: object[] };
    expect(cachedSlice.endpoints).toEqual([{ addresses: ["10.0.0.1"], conditions: { ready: true } }]);
    expect(source.list("Service").map((o) => o.metadata?.name)).toEqual(["web"]);
    expect(source.objects()).toHaveLength(3);
  });

  it("after a 410 relist, sends the deletions and changes made while it was disconnected", async () => {
    const { updates, api } = await startSource([service("web"), ingress("web", "a.test"), ingress("old", "o.test")]);
    api.dropWatches();
    api.delete("Ingress", "default", "old");
    api.apply(ingress("new", "n.test"));
    api.compact();
    await waitFor("the relist", () => updates.length >= 2 && updates.flatMap((u) => u.deletes).length > 0, 10_000);
    await waitFor("the new Ingress", () => updates.flatMap((u) => u.upserts).some((o) => o.metadata?.name === "new"));
    const later = updates.slice(1);
    expect(names(later.flatMap((u) => u.deletes))).toEqual(["Ingress/old"]);
    expect(names(later.flatMap((u) => u.upserts))).toEqual(["Ingress/new"]);
  });
});
