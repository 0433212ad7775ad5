/**
 * The "Examples" table of path matching in the Kubernetes Ingress documentation
 * (https://kubernetes.io/docs/concepts/services-networking/ingress/#examples),
 * one test per row.
 */
import { describe, expect, test } from "vitest";
import { compile } from "../src/index.js";
import { ingress, type PathSpec, rule, served } from "./support/ingress-builders.js";

const HOST = "example.com";

/** One Ingress with the given paths on HOST and a default backend "default-backend". */
function tableOf(...specs: PathSpec[]) {
  return compile([ingress("examples", [rule(HOST, ...specs)], { defaultBackend: "default-backend" })]);
}

describe("Kubernetes documentation: path matching examples", () => {
  test('Prefix "/" matches all paths', () => {
    const table = tableOf(["/", "Prefix", "root"]);
    for (const path of ["/", "/foo", "/foo/", "/foo/bar", "/aaa/bbb/ccc/", "/a.b"]) {
      expect(served(table, HOST, path), path).toBe("root");
    }
  });

  test('Exact "/foo" matches request "/foo"', () => {
    const table = tableOf(["/foo", "Exact", "foo"]);
    expect(table.match(HOST, "/foo")?.backend).toBe("foo");
  });

  test('Exact "/foo" does not match request "/bar"', () => {
    const table = tableOf(["/foo", "Exact", "foo"]);
    expect(table.match(HOST, "/bar")).toBeNull();
  });

  test('Exact "/foo" does not match request "/foo/"', () => {
    const table = tableOf(["/foo", "Exact", "foo"]);
    expect(table.match(HOST, "/foo/")).toBeNull();
  });

  test('Exact "/foo/" does not match request "/foo"', () => {
    const table = tableOf(["/foo/", "Exact", "foo-slash"]);
    expect(table.match(HOST, "/foo")).toBeNull();
    expect(table.match(HOST, "/foo/")?.backend).toBe("foo-slash");
  });

  test('Prefix "/foo" matches "/foo" and "/foo/"', () => {
    const table = tableOf(["/foo", "Prefix", "foo"]);
    expect(table.match(HOST, "/foo")?.backend).toBe("foo");
    expect(table.match(HOST, "/foo/")?.backend).toBe("foo");
  });

  test('Prefix "/foo/" matches "/foo" and "/foo/"', () => {
    const table = tableOf(["/foo/", "Prefix", "foo-slash"]);
    expect(table.match(HOST, "/foo")?.backend).toBe("foo-slash");
    expect(table.match(HOST, "/foo/")?.backend).toBe("foo-slash");
  });

  test('Prefix "/aaa/bb" does not match "/aaa/bbb"', () => {
    const table = tableOf(["/aaa/bb", "Prefix", "bb"]);
    expect(table.match(HOST, "/aaa/bbb")).toBeNull();
  });

  test('Prefix "/aaa/bbb" matches "/aaa/bbb"', () => {
    const table = tableOf(["/aaa/bbb", "Prefix", "bbb"]);
    expect(table.match(HOST, "/aaa/bbb")?.backend).toBe("bbb");
  });

  test('Prefix "/aaa/bbb/" matches "/aaa/bbb" (ignores trailing slash)', () => {
    const table = tableOf(["/aaa/bbb/", "Prefix", "bbb"]);
    expect(table.match(HOST, "/aaa/bbb")?.backend).toBe("bbb");
  });

  test('Prefix "/aaa/bbb" matches "/aaa/bbb/" (matches trailing slash)', () => {
    const table = tableOf(["/aaa/bbb", "Prefix", "bbb"]);
    expect(table.match(HOST, "/aaa/bbb/")?.backend).toBe("bbb");
  });

  test('Prefix "/aaa/bbb" matches "/aaa/bbb/ccc" (matches subpath)', () => {
    const table = tableOf(["/aaa/bbb", "Prefix", "bbb"]);
    expect(table.match(HOST, "/aaa/bbb/ccc")?.backend).toBe("bbb");
  });

  test('Prefix "/aaa/bbb" does not match "/aaa/bbbxyz" (not a string prefix match)', () => {
    const table = tableOf(["/aaa/bbb", "Prefix", "bbb"]);
    expect(table.match(HOST, "/aaa/bbbxyz")).toBeNull();
  });

  test('Prefix "/" and "/aaa": "/aaa/ccc" matches the "/aaa" prefix', () => {
    const table = tableOf(["/", "Prefix", "root"], ["/aaa", "Prefix", "aaa"]);
    expect(served(table, HOST, "/aaa/ccc")).toBe("aaa");
  });

  test('Prefix "/", "/aaa" and "/aaa/bbb": "/aaa/bbb" matches the "/aaa/bbb" prefix', () => {
    const table = tableOf(["/", "Prefix", "root"], ["/aaa", "Prefix", "aaa"], ["/aaa/bbb", "Prefix", "bbb"]);
    expect(served(table, HOST, "/aaa/bbb")).toBe("bbb");
  });

  test('Prefix "/", "/aaa" and "/aaa/bbb": "/ccc" matches the "/" prefix', () => {
    const table = tableOf(["/", "Prefix", "root"], ["/aaa", "Prefix", "aaa"], ["/aaa/bbb", "Prefix", "bbb"]);
    expect(served(table, HOST, "/ccc")).toBe("root");
  });

  test('Prefix "/aaa": "/ccc" does not match, the default backend is used', () => {
    const table = tableOf(["/aaa", "Prefix", "aaa"]);
    expect(table.match(HOST, "/ccc")).toBeNull();
    expect(table.defaultBackend?.backend).toBe("default-backend");
    expect(served(table, HOST, "/ccc")).toBe("default-backend");
  });

  test('Mixed "/foo" Prefix and "/foo" Exact: "/foo" prefers Exact', () => {
    for (const order of [
      [
        ["/foo", "Prefix", "prefix"],
        ["/foo", "Exact", "exact"],
      ],
      [
        ["/foo", "Exact", "exact"],
        ["/foo", "Prefix", "prefix"],
      ],
    ] as const) {
      const table = tableOf(...order);
      expect(table.match(HOST, "/foo")?.backend).toBe("exact");
      expect(table.match(HOST, "/foo")?.pathType).toBe("Exact");
      // The Prefix rule still serves what the Exact one does not.
      expect(table.match(HOST, "/foo/bar")?.backend).toBe("prefix");
    }
  });
});
