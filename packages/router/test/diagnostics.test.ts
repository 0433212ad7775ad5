import { describe, expect, test } from "vitest";
import { compile } from "../src/index.js";
import type { IngressInput } from "../src/types.js";
import { codes, ingress, matched, rule } from "./support/ingress-builders.js";

const HOST = "example.com";

/** An Ingress that is always fine, to check that the rest of the table keeps serving. */
const healthy = ingress("healthy", [rule("healthy.example.com", ["/", "Prefix", "healthy"])], {
  defaultBackend: "healthy-default",
  creationTimestamp: "2020-01-01T00:00:00Z",
});

function expectHealthyStillServes(table: ReturnType<typeof compile<string, unknown>>) {
  expect(matched(table, "healthy.example.com", "/x")).toBe("healthy");
  expect(table.defaultBackend?.backend).toBe("healthy-default");
  expect(table.diagnostics("default", "healthy")).toEqual([]);
}

/** Compiles one bad path next to a good one in the same rule, plus the healthy Ingress. */
function withBadPath(bad: Record<string, unknown>) {
  const subject = {
    namespace: "default",
    name: "subject",
    rules: [
      {
        host: HOST,
        http: { paths: [{ path: "/good", pathType: "Prefix", backend: "good" }, bad] },
      },
    ],
  } as unknown as IngressInput<string>;
  return compile([subject, healthy]);
}

describe("invalid paths", () => {
  const forbidden: Array<[string, string]> = [
    ["a path without a leading slash", "foo"],
    ["a relative dot path", "./foo"],
    ["a double slash", "/a//b"],
    ["a trailing double slash", "/a//"],
    ["a /./ segment", "/a/./b"],
    ["a /../ segment", "/a/../b"],
    ["a trailing /..", "/a/.."],
    ["a trailing /.", "/a/."],
    ["the root /..", "/.."],
    ["the root /.", "/."],
    ["an encoded slash %2f", "/a%2fb"],
    ["an encoded slash %2F", "/a%2Fb"],
    ["a space", "/a b"],
    ["a tab", "/a\tb"],
    ["a newline", "/a\nb"],
    ["a NUL", "/a\u0000b"],
    ["a DEL", "/a\u007fb"],
    ["a question mark", "/a?b=1"],
    ["a fragment", "/a#b"],
  ];

  for (const pathType of ["Exact", "Prefix", "ImplementationSpecific"]) {
    test.each(forbidden)(`${pathType}: %s (%j) is invalid-path and left out`, (_label, path) => {
      const table = withBadPath({ path, pathType, backend: "bad" });
      expect(table.diagnostics("default", "subject")).toEqual([
        expect.objectContaining({ code: "invalid-path", rule: 0, pathIndex: 1 }),
      ]);
      expect(matched(table, HOST, "/good")).toBe("good");
      expect(table.routes().some((route) => route.backend === "bad")).toBe(false);
      expect(table.routeCount).toBe(2);
      expectHealthyStillServes(table);
    });
  }

  test.each(["Exact", "Prefix"])("%s without a path is invalid-path", (pathType) => {
    const table = withBadPath({ pathType, backend: "bad" });
    expect(table.diagnostics("default", "subject")).toEqual([
      expect.objectContaining({ code: "invalid-path", rule: 0, pathIndex: 1 }),
    ]);
    expect(table.match(HOST, "/")).toBeNull();
  });

  test.each(["Exact", "Prefix"])("%s with an empty path is invalid-path", (pathType) => {
    const table = withBadPath({ path: "", pathType, backend: "bad" });
    expect(codes(table, "default", "subject")).toEqual(["invalid-path"]);
    expect(table.match(HOST, "/")).toBeNull();
  });

  test("paths containing dots that are not dot segments are fine", () => {
    const table = compile([
      ingress("dots", [
        rule(
          HOST,
          ["/a.b", "Exact", "a.b"],
          ["/..a", "Prefix", "..a"],
          ["/a/...", "Exact", "..."],
          ["/.well-known", "Prefix", "wk"],
        ),
      ]),
    ]);
    expect(table.diagnostics("default", "dots")).toEqual([]);
    expect(matched(table, HOST, "/a.b")).toBe("a.b");
    expect(matched(table, HOST, "/..a/x")).toBe("..a");
    expect(matched(table, HOST, "/a/...")).toBe("...");
    expect(matched(table, HOST, "/.well-known/acme-challenge/x")).toBe("wk");
  });
});

describe("invalid pathType", () => {
  test.each(["Regex", "prefix", "exact", "", "Mixed"])("pathType %j is invalid-path-type and left out", (pathType) => {
    const table = withBadPath({ path: "/bad", pathType, backend: "bad" });
    expect(table.diagnostics("default", "subject")).toEqual([
      expect.objectContaining({ code: "invalid-path-type", rule: 0, pathIndex: 1 }),
    ]);
    expect(table.match(HOST, "/bad")).toBeNull();
    expect(matched(table, HOST, "/good")).toBe("good");
    expectHealthyStillServes(table);
  });

  test("a missing pathType is reported and left out", () => {
    const table = withBadPath({ path: "/bad", backend: "bad" });
    expect(codes(table, "default", "subject")).toEqual(["invalid-path-type"]);
    expect(table.match(HOST, "/bad")).toBeNull();
  });
});

