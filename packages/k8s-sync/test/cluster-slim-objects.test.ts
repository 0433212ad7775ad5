/**
 * The cluster source keeps slim objects (slimObject): what the API sends minus what rennet never reads. Slimming
 * must never change what an object means: the translation of slim objects equals that of the originals.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LAST_APPLIED_ANNOTATION, slimObject } from "../src/cluster/slim.js";
import { type Kind, type KubeObject, snapshotOf, translate } from "../src/index.js";
import { canonical, OPTIONS, objectArb } from "./support/arbitraries.js";

const MANAGED_FIELDS = [
  {
    manager: "kubectl-client-side-apply",
    operation: "Update",
    apiVersion: "v1",
    time: "2026-01-01T00:00:00Z",
    fieldsType: "FieldsV1",
    fieldsV1: { "f:metadata": { "f:annotations": { ".": {} } }, "f:spec": { "f:rules": {} } },
  },
];

/** The object as a real API server sends it: server-set metadata, managedFields, status, extra labels, … */
function asFromTheApi(object: KubeObject, index: number): KubeObject {
  const any = object as Record<string, unknown> & { metadata?: Record<string, unknown> };
  const metadata = any.metadata ?? {};
  const fat: Record<string, unknown> = {
    ...any,
    metadata: {
      ...metadata,
      uid: `uid-${index}`,
      resourceVersion: String(1000 + index),
      generation: 3,
      creationTimestamp: metadata.creationTimestamp ?? "2026-01-02T03:04:05Z",
      labels: { ...(metadata.labels as object), "app.kubernetes.io/managed-by": "Helm", team: "edge" },
      annotations: {
        ...(metadata.annotations as object),
        [LAST_APPLIED_ANNOTATION]: JSON.stringify(object),
        "meta.helm.sh/release-name": "web",
      },
      managedFields: MANAGED_FIELDS,
      ownerReferences: [{ apiVersion: "v1", kind: "Service", name: "x", uid: "u", controller: true }],
    },
  };
  switch (object.kind) {
    case "Ingress":
      fat.status = { loadBalancer: { ingress: [{ ip: "192.0.2.1" }] } };
      break;
    case "Service":
      fat.spec = { ...(any.spec as object), clusterIP: "10.96.0.10", clusterIPs: ["10.96.0.10"], ipFamilies: ["IPv4"] };
      fat.status = { loadBalancer: {}, conditions: [{ type: "x", status: "True" }] };
      break;
    case "EndpointSlice":
      fat.endpoints = Array.isArray(any.endpoints)
        ? any.endpoints.map((endpoint: object, n: number) => ({
            ...endpoint,
            nodeName: `node-${n}`,
            zone: "zone-a",
            hints: { forZones: [{ name: "zone-a" }] },
            targetRef: { kind: "Pod", namespace: "default", name: `pod-${n}`, uid: `pod-uid-${n}` },
          }))
        : any.endpoints;
      break;
  }
  return fat as KubeObject;
}

const slim = (object: KubeObject) => slimObject(object, object.kind as Kind);

