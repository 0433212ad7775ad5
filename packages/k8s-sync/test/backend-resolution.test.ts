import { describe, expect, test } from "vitest";
import type { Endpoint, IngressBackend, KubeObject, ResolvedBackend, Service, ServicePort } from "../src/index.js";
import { backendKey, resolveBackend } from "../src/index.js";
import { backend, endpoint, endpointSlice, service, snapshot } from "./support/fixtures.js";

/** Resolves a backend of an Ingress in namespace "default" against these objects. */
function resolve(target: IngressBackend | undefined, ...objects: KubeObject[]): ResolvedBackend {
  const { services, endpointSlices } = snapshot(...objects);
  return resolveBackend("default", target, services, endpointSlices);
}

/** "address:port" of each endpoint, or the kind when the backend has no endpoints list. */
function addresses(resolved: ResolvedBackend): string[] {
  if (resolved.kind !== "endpoints") throw new Error(`expected endpoints, got ${JSON.stringify(resolved)}`);
  return resolved.endpoints.map(({ address, port }) => `${address}:${port}`);
}

const twoPorts = service("web", {
  ports: [
    { name: "http", port: 80, targetPort: 8080 },
    { name: "metrics", port: 9090, targetPort: "metrics" },
  ],
});
const twoPortSlice = endpointSlice("web-abc", "web", [endpoint("10.0.0.1")], {
  ports: [
    { name: "http", port: 8080 },
    { name: "metrics", port: 9091 },
  ],
});

describe("the Ingress backend port selects a Service port", () => {
  test.each([
    { name: "a port number selects the Service port with that number", port: 80, expected: ["10.0.0.1:8080"] },
    { name: "another port number selects the other Service port", port: 9090, expected: ["10.0.0.1:9091"] },
    { name: "a port name selects the Service port with that name", port: "metrics", expected: ["10.0.0.1:9091"] },
    { name: "a port name selects by name, not by the target port", port: "http", expected: ["10.0.0.1:8080"] },
  ])("$name", ({ port, expected }) => {
    expect(addresses(resolve(backend("web", port), twoPorts, twoPortSlice))).toEqual(expected);
  });

  test("a port number is the Service port, not the target port nor the endpoint port", () => {
    const resolved = resolve(backend("web", 8080), twoPorts, twoPortSlice);
    expect(resolved).toMatchObject({ kind: "unavailable", reason: "Service default/web has no port 8080" });
  });

  test("a backend without port uses the Service's only port", () => {
    const single = service("web", { ports: [{ port: 80, targetPort: 8080 }] });
    const slice = endpointSlice("web-abc", "web", [endpoint("10.0.0.1")], { ports: [{ port: 8080 }] });
    expect(addresses(resolve(backend("web"), single, slice))).toEqual(["10.0.0.1:8080"]);
    expect(addresses(resolve(backend("web", 80), single, slice))).toEqual(["10.0.0.1:8080"]);
  });

  test("a backend without port is unavailable when the Service has several ports", () => {
    expect(resolve(backend("web"), twoPorts, twoPortSlice)).toMatchObject({
      kind: "unavailable",
      reason: "Service default/web needs a port number or name in the Ingress backend",
    });
  });

  test.each([
    { name: "a port number the Service does not have", port: 81, reason: "Service default/web has no port 81" },
    {
      name: "a port name the Service does not have",
      port: "grpc",
      reason: 'Service default/web has no port named "grpc"',
    },
  ])("$name makes the backend unavailable", ({ port, reason }) => {
    expect(resolve(backend("web", port), twoPorts, twoPortSlice)).toEqual({
      kind: "unavailable",
      key: `default/web:${port}`,
      service: "default/web",
      reason,
    });
  });
});

