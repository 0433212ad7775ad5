import { describe, expect, test } from "vitest";
import { compile, normalizePath } from "../src/index.js";
import { ingress, matched, rule } from "./support/ingress-builders.js";

const HOST = "example.com";

describe("longest matching path wins", () => {
  test("the longest Prefix wins whatever the declaration order", () => {
    const specs = [
      ["/", "Prefix", "root"],
      ["/a", "Prefix", "a"],
      ["/a/b", "Prefix", "ab"],
      ["/a/b/c", "Prefix", "abc"],
    ] as const;
    for (const order of [specs, [...specs].reverse()]) {
      const table = compile([ingress("i", [rule(HOST, ...order)])]);
      expect(matched(table, HOST, "/")).toBe("root");
      expect(matched(table, HOST, "/x")).toBe("root");
      expect(matched(table, HOST, "/a")).toBe("a");
      expect(matched(table, HOST, "/a/")).toBe("a");
      expect(matched(table, HOST, "/ab")).toBe("root");
      expect(matched(table, HOST, "/a/b")).toBe("ab");
      expect(matched(table, HOST, "/a/bc")).toBe("a");
      expect(matched(table, HOST, "/a/b/c")).toBe("abc");
      expect(matched(table, HOST, "/a/b/c/d/e")).toBe("abc");
    }
  });

  test("a Prefix match is by whole segments", () => {
    const table = compile([ingress("i", [rule(HOST, ["/api", "Prefix", "api"])])]);
    expect(matched(table, HOST, "/api")).toBe("api");
    expect(matched(table, HOST, "/api/")).toBe("api");
    expect(matched(table, HOST, "/api/v1")).toBe("api");
    expect(table.match(HOST, "/apis")).toBeNull();
    expect(table.match(HOST, "/ap")).toBeNull();
    expect(table.match(HOST, "/")).toBeNull();
  });

  test("paths are case-sensitive", () => {
    const table = compile([ingress("i", [rule(HOST, ["/Foo", "Prefix", "prefix"], ["/Bar", "Exact", "exact"])])]);
    expect(matched(table, HOST, "/Foo/x")).toBe("prefix");
    expect(table.match(HOST, "/foo/x")).toBeNull();
    expect(matched(table, HOST, "/Bar")).toBe("exact");
    expect(table.match(HOST, "/bar")).toBeNull();
  });

  test("an Exact path matches only itself", () => {
    const table = compile([ingress("i", [rule(HOST, ["/", "Prefix", "root"], ["/a/b", "Exact", "exact"])])]);
    expect(matched(table, HOST, "/a/b")).toBe("exact");
    expect(matched(table, HOST, "/a/b/")).toBe("root");
    expect(matched(table, HOST, "/a/b/c")).toBe("root");
    expect(matched(table, HOST, "/a")).toBe("root");
  });

  test("an Exact match beats a shorter Prefix", () => {
    const table = compile([ingress("i", [rule(HOST, ["/a", "Prefix", "prefix"], ["/a/b", "Exact", "exact"])])]);
    expect(matched(table, HOST, "/a/b")).toBe("exact");
    expect(matched(table, HOST, "/a/b/c")).toBe("prefix");
  });

  test("an Exact path with a trailing slash beats the Prefix of the same path without it", () => {
    const table = compile([ingress("i", [rule(HOST, ["/a/", "Prefix", "prefix"], ["/a/", "Exact", "exact"])])]);
    expect(matched(table, HOST, "/a/")).toBe("exact");
    expect(matched(table, HOST, "/a")).toBe("prefix");
    expect(matched(table, HOST, "/a/x")).toBe("prefix");
  });
});

