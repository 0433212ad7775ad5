import { describe, expect, test } from "vitest";
import { compile, normalizeHost } from "../src/index.js";
import { ingress, matched, rule } from "./support/ingress-builders.js";

describe("virtual-host selection", () => {
  const table = compile([
    ingress("exact", [rule("foo.example.com", ["/", "Prefix", "exact"])]),
    ingress("wildcard", [rule("*.example.com", ["/", "Prefix", "wildcard"])]),
    ingress("any", [rule(undefined, ["/", "Prefix", "any"])]),
  ]);

  test("an exact host wins over a wildcard that also covers it", () => {
    expect(matched(table, "foo.example.com", "/x")).toBe("exact");
  });

  test("a wildcard covers another host with one extra label", () => {
    expect(matched(table, "bar.example.com", "/x")).toBe("wildcard");
    expect(table.match("bar.example.com", "/x")?.host).toBe("*.example.com");
  });

  test("a wildcard does not cover its bare suffix", () => {
    expect(matched(table, "example.com", "/")).toBe("any");
  });

  test("a wildcard covers exactly one label, not two", () => {
    expect(matched(table, "baz.bar.example.com", "/")).toBe("any");
    expect(matched(table, "a.foo.example.com", "/")).toBe("any");
  });

  test("a wildcard does not match a host that merely ends with the suffix text", () => {
    expect(matched(table, "fooexample.com", "/")).toBe("any");
  });

  test("a wildcard needs a non-empty label", () => {
    expect(matched(table, ".example.com", "/")).toBe("any");
  });

  test("rules without host serve every other host, including none and IP literals", () => {
    expect(matched(table, "other.test", "/")).toBe("any");
    expect(matched(table, "", "/")).toBe("any");
    expect(matched(table, "10.0.0.1:8080", "/")).toBe("any");
    expect(matched(table, "[::1]:8080", "/")).toBe("any");
    expect(table.match("other.test", "/")?.host).toBeNull();
  });

  test("without host-less rules an unknown host matches nothing", () => {
    const noCatchAll = compile([ingress("exact", [rule("foo.example.com", ["/", "Prefix", "exact"])])]);
    expect(noCatchAll.match("bar.example.com", "/")).toBeNull();
    expect(noCatchAll.match("", "/")).toBeNull();
  });
});

describe("request host normalisation", () => {
  const table = compile([
    ingress("exact", [rule("foo.example.com", ["/", "Prefix", "exact"])]),
    ingress("wildcard", [rule("*.example.com", ["/", "Prefix", "wildcard"])]),
  ]);

  test("host matching is case-insensitive on both sides", () => {
    expect(matched(table, "FOO.Example.COM", "/")).toBe("exact");
    expect(matched(table, "BAR.EXAMPLE.COM", "/")).toBe("wildcard");
    const upperRule = compile([ingress("upper", [rule("Foo.EXAMPLE.com", ["/", "Prefix", "upper"])])]);
    expect(matched(upperRule, "foo.example.com", "/")).toBe("upper");
    expect(upperRule.match("foo.example.com", "/")?.host).toBe("foo.example.com");
    const upperWildcard = compile([ingress("upper", [rule("*.EXAMPLE.com", ["/", "Prefix", "upper"])])]);
    expect(upperWildcard.match("x.example.com", "/")?.host).toBe("*.example.com");
  });

  test("a port in the Host header is ignored", () => {
    expect(matched(table, "foo.example.com:8080", "/")).toBe("exact");
    expect(matched(table, "bar.example.com:443", "/")).toBe("wildcard");
  });

  test("a trailing dot in the Host header is ignored", () => {
    expect(matched(table, "foo.example.com.", "/")).toBe("exact");
    expect(matched(table, "bar.example.com.", "/")).toBe("wildcard");
    expect(matched(table, "FOO.example.com.:8443", "/")).toBe("exact");
  });

  test("normalizeHost lower-cases, strips the port and one trailing dot", () => {
    expect(normalizeHost("Foo.Example.COM")).toBe("foo.example.com");
    expect(normalizeHost("foo.example.com:8080")).toBe("foo.example.com");
    expect(normalizeHost("foo.example.com.")).toBe("foo.example.com");
    expect(normalizeHost("FOO.example.com.:80")).toBe("foo.example.com");
    expect(normalizeHost("[::1]:8080")).toBe("[::1]");
    expect(normalizeHost("[2001:DB8::1]")).toBe("[2001:db8::1]");
    expect(normalizeHost("")).toBe("");
  });
});

