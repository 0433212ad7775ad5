import type { IngressPolicies, ResolvedBackend, TranslationDelta } from "@rennet/k8s-sync";
import { compile, LayeredMap, type RouteTable } from "@rennet/router";

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
  /**
   * Immutable; a change copies only an overlay of what it touched (copying
   * 10k backends per endpoint change was most of the garbage under churn).
   */
  readonly backends: LayeredMap<BackendTarget>;
  readonly generation: number;
}

export const EMPTY_CONFIG: EdgeConfig = { table: compile([]), backends: LayeredMap.from([]), generation: 0 };

/** A new configuration, and the backend targets it stopped using and started using. */
export interface ConfigChange {
  readonly config: EdgeConfig;
  readonly released: readonly BackendTarget[];
  readonly added: readonly BackendTarget[];
}

/**
 * The next configuration from a translation delta: the table is updated
 * incrementally, and only backends whose resolution changed get a new
 * BackendTarget (the others keep theirs, and their round-robin position).
 */
export function applyDelta(previous: EdgeConfig, delta: TranslationDelta): ConfigChange {
  const table =
    delta.upsert.length > 0 || delta.remove.length > 0
      ? previous.table.update({ upsert: delta.upsert, remove: delta.remove })
      : previous.table;
  let backends = previous.backends;
  const released: BackendTarget[] = [];
  const added: BackendTarget[] = [];
  if (delta.backends.size > 0) {
    const changes = new Map<string, BackendTarget | undefined>();
    for (const [key, resolved] of delta.backends) {
      const old = previous.backends.get(key);
      if (old !== undefined) released.push(old);
      if (resolved === undefined) changes.set(key, undefined);
      else {
        const target = new BackendTarget(resolved);
        changes.set(key, target);
        added.push(target);
      }
    }
    backends = previous.backends.with(changes);
  }
  return { config: { table, backends, generation: previous.generation + 1 }, released, added };
}
