/**
 * The routing scenario workerd.test.ts runs both inside workerd and under Node: a table that uses
 * exact, wildcard and host-less hosts, the three path types, conflicts (across Ingresses and inside
 * one), invalid rules and default backends, and requests that exercise the normaliser.
 */

export interface Backend {
  readonly service: { readonly name: string; readonly port: { readonly number: number } };
}

export const svc = (name: string, port = 80): Backend => ({ service: { name, port: { number: port } } });

export const ingresses = [
  {
    namespace: "shop",
    name: "storefront",
    creationTimestamp: "2024-01-01T00:00:00Z",
    policies: { tag: "storefront", rewrite: false },
    defaultBackend: svc("default-a"),
    rules: [
      {
        host: "Shop.Example.COM",
        http: {
          paths: [
            { path: "/", pathType: "Prefix", backend: svc("web") },
            { path: "/cart", pathType: "Exact", backend: svc("cart-exact") },
            { path: "/cart", pathType: "Prefix", backend: svc("cart") },
            { path: "/api/v1/", pathType: "Prefix", backend: svc("api-v1", 8080) },
            { path: "/static", pathType: "ImplementationSpecific", backend: svc("static") },
            // no path: ImplementationSpecific "/", same claim as Prefix "/" above, which wins (path index)
            { pathType: "ImplementationSpecific", backend: svc("root-dup") },
            { path: "/caf%c3%a9", pathType: "Prefix", backend: svc("cafe") },
            { path: "/%7Euser", pathType: "Prefix", backend: svc("tilde") },
          ],
        },
      },
      {
        host: "*.example.com",
        http: {
          paths: [
            { path: "/", pathType: "Prefix", backend: svc("wildcard-web") },
            { path: "/healthz", pathType: "Exact", backend: svc("wildcard-health") },
          ],
        },
      },
      { host: "foo.*.com", http: { paths: [{ path: "/", pathType: "Prefix", backend: svc("never") }] } },
      {
        host: "api.example.com",
        http: {
          paths: [
            { path: "/", pathType: "Regex", backend: svc("never") },
            { path: "relative", pathType: "Prefix", backend: svc("never") },
            { path: "/a/../b", pathType: "Prefix", backend: svc("never") },
            { path: "/v2", pathType: "Exact", backend: null },
            { path: "/v2", pathType: "Prefix", backend: svc("api-v2") },
          ],
        },
      },
    ],
  },
  {
    namespace: "team-b",
    name: "api-override",
    creationTimestamp: "2025-06-01T12:00:00Z",
    defaultBackend: svc("default-b"),
    rules: [
      {
        host: "shop.example.com",
        http: {
          paths: [
            { path: "/cart/", pathType: "Prefix", backend: svc("cart-b") },
            { path: "/checkout", pathType: "Prefix", backend: svc("checkout") },
          ],
        },
      },
    ],
  },
  {
    namespace: "default",
    name: "catch-all",
    rules: [
      {
        http: {
          paths: [
            { path: "/", pathType: "Prefix", backend: svc("catch-all") },
            { path: "/robots.txt", pathType: "Exact", backend: svc("robots") },
          ],
        },
      },
    ],
  },
  {
    namespace: "ops",
    name: "all-invalid",
    creationTimestamp: "2023-01-01T00:00:00Z",
    rules: [{ host: "ghost.example.com", http: { paths: [{ path: "", pathType: "Exact", backend: svc("ghost") }] } }],
  },
  {
    namespace: "ops",
    name: "ip-host",
    rules: [{ host: "10.0.0.1", http: { paths: [{ path: "/", pathType: "Prefix", backend: svc("ip") }] } }],
  },
  {
    namespace: "legacy",
    name: "newer",
    creationTimestamp: "2021-01-01T00:00:00Z",
    rules: [
      { host: "legacy.example.org", http: { paths: [{ path: "/", pathType: "Prefix", backend: svc("newer") }] } },
    ],
  },
  {
    namespace: "legacy",
    name: "older",
    creationTimestamp: 1_600_000_000_000, // 2020-09-13, epoch ms
    rules: [
      { host: "legacy.example.org", http: { paths: [{ path: "/", pathType: "Prefix", backend: svc("older") }] } },
    ],
  },
  {
    namespace: "b-ns",
    name: "tie",
    creationTimestamp: "2022-02-02T00:00:00Z",
    rules: [{ host: "tie.example.org", http: { paths: [{ path: "/t", pathType: "Exact", backend: svc("tie-b") }] } }],
  },
  {
    namespace: "a-ns",
    name: "tie",
    creationTimestamp: "2022-02-02T00:00:00Z",
    rules: [{ host: "tie.example.org", http: { paths: [{ path: "/t", pathType: "Exact", backend: svc("tie-a") }] } }],
  },
];

