import { describe, expect, test } from "vitest";
import { compile } from "../src/index.js";
import type { RouteTable } from "../src/types.js";
import { codes, ingress, matched, rule, T0, T1, T2 } from "./support/ingress-builders.js";

const HOST = "example.com";

const web = ingress("web", [rule(HOST, ["/", "Prefix", "web-v1"])], { creationTimestamp: T0 });
const api = ingress("api", [rule(HOST, ["/api", "Prefix", "api"])], { namespace: "backend", creationTimestamp: T1 });

describe("upsert", () => {
  test("adds a new Ingress", () => {
    const before = compile([web]);
    const after = before.update({ upsert: [api] });
    expect(matched(after, HOST, "/api/x")).toBe("api");
    expect(after.ingressCount).toBe(2);
    expect(after.routeCount).toBe(2);
    expect(after.get("backend", "api")).toBe(api);
  });

  test("replaces an Ingress with the same namespace/name instead of adding one", () => {
    const before = compile([web, api]);
    const webV2 = ingress("web", [rule(HOST, ["/new", "Prefix", "web-v2"])], { creationTimestamp: T0 });
    const after = before.update({ upsert: [webV2] });
    expect(after.ingressCount).toBe(2);
    expect(after.routeCount).toBe(2);
    expect(after.get("default", "web")).toBe(webV2);
    expect(matched(after, HOST, "/new/x")).toBe("web-v2");
    // The old rules of the replaced Ingress are gone.
    expect(after.match(HOST, "/other")).toBeNull();
    expect(matched(after, HOST, "/api")).toBe("api");
  });

  test("the same name in another namespace is a different Ingress", () => {
    const before = compile([web]);
    const otherWeb = ingress("web", [rule("other.example.com", ["/", "Prefix", "other"])], { namespace: "other" });
    const after = before.update({ upsert: [otherWeb] });
    expect(after.ingressCount).toBe(2);
    expect(matched(after, HOST, "/")).toBe("web-v1");
    expect(matched(after, "other.example.com", "/")).toBe("other");
  });

  test("moving a rule to another host removes it from the old host", () => {
    const before = compile([web, ingress("any", [rule(undefined, ["/", "Prefix", "fallback"])])]);
    const moved = ingress("web", [rule("moved.example.com", ["/", "Prefix", "web-moved"])], { creationTimestamp: T0 });
    const after = before.update({ upsert: [moved] });
    expect(matched(after, HOST, "/")).toBe("fallback");
    expect(matched(after, "moved.example.com", "/")).toBe("web-moved");
  });

  test("the last of several upserts with the same namespace/name wins", () => {
    const first = ingress("dup", [rule(HOST, ["/x", "Prefix", "first"])]);
    const second = ingress("dup", [rule(HOST, ["/x", "Prefix", "second"])]);
    const after = compile<string, unknown>([]).update({ upsert: [first, second] });
    expect(after.ingressCount).toBe(1);
    expect(matched(after, HOST, "/x")).toBe("second");
    expect(after.allDiagnostics()).toEqual([]);
  });
});