describe("EndpointSlice ports are matched by the Service port's name", () => {
  test("the slice port with the same name wins, whatever its number", () => {
    const slice = endpointSlice("web-abc", "web", [endpoint("10.0.0.1")], {
      ports: [
        { name: "other", port: 8080 },
        { name: "http", port: 9000 },
      ],
    });
    expect(addresses(resolve(backend("web", 80), service("web"), slice))).toEqual(["10.0.0.1:9000"]);
  });

  test.each([
    { name: "absent", slicePort: { port: 8080 } },
    { name: "null", slicePort: { name: null, port: 8080 } },
    { name: "empty", slicePort: { name: "", port: 8080 } },
  ])("an unnamed Service port matches a slice port whose name is $name", ({ slicePort }) => {
    const unnamed = service("web", { ports: [{ port: 80, targetPort: 8080 }] });
    const slice = endpointSlice("web-abc", "web", [endpoint("10.0.0.1")], { ports: [slicePort] });
    expect(addresses(resolve(backend("web", 80), unnamed, slice))).toEqual(["10.0.0.1:8080"]);
  });

  test("a slice without the port's name contributes no endpoint", () => {
    const slice = endpointSlice("web-abc", "web", [endpoint("10.0.0.1")], { ports: [{ name: "metrics", port: 9091 }] });
    const other = endpointSlice("web-def", "web", [endpoint("10.0.0.2")], { ports: [{ name: "http", port: 8080 }] });
    expect(addresses(resolve(backend("web", "http"), twoPorts, slice, other))).toEqual(["10.0.0.2:8080"]);
  });

  test("a named Service port does not match an unnamed slice port", () => {
    const slice = endpointSlice("web-abc", "web", [endpoint("10.0.0.1")], { ports: [{ port: 8080 }] });
    expect(addresses(resolve(backend("web", 80), service("web"), slice))).toEqual([]);
  });

  test("a slice port without a number, or with null, or slices without ports or endpoints, contribute nothing", () => {
    const objects = [
      service("web"),
      endpointSlice("no-number", "web", [endpoint("10.0.0.1")], { ports: [{ name: "http" }] }),
      endpointSlice("null-number", "web", [endpoint("10.0.0.2")], { ports: [{ name: "http", port: null }] }),
      { ...endpointSlice("null-ports", "web", [endpoint("10.0.0.3")]), ports: null },
      { ...endpointSlice("null-endpoints", "web", []), endpoints: null },
      endpointSlice("good", "web", [endpoint("10.0.0.9")]),
    ];
    expect(addresses(resolve(backend("web", 80), ...objects))).toEqual(["10.0.0.9:8080"]);
  });
});

describe("the endpoints of a Service", () => {
  test("are the endpoint addresses (pod IPs), never the ClusterIP", () => {
    const web = service("web");
    const withClusterIP = { ...web, spec: { ...web.spec, clusterIP: "10.96.0.10" } } as Service;
    const resolved = resolve(
      backend("web", 80),
      withClusterIP,
      endpointSlice("web-abc", "web", [endpoint("10.244.1.7")]),
    );
    expect(resolved).toEqual({
      kind: "endpoints",
      key: "default/web:80",
      service: "default/web",
      endpoints: [{ address: "10.244.1.7", port: 8080 }],
      terminatingFallback: false,
    });
  });

  test("merge all EndpointSlices of the Service, deduplicated and sorted", () => {
    const resolved = resolve(
      backend("web", 80),
      service("web"),
      endpointSlice("web-b", "web", [endpoint(["10.0.0.3", "10.0.0.2"])]),
      endpointSlice("web-a", "web", [endpoint("10.0.0.2"), endpoint("10.0.0.1")]),
      endpointSlice("web-c", "web", [endpoint("10.0.0.1")]),
    );
    expect(addresses(resolved)).toEqual(["10.0.0.1:8080", "10.0.0.2:8080", "10.0.0.3:8080"]);
  });

  test("the same address on two different slice ports is kept once per port", () => {
    const resolved = resolve(
      backend("web", 80),
      service("web"),
      endpointSlice("web-old", "web", [endpoint("10.0.0.1")], { ports: [{ name: "http", port: 8080 }] }),
      endpointSlice("web-new", "web", [endpoint("10.0.0.1")], { ports: [{ name: "http", port: 8081 }] }),
    );
    expect(addresses(resolved)).toEqual(["10.0.0.1:8080", "10.0.0.1:8081"]);
  });

  test("keep IPv6 addresses as they are, without brackets", () => {
    const resolved = resolve(
      backend("web", 80),
      service("web"),
      endpointSlice("web-v6", "web", [endpoint(["fd00::2", "fd00::1"])], { addressType: "IPv6" }),
      endpointSlice("web-v4", "web", [endpoint("10.0.0.1")]),
    );
    expect(resolved.kind === "endpoints" && resolved.endpoints).toEqual([
      { address: "10.0.0.1", port: 8080 },
      { address: "fd00::1", port: 8080 },
      { address: "fd00::2", port: 8080 },
    ]);
  });

  test("ignore slices of another Service, of another namespace, and slices without the service-name label", () => {
    const unlabelled = endpointSlice("web-unlabelled", "web", [endpoint("10.0.0.4")]);
    const resolved = resolve(
      backend("web", 80),
      service("web"),
      service("web", { namespace: "other" }),
      endpointSlice("web-abc", "web", [endpoint("10.0.0.1")]),
      endpointSlice("api-abc", "api", [endpoint("10.0.0.2")]),
      endpointSlice("web-abc", "web", [endpoint("10.0.0.3")], { namespace: "other" }),
      { ...unlabelled, metadata: { ...unlabelled.metadata, labels: {} } },
    );
    expect(addresses(resolved)).toEqual(["10.0.0.1:8080"]);
  });

  test("a Service in another namespace than the Ingress is not used", () => {
    const resolved = resolve(
      backend("web", 80),
      service("web", { namespace: "other" }),
      endpointSlice("web-abc", "web", [endpoint("10.0.0.1")], { namespace: "other" }),
    );
    expect(resolved).toMatchObject({ kind: "unavailable", service: "default/web" });
  });
});

