import {
  type Claim,
  compareClaims,
  compareRecords,
  compileIngress,
  type IngressRecord,
  ingressKey,
} from "./ingress-record.js";
import { LayeredMap } from "./layered-map.js";
import { normalizeHost } from "./request-host.js";
import { ShardedMap } from "./sharded-map.js";
import type {
  DefaultBackendRoute,
  Diagnostic,
  IngressInput,
  IngressRef,
  RouteMatch,
  RouteTable,
  TableChanges,
} from "./types.js";
import { VirtualHost } from "./virtual-host.js";

interface TableState<B, P> {
  readonly records: ShardedMap<IngressRecord<B, P>>;
  /** Exact host → its virtual host. */
  readonly exactHosts: LayeredMap<VirtualHost<B, P>>;
  /** "foo.com" → the virtual host of "*.foo.com". */
  readonly wildcardHosts: LayeredMap<VirtualHost<B, P>>;
  /** Rules without host. */
  readonly anyHost: VirtualHost<B, P> | null;
  /** Ingresses with a spec.defaultBackend, oldest first; the first one serves. */
  readonly defaultCandidates: readonly IngressRecord<B, P>[];
  readonly routeCount: number;
  /** Ingresses with validation problems, and virtual hosts with lost conflicts: where diagnostics are. */
  readonly flaggedRecords: ShardedMap<IngressRecord<B, P>>;
  readonly conflictHosts: ShardedMap<VirtualHost<B, P>>;
}

const WILDCARD_PREFIX = "*.";

function describeHost(hostKey: string): string {
  return hostKey === "" ? "every host" : `host "${hostKey}"`;
}

function groupClaims<B, P>(records: Iterable<IngressRecord<B, P>>): Map<string, Claim<B, P>[]> {
  const byHost = new Map<string, Claim<B, P>[]>();
  for (const record of records) {
    for (const claim of record.claims) {
      const list = byHost.get(claim.hostKey);
      if (list === undefined) byHost.set(claim.hostKey, [claim]);
      else list.push(claim);
    }
  }
  for (const list of byHost.values()) list.sort(compareClaims);
  return byHost;
}

class CompiledTable<B, P> implements RouteTable<B, P> {
  readonly #state: TableState<B, P>;
  private readonly exactHosts: LayeredMap<VirtualHost<B, P>>;
  private readonly wildcardHosts: LayeredMap<VirtualHost<B, P>>;
  private readonly anyHost: VirtualHost<B, P> | null;
  readonly defaultBackend: DefaultBackendRoute<B, P> | null;

  constructor(state: TableState<B, P>) {
    this.#state = state;
    this.exactHosts = state.exactHosts;
    this.wildcardHosts = state.wildcardHosts;
    this.anyHost = state.anyHost;
    this.defaultBackend = state.defaultCandidates[0]?.defaultBackend ?? null;
  }

  match(host: string, path: string): RouteMatch<B, P> | null {
    // The raw header is tried first: it already is the key in the common case.
    const vhost = this.exactHosts.get(host) ?? this.findVirtualHost(host);
    return vhost === undefined ? null : vhost.matcher.match(path);
  }

  private findVirtualHost(raw: string): VirtualHost<B, P> | undefined {
    const host = normalizeHost(raw);
    if (host !== raw) {
      const exact = this.exactHosts.get(host);
      if (exact !== undefined) return exact;
    }
    if (this.wildcardHosts.size > 0) {
      const dot = host.indexOf(".");
      if (dot > 0) {
        const wildcard = this.wildcardHosts.get(host.slice(dot + 1));
        if (wildcard !== undefined) return wildcard;
      }
    }
    return this.anyHost ?? undefined;
  }

  get ingressCount(): number {
    return this.#state.records.size;
  }

  get routeCount(): number {
    return this.#state.routeCount;
  }

  get(namespace: string, name: string): IngressInput<B, P> | undefined {
    return this.#state.records.get(ingressKey(namespace, name))?.input;
  }

  isServing(namespace: string, name: string): boolean {
    const record = this.#state.records.get(ingressKey(namespace, name));
    if (record === undefined) return false;
    if (this.defaultBackend !== null && this.defaultBackend.ingress === record.ref) return true;
    return record.claims.some((claim) => !this.virtualHost(claim.hostKey)?.lostClaims.has(claim));
  }