describe("missing backend", () => {
  test.each([
    ["undefined", undefined],
    ["null", null],
  ])("a %s backend is missing-backend and left out", (_label, backend) => {
    const table = withBadPath({ path: "/bad", pathType: "Prefix", backend });
    expect(table.diagnostics("default", "subject")).toEqual([
      expect.objectContaining({ code: "missing-backend", rule: 0, pathIndex: 1 }),
    ]);
    expect(table.match(HOST, "/bad")).toBeNull();
    expect(matched(table, HOST, "/good")).toBe("good");
    expect(table.routeCount).toBe(2);
  });

  test("a missing backend key is missing-backend", () => {
    const table = withBadPath({ path: "/bad", pathType: "Exact" });
    expect(codes(table, "default", "subject")).toEqual(["missing-backend"]);
  });

  test("falsy but present backends are kept untouched", () => {
    for (const backend of [0, "", false]) {
      const table = compile([
        {
          namespace: "default",
          name: "falsy",
          rules: [{ http: { paths: [{ path: "/", pathType: "Prefix", backend }] } }],
        },
      ]);
      expect(table.diagnostics("default", "falsy")).toEqual([]);
      expect(table.match("any", "/")?.backend).toBe(backend);
    }
  });
});

describe("invalid hosts", () => {
  test("an invalid host drops its whole rule with one invalid-host diagnostic and the rule index", () => {
    const table = compile([
      ingress("subject", [
        rule("good.example.com", ["/", "Prefix", "good"]),
        rule("bad_host.example.com", ["/a", "Prefix", "bad"], ["/b", "Exact", "bad"]),
      ]),
      healthy,
    ]);
    expect(table.diagnostics("default", "subject")).toEqual([
      expect.objectContaining({ code: "invalid-host", rule: 1 }),
    ]);
    expect(matched(table, "good.example.com", "/")).toBe("good");
    expect(table.routeCount).toBe(2);
    expectHealthyStillServes(table);
  });
});

describe("diagnostics bookkeeping", () => {
  const table = compile([
    ingress("one-problem", [rule(HOST, ["nope", "Prefix", "x"], ["/ok", "Prefix", "ok"])]),
    ingress("many-problems", [
      rule("*.*.example.com", ["/", "Prefix", "x"]),
      rule(HOST, ["/p", "Regex", "x"], ["/q", "Exact", undefined as unknown as string], ["/r//", "Prefix", "x"]),
    ]),
    ingress("fine", [rule(HOST, ["/fine", "Prefix", "fine"])]),
  ]);

  test("each problem is reported once, with its position", () => {
    const diagnostics = table.diagnostics("default", "many-problems");
    expect(diagnostics).toHaveLength(4);
    expect(diagnostics).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ code: "invalid-host", rule: 0 }),
        expect.objectContaining({ code: "invalid-path-type", rule: 1, pathIndex: 0 }),
        expect.objectContaining({ code: "missing-backend", rule: 1, pathIndex: 1 }),
        expect.objectContaining({ code: "invalid-path", rule: 1, pathIndex: 2 }),
      ]),
    );
  });

  test("every diagnostic has a non-empty message", () => {
    for (const { diagnostics } of table.allDiagnostics()) {
      for (const diagnostic of diagnostics) {
        expect(typeof diagnostic.message).toBe("string");
        expect(diagnostic.message.trim().length).toBeGreaterThan(0);
      }
    }
  });

  test("a fine Ingress and an unknown Ingress have no diagnostics", () => {
    expect(table.diagnostics("default", "fine")).toEqual([]);
    expect(table.diagnostics("default", "no-such-ingress")).toEqual([]);
    expect(table.diagnostics("other-namespace", "fine")).toEqual([]);
  });

  test("allDiagnostics lists exactly the Ingresses with problems", () => {
    const listed = table.allDiagnostics();
    expect(listed.map((entry) => entry.ingress).sort((a, b) => (a.name < b.name ? -1 : 1))).toEqual([
      { namespace: "default", name: "many-problems" },
      { namespace: "default", name: "one-problem" },
    ]);
    for (const entry of listed) {
      expect(entry.diagnostics).toEqual(table.diagnostics(entry.ingress.namespace, entry.ingress.name));
    }
  });

  test("invalid Ingresses still count, their good paths still serve", () => {
    expect(table.ingressCount).toBe(3);
    expect(matched(table, HOST, "/ok/x")).toBe("ok");
    expect(matched(table, HOST, "/fine")).toBe("fine");
    expect(table.routeCount).toBe(2);
  });
});