/** [host header, request target] */
export const requests: ReadonlyArray<{ host: string; target: string }> = [
  ["shop.example.com", "/"],
  ["SHOP.example.com:8443", "/cart"],
  ["shop.example.com.", "/cart/items?x=1&y=%2f"],
  ["shop.example.com", "/cartoon"],
  ["shop.example.com", "/cart/"],
  ["shop.example.com", "/api/v1"],
  ["shop.example.com", "/api/v1/users"],
  ["shop.example.com", "/api/v1x"],
  ["shop.example.com", "/static/app.css"],
  ["shop.example.com", "/checkout/%2e%2e/cart"],
  ["shop.example.com", "/a/%2E%2E/%2e/cart/"],
  ["shop.example.com", "//cart//items"],
  ["shop.example.com", "/%63art"],
  ["shop.example.com", "/cart%2fitems"],
  ["shop.example.com", "/caf%c3%a9/menu"],
  ["shop.example.com", "/~user/x"],
  ["shop.example.com", "/checkout"],
  ["shop.example.com", "/../etc/passwd"],
  ["shop.example.com", "/a/b/../../.."],
  ["shop.example.com", "/a b"],
  ["shop.example.com", "/a\tb"],
  ["shop.example.com", "/x#frag"],
  ["shop.example.com", "*"],
  ["shop.example.com", "http://shop.example.com/"],
  ["shop.example.com", ""],
  ["shop.example.com", "/%zz"],
  ["shop.example.com", "/%0"],
  ["shop.example.com", "/%00"],
  ["blog.example.com", "/healthz"],
  ["Blog.Example.Com:80", "/healthz/"],
  ["a.b.example.com", "/"],
  ["example.com", "/"],
  ["ghost.example.com", "/"],
  ["api.example.com", "/v2"],
  ["api.example.com", "/v2/users"],
  ["api.example.com", "/"],
  ["unknown.test", "/robots.txt"],
  ["unknown.test", "/robots.txt/"],
  ["10.0.0.1", "/"],
  ["[::1]:8080", "/"],
  ["", "/"],
  ["legacy.example.org", "/x"],
  ["tie.example.org", "/t"],
  ["tie.example.org", "/t/"],
  ["new.example.com", "/x"],
].map(([host, target]) => ({ host: host as string, target: target as string }));

/** Applied with table.update() (the requests are answered again); the original table must not change. */
export const update = {
  remove: [{ namespace: "default", name: "catch-all" }],
  upsert: [
    {
      namespace: "shop",
      name: "new",
      creationTimestamp: "2026-01-01T00:00:00Z",
      rules: [
        { host: "new.example.com", http: { paths: [{ path: "/", pathType: "Prefix", backend: svc("new-web") }] } },
      ],
    },
  ],
};

/**
 * A timestamp without a UTC offset is not RFC 3339; if the router parses it anyway, it is read in
 * the host's local time zone, and workerd always runs in UTC.
 */
export const timeZoneScenario = {
  ingresses: [
    {
      namespace: "a",
      name: "zulu",
      creationTimestamp: "2024-01-01T03:00:00Z",
      rules: [{ host: "tz.example.org", http: { paths: [{ path: "/", pathType: "Prefix", backend: svc("zulu") }] } }],
    },
    {
      namespace: "b",
      name: "no-offset",
      creationTimestamp: "2024-01-01T00:00:00",
      rules: [
        { host: "tz.example.org", http: { paths: [{ path: "/", pathType: "Prefix", backend: svc("no-offset") }] } },
      ],
    },
  ],
  requests: [{ host: "tz.example.org", target: "/" }],
};
