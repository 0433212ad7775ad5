/**
 * Deterministic routing tables, generated from a seeded PRNG.
 *
 * Shape A, "many hosts": exact and wildcard hosts (about 80/20), 1–6 paths per
 * host, Prefix and Exact mixed, 1–4 segments, one Ingress per host with some
 * hosts split across two Ingresses (a few of those claim the same path twice,
 * which the creationTimestamp order resolves), plus one host-less Ingress.
 *
 * Shape B, "API gateway": a few hosts with many paths each, every host's paths
 * spread over Ingresses of ten paths (one per service).
 *
 * Backends are unique strings, so a backend identifies the path rule that won.
 */
import type { IngressInput, IngressPath, IngressRule } from "../src/types.ts";
import { Rng } from "./rng.ts";

export type Backend = string;
export type Ingress = IngressInput<Backend>;

export interface BenchTable {
  readonly id: string;
  readonly shape: "A" | "B";
  readonly description: string;
  readonly ingresses: readonly Ingress[];
  /** Path rules in the input, conflict losers included. */
  readonly ruleCount: number;
  readonly hostCount: number;
}

export interface TableSpec {
  readonly id: string;
  readonly shape: "A" | "B";
  readonly make: () => BenchTable;
}

const WORDS = [
  "api",
  "app",
  "apps",
  "auth",
  "blog",
  "cart",
  "cdn",
  "docs",
  "shop",
  "static",
  "assets",
  "img",
  "media",
  "users",
  "user",
  "orders",
  "order",
  "items",
  "search",
  "admin",
  "login",
  "logout",
  "account",
  "billing",
  "invoices",
  "metrics",
  "health",
  "status",
  "graphql",
  "rest",
  "v1",
  "v2",
  "v3",
  "beta",
  "public",
  "private",
  "files",
  "upload",
  "download",
  "reports",
  "events",
  "feed",
  "news",
  "help",
  "support",
  "catalog",
  "products",
  "product",
  "checkout",
  "payments",
  "webhooks",
  "hooks",
  "socket",
  "ws",
  "internal",
  "export",
  "import",
  "settings",
  "profile",
  "team",
];
const DOMAINS = ["example", "corp", "shop", "cloud", "acme", "internal"];
const TLDS = ["com", "net", "io", "dev", "org"];

let backendCounter = 0;
function backend(): Backend {
  backendCounter += 1;
  return `b${backendCounter.toString(36)}`;
}

function timestamp(rng: Rng): string {
  // Somewhere in 2023–2025, second precision, like metadata.creationTimestamp.
  const ms = Date.UTC(2023, 0, 1) + rng.int(3 * 365 * 86_400) * 1000;
  return new Date(ms).toISOString().replace(".000Z", "Z");
}

function segment(rng: Rng): string {
  const r = rng.next();
  if (r < 0.75) return rng.pick(WORDS);
  if (r < 0.9) return `${rng.pick(WORDS)}-${rng.int(100)}`;
  return rng.int(100_000).toString(36);
}

interface PathDraft {
  path: string;
  pathType: "Exact" | "Prefix";
}

function canonicalOf(draft: PathDraft): string {
  if (draft.pathType === "Exact") return draft.path;
  let c = draft.path;
  while (c.length > 1 && c.endsWith("/")) c = c.slice(0, -1);
  return c;
}

/**
 * `count` distinct path rules for one host: fresh paths, paths nested under an
 * earlier one (so longest-match matters) and string-prefix siblings ("/app" and
 * "/apps", so segment boundaries matter).
 */