describe("compile never throws on malformed input", () => {
  const garbage: Array<[string, unknown]> = [
    ["rules: null", { rules: null }],
    ["rules is a string", { rules: "nope" }],
    ["rules is an object", { rules: { host: HOST } }],
    ["a rule is null", { rules: [null] }],
    ["a rule is a number", { rules: [7] }],
    ["http: null", { rules: [{ host: HOST, http: null }] }],
    ["http is a string", { rules: [{ host: HOST, http: "x" }] }],
    ["paths missing", { rules: [{ host: HOST, http: {} }] }],
    ["paths is a string", { rules: [{ host: HOST, http: { paths: "x" } }] }],
    ["paths is an object", { rules: [{ host: HOST, http: { paths: { path: "/" } } }] }],
    ["a path entry is null", { rules: [{ host: HOST, http: { paths: [null] } }] }],
    ["a path entry is a string", { rules: [{ host: HOST, http: { paths: ["/x"] } }] }],
    [
      "the path is a number",
      { rules: [{ host: HOST, http: { paths: [{ path: 5, pathType: "Prefix", backend: "x" }] } }] },
    ],
    [
      "the path is an object",
      { rules: [{ host: HOST, http: { paths: [{ path: {}, pathType: "Exact", backend: "x" }] } }] },
    ],
    [
      "the pathType is a number",
      { rules: [{ host: HOST, http: { paths: [{ path: "/", pathType: 1, backend: "x" }] } }] },
    ],
    [
      "the host is a number",
      { rules: [{ host: 42, http: { paths: [{ path: "/", pathType: "Prefix", backend: "x" }] } }] },
    ],
    [
      "the host is an object",
      { rules: [{ host: {}, http: { paths: [{ path: "/", pathType: "Prefix", backend: "x" }] } }] },
    ],
    [
      "the host is an array",
      { rules: [{ host: ["a"], http: { paths: [{ path: "/", pathType: "Prefix", backend: "x" }] } }] },
    ],
    ["creationTimestamp is an object", { creationTimestamp: {}, defaultBackend: "x" }],
    ["creationTimestamp is NaN", { creationTimestamp: Number.NaN, defaultBackend: "x" }],
    ["creationTimestamp is Infinity", { creationTimestamp: Number.POSITIVE_INFINITY, defaultBackend: "x" }],
  ];

  test.each(garbage)("%s: compiles, and the rest of the table still serves", (_label, fields) => {
    const bad = { namespace: "default", name: "garbage", ...(fields as object) } as IngressInput<string>;
    let table: ReturnType<typeof compile<string, unknown>> | undefined;
    expect(() => {
      table = compile([bad, healthy]);
    }).not.toThrow();
    if (table === undefined) throw new Error("unreachable");
    expectHealthyStillServes(table);
    expect(table.ingressCount).toBe(2);
    expect(() => table?.diagnostics("default", "garbage")).not.toThrow();
    expect(() => table?.allDiagnostics()).not.toThrow();
    expect(() => table?.routes()).not.toThrow();
    expect(() => table?.match(HOST, "/")).not.toThrow();
    // And the same garbage through update().
    expect(() => compile([healthy]).update({ upsert: [bad] })).not.toThrow();
    expectHealthyStillServes(compile([healthy]).update({ upsert: [bad] }));
  });

  test.each([
    "paths is a string",
    "paths is an object",
    "a path entry is null",
    "a path entry is a string",
    "the path is a number",
    "the path is an object",
    "the pathType is a number",
    "the host is a number",
    "the host is an object",
    "the host is an array",
  ])("%s is reported in the Ingress's diagnostics", (label) => {
    const fields = garbage.find(([name]) => name === label)?.[1] as object;
    const bad = { namespace: "default", name: "garbage", ...fields } as IngressInput<string>;
    const table = compile([bad, healthy]);
    expect(table.diagnostics("default", "garbage").length).toBeGreaterThan(0);
    expect(table.match(HOST, "/")).toBeNull();
  });

  test("a number as host is invalid-host", () => {
    const bad = {
      namespace: "default",
      name: "garbage",
      rules: [{ host: 42, http: { paths: [{ path: "/", pathType: "Prefix", backend: "x" }] } }],
    } as unknown as IngressInput<string>;
    expect(codes(compile([bad]), "default", "garbage")).toEqual(["invalid-host"]);
  });

  test("Ingresses that are not even objects do not break the table", () => {
    const inputs = [null, 42, "ingress", {}, { namespace: 1, name: 2 }, healthy] as unknown as IngressInput<string>[];
    let table: ReturnType<typeof compile<string, unknown>> | undefined;
    expect(() => {
      table = compile(inputs);
    }).not.toThrow();
    if (table === undefined) throw new Error("unreachable");
    expectHealthyStillServes(table);
  });
});