describe("endpoint conditions", () => {
  test.each([
    { name: "ready: true is used", conditions: { ready: true }, used: true },
    { name: "absent conditions count as ready", conditions: undefined, used: true },
    { name: "an absent ready condition counts as ready", conditions: { serving: true }, used: true },
    { name: "ready: null (unknown) counts as ready", conditions: { ready: null }, used: true },
    { name: "ready: false is not used", conditions: { ready: false }, used: false },
  ])("$name", ({ conditions, used }) => {
    const resolved = resolve(
      backend("web", 80),
      service("web"),
      endpointSlice("web-abc", "web", [endpoint("10.0.0.1", { ready: true }), endpoint("10.0.0.2", conditions)]),
    );
    expect(addresses(resolved)).toEqual(used ? ["10.0.0.1:8080", "10.0.0.2:8080"] : ["10.0.0.1:8080"]);
  });

  test("when none is ready, serving-and-terminating endpoints are used", () => {
    const resolved = resolve(
      backend("web", 80),
      service("web"),
      endpointSlice("web-abc", "web", [
        endpoint("10.0.0.1", { ready: false, serving: true, terminating: true }),
        endpoint("10.0.0.2", { ready: false, serving: false, terminating: true }),
        endpoint("10.0.0.3", { ready: false, serving: true, terminating: false }),
        endpoint("10.0.0.4", { ready: false }),
      ]),
      endpointSlice("web-def", "web", [endpoint("10.0.0.5", { ready: false, serving: true, terminating: true })]),
    );
    expect(resolved).toMatchObject({ kind: "endpoints", terminatingFallback: true });
    expect(addresses(resolved)).toEqual(["10.0.0.1:8080", "10.0.0.5:8080"]);
  });

  test("terminating endpoints are not used while any endpoint is ready, even in another slice", () => {
    const resolved = resolve(
      backend("web", 80),
      service("web"),
      endpointSlice("web-abc", "web", [endpoint("10.0.0.1", { ready: false, serving: true, terminating: true })]),
      endpointSlice("web-def", "web", [endpoint("10.0.0.2", { ready: true })]),
    );
    expect(resolved).toMatchObject({ kind: "endpoints", terminatingFallback: false });
    expect(addresses(resolved)).toEqual(["10.0.0.2:8080"]);
  });

  test("ready endpoints on another port do not prevent the fallback for this port", () => {
    const resolved = resolve(
      backend("web", "http"),
      twoPorts,
      endpointSlice("web-metrics", "web", [endpoint("10.0.0.1")], { ports: [{ name: "metrics", port: 9091 }] }),
      endpointSlice("web-http", "web", [endpoint("10.0.0.2", { ready: false, serving: true, terminating: true })]),
    );
    expect(resolved).toMatchObject({ kind: "endpoints", terminatingFallback: true });
    expect(addresses(resolved)).toEqual(["10.0.0.2:8080"]);
  });

  test.each([
    { name: "no EndpointSlice at all", slices: [] },
    { name: "an EndpointSlice without endpoints", slices: [endpointSlice("web-abc", "web", [])] },
    {
      name: "no ready nor serving-and-terminating endpoint",
      slices: [
        endpointSlice("web-abc", "web", [
          endpoint("10.0.0.1", { ready: false }),
          endpoint("10.0.0.2", { ready: false, serving: false, terminating: true }),
        ]),
      ],
    },
  ])("$name means no endpoints (503)", ({ slices }) => {
    expect(resolve(backend("web", 80), service("web"), ...slices)).toEqual({
      kind: "endpoints",
      key: "default/web:80",
      service: "default/web",
      endpoints: [],
      terminatingFallback: false,
    });
  });
});

