import type { IncomingMessage, ServerResponse } from "node:http";
import type { TLSSocket } from "node:tls";
import { coversHost, type IngressPolicies } from "@rennet/k8s-sync";
import { normalizeHost, normalizePath, type RouteMatch } from "@rennet/router";
import type { BackendTarget, ConfigChange, EdgeConfig, Endpoint, LoadBalancing } from "./edge-config.js";
import { EMPTY_CONFIG } from "./edge-config.js";
import { classifyUpstreamError, type ForwardListener, ResponseForwarder } from "./forward.js";
import { type BodyFraming, hasDuplicateHost, requestHost, upstreamRequestHead } from "./proxy-headers.js";
import type { RequestObserver, UpstreamErrorKind } from "./request-record.js";
import type { UpstreamRequest } from "./upstream/upstream-connection.js";
import type { Upstreams } from "./upstreams.js";

export interface EdgeProxyOptions {
  readonly loadBalancing: LoadBalancing;
  /** Global default of rennet.dev/ssl-redirect (--ssl-redirect). */
  readonly sslRedirect: boolean;
  /** The HTTPS listener's port, for redirect targets; undefined when there is none. */
  readonly httpsPort: number | undefined;
}

/** Whether the request came over TLS (HTTP/1.1 or HTTP/2). */
export function isEncrypted(req: IncomingMessage): boolean {
  return (req.socket as TLSSocket).encrypted === true;
}

const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"]);

type Route =
  | RouteMatch<string, IngressPolicies>
  | { backend: string; ingress: { namespace: string; name: string }; policies: IngressPolicies | undefined };

/** A plain-text answer from rennet itself; `extra` is a flat [name, value, …] list of further headers. */
export function sendPlain(res: ServerResponse, status: number, body: string, extra?: readonly string[]): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const payload = `${body}\n`;
  const headers = ["content-type", "text/plain; charset=utf-8", "content-length", String(Buffer.byteLength(payload))];
  if (extra !== undefined) headers.push(...extra);
  res.writeHead(status, headers);
  res.end(payload);
}

/** How the request's body reaches the upstream: not at all, with its Content-Length, or re-chunked. */
export function requestBodyFraming(req: IncomingMessage): BodyFraming {
  const length = req.headers["content-length"];
  // HTTP/2 has no Transfer-Encoding, and Content-Length is optional: a body follows the
  // headers unless they ended the stream.
  const stream = (req as { stream?: { endAfterHeaders?: boolean } }).stream;
  if (req.httpVersionMajor === 2 && stream !== undefined) {
    if (stream.endAfterHeaders === true) return "none";
    return length === undefined ? "chunked" : "content-length";
  }
  if (req.headers["transfer-encoding"] !== undefined) return "chunked";
  return length !== undefined && length !== "0" ? "content-length" : "none";
}

/**
 * The request path: normalise, match against the current configuration,
 * pick an endpoint per request, forward. The configuration is swapped as a
 * whole; a request keeps the one it started with.
 */
export class EdgeProxy {
  #config: EdgeConfig = EMPTY_CONFIG;
  readonly upstreams: Upstreams;
  readonly observer: RequestObserver;
  readonly options: EdgeProxyOptions;

  constructor(upstreams: Upstreams, observer: RequestObserver, options: EdgeProxyOptions) {
    this.upstreams = upstreams;
    this.observer = observer;
    this.options = options;
  }

  get config(): EdgeConfig {
    return this.#config;
  }

  /** Makes `change.config` the configuration of every new request. */
  swap(change: ConfigChange): void {
    this.#config = change.config;
    this.upstreams.retarget(change.added, change.released);
  }

