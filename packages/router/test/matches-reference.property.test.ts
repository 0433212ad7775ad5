/**
 * Property tests: on random tables and random requests the compiled table
 * answers exactly like the plain reference matcher, and a table reached through
 * any sequence of `update`s equals one compiled from scratch.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { compile } from "../src/index.js";
import type { Diagnostic, IngressInput, IngressRef, IngressRule, RouteMatch, RouteTable } from "../src/types.js";
import { T0, T1, T2 } from "./support/ingress-builders.js";
import {
  referenceDefaultBackend,
  referenceMatch,
  referenceNormalizePath,
  referenceRoutes,
} from "./support/reference-matcher.js";

type Policies = { readonly id: string };
type Ingress = IngressInput<string, Policies>;
type Table = RouteTable<string, Policies>;

// ---------------------------------------------------------------------------
// Arbitraries

const RULE_HOSTS = [
  undefined,
  "",
  "foo.com",
  "FOO.com",
  "bar.foo.com",
  "*.foo.com",
  "*.Bar.foo.com",
  "baz.com",
  "*.baz.com",
  // invalid
  "foo_bar.com",
  "10.0.0.1",
  "*.",
  "foo.*.com",
] as const;

const SEGMENTS = ["a", "b", "ab", "~", "%7e", "%c3%a9", ".x"] as const;

const validRulePath = fc
  .tuple(fc.array(fc.constantFrom(...SEGMENTS), { maxLength: 3 }), fc.boolean())
  .map(([segments, trailingSlash]) => `/${segments.join("/")}${trailingSlash && segments.length > 0 ? "/" : ""}`);

/** A few popular paths, so that claims collide often. */
const commonRulePath = fc.constantFrom("/", "/a", "/a/", "/a/b", "/~", "/%7E", "/%7e/");

const rulePath: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 8, arbitrary: commonRulePath },
  { weight: 8, arbitrary: validRulePath },
  { weight: 1, arbitrary: fc.constantFrom(undefined, "", "a", "/a//b", "/a/..", "/a%2fb", "/a b") },
);

const pathType = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom("Exact", "Prefix", "ImplementationSpecific") },
  { weight: 1, arbitrary: fc.constant("Regex") },
);

const pathEntry = fc.record({
  path: rulePath,
  pathType,
  missingBackend: fc.oneof({ weight: 15, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
});

const ruleBody = fc.record({
  host: fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(undefined, "foo.com", "*.foo.com") },
    { weight: 5, arbitrary: fc.constantFrom(...RULE_HOSTS) },
  ),
  paths: fc.array(pathEntry, { maxLength: 4 }),
});

const TIMESTAMPS = [T0, T1, T2, Date.parse(T0), Date.parse(T1), "2024-01-02T02:00:00+02:00", "not a date"] as const;

const ingressBody = fc.record({
  rules: fc.array(ruleBody, { maxLength: 3 }),
  creationTimestamp: fc.option(fc.constantFrom(...TIMESTAMPS), { nil: undefined }),
  hasDefaultBackend: fc.boolean(),
  hasPolicies: fc.boolean(),
});

type IngressBody = typeof ingressBody extends fc.Arbitrary<infer T> ? T : never;

const REFS: readonly IngressRef[] = ["a", "b", "B"].flatMap((namespace) =>
  ["x", "y"].map((name) => ({ namespace, name })),
);
const ref = fc.constantFrom(...REFS);

function buildIngress({ namespace, name }: IngressRef, body: IngressBody, version: number): Ingress {
  const id = `${namespace}/${name}@${version}`;
  const rules: IngressRule<string>[] = body.rules.map((ruleSpec, ruleIndex) => {
    const paths = ruleSpec.paths.map((entry, pathIndex) => {
      const backend = entry.missingBackend ? (null as unknown as string) : `${id} r${ruleIndex} p${pathIndex}`;
      return entry.path === undefined
        ? { pathType: entry.pathType, backend }
        : { path: entry.path, pathType: entry.pathType, backend };
    });
    return ruleSpec.host === undefined ? { http: { paths } } : { host: ruleSpec.host, http: { paths } };
  });
  return {
    namespace,
    name,
    rules,
    ...(body.creationTimestamp === undefined ? {} : { creationTimestamp: body.creationTimestamp }),
    ...(body.hasDefaultBackend ? { defaultBackend: `${id} default` } : {}),
    ...(body.hasPolicies ? { policies: { id } } : {}),
  };
}

