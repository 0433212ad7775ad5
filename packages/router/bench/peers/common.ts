/**
 * What every peer shares: the Peer shape, the Ingress → winning-routes step
 * (conflict order as in the spec), the request-host normaliser and the small
 * host dispatcher the path-only routers sit behind.
 *
 * Peers do not validate: every generated table is valid, so they skip the
 * host/path checks and diagnostics that rennet's compile does.
 */
import { readFileSync } from "node:fs";
import type { Backend, Ingress } from "../tables.ts";

export interface Peer {
  readonly name: string;
  readonly version: string;
  /** How Ingress semantics are mapped onto the library, and what it cannot represent. */
  readonly notes: string;
  /** What `update` does for one changed Ingress. */
  readonly updateStrategy: string;
  /** Tables with more path rules are skipped (the reference matcher is slow on purpose). */
  readonly maxRules?: number;
  /** Never measured again when disturbed (too slow to repeat). */
  readonly noRetry?: boolean;
  /** Build the routing structure; replaces the previous one. */
  build(ingresses: readonly Ingress[]): void;
  /** The winning backend for a raw Host header and a normalised path, or null. */
  lookup(host: string, path: string): Backend | null;
  /** Apply one upserted Ingress (same namespace/name as an existing one). */
  update?(ingress: Ingress): void;
}

export const EXACT = 0;
export const PREFIX = 1;

export interface Route {
  readonly kind: typeof EXACT | typeof PREFIX;
  /** Exact: the path; Prefix: trailing slashes removed ("/" stays "/"). */
  readonly path: string;
  readonly backend: Backend;
}

/** Host key: "foo.com", "*.foo.com", or "" for host-less rules. */
export type HostKey = string;

interface Claim extends Route {
  readonly time: number;
  readonly namespace: string;
  readonly name: string;
  readonly rule: number;
  readonly index: number;
}

function timeOf(ts: string | number | undefined): number {
  if (typeof ts === "number") return Number.isFinite(ts) ? ts : Number.POSITIVE_INFINITY;
  if (typeof ts !== "string") return Number.POSITIVE_INFINITY;
  const ms = Date.parse(ts);
  return Number.isNaN(ms) ? Number.POSITIVE_INFINITY : ms;
}

function older(a: Claim, b: Claim): boolean {
  if (a.time !== b.time) return a.time < b.time;
  if (a.namespace !== b.namespace) return a.namespace < b.namespace;
  if (a.name !== b.name) return a.name < b.name;
  if (a.rule !== b.rule) return a.rule < b.rule;
  return a.index < b.index;
}

export function canonicalPrefix(path: string): string {
  let end = path.length;
  while (end > 1 && path.charCodeAt(end - 1) === 47) end--;
  return end === path.length ? path : path.slice(0, end);
}

function claimsOf(ingress: Ingress): Map<HostKey, Claim[]> {
  const byHost = new Map<HostKey, Claim[]>();
  const time = timeOf(ingress.creationTimestamp);
  const rules = ingress.rules ?? [];
  for (let r = 0; r < rules.length; r++) {
    const rule = rules[r];
    const paths = rule?.http?.paths;
    if (rule === undefined || paths === undefined) continue;
    const key = (rule.host ?? "").toLowerCase();
    let list = byHost.get(key);
    if (list === undefined) {
      list = [];
      byHost.set(key, list);
    }
    for (let i = 0; i < paths.length; i++) {
      const p = paths[i];
      if (p === undefined) continue;
      const exact = p.pathType === "Exact";
      const written = p.path === undefined || p.path === "" ? "/" : p.path;
      list.push({
        kind: exact ? EXACT : PREFIX,
        path: exact ? written : canonicalPrefix(written),
        backend: p.backend,
        time,
        namespace: ingress.namespace,
        name: ingress.name,
        rule: r,
        index: i,
      });
    }
  }
  return byHost;
}

/**
 * Every claim of every Ingress, grouped by host key, with the conflict winners
 * of a host computed on demand. `upsert` replaces one Ingress and says which
 * host keys it touched, so a peer can rebuild just those.
 */
export class ClaimStore {
  readonly #byHost = new Map<HostKey, Claim[]>();
  readonly #hostsOf = new Map<string, HostKey[]>();

  constructor(ingresses: readonly Ingress[]) {
    for (const ing of ingresses) this.#add(ing);
  }