describe("Exact beats Prefix at equal length", () => {
  test("same path declared Exact and Prefix", () => {
    const table = compile([ingress("i", [rule(HOST, ["/foo", "Prefix", "prefix"], ["/foo", "Exact", "exact"])])]);
    expect(matched(table, HOST, "/foo")).toBe("exact");
    expect(matched(table, HOST, "/foo/")).toBe("prefix");
    expect(table.routeCount).toBe(2);
  });

  test("a Prefix written with a trailing slash has the length of its path without it", () => {
    const table = compile([ingress("i", [rule(HOST, ["/foo/", "Prefix", "prefix"], ["/foo", "Exact", "exact"])])]);
    expect(matched(table, HOST, "/foo")).toBe("exact");
    expect(matched(table, HOST, "/foo/")).toBe("prefix");
  });

  test('Exact "/" beats Prefix "/" for the root only', () => {
    const table = compile([ingress("i", [rule(HOST, ["/", "Prefix", "prefix"], ["/", "Exact", "exact"])])]);
    expect(matched(table, HOST, "/")).toBe("exact");
    expect(matched(table, HOST, "/x")).toBe("prefix");
  });

  test("Exact in one Ingress beats Prefix in another, whatever their age", () => {
    const table = compile([
      ingress("old-prefix", [rule(HOST, ["/foo", "Prefix", "prefix"])], { creationTimestamp: "2020-01-01T00:00:00Z" }),
      ingress("new-exact", [rule(HOST, ["/foo", "Exact", "exact"])], { creationTimestamp: "2024-01-01T00:00:00Z" }),
    ]);
    expect(matched(table, HOST, "/foo")).toBe("exact");
    expect(table.allDiagnostics()).toEqual([]);
  });
});

describe("ImplementationSpecific behaves as Prefix", () => {
  test("it matches by whole segments and ignores a trailing slash", () => {
    const table = compile([
      ingress("i", [rule(HOST, ["/foo", "ImplementationSpecific", "foo"], ["/bar/", "ImplementationSpecific", "bar"])]),
    ]);
    expect(matched(table, HOST, "/foo")).toBe("foo");
    expect(matched(table, HOST, "/foo/")).toBe("foo");
    expect(matched(table, HOST, "/foo/x/y")).toBe("foo");
    expect(table.match(HOST, "/foobar")).toBeNull();
    expect(matched(table, HOST, "/bar")).toBe("bar");
    expect(matched(table, HOST, "/bar/x")).toBe("bar");
    expect(table.match(HOST, "/barx")).toBeNull();
  });

  test("the pathType is reported as declared", () => {
    const table = compile([ingress("i", [rule(HOST, ["/foo", "ImplementationSpecific", "foo"])])]);
    expect(table.match(HOST, "/foo/x")?.pathType).toBe("ImplementationSpecific");
  });

  test("a missing path means the root", () => {
    const table = compile([
      ingress("i", [rule(HOST, [undefined, "ImplementationSpecific", "root"], ["/a", "Prefix", "a"])]),
    ]);
    expect(table.diagnostics("default", "i")).toEqual([]);
    expect(matched(table, HOST, "/")).toBe("root");
    expect(matched(table, HOST, "/zzz/y")).toBe("root");
    expect(matched(table, HOST, "/a/b")).toBe("a");
    expect(table.match(HOST, "/zzz")).toMatchObject({ path: "/", pathType: "ImplementationSpecific" });
  });

  test("an empty path means the root", () => {
    const table = compile([ingress("i", [rule(HOST, ["", "ImplementationSpecific", "root"])])]);
    expect(table.diagnostics("default", "i")).toEqual([]);
    expect(matched(table, HOST, "/anything")).toBe("root");
  });

  test("longest wins between ImplementationSpecific and Prefix, and Exact beats it at equal length", () => {
    const table = compile([
      ingress("i", [
        rule(
          HOST,
          ["/a", "Prefix", "prefix-a"],
          ["/a/b", "ImplementationSpecific", "is-ab"],
          ["/a/b", "Exact", "exact-ab"],
        ),
      ]),
    ]);
    expect(matched(table, HOST, "/a/x")).toBe("prefix-a");
    expect(matched(table, HOST, "/a/b/x")).toBe("is-ab");
    expect(matched(table, HOST, "/a/b")).toBe("exact-ab");
  });
});