const ingressList = fc
  .uniqueArray(fc.tuple(ref, ingressBody), {
    maxLength: 5,
    selector: ([r]) => `${r.namespace}/${r.name}`,
  })
  .map((entries) => entries.map(([r, body], version) => buildIngress(r, body, version)));

const REQUEST_HOSTS = [
  "foo.com",
  "bar.foo.com",
  "x.foo.com",
  "a.bar.foo.com",
  "x.y.foo.com",
  "baz.com",
  "q.baz.com",
  "qux.org",
  "",
  "10.0.0.1",
  "foo_bar.com",
  ".foo.com",
  "*.foo.com",
] as const;

const requestHost = fc
  .tuple(fc.constantFrom(...REQUEST_HOSTS), fc.constantFrom("plain", "upper", "port", "dot", "dot-port", "extra"))
  .map(([host, variant]) => {
    switch (variant) {
      case "upper":
        return host.toUpperCase();
      case "port":
        return `${host}:8080`;
      case "dot":
        return `${host}.`;
      case "dot-port":
        return `${host}.:8080`;
      case "extra":
        return `extra.${host}`;
      default:
        return host;
    }
  });

function normalised(target: string): string {
  const result = referenceNormalizePath(target);
  return result.ok ? result.path : "/";
}

const requestPath = fc
  .tuple(
    fc.array(fc.constantFrom("a", "b", "ab", "~", "%7E", "%C3%A9", ".x", ".", "..", ""), { maxLength: 4 }),
    fc.boolean(),
  )
  .map(([segments, trailingSlash]) => normalised(`/${segments.join("/")}${trailingSlash ? "/" : ""}`));

const requests = fc.array(fc.tuple(requestHost, requestPath), { minLength: 1, maxLength: 12 });

/** Requests aimed at the table's own paths: each rule path, just past it, and below it. */
function derivedRequests(ingresses: readonly Ingress[], hosts: readonly string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const seen = new Set<string>();
  for (const ingress of ingresses) {
    for (const r of ingress.rules ?? []) {
      for (const p of r.http?.paths ?? []) {
        if (typeof p.path !== "string" || !p.path.startsWith("/")) continue;
        for (const suffix of ["", "/", "/a", "x"]) {
          const path = normalised(`${p.path}${suffix}`);
          if (seen.has(path)) continue;
          seen.add(path);
          for (const host of hosts) out.push([host, path]);
        }
      }
    }
  }
  return out;
}

const DERIVED_HOSTS = ["foo.com", "x.foo.com", "q.bar.foo.com", "q.baz.com", "elsewhere.org"] as const;

// ---------------------------------------------------------------------------
// Comparisons

function describeRoute(route: RouteMatch<string, Policies>): string {
  return JSON.stringify([route.host, route.path, route.pathType, route.backend, route.ingress, route.policies]);
}

function sortedRoutes(routes: readonly RouteMatch<string, Policies>[]): string[] {
  return routes.map(describeRoute).sort();
}

function sortedDiagnostics(diagnostics: readonly Diagnostic[]): string[] {
  return diagnostics
    .map((d) => JSON.stringify([d.code, d.rule, d.pathIndex, d.winner?.namespace, d.winner?.name]))
    .sort();
}

function expectAgreesWithReference(
  table: Table,
  ingresses: readonly Ingress[],
  requestList: ReadonlyArray<readonly [string, string]>,
) {
  for (const [host, path] of requestList) {
    const actual = table.match(host, path);
    const expected = referenceMatch(ingresses, host, path);
    expect({ host, path, match: actual }).toEqual({ host, path, match: expected });
  }
  expect(table.defaultBackend).toEqual(referenceDefaultBackend(ingresses));
  const routes = referenceRoutes(ingresses);
  expect(table.routeCount).toBe(routes.length);
  expect(sortedRoutes(table.routes())).toEqual(sortedRoutes(routes));
}

