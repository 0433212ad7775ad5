/**
 * The fixed lookup workload of a table: a few thousand (host, path) requests,
 * generated deterministically from the table's rules, in a shuffled mix of
 * kinds (see KIND_WEIGHTS). A small share of hosts carry ":port", upper case
 * or a trailing dot. Paths are already normalised (as `normalizePath` returns
 * them), because that is what `match` takes.
 */
import { Rng } from "./rng.ts";
import type { BenchTable } from "./tables.ts";

export const WORKLOAD_SIZE = 4096;

/** Share of each kind of request (renormalised over the kinds a table can produce). */
export const KIND_WEIGHTS = {
  /** An Exact rule's path on its host. */
  "exact-hit": 16,
  /** A Prefix rule's path itself. */
  "prefix-hit": 10,
  /** 1–4 segments below a Prefix rule. */
  "deep-subpath": 20,
  /** A rule's path plus "/". */
  "trailing-slash": 8,
  /** A rule of a wildcard host, on a random one-label subdomain. */
  "wildcard-hit": 12,
  /** Unknown host, a wildcard's bare domain, or two labels under a wildcard. */
  "host-miss": 8,
  /** "/aaa" as "/aaaccc": a string prefix that is not a segment prefix. */
  "segment-miss": 12,
  /** A known host with a path no rule has. */
  "path-miss": 6,
  /** A known exact host with a path that only a host-less or wildcard rule has: no fall-through. */
  "other-vhost-path": 4,
} as const;

export type RequestKind = keyof typeof KIND_WEIGHTS;

export interface Workload {
  readonly hosts: readonly string[];
  readonly paths: readonly string[];
  readonly kinds: readonly RequestKind[];
  /** True where the host was given ":port", upper case or a trailing dot. */
  readonly hostVariant: readonly boolean[];
  readonly counts: Readonly<Record<string, number>>;
}

interface RulePath {
  host: string | null;
  pathType: string;
  canonical: string;
}

function canonical(path: string, pathType: string): string {
  if (pathType === "Exact") return path;
  let c = path;
  while (c.length > 1 && c.endsWith("/")) c = c.slice(0, -1);
  return c;
}

function collect(table: BenchTable): RulePath[] {
  const out: RulePath[] = [];
  for (const ing of table.ingresses) {
    for (const rule of ing.rules ?? []) {
      for (const p of rule.http?.paths ?? []) {
        const path = p.path ?? "/";
        out.push({ host: rule.host ?? null, pathType: p.pathType, canonical: canonical(path, p.pathType) });
      }
    }
  }
  return out;
}

const LABELS = ["a", "www", "api", "tenant-7", "x1", "eu", "us-east", "m", "beta", "shop"];

function requestHost(rng: Rng, ruleHost: string | null, hostless: readonly string[]): string {
  if (ruleHost === null) return hostless.length > 0 ? rng.pick(hostless) : "unknown.example.org";
  if (ruleHost.startsWith("*.")) return `${rng.pick(LABELS)}${rng.int(1000)}.${ruleHost.slice(2)}`;
  return ruleHost;
}

function subpath(rng: Rng, base: string): string {
  const depth = rng.range(1, 4);
  let p = base === "/" ? "" : base;
  for (let i = 0; i < depth; i++) p += `/${rng.pick(["x", "item", "42", "a-b", "deep", "v1", "index.html"])}`;
  return rng.chance(0.3) ? `${p}/` : p;
}

function withSlash(path: string): string {
  return path.endsWith("/") ? path : `${path}/`;
}

function hostForm(rng: Rng, host: string): string {
  const r = rng.next();
  if (r < 0.35) return host.toUpperCase();
  if (r < 0.7) return `${host}:${rng.pick(["80", "443", "8080"])}`;
  if (r < 0.85) return `${host.charAt(0).toUpperCase()}${host.slice(1)}:8443`;
  return `${host}.`;
}