  *ingresses(): IterableIterator<IngressInput<B, P>> {
    for (const record of this.#state.records.values()) yield record.input;
  }

  private virtualHost(hostKey: string): VirtualHost<B, P> | undefined {
    if (hostKey === "") return this.anyHost ?? undefined;
    if (hostKey.startsWith(WILDCARD_PREFIX)) return this.wildcardHosts.get(hostKey.slice(WILDCARD_PREFIX.length));
    return this.exactHosts.get(hostKey);
  }

  diagnostics(namespace: string, name: string): readonly Diagnostic[] {
    const record = this.#state.records.get(ingressKey(namespace, name));
    return record === undefined ? [] : this.diagnosticsOf(record);
  }

  private diagnosticsOf(record: IngressRecord<B, P>): Diagnostic[] {
    const found: Diagnostic[] = [...record.problems];
    for (const hostKey of record.hostKeys) {
      for (const { claim, winner } of this.virtualHost(hostKey)?.losers ?? []) {
        if (claim.record !== record) continue;
        const by =
          winner === record.ref
            ? "an earlier path of this Ingress"
            : `${winner.namespace}/${winner.name}, which is older or sorts first`;
        found.push({
          code: "path-conflict",
          message:
            `rules[${claim.rule}].http.paths[${claim.pathIndex}]: ${claim.route.pathType} path "${claim.route.path}" ` +
            `on ${describeHost(hostKey)} is already served by ${by}; it is not served`,
          rule: claim.rule,
          pathIndex: claim.pathIndex,
          winner,
        });
      }
    }
    const served = this.defaultBackend;
    if (record.defaultBackend !== null && served !== null && served.ingress !== record.ref) {
      found.push({
        code: "default-backend-conflict",
        message: `spec.defaultBackend is not used: ${served.ingress.namespace}/${served.ingress.name} is older or sorts first and provides the default backend`,
        winner: served.ingress,
      });
    }
    return found;
  }

  allDiagnostics(): Array<{ ingress: IngressRef; diagnostics: readonly Diagnostic[] }> {
    // Only where diagnostics can be: O(problems), not O(table).
    const state = this.#state;
    const candidates = new Set<IngressRecord<B, P>>(state.flaggedRecords.values());
    for (const vhost of state.conflictHosts.values())
      for (const lost of vhost.losers) candidates.add(lost.claim.record);
    for (const record of state.defaultCandidates.slice(1)) candidates.add(record);
    const all: Array<{ ingress: IngressRef; diagnostics: readonly Diagnostic[] }> = [];
    for (const record of candidates) {
      const diagnostics = this.diagnosticsOf(record);
      if (diagnostics.length > 0) all.push({ ingress: record.ref, diagnostics });
    }
    return all.sort((a, b) => compareRefs(a.ingress, b.ingress));
  }

  routes(): RouteMatch<B, P>[] {
    const hosts: VirtualHost<B, P>[] = [...this.exactHosts.values(), ...this.wildcardHosts.values()];
    if (this.anyHost !== null) hosts.push(this.anyHost);
    hosts.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const routes: RouteMatch<B, P>[] = [];
    for (const vhost of hosts) {
      const winners = vhost.claims.filter((claim) => !vhost.lostClaims.has(claim));
      winners.sort((a, b) => b.match.length - a.match.length || Number(b.exact) - Number(a.exact));
      for (const claim of winners) routes.push(claim.route);
    }
    return routes;
  }

  update(changes: TableChanges<B, P>): RouteTable<B, P> {
    return new CompiledTable(applyChanges(this.#state, changes));
  }
}

function compareRefs(a: IngressRef, b: IngressRef): number {
  const left = ingressKey(a.namespace, a.name);
  const right = ingressKey(b.namespace, b.name);
  return left < right ? -1 : left > right ? 1 : 0;
}

function splitHostMaps<B, P>(vhosts: Iterable<VirtualHost<B, P>>) {
  const exact: Array<[string, VirtualHost<B, P>]> = [];
  const wildcard: Array<[string, VirtualHost<B, P>]> = [];
  let any: VirtualHost<B, P> | null = null;
  for (const vhost of vhosts) {
    if (vhost.key === "") any = vhost;
    else if (vhost.key.startsWith(WILDCARD_PREFIX)) wildcard.push([vhost.key.slice(WILDCARD_PREFIX.length), vhost]);
    else exact.push([vhost.key, vhost]);
  }
  return { exact, wildcard, any };
}

function defaultCandidatesOf<B, P>(records: Iterable<IngressRecord<B, P>>): IngressRecord<B, P>[] {
  return [...records].filter((record) => record.defaultBackend !== null).sort(compareRecords);
}

/** Compiles Ingresses into an immutable table. Never throws on bad input; see `diagnostics`. */
export function compile<B = unknown, P = unknown>(ingresses: Iterable<IngressInput<B, P>>): RouteTable<B, P> {
  const records = new Map<string, IngressRecord<B, P>>();
  for (const input of ingresses) {
    const record = compileIngress(input);
    records.set(record.key, record);
  }
  const vhosts = Array.from(groupClaims(records.values()), ([key, claims]) => new VirtualHost(key, claims));
  const { exact, wildcard, any } = splitHostMaps(vhosts);
  let routeCount = 0;
  for (const vhost of vhosts) routeCount += vhost.routeCount;
  return new CompiledTable({
    records: ShardedMap.from(records),
    exactHosts: LayeredMap.from(exact),
    wildcardHosts: LayeredMap.from(wildcard),
    anyHost: any,
    defaultCandidates: defaultCandidatesOf(records.values()),
    routeCount,
    flaggedRecords: ShardedMap.from([...records].filter(([, record]) => record.problems.length > 0)),
    conflictHosts: ShardedMap.from(
      vhosts.filter((vhost) => vhost.losers.length > 0).map((vhost) => [vhost.key, vhost]),
    ),
  });
}

/** Removals apply first, then upserts; only the virtual hosts they touch are rebuilt. */
function applyChanges<B, P>(state: TableState<B, P>, changes: TableChanges<B, P>): TableState<B, P> {
  const next = new Map<string, IngressRecord<B, P> | undefined>();
  for (const ref of changes.remove ?? []) next.set(ingressKey(ref.namespace, ref.name), undefined);
  for (const input of changes.upsert ?? []) {
    const record = compileIngress(input);
    next.set(record.key, record);
  }
  const replaced = new Set<string>();
  const touchedHosts = new Set<string>();
  for (const [key, record] of next) {
    const previous = state.records.get(key);
    if (previous !== undefined) {
      replaced.add(key);
      for (const hostKey of previous.hostKeys) touchedHosts.add(hostKey);
    }
    if (record !== undefined) for (const hostKey of record.hostKeys) touchedHosts.add(hostKey);
  }
  const added = groupClaims([...next.values()].filter((record) => record !== undefined));

  const exactChanges = new Map<string, VirtualHost<B, P> | undefined>();
  const wildcardChanges = new Map<string, VirtualHost<B, P> | undefined>();
  let anyHost = state.anyHost;
  let routeCount = state.routeCount;
  const conflictChanges = new Map<string, VirtualHost<B, P> | undefined>();
  const flaggedChanges = new Map<string, IngressRecord<B, P> | undefined>();
  for (const [key, record] of next)
    flaggedChanges.set(key, record !== undefined && record.problems.length > 0 ? record : undefined);
  for (const hostKey of touchedHosts) {
    const isWildcard = hostKey.startsWith(WILDCARD_PREFIX);
    const lookupKey = isWildcard ? hostKey.slice(WILDCARD_PREFIX.length) : hostKey;
    const before =
      hostKey === ""
        ? (state.anyHost ?? undefined)
        : (isWildcard ? state.wildcardHosts : state.exactHosts).get(lookupKey);
    const claims = added.get(hostKey) ?? [];
    const after =
      before === undefined
        ? claims.length > 0
          ? new VirtualHost(hostKey, claims)
          : undefined
        : before.replace(replaced, claims);
    routeCount += (after?.routeCount ?? 0) - (before?.routeCount ?? 0);
    conflictChanges.set(hostKey, after !== undefined && after.losers.length > 0 ? after : undefined);
    if (hostKey === "") anyHost = after ?? null;
    else (isWildcard ? wildcardChanges : exactChanges).set(lookupKey, after);
  }

  const kept = state.defaultCandidates.filter((record) => !next.has(record.key));
  const addedDefaults = [...next.values()].filter((record) => record !== undefined && record.defaultBackend !== null);
  return {
    records: state.records.with(next),
    exactHosts: state.exactHosts.with(exactChanges),
    wildcardHosts: state.wildcardHosts.with(wildcardChanges),
    anyHost,
    defaultCandidates:
      addedDefaults.length === 0 ? kept : [...kept, ...(addedDefaults as IngressRecord<B, P>[])].sort(compareRecords),
    routeCount,
    flaggedRecords: state.flaggedRecords.with(flaggedChanges),
    conflictHosts: state.conflictHosts.with(conflictChanges),
  };
}
