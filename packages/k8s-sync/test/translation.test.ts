import { compile, normalizePath, type RouteTable } from "@rennet/router";
import { describe, expect, test } from "vitest";
import type { Ingress, IngressPolicies, TranslatedIngress } from "../src/index.js";
import { TranslationMemo, translate, translateIngress } from "../src/index.js";
import {
  backend,
  endpoint,
  endpointSlice,
  ingress,
  ingressClass,
  OPTIONS,
  rule,
  service,
  snapshot,
  T0,
  T1,
} from "./support/fixtures.js";

const CLASS = ingressClass("rennet");

/** What the data plane would forward to: the matched rule's backend key, else the default backend's, else null. */
function served(table: RouteTable<string, IngressPolicies>, host: string, target: string): string | null {
  const normalized = normalizePath(target);
  if (!normalized.ok) throw new Error(normalized.reason);
  return table.match(host, normalized.path)?.backend ?? table.defaultBackend?.backend ?? null;
}

describe("translate() end to end with the router", () => {
  const objects = [
    CLASS,
    service("web", {
      ports: [
        { name: "http", port: 80, targetPort: 8080 },
        { name: "admin", port: 81, targetPort: 8081 },
      ],
    }),
    service("api", { ports: [{ port: 8000 }] }),
    service("static", { namespace: "shop", ports: [{ name: "http", port: 80 }] }),
    endpointSlice("web-a", "web", [endpoint("10.0.0.1")], {
      ports: [
        { name: "http", port: 8080 },
        { name: "admin", port: 8081 },
      ],
    }),
    endpointSlice("web-b", "web", [endpoint("10.0.0.2"), endpoint("10.0.0.9", { ready: false })], {
      ports: [
        { name: "http", port: 8080 },
        { name: "admin", port: 8081 },
      ],
    }),
    endpointSlice("api-a", "api", [endpoint("fd00::1")], { ports: [{ port: 8000 }], addressType: "IPv6" }),
    endpointSlice("static-a", "static", [endpoint("10.1.0.1")], { namespace: "shop" }),
    ingress("cheese", {
      className: "rennet",
      creationTimestamp: T0,
      rules: [
        rule(
          "cheese.example.com",
          ["/", "Prefix", backend("web", 80)],
          ["/api", "Prefix", backend("api")],
          ["/admin", "Exact", backend("web", "admin")],
        ),
        rule("*.cheese.example.com", ["/", "ImplementationSpecific", backend("api", 8000)]),
      ],
      defaultBackend: backend("web", "http"),
    }),
    ingress("shop", {
      namespace: "shop",
      className: "rennet",
      creationTimestamp: T0,
      rules: [rule("shop.example.com", ["/static", "Prefix", backend("static", "http")])],
    }),
  ];
  const result = translate(snapshot(...objects), OPTIONS);
  const table = compile(result.ingresses);

  test.each([
    { host: "cheese.example.com", path: "/", key: "default/web:80" },
    { host: "Cheese.Example.com:8443", path: "/index.html", key: "default/web:80" },
    { host: "cheese.example.com", path: "/api", key: "default/api:" },
    { host: "cheese.example.com", path: "/api/v1/cheeses?x=1", key: "default/api:" },
    { host: "cheese.example.com", path: "/apiary", key: "default/web:80" },
    { host: "cheese.example.com", path: "/admin", key: "default/web:admin" },
    { host: "cheese.example.com", path: "/admin/", key: "default/web:80" },
    { host: "brie.cheese.example.com", path: "/anything", key: "default/api:8000" },
    { host: "shop.example.com", path: "/static/logo.png", key: "shop/static:http" },
    { host: "shop.example.com", path: "/", key: "default/web:http" },
    { host: "unknown.example.org", path: "/", key: "default/web:http" },
  ])("$host $path is served by $key", ({ host, path, key }) => {
    expect(served(table, host, path)).toBe(key);
  });

  test("every backend key the table hands back is resolved", () => {
    const keys = new Set(table.routes().map((route) => route.backend));
    if (table.defaultBackend !== null) keys.add(table.defaultBackend.backend);
    expect([...keys].sort()).toEqual([...result.backends.keys()].sort());
  });

  test("backend keys resolve to endpoint addresses", () => {
    const endpointsOf = (key: string) => {
      const resolved = result.backends.get(key);
      return resolved?.kind === "endpoints" ? resolved.endpoints.map((e) => `${e.address} ${e.port}`) : resolved;
    };
    expect(endpointsOf("default/web:80")).toEqual(["10.0.0.1 8080", "10.0.0.2 8080"]);
    expect(endpointsOf("default/web:http")).toEqual(["10.0.0.1 8080", "10.0.0.2 8080"]);
    expect(endpointsOf("default/web:admin")).toEqual(["10.0.0.1 8081", "10.0.0.2 8081"]);
    expect(endpointsOf("default/api:")).toEqual(["fd00::1 8000"]);
    expect(endpointsOf("default/api:8000")).toEqual(["fd00::1 8000"]);
    expect(endpointsOf("shop/static:http")).toEqual(["10.1.0.1 8080"]);
  });

  test("the router compiles the translation without diagnostics and nothing is a problem", () => {
    expect(table.allDiagnostics()).toEqual([]);
    expect(result.problems).toEqual([]);
  });

  test("translated Ingresses carry namespace, name and creationTimestamp", () => {
    const cheese = result.ingresses.find((i) => i.name === "cheese");
    expect(cheese).toMatchObject({ namespace: "default", name: "cheese", creationTimestamp: T0 });
    expect(cheese?.rules?.[0]?.http?.paths[0]).toEqual({ path: "/", pathType: "Prefix", backend: "default/web:80" });
  });
});

