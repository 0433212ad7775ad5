/**
 * "The obvious hand-written one": a Map from normalised host to that host's
 * rules sorted longest path first (Exact before Prefix at equal length),
 * scanned with plain string comparisons until the first match, which is then
 * the longest. Wildcards by a Map on the domain after the first label, then the
 * host-less list. The host is normalised on every lookup.
 *
 * Kept honest: parallel arrays of primitives, "p/" precomputed for Prefix
 * rules, and a binary search skips rules longer than the request path.
 */
import type { Backend, Ingress } from "../tables.ts";
import {
  ClaimStore,
  dispatcherFor,
  EXACT,
  type HostDispatcher,
  type Peer,
  type Route,
  rebuildHosts,
} from "./common.ts";

interface SortedRules {
  /** Rule path lengths, descending. */
  readonly lengths: Int32Array;
  /** Exact: the path; Prefix: the canonical path. */
  readonly paths: string[];
  /** Prefix: canonical + "/" ("/" for the root prefix); Exact: null. */
  readonly below: (string | null)[];
  readonly backends: Backend[];
}

function sortRules(routes: Route[]): SortedRules {
  routes.sort((a, b) => b.path.length - a.path.length || a.kind - b.kind);
  const lengths = new Int32Array(routes.length);
  const paths: string[] = [];
  const below: (string | null)[] = [];
  const backends: Backend[] = [];
  for (let i = 0; i < routes.length; i++) {
    const r = routes[i] as Route;
    lengths[i] = r.path.length;
    paths.push(r.path);
    below.push(r.kind === EXACT ? null : r.path === "/" ? "/" : `${r.path}/`);
    backends.push(r.backend);
  }
  return { lengths, paths, below, backends };
}

function matchRules(rules: SortedRules, path: string): Backend | null {
  const { lengths, paths, below, backends } = rules;
  const n = path.length;
  // First rule not longer than the path (lengths are descending).
  let lo = 0;
  let hi = lengths.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((lengths[mid] as number) > n) lo = mid + 1;
    else hi = mid;
  }
  for (let i = lo; i < paths.length; i++) {
    if (path === paths[i]) return backends[i] as Backend;
    const b = below[i];
    if (b !== null && b !== undefined && path.startsWith(b)) return backends[i] as Backend;
  }
  return null;
}

let store = new ClaimStore([]);
let hosts: HostDispatcher<SortedRules> = dispatcherFor(store, sortRules);

export const map: Peer = {
  name: "map (hand-written)",
  version: "bench",
  notes:
    "Map host → rules sorted longest first, linear scan with === / startsWith(p + '/'); wildcard by suffix Map; host-less list.",
  updateStrategy: "re-resolves conflicts and re-sorts only the hosts the Ingress had or has.",
  build(ingresses) {
    store = new ClaimStore(ingresses);
    hosts = dispatcherFor(store, sortRules);
  },
  lookup(host, path) {
    const rules = hosts.select(host);
    return rules === undefined ? null : matchRules(rules, path);
  },
  update(ingress: Ingress) {
    rebuildHosts(store, hosts, store.upsert(ingress), sortRules);
  },
};