describe("slimObject", () => {
  it("changes no translation: slim objects translate exactly as the objects the API sent", () => {
    fc.assert(
      fc.property(fc.array(objectArb, { maxLength: 16 }), (objects) => {
        const fromApi = objects.map(asFromTheApi);
        const full = translate(snapshotOf(fromApi), OPTIONS);
        const slimmed = translate(snapshotOf(fromApi.map(slim)), OPTIONS);
        expect(canonical(slimmed)).toEqual(canonical(full));
      }),
      { numRuns: 300 },
    );
  });

  it("drops managedFields, the last-applied annotation and what nothing reads; keeps what rennet reads", () => {
    const ingress = asFromTheApi(
      {
        kind: "Ingress",
        metadata: { namespace: "default", name: "web", annotations: { "rennet.dev/ssl-redirect": "false" } },
        spec: { rules: [{ host: "a.example.com" }] },
      } as KubeObject,
      1,
    );
    expect(slim(ingress)).toEqual({
      apiVersion: "networking.k8s.io/v1",
      kind: "Ingress",
      metadata: {
        namespace: "default",
        name: "web",
        uid: "uid-1",
        resourceVersion: "1001",
        creationTimestamp: "2026-01-02T03:04:05Z",
        annotations: { "rennet.dev/ssl-redirect": "false", "meta.helm.sh/release-name": "web" },
      },
      spec: { rules: [{ host: "a.example.com" }] },
      status: { loadBalancer: { ingress: [{ ip: "192.0.2.1" }] } },
    });
    const slice = asFromTheApi(
      {
        kind: "EndpointSlice",
        metadata: { namespace: "default", name: "web-abc", labels: { "kubernetes.io/service-name": "web" } },
        addressType: "IPv4",
        ports: [{ name: "http", port: 8080 }],
        endpoints: [{ addresses: ["10.0.0.1"], conditions: { ready: true } }],
      } as KubeObject,
      2,
    );
    expect(slim(slice)).toEqual({
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: {
        namespace: "default",
        name: "web-abc",
        resourceVersion: "1002",
        labels: { "kubernetes.io/service-name": "web" },
      },
      addressType: "IPv4",
      ports: [{ name: "http", port: 8080 }],
      endpoints: [{ addresses: ["10.0.0.1"], conditions: { ready: true } }],
    });
    const service = slim(asFromTheApi({ kind: "Service", metadata: { namespace: "default", name: "web" } }, 3));
    expect(service).toEqual({
      apiVersion: "v1",
      kind: "Service",
      metadata: { namespace: "default", name: "web", resourceVersion: "1003" },
      spec: { clusterIP: "10.96.0.10", clusterIPs: ["10.96.0.10"], ipFamilies: ["IPv4"] },
    });
    const secret = slim(
      asFromTheApi(
        { kind: "Secret", metadata: { namespace: "default", name: "tls" }, type: "kubernetes.io/tls" } as KubeObject,
        4,
      ),
    );
    expect(secret).toEqual({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { namespace: "default", name: "tls", resourceVersion: "1004" },
      type: "kubernetes.io/tls",
    });
  });

  it("keeps the publish Service's load-balancer ingress entries", () => {
    const published = slim({
      kind: "Service",
      metadata: { namespace: "rennet", name: "edge" },
      status: { loadBalancer: { ingress: [{ hostname: "lb.example.net" }] }, conditions: [] },
    } as KubeObject);
    expect((published as { status?: unknown }).status).toEqual({
      loadBalancer: { ingress: [{ hostname: "lb.example.net" }] },
    });
  });

  it("takes a client-node model instance (Date timestamps, no kind) to the same shape as a watch event", () => {
    class V1ObjectMeta {}
    const meta = Object.assign(new V1ObjectMeta(), {
      name: "web",
      namespace: "default",
      resourceVersion: "7",
      uid: "u-1",
      creationTimestamp: new Date("2026-01-02T03:04:05Z"),
    });
    const listed = slimObject({ metadata: meta, spec: { rules: [] } }, "Ingress");
    const watched = slimObject(
      {
        kind: "Ingress",
        metadata: { ...meta, creationTimestamp: "2026-01-02T03:04:05.000Z" },
        spec: { rules: [] },
      },
      "Ingress",
    );
    expect(listed).toEqual(watched);
    expect(listed.metadata?.creationTimestamp).toBe("2026-01-02T03:04:05.000Z");
  });

  it("shares what repeats across objects: one namespace string, one conditions object per combination", () => {
    const a = slimObject(
      {
        metadata: { namespace: `ns-${"x".repeat(3)}`, name: "a", labels: { "kubernetes.io/service-name": "a" } },
        endpoints: [{ addresses: ["10.0.0.1"], conditions: { ready: true } }],
      },
      "EndpointSlice",
    ) as { metadata: { namespace: string }; endpoints: { conditions: object }[] };
    const b = slimObject(
      {
        metadata: { namespace: `ns-${"x".repeat(3)}`, name: "b", labels: { "kubernetes.io/service-name": "b" } },
        endpoints: [{ addresses: ["10.0.0.2"], conditions: { ready: true } }],
      },
      "EndpointSlice",
    ) as typeof a;
    expect(a.endpoints[0]?.conditions).toBe(b.endpoints[0]?.conditions);
    expect(Object.isFrozen(a.endpoints[0]?.conditions)).toBe(true);
    expect(a.metadata.namespace).toBe(b.metadata.namespace);
  });
});