describe("remove", () => {
  test("removes an Ingress and its routes", () => {
    const before = compile([web, api]);
    const after = before.update({ remove: [{ namespace: "backend", name: "api" }] });
    expect(after.ingressCount).toBe(1);
    expect(after.routeCount).toBe(1);
    expect(after.get("backend", "api")).toBeUndefined();
    expect(matched(after, HOST, "/api/x")).toBe("web-v1");
  });

  test("removing the last path of a host removes the host, so the host-less rules apply again", () => {
    const special = ingress("special", [rule("special.example.com", ["/", "Prefix", "special"])]);
    const any = ingress("any", [rule(undefined, ["/", "Prefix", "any"])]);
    const before = compile([special, any]);
    expect(matched(before, "special.example.com", "/")).toBe("special");
    const after = before.update({ remove: [{ namespace: "default", name: "special" }] });
    expect(matched(after, "special.example.com", "/")).toBe("any");
  });

  test("when an exact host loses its last valid path, the wildcard serves it again", () => {
    const exact = ingress("exact", [rule("www.example.com", ["/", "Prefix", "exact"])]);
    const wildcard = ingress("wildcard", [rule("*.example.com", ["/", "Prefix", "wildcard"])]);
    const before = compile([exact, wildcard]);
    expect(matched(before, "www.example.com", "/")).toBe("exact");
    const removed = before.update({ remove: [{ namespace: "default", name: "exact" }] });
    expect(matched(removed, "www.example.com", "/")).toBe("wildcard");
    const broken = before.update({
      upsert: [ingress("exact", [rule("www.example.com", ["oops", "Prefix", "exact"])])],
    });
    expect(matched(broken, "www.example.com", "/")).toBe("wildcard");
    expect(codes(broken, "default", "exact")).toEqual(["invalid-path"]);
    const readded = removed.update({ upsert: [exact] });
    expect(matched(readded, "www.example.com", "/")).toBe("exact");
  });

  test("removing an unknown Ingress changes nothing", () => {
    const before = compile([web]);
    const after = before.update({ remove: [{ namespace: "nope", name: "nope" }] });
    expect(after.ingressCount).toBe(1);
    expect(matched(after, HOST, "/")).toBe("web-v1");
  });

  test("upsert and remove together", () => {
    const before = compile([web, api]);
    const extra = ingress("extra", [rule(HOST, ["/extra", "Exact", "extra"])]);
    const after = before.update({ upsert: [extra], remove: [{ namespace: "default", name: "web" }] });
    expect([...after.ingresses()].map((i) => `${i.namespace}/${i.name}`).sort()).toEqual([
      "backend/api",
      "default/extra",
    ]);
    expect(after.match(HOST, "/")).toBeNull();
    expect(matched(after, HOST, "/extra")).toBe("extra");
  });
});

describe("immutability", () => {
  test("the old table is unchanged after an update", () => {
    const before = compile([web, api]);
    const matchBefore = before.match(HOST, "/api/x");
    const routesBefore = before.routes();
    const webV2 = ingress("web", [rule(HOST, ["/", "Prefix", "web-v2"])], { creationTimestamp: T0 });
    const after = before
      .update({ upsert: [webV2] })
      .update({ remove: [{ namespace: "backend", name: "api" }] })
      .update({ upsert: [ingress("late", [], { defaultBackend: "late-default" })] });

    expect(matched(after, HOST, "/")).toBe("web-v2");
    expect(matched(after, HOST, "/api/x")).toBe("web-v2");
    expect(after.defaultBackend?.backend).toBe("late-default");

    expect(matched(before, HOST, "/")).toBe("web-v1");
    expect(before.match(HOST, "/api/x")).toEqual(matchBefore);
    expect(before.routes()).toEqual(routesBefore);
    expect(before.ingressCount).toBe(2);
    expect(before.routeCount).toBe(2);
    expect(before.get("default", "web")).toBe(web);
    expect(before.get("default", "late")).toBeUndefined();
    expect(before.defaultBackend).toBeNull();
  });

  test("update returns a new table", () => {
    const before = compile([web]);
    expect(before.update({})).not.toBe(before);
    expect(matched(before.update({}), HOST, "/")).toBe("web-v1");
  });
});