describe("conflicts between Ingresses", () => {
  const claim = (name: string, creationTimestamp: string | undefined, namespace = "default") =>
    ingress(name, {
      namespace,
      className: "rennet",
      ...(creationTimestamp === undefined ? {} : { creationTimestamp }),
      rules: [rule("cheese.example.com", ["/", "Prefix", backend(name, 80)])],
    });
  const winner = (...ingresses: Ingress[]) => {
    const table = compile(translate(snapshot(CLASS, ...ingresses), OPTIONS).ingresses);
    return served(table, "cheese.example.com", "/");
  };

  test("the older metadata.creationTimestamp wins, whatever the name", () => {
    expect(winner(claim("aaa", T1), claim("zzz", T0))).toBe("default/zzz:80");
    expect(winner(claim("zzz", T0), claim("aaa", T1))).toBe("default/zzz:80");
  });

  test("at equal creationTimestamp, namespace then name decide", () => {
    expect(winner(claim("bbb", T0), claim("aaa", T0))).toBe("default/aaa:80");
    expect(winner(claim("aaa", T0, "zeta"), claim("zzz", T0, "alpha"))).toBe("alpha/zzz:80");
  });

  test("an Ingress with a creationTimestamp wins over one without", () => {
    expect(winner(claim("aaa", undefined), claim("zzz", T1))).toBe("default/zzz:80");
  });
});