describe("ExternalName Services", () => {
  const external = (ports: ServicePort[] = []) =>
    service("ext", { type: "ExternalName", externalName: "api.example.com", ports });

  test("proxy to the DNS name on the Service port selected by number", () => {
    expect(resolve(backend("ext", 443), external([{ name: "https", port: 443 }]))).toEqual({
      kind: "external-name",
      key: "default/ext:443",
      service: "default/ext",
      host: "api.example.com",
      port: 443,
    });
  });

  test("proxy to the DNS name on the Service port selected by name", () => {
    expect(resolve(backend("ext", "https"), external([{ name: "https", port: 8443 }]))).toMatchObject({
      kind: "external-name",
      host: "api.example.com",
      port: 8443,
    });
  });

  test("a port number the Service does not list is used as is", () => {
    expect(resolve(backend("ext", 8080), external())).toMatchObject({ kind: "external-name", port: 8080 });
  });

  test("EndpointSlices are not consulted", () => {
    const resolved = resolve(
      backend("ext", 443),
      external([{ name: "https", port: 443 }]),
      endpointSlice("ext-abc", "ext", [endpoint("10.0.0.1")]),
    );
    expect(resolved.kind).toBe("external-name");
  });

  test("without spec.externalName the backend is unavailable", () => {
    const broken = service("ext", { type: "ExternalName", ports: [{ port: 443 }] });
    expect(resolve(backend("ext", 443), broken)).toMatchObject({
      kind: "unavailable",
      reason: "ExternalName Service default/ext has no externalName",
    });
  });
});

describe("backends that cannot be resolved are unavailable (503)", () => {
  test("a missing Service", () => {
    expect(resolve(backend("web", 80), service("api"))).toEqual({
      kind: "unavailable",
      key: "default/web:80",
      service: "default/web",
      reason: "Service default/web not found",
    });
  });

  test("a resource backend", () => {
    const target: IngressBackend = { resource: { apiGroup: "k8s.example.com", kind: "StorageBucket", name: "static" } };
    expect(resolve(target, service("web"))).toEqual({
      kind: "unavailable",
      key: "default/resource:StorageBucket/static",
      service: "",
      reason: "only Service backends are supported (resource backends are not)",
    });
  });

  test("no backend at all", () => {
    expect(resolve(undefined)).toMatchObject({ kind: "unavailable" });
  });
});

describe("backend keys", () => {
  test.each([
    { target: backend("web", 80), key: "shop/web:80" },
    { target: backend("web", "http"), key: "shop/web:http" },
    { target: backend("web"), key: "shop/web:" },
    { target: { resource: { kind: "StorageBucket", name: "static" } }, key: "shop/resource:StorageBucket/static" },
    { target: {}, key: "shop/resource:?/?" },
  ])("$key", ({ target, key }) => {
    expect(backendKey("shop", target)).toBe(key);
  });

  test("a number and a name for the same Service port give different keys", () => {
    expect(backendKey("shop", backend("web", 80))).not.toBe(backendKey("shop", backend("web", "http")));
  });
});

describe("malformed Services and EndpointSlices do not throw", () => {
  const cases: Array<{ name: string; objects: KubeObject[] }> = [
    {
      name: "Service ports is a mapping",
      objects: [{ ...service("web"), spec: { ports: { name: "http", port: 80 } } } as KubeObject],
    },
    { name: "a Service port is null", objects: [{ ...service("web"), spec: { ports: [null] } } as KubeObject] },
    { name: "Service spec is null", objects: [{ ...service("web"), spec: null } as KubeObject] },
    {
      name: "slice ports is a mapping",
      objects: [
        service("web"),
        { ...endpointSlice("s", "web", [endpoint("10.0.0.1")]), ports: { name: "http" } } as KubeObject,
      ],
    },
    {
      name: "a slice port is null",
      objects: [service("web"), { ...endpointSlice("s", "web", [endpoint("10.0.0.1")]), ports: [null] } as KubeObject],
    },
    {
      name: "slice endpoints is a mapping",
      objects: [
        service("web"),
        { ...endpointSlice("s", "web", []), endpoints: { addresses: ["10.0.0.1"] } } as KubeObject,
      ],
    },
    {
      name: "an endpoint is null",
      objects: [service("web"), { ...endpointSlice("s", "web", []), endpoints: [null] } as KubeObject],
    },
    {
      name: "endpoint addresses is a string",
      objects: [service("web"), endpointSlice("s", "web", [{ addresses: "10.0.0.1" } as unknown as Endpoint])],
    },
    {
      name: "endpoint addresses hold null, numbers and empty strings",
      objects: [service("web"), endpointSlice("s", "web", [{ addresses: [null, 5, ""] } as unknown as Endpoint])],
    },
  ];

  test.each(cases)("$name", ({ objects }) => {
    let resolved: ResolvedBackend | undefined;
    expect(() => {
      resolved = resolve(backend("web", 80), ...objects);
    }).not.toThrow();
    if (resolved?.kind === "endpoints") expect(resolved.endpoints).toEqual([]);
    else expect(resolved?.kind).toBe("unavailable");
  });
});