function expectSameAsFreshCompile(
  table: Table,
  fresh: Table,
  ingresses: readonly Ingress[],
  requestList: ReadonlyArray<readonly [string, string]>,
) {
  expect(table.ingressCount).toBe(ingresses.length);
  expect(fresh.ingressCount).toBe(ingresses.length);
  expect(table.routeCount).toBe(fresh.routeCount);
  expect(table.defaultBackend).toEqual(fresh.defaultBackend);
  for (const ingress of ingresses) {
    expect(table.get(ingress.namespace, ingress.name)).toBe(ingress);
    const label = `${ingress.namespace}/${ingress.name}`;
    expect({ label, codes: sortedDiagnostics(table.diagnostics(ingress.namespace, ingress.name)) }).toEqual({
      label,
      codes: sortedDiagnostics(fresh.diagnostics(ingress.namespace, ingress.name)),
    });
  }
  const listed = (t: Table) =>
    t
      .allDiagnostics()
      .map((entry) => `${entry.ingress.namespace}/${entry.ingress.name}`)
      .sort();
  expect(listed(table)).toEqual(listed(fresh));
  expect([...table.ingresses()].map((i) => `${i.namespace}/${i.name}`).sort()).toEqual(
    ingresses.map((i) => `${i.namespace}/${i.name}`).sort(),
  );
  expect(sortedRoutes(table.routes())).toEqual(sortedRoutes(fresh.routes()));
  for (const [host, path] of requestList) {
    expect({ host, path, match: table.match(host, path) }).toEqual({ host, path, match: fresh.match(host, path) });
  }
}

// ---------------------------------------------------------------------------
// Properties

describe("the compiled table agrees with the reference matcher", () => {
  test("match, defaultBackend and routes on random tables", () => {
    fc.assert(
      fc.property(ingressList, requests, (ingresses, requestList) => {
        const table = compile(ingresses);
        expectAgreesWithReference(table, ingresses, [...requestList, ...derivedRequests(ingresses, DERIVED_HOSTS)]);
      }),
      { numRuns: 500 },
    );
  });

  test("the order of the input Ingresses does not matter", () => {
    fc.assert(
      fc.property(ingressList, requests, (ingresses, requestList) => {
        const forward = compile(ingresses);
        const backward = compile([...ingresses].reverse());
        expect(backward.routeCount).toBe(forward.routeCount);
        expect(backward.defaultBackend).toEqual(forward.defaultBackend);
        for (const [host, path] of requestList) {
          expect(backward.match(host, path)).toEqual(forward.match(host, path));
        }
        for (const ingress of ingresses) {
          expect(sortedDiagnostics(backward.diagnostics(ingress.namespace, ingress.name))).toEqual(
            sortedDiagnostics(forward.diagnostics(ingress.namespace, ingress.name)),
          );
        }
      }),
      { numRuns: 200 },
    );
  });
});

/** Few hosts with many paths each, so that hosts hold more than a handful of rules. */
const deepRulePath = fc
  .tuple(fc.array(fc.constantFrom("a", "b", "c", "ab", "~", "%7e"), { minLength: 1, maxLength: 4 }), fc.boolean())
  .map(([segments, trailingSlash]) => `/${segments.join("/")}${trailingSlash ? "/" : ""}`);

const crowdedIngressBody = fc.record({
  rules: fc.array(
    fc.record({
      host: fc.constantFrom(undefined, "foo.com", "*.foo.com"),
      paths: fc.array(
        fc.record({
          path: fc.oneof({ weight: 6, arbitrary: deepRulePath }, { weight: 1, arbitrary: commonRulePath }),
          pathType: fc.constantFrom("Exact", "Prefix", "ImplementationSpecific"),
          missingBackend: fc.constant(false),
        }),
        { minLength: 6, maxLength: 24 },
      ),
    }),
    { minLength: 1, maxLength: 2 },
  ),
  creationTimestamp: fc.option(fc.constantFrom(...TIMESTAMPS), { nil: undefined }),
  hasDefaultBackend: fc.boolean(),
  hasPolicies: fc.boolean(),
});