describe("problems are reported per Ingress", () => {
  const objects = [
    CLASS,
    service("web"),
    endpointSlice("web-a", "web", [endpoint("10.0.0.1")]),
    ingress("one", {
      className: "rennet",
      rules: [
        rule(
          "one.example.com",
          ["/", "Prefix", backend("missing", 80)],
          ["/again", "Prefix", backend("missing", 80)],
          ["/port", "Prefix", backend("web", 81)],
          ["/ok", "Prefix", backend("web", 80)],
        ),
      ],
    }),
    ingress("two", {
      className: "rennet",
      rules: [rule("two.example.com", ["/", "Prefix", backend("missing", 80)])],
      defaultBackend: { resource: { apiGroup: "k8s.example.com", kind: "StorageBucket", name: "static" } },
    }),
    ingress("three", {
      className: "rennet",
      rules: [rule("three.example.com", ["/", "Prefix", backend("web", "http")])],
    }),
  ];
  const result = translate(snapshot(...objects), OPTIONS);

  test("each unavailable backend once per Ingress, naming the Ingress, the key and the reason", () => {
    expect(result.problems).toEqual([
      {
        ingress: { namespace: "default", name: "one" },
        code: "backend-unavailable",
        message: "backend default/missing:80 answers 503: Service default/missing not found",
      },
      {
        ingress: { namespace: "default", name: "one" },
        code: "backend-unavailable",
        message: "backend default/web:81 answers 503: Service default/web has no port 81",
      },
      {
        ingress: { namespace: "default", name: "two" },
        code: "backend-unavailable",
        message: expect.stringContaining("backend default/resource:StorageBucket/static answers 503: only Service"),
      },
      {
        ingress: { namespace: "default", name: "two" },
        code: "backend-unavailable",
        message: "backend default/missing:80 answers 503: Service default/missing not found",
      },
    ]);
  });

  test("Ingresses with problems are still served; their unavailable backends are in the backend map", () => {
    expect(result.ingresses.map((i) => i.name).sort()).toEqual(["one", "three", "two"]);
    expect(result.backends.get("default/missing:80")).toMatchObject({ kind: "unavailable" });
    expect(result.backends.get("default/web:81")).toMatchObject({ kind: "unavailable" });
    const table = compile(result.ingresses);
    expect(served(table, "one.example.com", "/ok")).toBe("default/web:80");
    expect(served(table, "one.example.com", "/")).toBe("default/missing:80");
  });

  test("a Service without endpoints answers 503 but is not a translation problem", () => {
    const empty = translate(
      snapshot(
        CLASS,
        service("idle"),
        ingress("idle", {
          className: "rennet",
          rules: [rule("idle.example.com", ["/", "Prefix", backend("idle", 80)])],
        }),
      ),
      OPTIONS,
    );
    expect(empty.backends.get("default/idle:80")).toMatchObject({ kind: "endpoints", endpoints: [] });
    expect(empty.problems).toEqual([]);
  });
});

describe("memoised translation", () => {
  const web = service("web");
  const slice = endpointSlice("web-a", "web", [endpoint("10.0.0.1")]);
  const a = ingress("a", { className: "rennet", rules: [rule("a.example.com", ["/", "Prefix", backend("web", 80)])] });
  const b = ingress("b", { className: "rennet", rules: [rule("b.example.com", ["/", "Prefix", backend("web", 80)])] });

  test("the same memo returns identical objects for unchanged Ingresses", () => {
    const memo = new TranslationMemo();
    const first = translate(snapshot(CLASS, web, slice, a, b), OPTIONS, memo);
    const changedB = ingress("b", {
      className: "rennet",
      rules: [rule("b.example.com", ["/v2", "Prefix", backend("web", 80)])],
    });
    const second = translate(snapshot(CLASS, web, slice, a, changedB), OPTIONS, memo);
    const byName = (list: readonly TranslatedIngress[], name: string) => list.find((i) => i.name === name);
    expect(byName(second.ingresses, "a")).toBe(byName(first.ingresses, "a"));
    expect(byName(second.ingresses, "b")).not.toBe(byName(first.ingresses, "b"));
    expect(byName(second.ingresses, "b")?.rules?.[0]?.http?.paths[0]?.path).toBe("/v2");
  });

  test("without a memo every translation is a new object with the same content", () => {
    const first = translate(snapshot(CLASS, web, slice, a), OPTIONS);
    const second = translate(snapshot(CLASS, web, slice, a), OPTIONS);
    expect(second.ingresses[0]).not.toBe(first.ingresses[0]);
    expect(second.ingresses[0]).toEqual(first.ingresses[0]);
  });

  test("a memoised Ingress still sees changed endpoints", () => {
    const memo = new TranslationMemo();
    translate(snapshot(CLASS, web, slice, a), OPTIONS, memo);
    const moved = endpointSlice("web-a", "web", [endpoint("10.0.0.2")]);
    const second = translate(snapshot(CLASS, web, moved, a), OPTIONS, memo);
    expect(second.backends.get("default/web:80")).toMatchObject({ endpoints: [{ address: "10.0.0.2", port: 8080 }] });
  });

  test("an unchanged Service with unchanged EndpointSlices resolves to the identical backend object", () => {
    const memo = new TranslationMemo();
    const api = service("api");
    const apiSlice = endpointSlice("api-a", "api", [endpoint("10.0.1.1")]);
    const c = ingress("c", {
      className: "rennet",
      rules: [rule("c.example.com", ["/", "Prefix", backend("api", 80)])],
    });
    const first = translate(snapshot(CLASS, web, slice, api, apiSlice, a, c), OPTIONS, memo);
    const moved = endpointSlice("web-a", "web", [endpoint("10.0.0.2")]);
    const second = translate(snapshot(CLASS, web, moved, api, apiSlice, a, c), OPTIONS, memo);
    expect(second.backends.get("default/api:80")).toBe(first.backends.get("default/api:80"));
    expect(second.backends.get("default/web:80")).not.toBe(first.backends.get("default/web:80"));
    // A new Service object (even with equal content) is resolved again.
    const third = translate(snapshot(CLASS, web, moved, service("api"), apiSlice, a, c), OPTIONS, memo);
    expect(third.backends.get("default/api:80")).not.toBe(first.backends.get("default/api:80"));
    expect(third.backends.get("default/api:80")).toEqual(first.backends.get("default/api:80"));
  });

  test("a memo gives the same result as no memo", () => {
    const memo = new TranslationMemo();
    const objects = [
      CLASS,
      web,
      slice,
      a,
      b,
      ingress("d", { className: "rennet", defaultBackend: backend("missing", 80) }),
    ];
    translate(snapshot(...objects), OPTIONS, memo);
    expect(translate(snapshot(...objects), OPTIONS, memo)).toEqual(translate(snapshot(...objects), OPTIONS));
  });

  test("an Ingress that stops being served is not returned even though it is memoised", () => {
    const memo = new TranslationMemo();
    translate(snapshot(CLASS, web, a), OPTIONS, memo);
    expect(translate(snapshot(web, a), OPTIONS, memo).ingresses).toEqual([]);
  });
});