describe("derived state is recomputed", () => {
  test("diagnostics appear and disappear with the Ingress that causes them", () => {
    const broken = ingress("broken", [rule(HOST, ["no-slash", "Prefix", "x"])]);
    const withBroken = compile([web]).update({ upsert: [broken] });
    expect(codes(withBroken, "default", "broken")).toEqual(["invalid-path"]);
    expect(withBroken.allDiagnostics()).toHaveLength(1);

    const fixed = withBroken.update({ upsert: [ingress("broken", [rule(HOST, ["/fixed", "Prefix", "x"])])] });
    expect(fixed.diagnostics("default", "broken")).toEqual([]);
    expect(fixed.allDiagnostics()).toEqual([]);
    expect(codes(withBroken, "default", "broken")).toEqual(["invalid-path"]);

    const removed = withBroken.update({ remove: [{ namespace: "default", name: "broken" }] });
    expect(removed.allDiagnostics()).toEqual([]);
  });

  test("defaultBackend is recomputed on upsert and remove", () => {
    const newer = ingress("newer", [], { creationTimestamp: T2, defaultBackend: "newer-default" });
    const older = ingress("older", [], { creationTimestamp: T0, defaultBackend: "older-default" });
    const t1 = compile([newer]);
    expect(t1.defaultBackend?.backend).toBe("newer-default");
    const t2 = t1.update({ upsert: [older] });
    expect(t2.defaultBackend?.backend).toBe("older-default");
    expect(codes(t2, "default", "newer")).toEqual(["default-backend-conflict"]);
    const t3 = t2.update({ remove: [{ namespace: "default", name: "older" }] });
    expect(t3.defaultBackend?.backend).toBe("newer-default");
    expect(t3.diagnostics("default", "newer")).toEqual([]);
    const t4 = t3.update({ upsert: [ingress("newer", [], { creationTimestamp: T2 })] });
    expect(t4.defaultBackend).toBeNull();
  });

  test("routeCount follows every change", () => {
    let table: RouteTable<string, unknown> = compile<string, unknown>([]);
    expect(table.routeCount).toBe(0);
    table = table.update({ upsert: [ingress("a", [rule(HOST, ["/a", "Prefix", "a"], ["/b", "Exact", "b"])])] });
    expect(table.routeCount).toBe(2);
    table = table.update({ upsert: [ingress("c", [rule(HOST, ["/a/", "Prefix", "c"], ["/c", "Exact", "c"])])] });
    expect(table.routeCount).toBe(3); // "/a/" loses to "/a"
    table = table.update({ remove: [{ namespace: "default", name: "a" }] });
    expect(table.routeCount).toBe(2);
    table = table.update({ remove: [{ namespace: "default", name: "c" }] });
    expect(table.routeCount).toBe(0);
    expect(table.ingressCount).toBe(0);
  });
});

describe("conflicts are resolved again", () => {
  const older = ingress("older", [rule(HOST, ["/app", "Prefix", "older"])], { creationTimestamp: T0 });
  const newer = ingress("newer", [rule(HOST, ["/app/", "Prefix", "newer"])], { creationTimestamp: T1 });

  test("when the winner is removed, the loser takes over and loses its diagnostic", () => {
    const before = compile([older, newer]);
    expect(matched(before, HOST, "/app")).toBe("older");
    expect(codes(before, "default", "newer")).toEqual(["path-conflict"]);

    const after = before.update({ remove: [{ namespace: "default", name: "older" }] });
    expect(matched(after, HOST, "/app")).toBe("newer");
    expect(after.match(HOST, "/app")?.path).toBe("/app/");
    expect(after.diagnostics("default", "newer")).toEqual([]);
    expect(after.routeCount).toBe(1);
  });

  test("when the winner drops the path, the loser takes over", () => {
    const before = compile([older, newer]);
    const after = before.update({
      upsert: [ingress("older", [rule(HOST, ["/elsewhere", "Prefix", "older"])], { creationTimestamp: T0 })],
    });
    expect(matched(after, HOST, "/app")).toBe("newer");
    expect(matched(after, HOST, "/elsewhere")).toBe("older");
    expect(after.allDiagnostics()).toEqual([]);
  });

  test("an even older newcomer takes over and the former winner becomes a loser", () => {
    const before = compile([older, newer]);
    const oldest = ingress("oldest", [rule(HOST, ["/app", "Prefix", "oldest"])], {
      creationTimestamp: "2000-01-01T00:00:00Z",
    });
    const after = before.update({ upsert: [oldest] });
    expect(matched(after, HOST, "/app")).toBe("oldest");
    for (const loser of ["older", "newer"]) {
      expect(after.diagnostics("default", loser)).toEqual([
        expect.objectContaining({ code: "path-conflict", winner: { namespace: "default", name: "oldest" } }),
      ]);
    }
    expect(after.routeCount).toBe(1);
  });

  test("changing the winner's timestamp can hand the path to the other Ingress", () => {
    const before = compile([older, newer]);
    const after = before.update({
      upsert: [ingress("older", [rule(HOST, ["/app", "Prefix", "older"])], { creationTimestamp: T2 })],
    });
    expect(matched(after, HOST, "/app")).toBe("newer");
    expect(after.diagnostics("default", "older")).toEqual([
      expect.objectContaining({ code: "path-conflict", winner: { namespace: "default", name: "newer" } }),
    ]);
    expect(after.diagnostics("default", "newer")).toEqual([]);
  });
});