  #add(ingress: Ingress): HostKey[] {
    const keys: HostKey[] = [];
    for (const [key, claims] of claimsOf(ingress)) {
      const list = this.#byHost.get(key);
      if (list === undefined) this.#byHost.set(key, claims);
      else for (const c of claims) list.push(c);
      keys.push(key);
    }
    this.#hostsOf.set(`${ingress.namespace}/${ingress.name}`, keys);
    return keys;
  }

  /** Replaces the Ingress with the same namespace/name; returns the host keys it had or has. */
  upsert(ingress: Ingress): Set<HostKey> {
    const id = `${ingress.namespace}/${ingress.name}`;
    const touched = new Set<HostKey>(this.#hostsOf.get(id));
    for (const key of touched) {
      const kept = (this.#byHost.get(key) ?? []).filter(
        (c) => c.namespace !== ingress.namespace || c.name !== ingress.name,
      );
      if (kept.length === 0) this.#byHost.delete(key);
      else this.#byHost.set(key, kept);
    }
    for (const key of this.#add(ingress)) touched.add(key);
    return touched;
  }

  hostKeys(): IterableIterator<HostKey> {
    return this.#byHost.keys();
  }

  /** The routes that win their (kind, path) slot in this host, in no particular order. */
  winners(key: HostKey): Route[] {
    const claims = this.#byHost.get(key);
    if (claims === undefined) return [];
    const slots = new Map<string, Claim>();
    for (const c of claims) {
      const slot = c.kind === EXACT ? `=${c.path}` : `^${c.path}`;
      const current = slots.get(slot);
      if (current === undefined || older(c, current)) slots.set(slot, c);
    }
    const out: Route[] = [];
    for (const c of slots.values()) out.push({ kind: c.kind, path: c.path, backend: c.backend });
    return out;
  }
}

/** Lower-case, strip ":port" (keeping "[v6]" whole), strip one trailing dot. Run on every lookup. */
export function normalizeHost(raw: string): string {
  let h = raw.toLowerCase();
  if (h.charCodeAt(0) === 91) {
    const close = h.indexOf("]");
    if (close !== -1) h = h.slice(0, close + 1);
  } else {
    const colon = h.indexOf(":");
    if (colon !== -1) h = h.slice(0, colon);
  }
  if (h.charCodeAt(h.length - 1) === 46) h = h.slice(0, -1);
  return h;
}

/**
 * The virtual-host selection of the spec, shared by the path-only peers:
 * exact host Map, then wildcard by the domain after the first label, then the
 * host-less value. No fall-through once a virtual host is chosen.
 */
export class HostDispatcher<T> {
  readonly exact = new Map<string, T>();
  /** "foo.com" → the value of "*.foo.com". */
  readonly wildcard = new Map<string, T>();
  any: T | undefined = undefined;

  set(key: HostKey, value: T | undefined): void {
    if (key === "") this.any = value;
    else if (key.startsWith("*.")) {
      if (value === undefined) this.wildcard.delete(key.slice(2));
      else this.wildcard.set(key.slice(2), value);
    } else if (value === undefined) this.exact.delete(key);
    else this.exact.set(key, value);
  }

  get(key: HostKey): T | undefined {
    if (key === "") return this.any;
    if (key.startsWith("*.")) return this.wildcard.get(key.slice(2));
    return this.exact.get(key);
  }

  select(rawHost: string): T | undefined {
    const h = normalizeHost(rawHost);
    const e = this.exact.get(h);
    if (e !== undefined) return e;
    const dot = h.indexOf(".");
    if (dot > 0) {
      const w = this.wildcard.get(h.slice(dot + 1));
      if (w !== undefined) return w;
    }
    return this.any;
  }
}

/**
 * Builds one value per host key with `make` (undefined for a host left
 * without routes) and keeps the dispatcher in step on updates.
 */
export function dispatcherFor<T>(store: ClaimStore, make: (routes: Route[]) => T): HostDispatcher<T> {
  const d = new HostDispatcher<T>();
  for (const key of store.hostKeys()) {
    const routes = store.winners(key);
    if (routes.length > 0) d.set(key, make(routes));
  }
  return d;
}

export function rebuildHosts<T>(
  store: ClaimStore,
  d: HostDispatcher<T>,
  keys: Iterable<HostKey>,
  make: (routes: Route[]) => T,
): void {
  for (const key of keys) {
    const routes = store.winners(key);
    d.set(key, routes.length > 0 ? make(routes) : undefined);
  }
}

/**
 * Static and catch-all registrations for routers with "/p" plus "/p/*" style
 * wildcards: a Prefix "/p" is the static "/p" (unless an Exact "/p" takes it,
 * which wins at equal length) and the catch-all below "/p"; Prefix "/" is a
 * catch-all of everything. Keyed "=path" / "*path" for diffs.
 */
export interface Unit {
  readonly pattern: string;
  readonly backend: Backend;
}

export function unitsOf(routes: readonly Route[], wildcardSuffix: string): Map<string, Unit> {
  const units = new Map<string, Unit>();
  for (const r of routes) {
    if (r.kind === EXACT) units.set(`=${r.path}`, { pattern: r.path, backend: r.backend });
  }
  for (const r of routes) {
    if (r.kind !== PREFIX) continue;
    if (r.path === "/") {
      units.set("*/", { pattern: `/${wildcardSuffix}`, backend: r.backend });
      continue;
    }
    if (!units.has(`=${r.path}`)) units.set(`=${r.path}`, { pattern: r.path, backend: r.backend });
    units.set(`*${r.path}`, { pattern: `${r.path}/${wildcardSuffix}`, backend: r.backend });
  }
  return units;
}

/** Specificity of a route for routers that return every match: longer wins, Exact over Prefix at equal length. */
export function priority(r: Route): number {
  return r.path.length * 2 + (r.kind === EXACT ? 1 : 0);
}

/** The installed version of a dependency of @rennet/router (or of the router itself for "@rennet/router"). */
export function packageVersion(name: string): string {
  const url =
    name === "@rennet/router"
      ? new URL("../../package.json", import.meta.url)
      : new URL(`../../node_modules/${name}/package.json`, import.meta.url);
  return (JSON.parse(readFileSync(url, "utf8")) as { version: string }).version;
}