describe("malformed Ingresses do not throw", () => {
  const good = ingress("good", {
    className: "rennet",
    rules: [rule("good.example.com", ["/", "Prefix", backend("web", 80)])],
  });
  const malformed = (spec: unknown, metadata: unknown = { name: "bad", namespace: "default" }): Ingress =>
    ({
      apiVersion: "networking.k8s.io/v1",
      kind: "Ingress",
      metadata,
      spec: spec === undefined ? undefined : { ingressClassName: "rennet", ...(spec as object) },
    }) as Ingress;
  const cases: Array<{ name: string; ingress: Ingress }> = [
    { name: "spec: null", ingress: { ...malformed({}), spec: null } as unknown as Ingress },
    { name: "no spec", ingress: malformed(undefined) },
    { name: "rules: null", ingress: malformed({ rules: null }) },
    { name: "rules is a string", ingress: malformed({ rules: "cheese.example.com" }) },
    { name: "rules is a number", ingress: malformed({ rules: 5 }) },
    { name: "rules is a mapping", ingress: malformed({ rules: { host: "cheese.example.com" } }) },
    { name: "a rule is null", ingress: malformed({ rules: [null] }) },
    { name: "a rule is a string", ingress: malformed({ rules: ["cheese.example.com"] }) },
    { name: "http: null", ingress: malformed({ rules: [{ host: "a.example.com", http: null }] }) },
    { name: "paths: null", ingress: malformed({ rules: [{ host: "a.example.com", http: { paths: null } }] }) },
    {
      name: "paths is a mapping",
      ingress: malformed({ rules: [{ host: "a.example.com", http: { paths: { path: "/" } } }] }),
    },
    { name: "paths is a number", ingress: malformed({ rules: [{ host: "a.example.com", http: { paths: 3 } }] }) },
    { name: "a path is null", ingress: malformed({ rules: [{ host: "a.example.com", http: { paths: [null] } }] }) },
    {
      name: "a path without backend",
      ingress: malformed({ rules: [{ host: "a.example.com", http: { paths: [{ path: "/", pathType: "Prefix" }] } }] }),
    },
    {
      name: "backend: null",
      ingress: malformed({ rules: [{ http: { paths: [{ path: "/", pathType: "Prefix", backend: null }] } }] }),
    },
    {
      name: "backend.service: null",
      ingress: malformed({
        rules: [{ http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: null } }] } }],
      }),
    },
    {
      name: "backend.service.port: null",
      ingress: malformed({
        rules: [
          { http: { paths: [{ path: "/x", pathType: "Prefix", backend: { service: { name: "web", port: null } } }] } },
        ],
      }),
    },
    {
      name: "backend is a string",
      ingress: malformed({ rules: [{ http: { paths: [{ path: "/", pathType: "Prefix", backend: "web" }] } }] }),
    },
    { name: "defaultBackend: null", ingress: malformed({ defaultBackend: null }) },
    { name: "defaultBackend.service: null", ingress: malformed({ defaultBackend: { service: null } }) },
    { name: "defaultBackend.resource: null", ingress: malformed({ defaultBackend: { resource: null } }) },
    { name: "tls is a string", ingress: malformed({ tls: "cheese.example.com" }) },
    { name: "tls is a mapping", ingress: malformed({ tls: { hosts: ["a.example.com"] } }) },
    { name: "a tls entry is null", ingress: malformed({ tls: [null] }) },
    { name: "tls hosts is a string", ingress: malformed({ tls: [{ hosts: "a.example.com", secretName: "x" }] }) },
    { name: "tls without hosts and rules is a mapping", ingress: malformed({ tls: [{ secretName: "x" }], rules: {} }) },
    { name: "host is a number", ingress: malformed({ rules: [{ host: 42, http: { paths: [] } }] }) },
    { name: "no metadata", ingress: malformed({}, undefined) },
    { name: "metadata: null", ingress: malformed({}, null) },
    { name: "annotations: null", ingress: malformed({}, { name: "bad", annotations: null }) },
  ];

  test.each(cases)("$name", ({ ingress: bad }) => {
    const objects = [CLASS, service("web"), endpointSlice("web-a", "web", [endpoint("10.0.0.1")]), good, bad];
    let result: ReturnType<typeof translate> | undefined;
    expect(() => {
      result = translate(snapshot(...objects), OPTIONS);
    }).not.toThrow();
    let table: RouteTable<string, IngressPolicies> | undefined;
    expect(() => {
      table = compile(result?.ingresses ?? []);
    }).not.toThrow();
    expect(table && served(table, "good.example.com", "/")).toBe("default/web:80");
    // Every backend key the router can hand back is resolved.
    for (const route of table?.routes() ?? []) expect(result?.backends.has(route.backend)).toBe(true);
  });

  test("a missing or null backend is not reported as an unavailable backend (the router reports it)", () => {
    for (const spec of [
      { defaultBackend: null },
      { rules: [{ host: "a.example.com", http: { paths: [{ path: "/", pathType: "Prefix", backend: null }] } }] },
    ]) {
      const result = translate(snapshot(CLASS, malformed(spec)), OPTIONS);
      expect(result.problems).toEqual([]);
      expect(result.backends.size).toBe(0);
      expect(
        compile(result.ingresses)
          .diagnostics("default", "bad")
          .map((d) => d.code),
      ).not.toContain("path-conflict");
    }
  });

  test("a tls hosts string is not taken apart into one-letter hosts", () => {
    const bad = malformed({ tls: [{ hosts: "a.example.com", secretName: "cert" }] });
    const result = translate(snapshot(CLASS, bad), OPTIONS);
    expect(result.tls.bindings.map((binding) => binding.host)).toEqual([]);
  });

  test("the router reports what the translation passes on", () => {
    const bad = malformed({
      rules: [
        {
          host: "a.example.com",
          http: {
            paths: [
              { path: "/", pathType: "Prefix" },
              { path: "nope", pathType: "Prefix", backend: backend("web", 80) },
            ],
          },
        },
      ],
    });
    const table = compile(translate(snapshot(CLASS, service("web"), bad), OPTIONS).ingresses);
    expect(
      table
        .diagnostics("default", "bad")
        .map((d) => d.code)
        .sort(),
    ).toEqual(["invalid-path", "missing-backend"]);
  });

  test("translateIngress fills namespace default and an empty name", () => {
    const translated = translateIngress({ kind: "Ingress", spec: { defaultBackend: backend("web", 80) } });
    expect(translated).toMatchObject({ namespace: "default", name: "", defaultBackend: "default/web:80" });
  });
});