export function makeWorkload(table: BenchTable, size = WORKLOAD_SIZE): Workload {
  const rng = new Rng(`workload/${table.id}`);
  const rules = collect(table);
  const exact = rules.filter((r) => r.pathType === "Exact" && r.host !== null);
  const prefix = rules.filter((r) => r.pathType !== "Exact" && r.host !== null);
  const wildcard = rules.filter((r) => r.host?.startsWith("*.") === true);
  const prefixNotRoot = prefix.filter((r) => r.canonical !== "/");
  const withHost = rules.filter((r) => r.host !== null);
  const hostlessRules = rules.filter((r) => r.host === null);
  const wildcardDomains = [...new Set(wildcard.map((r) => (r.host as string).slice(2)))];
  // Hosts that route only through host-less rules.
  const strangers = ["unknown.example.org", "localhost", "10.0.0.7", "nope.invalid"];

  const weights: Record<string, number> = { ...KIND_WEIGHTS };
  if (exact.length === 0) delete weights["exact-hit"];
  if (prefix.length === 0) {
    delete weights["prefix-hit"];
    delete weights["deep-subpath"];
  }
  if (prefixNotRoot.length === 0) delete weights["segment-miss"];
  if (wildcard.length === 0) delete weights["wildcard-hit"];
  const exactHosts = [...new Set(withHost.map((r) => r.host as string).filter((h) => !h.startsWith("*.")))];
  const exactHostSet = new Set(exactHosts);
  // Rules of "*.foo.com" where "www.foo.com" is an exact host of its own.
  const wildcardShadowed = wildcard.filter((r) => exactHostSet.has(`www.${(r.host as string).slice(2)}`));
  if (exactHosts.length === 0 || (hostlessRules.length === 0 && wildcardShadowed.length === 0)) {
    delete weights["other-vhost-path"];
  }

  const hosts: string[] = [];
  const paths: string[] = [];
  const kinds: RequestKind[] = [];
  const hostVariant: boolean[] = [];
  const counts: Record<string, number> = {};

  for (let i = 0; i < size; i++) {
    const kind = rng.weighted(weights) as RequestKind;
    let host: string;
    let path: string;
    switch (kind) {
      case "exact-hit": {
        const r = rng.pick(exact);
        host = requestHost(rng, r.host, strangers);
        path = r.canonical;
        break;
      }
      case "prefix-hit": {
        const r = rng.pick(prefix);
        host = requestHost(rng, r.host, strangers);
        path = r.canonical;
        break;
      }
      case "deep-subpath": {
        const r = rng.pick(prefix);
        host = requestHost(rng, r.host, strangers);
        path = subpath(rng, r.canonical);
        break;
      }
      case "trailing-slash": {
        const r = rng.pick(withHost);
        host = requestHost(rng, r.host, strangers);
        path = withSlash(r.canonical);
        break;
      }
      case "wildcard-hit": {
        const r = rng.pick(wildcard);
        host = requestHost(rng, r.host, strangers);
        const sub = rng.next();
        path = sub < 0.4 ? r.canonical : sub < 0.8 ? subpath(rng, r.canonical) : withSlash(r.canonical);
        break;
      }
      case "host-miss": {
        const sub = rng.next();
        if (wildcardDomains.length > 0 && sub < 0.25) host = rng.pick(wildcardDomains);
        else if (wildcardDomains.length > 0 && sub < 0.5) host = `a.b.${rng.pick(wildcardDomains)}`;
        else host = rng.pick(strangers);
        // Half of them on a host-less rule's path, the rest on any rule's path.
        const r = hostlessRules.length > 0 && rng.chance(0.5) ? rng.pick(hostlessRules) : rng.pick(rules);
        path = rng.chance(0.5) ? r.canonical : subpath(rng, r.canonical);
        break;
      }
      case "segment-miss": {
        const r = rng.pick(prefixNotRoot);
        host = requestHost(rng, r.host, strangers);
        path = `${r.canonical}${rng.pick(["ccc", "s", "-x", "2"])}`;
        break;
      }
      case "other-vhost-path": {
        // A host-less rule's path on some exact host, or a wildcard rule's path on an exact host under it.
        const shadowed = wildcardShadowed.length > 0 && (hostlessRules.length === 0 || rng.chance(0.5));
        const r = shadowed ? rng.pick(wildcardShadowed) : rng.pick(hostlessRules);
        host = shadowed ? `www.${(r.host as string).slice(2)}` : rng.pick(exactHosts);
        path = rng.chance(0.7) ? r.canonical : subpath(rng, r.canonical);
        break;
      }
      default: {
        const r = rng.pick(withHost);
        host = requestHost(rng, r.host, strangers);
        path = `/zz-${rng.int(1_000_000).toString(36)}/${rng.pick(["a", "b", "c"])}`;
        break;
      }
    }
    const variant = rng.chance(0.06);
    hosts.push(variant ? hostForm(rng, host) : host);
    paths.push(path);
    kinds.push(kind);
    hostVariant.push(variant);
    counts[kind] = (counts[kind] ?? 0) + 1;
  }
  counts["host-variant"] = hostVariant.filter(Boolean).length;
  return { hosts, paths, kinds, hostVariant, counts };
}
