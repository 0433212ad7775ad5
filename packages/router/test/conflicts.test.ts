import { describe, expect, test } from "vitest";
import { compile } from "../src/index.js";
import { codes, ingress, matched, rule, T0, T1, T2 } from "./support/ingress-builders.js";

declare const process: { env: Record<string, string | undefined> };

const HOST = "example.com";

function claim(name: string, options: Parameters<typeof ingress>[2] = {}, path = "/app", pathType = "Prefix") {
  return ingress(name, [rule(HOST, [path, pathType, name])], options);
}

describe("path conflicts: the oldest Ingress wins", () => {
  test("the older creationTimestamp wins whatever the input order", () => {
    const older = claim("older", { creationTimestamp: T0 });
    const newer = claim("newer", { creationTimestamp: T1 });
    for (const inputs of [
      [older, newer],
      [newer, older],
    ]) {
      const table = compile(inputs);
      expect(matched(table, HOST, "/app/x")).toBe("older");
      expect(table.routeCount).toBe(1);
    }
  });

  test("the name does not matter when the timestamps differ", () => {
    const table = compile([claim("zzz", { creationTimestamp: T0 }), claim("aaa", { creationTimestamp: T1 })]);
    expect(matched(table, HOST, "/app")).toBe("zzz");
  });

  test("epoch milliseconds and RFC 3339 strings are compared as instants", () => {
    const table = compile([
      claim("string-newer", { creationTimestamp: T1 }),
      claim("number-older", { creationTimestamp: Date.parse(T0) }),
    ]);
    expect(matched(table, HOST, "/app")).toBe("number-older");
    const reversed = compile([
      claim("string-older", { creationTimestamp: T0 }),
      claim("number-newer", { creationTimestamp: Date.parse(T1) }),
    ]);
    expect(matched(reversed, HOST, "/app")).toBe("string-older");
  });

  test("RFC 3339 offsets and fractional seconds are honoured", () => {
    // 01:00+02:00 is 23:00Z the day before, older than midnight UTC.
    const table = compile([
      claim("a-utc-midnight", { creationTimestamp: "2024-01-01T00:00:00Z" }),
      claim("b-plus-two", { creationTimestamp: "2024-01-01T01:00:00+02:00" }),
    ]);
    expect(matched(table, HOST, "/app")).toBe("b-plus-two");
    const fractional = compile([
      claim("a-later-by-ms", { creationTimestamp: "2024-01-01T00:00:00.500Z" }),
      claim("b-earlier", { creationTimestamp: "2024-01-01T00:00:00.250Z" }),
    ]);
    expect(matched(fractional, HOST, "/app")).toBe("b-earlier");
  });

  test('RFC 3339 allows a lower-case "t" and "z"', () => {
    const table = compile([
      claim("a-newer", { creationTimestamp: "2024-01-02t00:00:00z" }),
      claim("b-older", { creationTimestamp: "2024-01-01t00:00:00z" }),
      claim("c-undated"),
    ]);
    expect(matched(table, HOST, "/app")).toBe("b-older");
  });

  test("equal timestamps: the smaller namespace wins, then the smaller name", () => {
    const byNamespace = compile([
      claim("a", { namespace: "team-b", creationTimestamp: T0 }),
      claim("b", { namespace: "team-a", creationTimestamp: T0 }),
    ]);
    expect(byNamespace.match(HOST, "/app")?.ingress).toEqual({ namespace: "team-a", name: "b" });
    const byName = compile([claim("beta", { creationTimestamp: T0 }), claim("alpha", { creationTimestamp: T0 })]);
    expect(matched(byName, HOST, "/app")).toBe("alpha");
  });

  test("namespaces and names compare as plain JavaScript strings (upper case first)", () => {
    const table = compile([claim("app", { namespace: "a" }), claim("app", { namespace: "Z" })]);
    expect(table.match(HOST, "/app")?.ingress).toEqual({ namespace: "Z", name: "app" });
    const names = compile([claim("web"), claim("Web")]);
    expect(matched(names, HOST, "/app")).toBe("Web");
  });

  test("an Ingress without creationTimestamp counts as the newest", () => {
    const table = compile([claim("aaa-undated"), claim("zzz-dated", { creationTimestamp: T2 })]);
    expect(matched(table, HOST, "/app")).toBe("zzz-dated");
  });

  test("an unparsable creationTimestamp counts as the newest", () => {
    const table = compile([
      claim("aaa-garbage", { creationTimestamp: "yesterday" }),
      claim("zzz-dated", { creationTimestamp: T2 }),
    ]);
    expect(matched(table, HOST, "/app")).toBe("zzz-dated");
  });

  test("a string that is not RFC 3339 counts as the newest", () => {
    // No time zone (a local time), or another date format: not RFC 3339, so unparsable.
    for (const creationTimestamp of ["2020-01-01T00:00:00", "Wed, 01 Jan 2020 00:00:00 GMT", "2020"]) {
      const table = compile([
        claim("aaa-not-rfc3339", { creationTimestamp }),
        claim("zzz-dated", { creationTimestamp: T2 }),
      ]);
      expect({ creationTimestamp, winner: matched(table, HOST, "/app") }).toEqual({
        creationTimestamp,
        winner: "zzz-dated",
      });
    }
  });

  test("the winner does not depend on the time zone of the machine", () => {
    // A zoneless date-time would be read as local time by Date.parse.
    const inputs = [
      claim("a-zoneless", { creationTimestamp: "2024-01-01T00:00:00" }),
      claim("b-utc", { creationTimestamp: "2024-01-01T03:00:00Z" }),
    ];
    const saved = process.env.TZ;
    try {
      const winners = ["UTC", "America/New_York", "Asia/Tokyo"].map((zone) => {
        process.env.TZ = zone;
        return { zone, winner: matched(compile(inputs), HOST, "/app") };
      });
      const first = winners[0]?.winner;
      expect(winners).toEqual(winners.map(({ zone }) => ({ zone, winner: first })));
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });

  test("two Ingresses without creationTimestamp: namespace then name decide", () => {
    const table = compile([
      claim("b", { namespace: "x" }),
      claim("a", { namespace: "y" }),
      claim("c", { namespace: "x" }),
    ]);
    expect(table.match(HOST, "/app")?.ingress).toEqual({ namespace: "x", name: "b" });
  });
});

describe("what counts as the same claim", () => {
  test('Prefix "/app" and "/app/" conflict; the winner\'s path is reported as written', () => {
    const table = compile([
      claim("new", { creationTimestamp: T1 }, "/app"),
      claim("old", { creationTimestamp: T0 }, "/app/"),
    ]);
    expect(table.match(HOST, "/app")).toMatchObject({ backend: "old", path: "/app/" });
    expect(codes(table, "default", "new")).toEqual(["path-conflict"]);
    expect(table.routeCount).toBe(1);
  });

  test("Prefix and ImplementationSpecific of the same path conflict", () => {
    const table = compile([
      claim("is", { creationTimestamp: T1 }, "/app", "ImplementationSpecific"),
      claim("prefix", { creationTimestamp: T0 }, "/app", "Prefix"),
    ]);
    expect(matched(table, HOST, "/app/x")).toBe("prefix");
    expect(codes(table, "default", "is")).toEqual(["path-conflict"]);
  });

  test('an ImplementationSpecific rule without path conflicts with Prefix "/"', () => {
    const table = compile([
      ingress("is-root", [rule(HOST, [undefined, "ImplementationSpecific", "is-root"])], { creationTimestamp: T0 }),
      ingress("prefix-root", [rule(HOST, ["/", "Prefix", "prefix-root"])], { creationTimestamp: T1 }),
    ]);
    expect(matched(table, HOST, "/x")).toBe("is-root");
    expect(codes(table, "default", "prefix-root")).toEqual(["path-conflict"]);
  });

  test("two Exact claims of the same path conflict", () => {
    const table = compile([
      claim("new", { creationTimestamp: T1 }, "/app", "Exact"),
      claim("old", { creationTimestamp: T0 }, "/app", "Exact"),
    ]);
    expect(matched(table, HOST, "/app")).toBe("old");
    expect(codes(table, "default", "new")).toEqual(["path-conflict"]);
  });

  test('Exact "/app" and Exact "/app/" do not conflict', () => {
    const table = compile([claim("a", {}, "/app", "Exact"), claim("b", {}, "/app/", "Exact")]);
    expect(matched(table, HOST, "/app")).toBe("a");
    expect(matched(table, HOST, "/app/")).toBe("b");
    expect(table.allDiagnostics()).toEqual([]);
  });

  test("Exact and Prefix of the same path do not conflict", () => {
    const table = compile([claim("exact", {}, "/app", "Exact"), claim("prefix", {}, "/app", "Prefix")]);
    expect(table.allDiagnostics()).toEqual([]);
    expect(table.routeCount).toBe(2);
  });

  test("the same path on different virtual hosts does not conflict", () => {
    const table = compile([
      ingress("exact", [rule("a.example.com", ["/app", "Prefix", "exact"])], { creationTimestamp: T0 }),
      ingress("other", [rule("b.example.com", ["/app", "Prefix", "other"])], { creationTimestamp: T0 }),
      ingress("wildcard", [rule("*.example.com", ["/app", "Prefix", "wildcard"])], { creationTimestamp: T1 }),
      ingress("any", [rule(undefined, ["/app", "Prefix", "any"])], { creationTimestamp: T2 }),
    ]);
    expect(table.allDiagnostics()).toEqual([]);
    expect(table.routeCount).toBe(4);
    expect(matched(table, "a.example.com", "/app")).toBe("exact");
    expect(matched(table, "b.example.com", "/app")).toBe("other");
    expect(matched(table, "c.example.com", "/app")).toBe("wildcard");
    expect(matched(table, "example.org", "/app")).toBe("any");
  });

  test("rule hosts differing only in case are the same virtual host", () => {
    const table = compile([
      ingress("new", [rule("EXAMPLE.com", ["/app", "Prefix", "new"])], { creationTimestamp: T1 }),
      ingress("old", [rule("example.COM", ["/app", "Prefix", "old"])], { creationTimestamp: T0 }),
    ]);
    expect(matched(table, HOST, "/app")).toBe("old");
    expect(codes(table, "default", "new")).toEqual(["path-conflict"]);
  });

  test("rule paths that normalise to the same form conflict", () => {
    const table = compile([
      claim("new", { creationTimestamp: T1 }, "/%7Euser"),
      claim("old", { creationTimestamp: T0 }, "/~user"),
    ]);
    expect(matched(table, HOST, "/~user")).toBe("old");
    expect(codes(table, "default", "new")).toEqual(["path-conflict"]);
  });
});

describe("conflict diagnostics", () => {
  test("every loser gets path-conflict naming the winner, its rule and path index", () => {
    const table = compile([
      ingress(
        "loser",
        [
          rule("other.example.com", ["/x", "Prefix", "x"]),
          rule(HOST, ["/ok", "Prefix", "ok"], ["/app", "Prefix", "lost"]),
        ],
        { namespace: "team-b", creationTimestamp: T1 },
      ),
      ingress("winner", [rule(HOST, ["/app", "Prefix", "won"])], { namespace: "team-a", creationTimestamp: T0 }),
      ingress("also-loser", [rule(HOST, ["/app/", "Prefix", "lost-too"])], { creationTimestamp: T2 }),
    ]);
    expect(table.diagnostics("team-b", "loser")).toEqual([
      expect.objectContaining({
        code: "path-conflict",
        rule: 1,
        pathIndex: 1,
        winner: { namespace: "team-a", name: "winner" },
      }),
    ]);
    expect(table.diagnostics("default", "also-loser")).toEqual([
      expect.objectContaining({
        code: "path-conflict",
        rule: 0,
        pathIndex: 0,
        winner: { namespace: "team-a", name: "winner" },
      }),
    ]);
    expect(table.diagnostics("team-a", "winner")).toEqual([]);
    const message = table.diagnostics("team-b", "loser")[0]?.message ?? "";
    expect(message.length).toBeGreaterThan(0);
    // The loser's other paths keep serving.
    expect(matched(table, HOST, "/ok")).toBe("ok");
    expect(matched(table, "other.example.com", "/x")).toBe("x");
    expect(table.routeCount).toBe(3);
    expect(
      table
        .allDiagnostics()
        .map((entry) => `${entry.ingress.namespace}/${entry.ingress.name}`)
        .sort(),
    ).toEqual(["default/also-loser", "team-b/loser"]);
  });

  test("a duplicate inside one Ingress: the first one wins and the Ingress is its own winner", () => {
    const table = compile([
      ingress("dup", [rule(HOST, ["/app", "Prefix", "first"], ["/ok", "Exact", "ok"], ["/app/", "Prefix", "second"])]),
    ]);
    expect(matched(table, HOST, "/app/x")).toBe("first");
    expect(table.diagnostics("default", "dup")).toEqual([
      expect.objectContaining({
        code: "path-conflict",
        rule: 0,
        pathIndex: 2,
        winner: { namespace: "default", name: "dup" },
      }),
    ]);
    expect(table.routeCount).toBe(2);
  });

  test("a duplicate across rules of one Ingress: the earlier rule wins", () => {
    const table = compile([
      ingress("dup", [rule(HOST, ["/app", "Exact", "first"]), rule("Example.com", ["/app", "Exact", "second"])]),
    ]);
    expect(matched(table, HOST, "/app")).toBe("first");
    expect(table.diagnostics("default", "dup")).toEqual([
      expect.objectContaining({
        code: "path-conflict",
        rule: 1,
        pathIndex: 0,
        winner: { namespace: "default", name: "dup" },
      }),
    ]);
  });

  test("three claims: two losers, each told about the single winner", () => {
    const table = compile([
      claim("c", { creationTimestamp: T2 }),
      claim("a", { creationTimestamp: T0 }),
      claim("b", { creationTimestamp: T1 }),
    ]);
    expect(matched(table, HOST, "/app")).toBe("a");
    for (const loser of ["b", "c"]) {
      expect(table.diagnostics("default", loser)).toEqual([
        expect.objectContaining({ code: "path-conflict", winner: { namespace: "default", name: "a" } }),
      ]);
    }
  });
});

describe("default backend conflicts", () => {
  test("the oldest Ingress's defaultBackend is the table's default backend", () => {
    const policies = { tag: "old" };
    const table = compile([
      ingress("new", [], { creationTimestamp: T1, defaultBackend: "new-default" }),
      ingress("old", [], { namespace: "ops", creationTimestamp: T0, defaultBackend: "old-default", policies }),
      ingress("none", [], { creationTimestamp: "2000-01-01T00:00:00Z" }),
    ]);
    expect(table.defaultBackend).toEqual({
      backend: "old-default",
      ingress: { namespace: "ops", name: "old" },
      policies,
    });
    expect(table.diagnostics("default", "new")).toEqual([
      expect.objectContaining({ code: "default-backend-conflict", winner: { namespace: "ops", name: "old" } }),
    ]);
    expect(table.diagnostics("ops", "old")).toEqual([]);
    expect(table.diagnostics("default", "none")).toEqual([]);
  });

  test("without creationTimestamps namespace then name decide the default backend", () => {
    const table = compile([
      ingress("b", [], { namespace: "x", defaultBackend: "xb" }),
      ingress("a", [], { namespace: "y", defaultBackend: "ya" }),
      ingress("a", [], { namespace: "x", defaultBackend: "xa" }),
    ]);
    expect(table.defaultBackend?.backend).toBe("xa");
    expect(codes(table, "x", "b")).toEqual(["default-backend-conflict"]);
    expect(codes(table, "y", "a")).toEqual(["default-backend-conflict"]);
  });

  test("an undated defaultBackend loses to a dated one", () => {
    const table = compile([
      ingress("aaa", [], { defaultBackend: "undated" }),
      ingress("zzz", [], { creationTimestamp: T2, defaultBackend: "dated" }),
    ]);
    expect(table.defaultBackend?.backend).toBe("dated");
  });

  test("no Ingress with a defaultBackend: none", () => {
    const table = compile([ingress("i", [rule(HOST, ["/", "Prefix", "root"])])]);
    expect(table.defaultBackend).toBeNull();
    expect(compile([]).defaultBackend).toBeNull();
  });

  test("a lost default backend does not affect the loser's path rules", () => {
    const table = compile([
      ingress("old", [], { creationTimestamp: T0, defaultBackend: "old-default" }),
      ingress("new", [rule(HOST, ["/", "Prefix", "new-root"])], {
        creationTimestamp: T1,
        defaultBackend: "new-default",
      }),
    ]);
    expect(matched(table, HOST, "/x")).toBe("new-root");
    expect(table.defaultBackend?.backend).toBe("old-default");
  });
});
