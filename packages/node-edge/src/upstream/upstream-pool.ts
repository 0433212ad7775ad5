import {
  type ConnectionOptions,
  type ConnectionOwner,
  UpstreamConnection,
  type UpstreamHandler,
  type UpstreamRequest,
} from "./upstream-connection.js";
import { UpstreamError } from "./upstream-errors.js";

export interface UpstreamPoolOptions extends ConnectionOptions {
  /** Connections at most; more requests wait in line. */
  readonly connections: number;
  /**
   * An idle connection older than this is not reused (closed instead): below
   * the keep-alive timeout of common servers (Node's 5 s), so the server does
   * not close it just as a request goes out.
   */
  readonly idleTimeoutMs: number;
}

interface Queued {
  readonly request: UpstreamRequest;
  readonly handler: UpstreamHandler;
}

/**
 * The keep-alive connections to one endpoint (after undici's Pool): idle ones
 * are reused most-recent first, new ones opened up to the limit, requests
 * beyond it queued in order.
 */
export class UpstreamPool implements ConnectionOwner {
  readonly #options: UpstreamPoolOptions;
  readonly #idle: UpstreamConnection[] = [];
  readonly #queue: Queued[] = [];
  #open = 0;
  #closing: { resolve: () => void; promise: Promise<void> } | null = null;

  constructor(options: UpstreamPoolOptions) {
    this.#options = options;
  }

  /** Connections open (idle or busy). */
  get connections(): number {
    return this.#open;
  }

  dispatch(request: UpstreamRequest, handler: UpstreamHandler): void {
    if (this.#closing !== null) {
      handler.onResponseError(new UpstreamError("RENNET_UPSTREAM_POOL_CLOSED", "the endpoint was removed"));
      return;
    }
    const connection = this.#takeIdle();
    if (connection !== undefined) {
      connection.send(request, handler);
    } else if (this.#open < this.#options.connections) {
      this.#connect().send(request, handler);
    } else {
      this.#queue.push({ request, handler });
    }
  }

  release(connection: UpstreamConnection): void {
    const next = this.#nextQueued();
    if (next !== undefined) {
      connection.send(next.request, next.handler);
      return;
    }
    if (this.#closing !== null) {
      connection.close();
      return;
    }
    this.#idle.push(connection);
  }

  remove(connection: UpstreamConnection): void {
    this.#open--;
    const at = this.#idle.lastIndexOf(connection);
    if (at !== -1) this.#idle.splice(at, 1);
    // A slot is free: a queued request gets a new connection.
    const next = this.#nextQueued();
    if (next !== undefined) this.#connect().send(next.request, next.handler);
    else if (this.#closing !== null && this.#open === 0) this.#closing.resolve();
  }

  resend(request: UpstreamRequest, handler: UpstreamHandler): void {
    if (this.#closing !== null || this.#open >= this.#options.connections) {
      handler.onResponseError(new UpstreamError("RENNET_UPSTREAM_CLOSED", "the upstream closed a reused connection"));
      return;
    }
    // A new connection, not another idle one: they may all have been closed by the server.
    this.#connect().send(request, handler);
  }

  /** Closes idle connections now and busy ones once their requests end; queued requests fail. */
  close(): Promise<void> {
    if (this.#closing === null) {
      let resolve = () => {};
      const promise = new Promise<void>((r) => {
        resolve = r;
      });
      this.#closing = { resolve, promise };
      for (const queued of this.#queue.splice(0)) {
        queued.handler.onResponseError(new UpstreamError("RENNET_UPSTREAM_POOL_CLOSED", "the endpoint was removed"));
      }
      for (const connection of this.#idle.splice(0)) connection.close();
      if (this.#open === 0) resolve();
    }
    return this.#closing.promise;
  }

  #connect(): UpstreamConnection {
    this.#open++;
    return new UpstreamConnection(this, this.#options);
  }

  #takeIdle(): UpstreamConnection | undefined {
    const oldest = Date.now() - this.#options.idleTimeoutMs;
    for (;;) {
      const connection = this.#idle.pop();
      if (connection === undefined || (connection.idleSince >= oldest && !connection.closed)) return connection;
      connection.close(); // 'close' removes it from the count
    }
  }

  #nextQueued(): Queued | undefined {
    for (;;) {
      const next = this.#queue.shift();
      if (next === undefined || !next.request.canceled) return next;
    }
  }
}