function hostPaths(rng: Rng, count: number, root?: string): PathDraft[] {
  const drafts: PathDraft[] = [];
  const seen = new Set<string>();
  let attempts = 0;
  while (drafts.length < count && attempts < count * 20) {
    attempts += 1;
    const pathType = rng.chance(0.6) ? "Prefix" : "Exact";
    let path: string;
    const base = drafts.length > 0 ? rng.pick(drafts) : undefined;
    const r = rng.next();
    // Without the trailing slash an Exact rule may have been written with.
    const stem = base === undefined ? "/" : base.path.replace(/\/+$/, "") || "/";
    if (base !== undefined && r < 0.35 && stem.split("/").length <= 4) {
      path = `${stem === "/" ? "" : stem}/${segment(rng)}`;
    } else if (base !== undefined && r < 0.45 && stem !== "/") {
      path = `${stem}${rng.pick(["s", "x", "-v2", "ccc", "2"])}`;
    } else {
      const depth = rng.range(1, 4);
      const segments: string[] = root === undefined ? [] : [root];
      while (segments.length < depth) segments.push(segment(rng));
      path = `/${segments.join("/")}`;
    }
    if (pathType === "Prefix" && rng.chance(0.03)) path += "/";
    if (pathType === "Exact" && rng.chance(0.02)) path += "/";
    const draft: PathDraft = { path, pathType };
    const slot = `${pathType}:${canonicalOf(draft)}`;
    if (seen.has(slot)) continue;
    seen.add(slot);
    drafts.push(draft);
  }
  return drafts;
}

function toPaths(drafts: readonly PathDraft[]): IngressPath<Backend>[] {
  return drafts.map((d) => ({ path: d.path, pathType: d.pathType, backend: backend() }));
}

function ingress(namespace: string, name: string, creationTimestamp: string, rules: IngressRule<Backend>[]): Ingress {
  return { namespace, name, creationTimestamp, rules };
}

function hostlessIngress(rng: Rng, count: number): Ingress {
  const fixed: PathDraft[] = [
    { path: "/healthz", pathType: "Exact" },
    { path: "/.well-known/acme-challenge", pathType: "Prefix" },
    { path: "/static", pathType: "Prefix" },
    { path: "/robots.txt", pathType: "Exact" },
  ];
  const drafts = fixed.slice(0, count);
  if (drafts.length < count) drafts.push(...hostPaths(rng, count - drafts.length, "shared"));
  return ingress("ingress-system", "fallback", "2022-06-01T00:00:00Z", [{ http: { paths: toPaths(drafts) } }]);
}

/** Shape A: many hosts, few paths each; exactly `rules` path rules. */
export function manyHosts(rules: number): BenchTable {
  const rng = new Rng(`tables/A/${rules}`);
  backendCounter = 0;
  const ingresses: Ingress[] = [];
  const hostlessCount = Math.min(20, Math.max(1, Math.round(rules / 500)));
  ingresses.push(hostlessIngress(rng, hostlessCount));
  let remaining = rules - hostlessCount;
  let hostCount = 0;
  const pendingWww: string[] = [];

  while (remaining > 0) {
    const i = hostCount;
    hostCount += 1;
    let host: string;
    const www = pendingWww.length > 0 && rng.chance(0.5) ? pendingWww.pop() : undefined;
    if (www !== undefined) {
      // An exact host under a wildcard: the exact one must win for it.
      host = `www.${www}`;
    } else if (rng.chance(0.2)) {
      const suffix = `${rng.pick(WORDS)}-${i.toString(36)}.${rng.pick(DOMAINS)}.${rng.pick(TLDS)}`;
      host = `*.${suffix}`;
      if (rng.chance(0.3)) pendingWww.push(suffix);
    } else {
      host = `${rng.pick(WORDS)}-${i.toString(36)}.${rng.pick(DOMAINS)}.${rng.pick(TLDS)}`;
    }
    const wanted = Math.min(rng.range(1, 6), remaining);
    const drafts = hostPaths(rng, wanted);
    const namespace = `team-${rng.int(40)}`;
    const label = host.startsWith("*.") ? `wildcard-${i.toString(36)}` : `host-${i.toString(36)}`;
    const created = timestamp(rng);

    if (drafts.length >= 2 && rng.chance(0.12)) {
      // The host's paths split across two Ingresses, sometimes in another namespace.
      const cut = rng.range(1, drafts.length - 1);
      const first = drafts.slice(0, cut);
      const second = drafts.slice(cut);
      let extra = 0;
      if (remaining - drafts.length >= 1 && rng.chance(0.25)) {
        // A conflicting duplicate: the second Ingress claims one of the first's paths too.
        second.push({ ...rng.pick(first) });
        extra = 1;
      }
      const otherNamespace = rng.chance(0.5) ? namespace : `team-${rng.int(40)}`;
      const otherCreated = rng.chance(0.5) ? created : timestamp(rng);
      ingresses.push(ingress(namespace, label, created, [{ host, http: { paths: toPaths(first) } }]));
      ingresses.push(
        ingress(otherNamespace, `${label}-extra`, otherCreated, [{ host, http: { paths: toPaths(second) } }]),
      );
      remaining -= drafts.length + extra;
    } else {
      ingresses.push(ingress(namespace, label, created, [{ host, http: { paths: toPaths(drafts) } }]));
      remaining -= drafts.length;
    }
  }
  return {
    id: `A-${sizeLabel(rules)}`,
    shape: "A",
    description: `many hosts: ${hostCount} hosts, ${rules} path rules`,
    ingresses,
    ruleCount: countRules(ingresses),
    hostCount,
  };
}