  /** Resolves a request to a backend, or to the status and text that answer it. */
  route(
    host: string,
    target: string,
  ):
    | { ok: true; route: Route; backend: BackendTarget; path: string }
    | { ok: false; status: number; body: string; route?: Route } {
    const normalised = normalizePath(target);
    if (!normalised.ok) return { ok: false, status: 400, body: `400 Bad Request: ${normalised.reason}` };
    const config = this.#config;
    const route = config.table.match(host, normalised.path) ?? config.table.defaultBackend;
    if (route === null) return { ok: false, status: 404, body: "404 page not found" };
    const backend = config.backends.get(route.backend);
    if (backend === undefined || backend.endpoints.length === 0) {
      return {
        ok: false,
        status: 503,
        body: `503 Service Unavailable: ${backend?.reason ?? `no backend ${route.backend}`}`,
        route,
      };
    }
    return { ok: true, route, backend, path: normalised.path + normalised.query };
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    const started = performance.now();
    const host = requestHost(req);
    const routed: ReturnType<EdgeProxy["route"]> = hasDuplicateHost(req)
      ? { ok: false, status: 400, body: "400 Bad Request: more than one Host header" }
      : this.route(host, req.url ?? "");
    if (!routed.ok) {
      const hsts = routed.route?.policies?.hsts;
      sendPlain(res, routed.status, routed.body, hsts !== undefined && isEncrypted(req) ? hstsHeader(hsts) : undefined);
      this.observer.onRequest(record(req, host, routed.status, 0, started, "", routed.route, undefined));
      return;
    }
    const encrypted = isEncrypted(req);
    const policies = routed.route.policies;
    if (!encrypted && policies !== undefined && this.#redirects(policies, host)) {
      const location = `https://${hostWithoutPort(host)}${this.options.httpsPort === undefined || this.options.httpsPort === 443 ? "" : `:${this.options.httpsPort}`}${routed.path}`;
      sendPlain(res, 308, `308 Permanent Redirect: ${location}`, ["location", location]);
      this.observer.onRequest(record(req, host, 308, 0, started, "", routed.route, routed.backend));
      return;
    }
    const hsts = encrypted && policies?.hsts !== undefined ? hstsHeader(policies.hsts) : null;
    new ProxiedRequest(this, req, res, routed.route, routed.backend, routed.path, started, hsts).start();
  }

  #redirects(policies: IngressPolicies, host: string): boolean {
    if (policies.forceSslRedirect === true) return true;
    if (!(policies.sslRedirect ?? this.options.sslRedirect)) return false;
    return coversHost(policies.tlsHosts, normalizeHost(host));
  }
}

function hostWithoutPort(host: string): string {
  if (host.startsWith("[")) return host.slice(0, host.indexOf("]") + 1);
  const colon = host.lastIndexOf(":");
  return colon === -1 ? host : host.slice(0, colon);
}

function hstsHeader(hsts: NonNullable<IngressPolicies["hsts"]>): string[] {
  let value = `max-age=${hsts.maxAge}`;
  if (hsts.includeSubdomains) value += "; includeSubDomains";
  if (hsts.preload) value += "; preload";
  return ["strict-transport-security", value];
}

function record(
  req: IncomingMessage,
  host: string,
  status: number,
  bytes: number,
  started: number,
  upstream: string,
  route: Route | undefined,
  backend: BackendTarget | undefined,
  upstreamError?: UpstreamErrorKind,
) {
  return {
    time: Date.now(),
    method: req.method ?? "",
    host,
    path: req.url ?? "",
    status,
    bytes,
    durationMs: Math.round((performance.now() - started) * 1000) / 1000,
    upstream,
    ingress: route === undefined ? "" : `${route.ingress.namespace}/${route.ingress.name}`,
    service: backend?.service ?? "",
    ...(upstreamError !== undefined ? { upstreamError } : {}),
  };
}

/** One request on its way upstream: at most one retry on another endpoint. */
class ProxiedRequest implements ForwardListener {
  readonly #proxy: EdgeProxy;
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  readonly #route: Route;
  readonly #backend: BackendTarget;
  readonly #path: string;
  readonly #started: number;
  readonly #framing: BodyFraming;
  readonly #extraHeaders: readonly string[] | null;
  #endpoint: Endpoint | undefined;
  #forwarder: ResponseForwarder | undefined;
  #upstreamRequest: UpstreamRequest | null = null;
  #status = 0;
  #retried = false;
  /** The client closed its connection (or HTTP/2 stream) before the response ended. */
  #clientGone = false;

  constructor(
    proxy: EdgeProxy,
    req: IncomingMessage,
    res: ServerResponse,
    route: Route,
    backend: BackendTarget,
    path: string,
    started: number,
    extraHeaders: readonly string[] | null,
  ) {
    this.#extraHeaders = extraHeaders;
    this.#proxy = proxy;
    this.#req = req;
    this.#res = res;
    this.#route = route;
    this.#backend = backend;
    this.#path = path;
    this.#started = started;
    this.#framing = requestBodyFraming(req);
  }

