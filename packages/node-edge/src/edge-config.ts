import type { IngressPolicies, ResolvedBackend, Translation } from "@rennet/k8s-sync";
import { compile, type RouteTable } from "@rennet/router";

export type LoadBalancing = "round-robin" | "least-request";

export interface Endpoint {
  /** "address:port", with IPv6 addresses in brackets: the pool key. */
  readonly origin: string;
  readonly host: string;
  readonly port: number;
}

/** One backend as the request path sees it: where to send, or why not. */
export class BackendTarget {
  readonly key: string;
  readonly service: string;
  readonly endpoints: readonly Endpoint[];
  /** Why the backend answers 503 when it has no endpoints. */
  readonly reason: string;
  #next = 0;

  constructor(resolved: ResolvedBackend) {
    this.key = resolved.key;
    this.service = resolved.service;
    if (resolved.kind === "endpoints") {
      this.endpoints = resolved.endpoints.map((endpoint) => toEndpoint(endpoint.address, endpoint.port));
      this.reason = `no ready endpoints for ${resolved.key}`;
    } else if (resolved.kind === "external-name") {
      this.endpoints = [toEndpoint(resolved.host, resolved.port)];
      this.reason = "";
    } else {
      this.endpoints = [];
      this.reason = resolved.reason;
    }
  }

  /** Round-robin, or power-of-two-choices on in-flight requests; `except` is avoided when possible. */
  pick(strategy: LoadBalancing, inFlight: (origin: string) => number, except?: Endpoint): Endpoint | undefined {
    const endpoints = this.endpoints;
    const count = endpoints.length;
    if (count === 0) return undefined;
    if (count === 1) return except === endpoints[0] ? undefined : endpoints[0];
    let chosen: Endpoint;
    if (strategy === "least-request") {
      const a = endpoints[(Math.random() * count) | 0] as Endpoint;
      let b = endpoints[(Math.random() * count) | 0] as Endpoint;
      if (b === a) b = endpoints[(endpoints.indexOf(a) + 1) % count] as Endpoint;
      chosen = inFlight(b.origin) < inFlight(a.origin) ? b : a;
    } else {
      chosen = endpoints[this.#next++ % count] as Endpoint;
      if (this.#next >= 0x3fffffff) this.#next = 0;
    }
    if (chosen === except) chosen = endpoints[(endpoints.indexOf(chosen) + 1) % count] as Endpoint;
    return chosen;
  }
}

function toEndpoint(host: string, port: number): Endpoint {
  const bracketed = host.includes(":") ? `[${host}]` : host;
  return { origin: `${bracketed}:${port}`, host: bracketed, port };
}

/** What the request path reads: swapped as a whole, never mutated. */
export interface EdgeConfig {
  readonly table: RouteTable<string, IngressPolicies>;
  readonly backends: ReadonlyMap<string, BackendTarget>;
  readonly generation: number;
}

export const EMPTY_CONFIG: EdgeConfig = { table: compile([]), backends: new Map(), generation: 0 };

/**
 * The next configuration for a new translation: the table is updated
 * incrementally from the previous one, and backends whose endpoints did not
 * change keep their BackendTarget (and so their round-robin position).
 */
export function nextConfig(
  previous: EdgeConfig,
  translation: Translation,
  previousTranslation?: Translation,
): EdgeConfig {
  const upsert = [];
  const seen = new Set<string>();
  const before = new Map(
    (previousTranslation?.ingresses ?? []).map((ingress) => [`${ingress.namespace}/${ingress.name}`, ingress]),
  );
  for (const ingress of translation.ingresses) {
    const key = `${ingress.namespace}/${ingress.name}`;
    seen.add(key);
    const old = before.get(key);
    // Translations are memoised per Ingress object, so identity means "unchanged".
    if (old !== ingress) upsert.push(ingress);
  }
  const remove = [...before.values()]
    .filter((ingress) => !seen.has(`${ingress.namespace}/${ingress.name}`))
    .map((ingress) => ({ namespace: ingress.namespace, name: ingress.name }));
  const table =
    previousTranslation === undefined ? compile(translation.ingresses) : previous.table.update({ upsert, remove });
  const backends = new Map<string, BackendTarget>();
  for (const [key, resolved] of translation.backends) {
    const old = previous.backends.get(key);
    const oldResolved = previousTranslation?.backends.get(key);
    backends.set(
      key,
      old !== undefined && oldResolved !== undefined && JSON.stringify(oldResolved) === JSON.stringify(resolved)
        ? old
        : new BackendTarget(resolved),
    );
  }
  return { table, backends, generation: previous.generation + 1 };
}