describe("Ingresses sharing a host merge their paths", () => {
  test("paths of several Ingresses on one host are all served, longest first", () => {
    const table = compile([
      ingress("web", [rule(HOST, ["/", "Prefix", "web"])]),
      ingress("api", [rule(HOST, ["/api", "Prefix", "api"])], { namespace: "backend" }),
      ingress("api-v2", [rule(HOST.toUpperCase(), ["/api/v2", "Prefix", "api-v2"])], { namespace: "backend" }),
      ingress("health", [rule(HOST, ["/api/health", "Exact", "health"])]),
    ]);
    expect(matched(table, HOST, "/")).toBe("web");
    expect(matched(table, HOST, "/about")).toBe("web");
    expect(matched(table, HOST, "/api/v1")).toBe("api");
    expect(matched(table, HOST, "/api/v2/users")).toBe("api-v2");
    expect(matched(table, HOST, "/api/health")).toBe("health");
    expect(matched(table, HOST, "/api/health/x")).toBe("api");
    expect(table.match(HOST, "/api/v2/users")?.ingress).toEqual({ namespace: "backend", name: "api-v2" });
    expect(table.routeCount).toBe(4);
    expect(table.allDiagnostics()).toEqual([]);
  });

  test("several rules for the same host inside one Ingress merge", () => {
    const table = compile([ingress("i", [rule(HOST, ["/a", "Prefix", "a"]), rule(HOST, ["/b", "Prefix", "b"])])]);
    expect(matched(table, HOST, "/a")).toBe("a");
    expect(matched(table, HOST, "/b")).toBe("b");
  });

  test("wildcard rules from several Ingresses merge", () => {
    const table = compile([
      ingress("one", [rule("*.example.com", ["/one", "Prefix", "one"])]),
      ingress("two", [rule("*.example.com", ["/two", "Prefix", "two"])]),
    ]);
    expect(matched(table, "x.example.com", "/one")).toBe("one");
    expect(matched(table, "y.example.com", "/two/2")).toBe("two");
  });

  test("host-less rules from several Ingresses merge", () => {
    const table = compile([
      ingress("one", [rule(undefined, ["/one", "Prefix", "one"])]),
      ingress("two", [rule(undefined, ["/two", "Exact", "two"])]),
    ]);
    expect(matched(table, "anything", "/one/x")).toBe("one");
    expect(matched(table, "anything", "/two")).toBe("two");
  });
});

describe("names that are also JavaScript property names", () => {
  test("paths and hosts like __proto__ or constructor are ordinary names", () => {
    const table = compile([
      ingress("i", [
        rule("constructor", ["/__proto__", "Prefix", "proto"], ["/constructor", "Exact", "ctor"]),
        rule(undefined, ["/", "Prefix", "any"], ["/hasOwnProperty", "Prefix", "own"]),
      ]),
    ]);
    expect(table.diagnostics("default", "i")).toEqual([]);
    expect(matched(table, "constructor", "/__proto__/x")).toBe("proto");
    expect(matched(table, "constructor", "/constructor")).toBe("ctor");
    expect(table.match("constructor", "/toString")).toBeNull();
    for (const host of ["__proto__", "tostring", "valueof", "hasownproperty", "x.constructor", "prototype"]) {
      expect(matched(table, host, "/constructor")).toBe("any");
      expect(matched(table, host, "/hasOwnProperty/x")).toBe("own");
    }
  });

  test("many paths named like Object properties on one host", () => {
    const names = ["__proto__", "constructor", "toString", "valueOf", "hasOwnProperty", "prototype", "length"];
    const table = compile([
      ingress("i", [
        rule(HOST, ...names.map((name) => [`/${name}`, "Prefix", `prefix-${name}`] as const)),
        rule(HOST, ...names.map((name) => [`/${name}/${name}`, "Exact", `exact-${name}`] as const)),
      ]),
    ]);
    for (const name of names) {
      expect(matched(table, HOST, `/${name}`)).toBe(`prefix-${name}`);
      expect(matched(table, HOST, `/${name}/${name}`)).toBe(`exact-${name}`);
      expect(matched(table, HOST, `/${name}/${name}/x`)).toBe(`prefix-${name}`);
    }
    expect(table.match(HOST, "/isPrototypeOf")).toBeNull();
  });
});

describe("hosts with many paths", () => {
  test("the longest of many paths wins", () => {
    const specs = [];
    for (const a of ["a", "b", "c", "d"]) {
      specs.push([`/${a}`, "Prefix", `p/${a}`] as const);
      for (const b of ["x", "y", "z"]) {
        specs.push([`/${a}/${b}`, "Prefix", `p/${a}/${b}`] as const, [`/${a}/${b}/`, "Exact", `e/${a}/${b}/`] as const);
      }
    }
    const table = compile([ingress("big", [rule(HOST, ["/", "Prefix", "root"], ...specs)])]);
    expect(table.routeCount).toBe(1 + specs.length);
    expect(matched(table, HOST, "/")).toBe("root");
    expect(matched(table, HOST, "/e")).toBe("root");
    expect(matched(table, HOST, "/a")).toBe("p/a");
    expect(matched(table, HOST, "/ab")).toBe("root");
    expect(matched(table, HOST, "/a/w")).toBe("p/a");
    expect(matched(table, HOST, "/a/x")).toBe("p/a/x");
    expect(matched(table, HOST, "/a/x/")).toBe("e/a/x/");
    expect(matched(table, HOST, "/a/x/q")).toBe("p/a/x");
    expect(matched(table, HOST, "/a/xx")).toBe("p/a");
    expect(matched(table, HOST, "/d/z/very/long/path/beyond/every/rule")).toBe("p/d/z");
  });
});