/** Shape B: `hosts` hosts with `pathsPerHost` paths each, one Ingress per service of ten paths. */
export function apiGateway(hosts: number, pathsPerHost: number): BenchTable {
  const rng = new Rng(`tables/B/${hosts}x${pathsPerHost}`);
  backendCounter = 0;
  const ingresses: Ingress[] = [];
  for (let h = 0; h < hosts; h++) {
    const host = `api-${h}.gateway.example.com`;
    const services = Math.ceil(pathsPerHost / 10);
    let left = pathsPerHost;
    for (let s = 0; s < services; s++) {
      const service = `${rng.pick(WORDS)}${s.toString(36)}`;
      const count = Math.min(10, left);
      left -= count;
      // Every service lives under its own first segment, sometimes behind /api/vN.
      const root = rng.chance(0.5) ? service : `api/v${rng.range(1, 3)}/${service}`;
      const drafts = hostPaths(rng, count, root);
      ingresses.push(
        ingress(`svc-${s % 50}`, `${service}-h${h}`, timestamp(rng), [{ host, http: { paths: toPaths(drafts) } }]),
      );
    }
  }
  return {
    id: `B-${hosts}x${sizeLabel(pathsPerHost)}`,
    shape: "B",
    description: `API gateway: ${hosts} hosts x ${pathsPerHost} paths`,
    ingresses,
    ruleCount: countRules(ingresses),
    hostCount: hosts,
  };
}

function countRules(ingresses: readonly Ingress[]): number {
  let n = 0;
  for (const ing of ingresses) for (const rule of ing.rules ?? []) n += rule.http?.paths.length ?? 0;
  return n;
}

export function sizeLabel(n: number): string {
  return n >= 1000 && n % 1000 === 0 ? `${n / 1000}k` : String(n);
}

export const TABLES: readonly TableSpec[] = [
  { id: "A-10", shape: "A", make: () => manyHosts(10) },
  { id: "A-1k", shape: "A", make: () => manyHosts(1_000) },
  { id: "A-10k", shape: "A", make: () => manyHosts(10_000) },
  { id: "A-100k", shape: "A", make: () => manyHosts(100_000) },
  { id: "B-10x1k", shape: "B", make: () => apiGateway(10, 1_000) },
  { id: "B-10x10k", shape: "B", make: () => apiGateway(10, 10_000) },
];

export function tableSpec(id: string): TableSpec {
  const spec = TABLES.find((t) => t.id === id);
  if (spec === undefined) throw new Error(`unknown table ${id}; known: ${TABLES.map((t) => t.id).join(", ")}`);
  return spec;
}
