import type { ServerResponse } from "node:http";
import type { TLSSocket } from "node:tls";
import type { UpstreamErrorKind } from "./request-record.js";
import type { UpstreamController, UpstreamHandler } from "./upstream/upstream-connection.js";

/** How an upstream error before the response started is answered, and whether another endpoint may be tried. */
export function classifyUpstreamError(error: Error): {
  kind: UpstreamErrorKind;
  status: 502 | 504;
  retryable: boolean;
} {
  const code = (error as { code?: string }).code ?? "";
  switch (code) {
    case "ECONNREFUSED":
    case "EHOSTUNREACH":
    case "ENETUNREACH":
    case "ENOTFOUND":
    case "EAI_AGAIN":
    case "RENNET_UPSTREAM_POOL_CLOSED":
      return { kind: "connect-refused", status: 502, retryable: true };
    case "RENNET_UPSTREAM_CONNECT_TIMEOUT":
      return { kind: "connect-timeout", status: 504, retryable: false };
    case "RENNET_UPSTREAM_RESPONSE_TIMEOUT":
      return { kind: "response-timeout", status: 504, retryable: false };
    case "ECONNRESET":
    case "EPIPE":
    case "RENNET_UPSTREAM_CLOSED":
      return { kind: "reset", status: 502, retryable: true };
    case "RENNET_UPSTREAM_BAD_RESPONSE":
      return { kind: "bad-response", status: 502, retryable: false };
    default:
      return { kind: "other", status: 502, retryable: false };
  }
}

export interface ForwardListener {
  /** The response has started; from now on failures break the client connection. */
  onStarted(status: number): void;
  onFinished(bytes: number): void;
  /** Failed before any response byte reached the client. */
  onFailedBeforeResponse(error: Error): void;
  /** Failed after the response started: the client connection has been destroyed. */
  onBrokenResponse(error: Error, bytes: number): void;
}

/**
 * Streams one upstream response into the client's ServerResponse: headers as
 * they arrive, body chunks with backpressure (the upstream read pauses while
 * the client socket is full), and a destroyed client connection if the
 * upstream breaks mid-body, so a truncated body never looks complete.
 */
export class ResponseForwarder implements UpstreamHandler {
  readonly #res: ServerResponse;
  readonly #listener: ForwardListener;
  #controller: UpstreamController | null = null;
  #bytes = 0;
  #started = false;
  #done = false;
  #aborted: Error | null = null;
  #corked = false;

  readonly #extraHeaders: readonly string[] | null;
  /**
   * Over TLS (HTTP/1.1 or HTTP/2) a write completes only once the encrypted
   * bytes are out, later than the read ends, so every read would keep the
   * connection's memory: the connection hands over copies instead (the
   * allocation Node's own reads make anyway).
   */
  readonly keepsChunks: boolean;

  /** `extraHeaders` (flat name/value list) are added to the response, e.g. Strict-Transport-Security. */
  constructor(res: ServerResponse, listener: ForwardListener, extraHeaders: readonly string[] | null = null) {
    this.#res = res;
    this.#listener = listener;
    this.#extraHeaders = extraHeaders;
    this.keepsChunks = (res.socket as TLSSocket | null)?.encrypted === true;
  }

  /** Called when the client goes away: the upstream request is aborted. */
  abort(reason: Error): void {
    if (this.#done) return;
    this.#aborted = reason;
    this.#controller?.abort(this, reason);
  }

  onRequestStart(controller: UpstreamController): void {
    this.#controller = controller;
    if (this.#aborted !== null) controller.abort(this, this.#aborted);
  }

  onResponseStart(statusCode: number, headers: string[]): void {
    const res = this.#res;
    if (res.destroyed) {
      this.#controller?.abort(this, new Error("client closed"));
      return;
    }
    this.#started = true;
    if (this.#extraHeaders !== null) headers.push(...this.#extraHeaders);
    res.writeHead(statusCode, headers);
    // The head goes out with whatever body came in the same read from the
    // upstream, in one write (onReadEnd uncorks); flushHeaders() cost a write
    // of its own (about a quarter of the CPU per request in a profile).
    this.#cork();
    this.#listener.onStarted(statusCode);
  }

  onResponseData(chunk: Buffer): boolean {
    this.#bytes += chunk.length;
    // Corked until the read ends: one write per read, and none of Node's own
    // cork-until-next-tick, so whether the chunks went out is known at onReadEnd.
    this.#cork();
    return this.#res.write(chunk);
  }

  #cork(): void {
    if (this.#corked || typeof this.#res.cork !== "function") return;
    this.#res.cork();
    this.#corked = true;
  }

  onPaused(): void {
    this.#res.once("drain", this.#resume);
  }

  readonly #resume = (): void => {
    this.#controller?.resume(this);
  };

  onResponseEnd(): void {
    this.#done = true;
    this.#res.end();
    this.onReadEnd();
    this.#listener.onFinished(this.#bytes);
  }

  onReadEnd(): boolean {
    const res = this.#res;
    if (this.#corked) {
      this.#corked = false;
      res.uncork();
    }
    // Views of the connection's read memory: done with them only once nothing is queued.
    return !res.destroyed && res.writableLength === 0;
  }

  onResponseError(error: Error): void {
    if (this.#done) return;
    this.#done = true;
    if (!this.#started) {
      this.#listener.onFailedBeforeResponse(error);
      return;
    }
    this.onReadEnd();
    this.#res.destroy(error);
    this.#listener.onBrokenResponse(error, this.#bytes);
  }
}