describe("the match result", () => {
  test("carries backend, Ingress, host, path as written, pathType and policies", () => {
    const backend = { service: "web", port: 80 };
    const policies = { rateLimit: 10 };
    const table = compile([
      {
        namespace: "shop",
        name: "storefront",
        policies,
        rules: [{ host: "Shop.Example.com", http: { paths: [{ path: "/cart/", pathType: "Prefix", backend }] } }],
      },
    ]);
    const match = table.match("shop.example.com", "/cart/items");
    expect(match).toEqual({
      backend,
      ingress: { namespace: "shop", name: "storefront" },
      host: "shop.example.com",
      path: "/cart/",
      pathType: "Prefix",
      policies,
    });
    // Backends and policies are handed back untouched.
    expect(match?.backend).toBe(backend);
    expect(match?.policies).toBe(policies);
  });

  test("policies are undefined when the Ingress has none", () => {
    const table = compile([ingress("i", [rule(HOST, ["/", "Prefix", "root"])])]);
    expect(table.match(HOST, "/")?.policies).toBeUndefined();
  });

  test("the same object is returned for every request a rule wins", () => {
    const table = compile([ingress("i", [rule(HOST, ["/a", "Prefix", "a"], ["/b", "Prefix", "b"])])]);
    const first = table.match(HOST, "/a");
    expect(first).not.toBeNull();
    expect(table.match(HOST, "/a/x")).toBe(first);
    expect(table.match(HOST.toUpperCase(), "/a/y/z")).toBe(first);
    expect(table.match(HOST, "/b")).not.toBe(first);
  });

  test("rule paths are brought to the form of normalised request paths", () => {
    const table = compile([
      ingress("i", [
        rule(HOST, ["/%7euser", "Prefix", "tilde"], ["/caf%c3%a9", "Exact", "cafe"], ["/%41%42c", "Exact", "abc"]),
      ]),
    ]);
    const tilde = normalizePath("/~user/x");
    const cafe = normalizePath("/caf%C3%A9");
    const abc = normalizePath("/ABc");
    if (!tilde.ok || !cafe.ok || !abc.ok) throw new Error("normalizePath rejected a valid target");
    expect(matched(table, HOST, tilde.path)).toBe("tilde");
    expect(table.match(HOST, tilde.path)?.path).toBe("/~user");
    expect(matched(table, HOST, cafe.path)).toBe("cafe");
    expect(table.match(HOST, cafe.path)?.path).toBe("/caf%C3%A9");
    expect(matched(table, HOST, abc.path)).toBe("abc");
  });

  test("routes() lists every serving route and nothing else", () => {
    const table = compile([
      ingress("i", [
        rule(HOST, ["/a", "Prefix", "a"], ["/a", "Exact", "a-exact"], ["/bad", "Regex", "bad"]),
        rule("*.example.com", ["/", "Prefix", "wild"]),
        rule(undefined, ["/", "Prefix", "any"]),
      ]),
      ingress("loser", [rule(HOST, ["/a/", "Prefix", "loser"])]),
    ]);
    const routes = table.routes();
    expect(routes).toHaveLength(table.routeCount);
    expect(routes.map((route) => route.backend).sort()).toEqual(["a", "a-exact", "any", "wild"]);
    expect(routes.find((route) => route.backend === "a")).toEqual(table.match(HOST, "/a/x"));
  });

  test("routes() groups routes by host, hosts sorted, most specific path first", () => {
    const table = compile([
      ingress("i", [
        rule("b.example.com", ["/x", "Prefix", "b-x"], ["/x/y/z", "Prefix", "b-xyz"], ["/x/y", "Exact", "b-xy"]),
        rule(
          "a.example.com",
          ["/", "Prefix", "a-root"],
          ["/long/er/", "Prefix", "a-longer"],
          ["/long", "Exact", "a-long"],
        ),
        rule("c.example.com", ["/same", "Prefix", "c-prefix"], ["/same", "Exact", "c-exact"]),
      ]),
    ]);
    expect(table.routes().map((route) => route.backend)).toEqual([
      "a-longer",
      "a-long",
      "a-root",
      "b-xyz",
      "b-xy",
      "b-x",
      "c-exact",
      "c-prefix",
    ]);
  });
});