const crowdedIngressList = fc
  .uniqueArray(fc.tuple(ref, crowdedIngressBody), {
    minLength: 1,
    maxLength: 3,
    selector: ([r]) => `${r.namespace}/${r.name}`,
  })
  .map((entries) => entries.map(([r, body], version) => buildIngress(r, body, version)));

const deepRequestPath = fc
  .tuple(fc.array(fc.constantFrom("a", "b", "c", "ab", "~", "%7E", "d", ".."), { maxLength: 6 }), fc.boolean())
  .map(([segments, trailingSlash]) => normalised(`/${segments.join("/")}${trailingSlash ? "/" : ""}`));

describe("the compiled table agrees with the reference matcher on crowded hosts", () => {
  test("match on hosts with many paths", () => {
    fc.assert(
      fc.property(
        crowdedIngressList,
        fc.array(fc.tuple(fc.constantFrom("foo.com", "x.foo.com", "other.org"), deepRequestPath), { maxLength: 20 }),
        (ingresses, requestList) => {
          const table = compile(ingresses);
          expectAgreesWithReference(table, ingresses, [
            ...requestList,
            ...derivedRequests(ingresses, ["foo.com", "x.foo.com", "other.org"]),
          ]);
        },
      ),
      { numRuns: 150 },
    );
  });
});

type Operation =
  | { kind: "upsert"; ref: IngressRef; body: IngressBody }
  | { kind: "remove"; ref: IngressRef }
  | { kind: "batch"; upserts: Array<[IngressRef, IngressBody]>; removes: IngressRef[] };

const operation: fc.Arbitrary<Operation> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant("upsert" as const), ref, body: ingressBody }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("remove" as const), ref }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("batch" as const),
      upserts: fc.uniqueArray(fc.tuple(ref, ingressBody), {
        maxLength: 3,
        selector: ([r]) => `${r.namespace}/${r.name}`,
      }),
      removes: fc.array(ref, { maxLength: 2 }),
    }),
  },
);

describe("incremental updates", () => {
  test("after every update the table equals the reference and a fresh compile", () => {
    fc.assert(
      fc.property(ingressList, fc.array(operation, { minLength: 1, maxLength: 8 }), requests, (initial, ops, reqs) => {
        const current = new Map<string, Ingress>();
        for (const ingress of initial) current.set(`${ingress.namespace}/${ingress.name}`, ingress);
        let table = compile(initial);
        let version = 100;

        for (const op of ops) {
          const before = table;
          const beforeAnswers = reqs.map(([host, path]) => before.match(host, path));
          const beforeRouteCount = before.routeCount;

          if (op.kind === "upsert") {
            const ingress = buildIngress(op.ref, op.body, version++);
            current.set(`${ingress.namespace}/${ingress.name}`, ingress);
            table = table.update({ upsert: [ingress] });
          } else if (op.kind === "remove") {
            current.delete(`${op.ref.namespace}/${op.ref.name}`);
            table = table.update({ remove: [op.ref] });
          } else {
            // Within one change set the removals are applied to Ingresses not upserted in it.
            const upserted = op.upserts.map(([r, body]) => buildIngress(r, body, version++));
            const upsertedKeys = new Set(upserted.map((i) => `${i.namespace}/${i.name}`));
            const removes = op.removes.filter((r) => !upsertedKeys.has(`${r.namespace}/${r.name}`));
            for (const r of removes) current.delete(`${r.namespace}/${r.name}`);
            for (const i of upserted) current.set(`${i.namespace}/${i.name}`, i);
            table = table.update({ upsert: upserted, remove: removes });
          }

          const ingresses = [...current.values()];
          const requestList = [...reqs, ...derivedRequests(ingresses, DERIVED_HOSTS)];
          expectAgreesWithReference(table, ingresses, requestList);
          expectSameAsFreshCompile(table, compile(ingresses), ingresses, requestList);

          // The previous table did not change.
          expect(before.routeCount).toBe(beforeRouteCount);
          expect(reqs.map(([host, path]) => before.match(host, path))).toEqual(beforeAnswers);
        }
      }),
      { numRuns: 250 },
    );
  });
});
