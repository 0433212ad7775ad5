import { ReadBuffers } from "./upstream/read-buffers.js";
import { UpstreamPool } from "./upstream/upstream-pool.js";

/** 32 KiB: a 16 KiB response and its head in one read. */
const READ_BUFFER_BYTES = 32 * 1024;

export interface UpstreamOptions {
  readonly connectTimeoutMs: number;
  readonly responseTimeoutMs: number;
  /** Connections kept per endpoint. */
  readonly connectionsPerEndpoint: number;
  /** Connections (over all endpoints) that get read memory of their own (see ReadBuffers). */
  readonly ownReadBuffers: number;
}

/**
 * Keep-alive connection pools, one per endpoint origin, created on first use
 * and closed (after their in-flight requests) when the endpoint disappears.
 */
export class Upstreams {
  readonly #options: UpstreamOptions;
  readonly #readBuffers: ReadBuffers;
  readonly #pools = new Map<string, UpstreamPool>();
  readonly #inFlight = new Map<string, number>();
  readonly #used = new Map<string, number>();

  constructor(options: UpstreamOptions) {
    this.#options = options;
    this.#readBuffers = new ReadBuffers(READ_BUFFER_BYTES, options.ownReadBuffers);
  }

  pool(endpoint: { readonly origin: string; readonly host: string; readonly port: number }): UpstreamPool {
    let pool = this.#pools.get(endpoint.origin);
    if (pool === undefined) {
      pool = new UpstreamPool({
        host: endpoint.host.startsWith("[") ? endpoint.host.slice(1, -1) : endpoint.host,
        port: endpoint.port,
        connections: this.#options.connectionsPerEndpoint,
        idleTimeoutMs: 4_000,
        connectTimeoutMs: this.#options.connectTimeoutMs,
        responseTimeoutMs: this.#options.responseTimeoutMs,
        readBuffers: this.#readBuffers,
      });
      this.#pools.set(endpoint.origin, pool);
    }
    return pool;
  }

  readonly inFlight = (origin: string): number => this.#inFlight.get(origin) ?? 0;

  started(origin: string): void {
    this.#inFlight.set(origin, (this.#inFlight.get(origin) ?? 0) + 1);
  }

  finished(origin: string): void {
    const count = (this.#inFlight.get(origin) ?? 1) - 1;
    if (count <= 0) this.#inFlight.delete(origin);
    else this.#inFlight.set(origin, count);
  }

  /**
   * Counts which endpoints backends use; a pool whose endpoint no backend
   * uses any more is closed (its in-flight requests finish first).
   */
  retarget(
    added: readonly { endpoints: readonly { origin: string }[] }[],
    released: readonly { endpoints: readonly { origin: string }[] }[],
  ): void {
    for (const target of added)
      for (const { origin } of target.endpoints) this.#used.set(origin, (this.#used.get(origin) ?? 0) + 1);
    for (const target of released) {
      for (const { origin } of target.endpoints) {
        const count = (this.#used.get(origin) ?? 1) - 1;
        if (count > 0) {
          this.#used.set(origin, count);
          continue;
        }
        this.#used.delete(origin);
        const pool = this.#pools.get(origin);
        if (pool === undefined) continue;
        this.#pools.delete(origin);
        pool.close().catch(() => undefined);
      }
    }
  }

  /** Endpoints in use by some backend. */
  get endpointCount(): number {
    return this.#used.size;
  }

  async close(): Promise<void> {
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.allSettled(pools.map((pool) => pool.close()));
  }
}