  start(): void {
    // on, not once: the response is this request's alone, and once() wraps the listener per call.
    this.#res.on("close", this.#onClientClose);
    this.#send(this.#backend.pick(this.#proxy.options.loadBalancing, this.#proxy.upstreams.inFlight));
  }

  readonly #onClientClose = (): void => {
    // writableEnded, not writableFinished: an HTTP/2 response whose stream the client reset
    // reports writableFinished true although it never ended.
    if (this.#res.writableEnded) return;
    this.#clientGone = true;
    if (this.#upstreamRequest !== null) this.#upstreamRequest.canceled = true;
    this.#forwarder?.abort(new Error("client closed the connection"));
  };

  #send(endpoint: Endpoint | undefined): void {
    if (endpoint === undefined) {
      this.#answer(503, `503 Service Unavailable: ${this.#backend.reason}`);
      return;
    }
    const upstreams = this.#proxy.upstreams;
    const req = this.#req;
    const method = req.method ?? "GET";
    let head: string;
    try {
      head = upstreamRequestHead(
        req,
        method,
        this.#path,
        {
          clientIp: req.socket.remoteAddress ?? "",
          proto: isEncrypted(req) ? "https" : "http",
          port: req.socket.localPort ?? 0,
        },
        this.#framing,
      );
    } catch {
      this.#answer(400, "400 Bad Request: the request target cannot be forwarded");
      return;
    }
    this.#endpoint = endpoint;
    this.#forwarder = new ResponseForwarder(this.#res, this, this.#extraHeaders);
    upstreams.started(endpoint.origin);
    this.#upstreamRequest = {
      method,
      head,
      body: this.#framing === "none" ? null : req,
      chunked: this.#framing === "chunked",
      canceled: false,
    };
    upstreams.pool(endpoint).dispatch(this.#upstreamRequest, this.#forwarder);
  }

  #release(): void {
    if (this.#endpoint !== undefined) this.#proxy.upstreams.finished(this.#endpoint.origin);
  }

  #log(status: number, bytes: number, upstreamError?: UpstreamErrorKind): void {
    this.#proxy.observer.onRequest(
      record(
        this.#req,
        requestHost(this.#req),
        status,
        bytes,
        this.#started,
        this.#endpoint?.origin ?? "",
        this.#route,
        this.#backend,
        upstreamError,
      ),
    );
  }

  #answer(status: number, body: string, upstreamError?: UpstreamErrorKind): void {
    // The extra headers (HSTS) belong on rennet's own answers for this host too.
    sendPlain(this.#res, status, body, this.#extraHeaders ?? undefined);
    this.#log(status, 0, upstreamError);
  }

  onStarted(status: number): void {
    this.#status = status;
  }

  onFinished(bytes: number): void {
    this.#release();
    this.#log(this.#status, bytes);
  }

  onFailedBeforeResponse(error: Error): void {
    this.#release();
    // An HTTP/2 response does not report `destroyed` when the client reset its stream, and a
    // lost connection can break the request body before the response hears of it.
    const aborted = (error as { code?: string }).code === "RENNET_UPSTREAM_ABORTED";
    if (this.#clientGone || aborted || this.#res.destroyed) {
      this.#log(499, 0); // the client went away first
      return;
    }
    const failure = classifyUpstreamError(error);
    const method = this.#req.method ?? "GET";
    if (failure.retryable && !this.#retried && this.#framing === "none" && IDEMPOTENT.has(method)) {
      this.#retried = true;
      const other = this.#backend.pick(
        this.#proxy.options.loadBalancing,
        this.#proxy.upstreams.inFlight,
        this.#endpoint,
      );
      if (other !== undefined) {
        this.#send(other);
        return;
      }
    }
    const text = failure.status === 504 ? "504 Gateway Timeout" : "502 Bad Gateway";
    this.#answer(failure.status, `${text}: upstream ${this.#endpoint?.origin} failed (${failure.kind})`, failure.kind);
  }

  onBrokenResponse(_error: Error, bytes: number): void {
    this.#release();
    this.#log(this.#status, bytes, "broken-mid-response");
  }
}