describe("no fall-through between virtual hosts", () => {
  const table = compile([
    ingress("exact", [rule("api.example.com", ["/v1", "Prefix", "exact-v1"])]),
    ingress("wildcard", [rule("*.example.com", ["/", "Prefix", "wildcard-root"], ["/v2", "Prefix", "wildcard-v2"])]),
    ingress("any", [rule(undefined, ["/", "Prefix", "any-root"])], { defaultBackend: "default" }),
  ]);

  test("an exact host without a matching path does not fall back to the wildcard or host-less rules", () => {
    expect(matched(table, "api.example.com", "/v1/users")).toBe("exact-v1");
    expect(table.match("api.example.com", "/v2")).toBeNull();
    expect(table.match("api.example.com", "/")).toBeNull();
  });

  test("a wildcard host without a matching path does not fall back to the host-less rules", () => {
    const wildcardOnlyV2 = compile([
      ingress("wildcard", [rule("*.example.com", ["/v2", "Prefix", "wildcard-v2"])]),
      ingress("any", [rule(undefined, ["/", "Prefix", "any-root"])]),
    ]);
    expect(matched(wildcardOnlyV2, "www.example.com", "/v2/x")).toBe("wildcard-v2");
    expect(wildcardOnlyV2.match("www.example.com", "/other")).toBeNull();
  });

  test("the caller then gets the default backend", () => {
    expect(table.match("api.example.com", "/")).toBeNull();
    expect(table.defaultBackend?.backend).toBe("default");
  });

  test("a host exists only through path rules that survive validation", () => {
    const onlyInvalid = compile([
      ingress("broken", [rule("foo.example.com", ["no-slash", "Prefix", "broken"], ["/x", "Regex", "broken"])]),
      ingress("wildcard", [rule("*.example.com", ["/", "Prefix", "wildcard"])]),
      ingress("any", [rule(undefined, ["/", "Prefix", "any"])]),
    ]);
    expect(matched(onlyInvalid, "foo.example.com", "/x")).toBe("wildcard");
    const noPaths = compile([
      ingress("empty", [{ host: "foo.example.com" }, { host: "bar.example.com", http: { paths: [] } }]),
      ingress("any", [rule(undefined, ["/", "Prefix", "any"])]),
    ]);
    expect(matched(noPaths, "foo.example.com", "/x")).toBe("any");
    expect(matched(noPaths, "bar.example.com", "/x")).toBe("any");
  });

  test("a wildcard host exists only through surviving path rules", () => {
    const onlyInvalid = compile([
      ingress("broken", [rule("*.example.com", ["/x", "Exact", "broken"])]),
      ingress("fix", [
        {
          host: "*.example.com",
          http: { paths: [{ path: "/y", pathType: "Exact", backend: null as unknown as string }] },
        },
      ]),
      ingress("any", [rule(undefined, ["/", "Prefix", "any"])]),
    ]);
    expect(matched(onlyInvalid, "www.example.com", "/x")).toBe("broken");
    expect(matched(onlyInvalid, "www.example.com", "/y")).toBeNull();
  });
});

describe("rule host validation", () => {
  const invalidHosts = [
    "foo_bar.example.com",
    "foo.*.com",
    "*foo.com",
    "f*o.com",
    "*",
    "*.",
    "*.*.example.com",
    "foo..com",
    ".foo.com",
    "foo.com.",
    "-foo.com",
    "foo-.com",
    "foo.com:80",
    "foo bar.com",
    "http://foo.com",
    "foo.com/path",
    "10.0.0.1",
    "192.168.1.254",
    `${"a".repeat(64)}.com`,
    `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(63)}`,
  ];

  test.each(invalidHosts)("%j is reported as invalid-host and its rule is dropped", (host) => {
    const table = compile([
      ingress("mixed", [rule(host, ["/", "Prefix", "bad"]), rule("good.example.com", ["/", "Prefix", "good"])]),
    ]);
    const diagnostics = table.diagnostics("default", "mixed");
    expect(diagnostics).toEqual([expect.objectContaining({ code: "invalid-host", rule: 0 })]);
    expect(diagnostics[0]?.message).toEqual(expect.any(String));
    expect(diagnostics[0]?.message.length).toBeGreaterThan(0);
    // The rest of the Ingress compiles and serves.
    expect(matched(table, "good.example.com", "/")).toBe("good");
    expect(table.routeCount).toBe(1);
    expect(table.routes().map((route) => route.backend)).toEqual(["good"]);
  });

  test("an invalid host is not served, not even by its literal text", () => {
    const table = compile([ingress("bad", [rule("foo_bar.example.com", ["/", "Prefix", "bad"])])]);
    expect(table.match("foo_bar.example.com", "/")).toBeNull();
    expect(table.routeCount).toBe(0);
  });

  const validHosts = [
    "a.b",
    "localhost",
    "xn--bcher-kva.example",
    "0-9.example.com",
    "*.com",
    "*.a-b.example.com",
    `${"a".repeat(63)}.com`,
    `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(61)}`,
    // Digits-only labels are fine as long as the whole is not an IPv4 address.
    "1.2.3",
    "1.2.3.4.5",
    "256.1.1.1",
  ];

  test.each(validHosts)("%j is accepted", (host) => {
    const table = compile([ingress("ok", [rule(host, ["/", "Prefix", "ok"])])]);
    expect(table.diagnostics("default", "ok")).toEqual([]);
    expect(table.routeCount).toBe(1);
    const request = host.startsWith("*.") ? `x${host.slice(1)}` : host;
    expect(matched(table, request, "/")).toBe("ok");
  });
});
