import { once } from "node:events";
import type { Server } from "node:http";
import type { Log, Translation } from "@rennet/k8s-sync";
import { EdgeProxy } from "./edge-proxy.js";
import { createEdgeServer, createEdgeTlsServer, type EdgeServerOptions } from "./edge-server.js";
import { accessLog, type EdgeMetrics, observers } from "./metrics.js";
import { CertificateStore } from "./tls/certificate-store.js";
import { Upstreams } from "./upstreams.js";

export interface DataPlaneOptions {
  readonly httpPort: number;
  readonly httpsPort: number;
  readonly bind: string;
  readonly accessLog: "json" | "off";
  readonly loadBalancing: "round-robin" | "least-request";
  readonly sslRedirect: boolean;
  readonly connectTimeoutMs: number;
  readonly responseTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly maxHeaderSize: number;
  /** Set in a data-plane worker (--workers): its pid goes into the access log. */
  readonly worker?: number;
}

export async function listen(server: Server, portNumber: number, host: string, what: string): Promise<void> {
  server.listen(portNumber, host);
  try {
    await once(server, "listening");
  } catch (error) {
    throw new Error(`cannot listen on ${host}:${portNumber} (${what}): ${(error as Error).message}`);
  }
}

export function addressPort(server: Server): number {
  const address = server.address();
  return typeof address === "object" && address !== null ? address.port : 0;
}

/**
 * What serves traffic: the proxy with its upstream pools, the certificates,
 * and the HTTP and HTTPS listeners. One per process: the only process, or
 * each data-plane worker (--workers).
 */
export class DataPlane {
  readonly upstreams: Upstreams;
  readonly proxy: EdgeProxy;
  readonly certificates: CertificateStore;
  readonly #options: DataPlaneOptions;
  readonly #edgeOptions: EdgeServerOptions;
  readonly #edge: Server;
  #tls: ReturnType<typeof createEdgeTlsServer> | undefined;
  #httpsPort: number;

  constructor(options: DataPlaneOptions, metrics: EdgeMetrics, log: Log) {
    this.#options = options;
    this.#httpsPort = options.httpsPort;
    this.upstreams = new Upstreams({
      connectTimeoutMs: options.connectTimeoutMs,
      responseTimeoutMs: options.responseTimeoutMs,
      connectionsPerEndpoint: 256,
      ownReadBuffers: ownReadBuffersFromEnv(),
    });
    const fields = options.worker !== undefined ? { worker: options.worker } : undefined;
    const observer = options.accessLog === "json" ? observers(metrics, accessLog(fields)) : metrics;
    const self = this;
    this.proxy = new EdgeProxy(this.upstreams, observer, {
      loadBalancing: options.loadBalancing,
      sslRedirect: options.sslRedirect,
      // Redirects name the port the HTTPS listener got: with --https-port 0 it is known once it listens.
      get httpsPort() {
        return self.#httpsPort;
      },
    });
    this.certificates = new CertificateStore(log);
    this.#edgeOptions = {
      headersTimeoutMs: options.headersTimeoutMs,
      requestTimeoutMs: options.requestTimeoutMs,
      keepAliveTimeoutMs: 65_000,
      maxHeaderSize: options.maxHeaderSize,
      connectTimeoutMs: options.connectTimeoutMs,
    };
    this.#edge = createEdgeServer(this.proxy, this.#edgeOptions);
  }

  /** Takes in what the translation says about TLS: certificates per host, the default one. */
  applyTls(tls: Translation["tls"]): void {
    const defaultChanged = this.certificates.update(tls.bindings, tls.secrets, tls.defaultCertificate);
    if (defaultChanged) this.#tls?.setSecureContext(this.certificates.defaultCertificate);
  }

  async listen(): Promise<{ http: number; https: number }> {
    await listen(this.#edge, this.#options.httpPort, this.#options.bind, "http");
    this.#tls = createEdgeTlsServer(this.proxy, this.certificates, this.#edgeOptions);
    const tls = this.#tls as unknown as Server;
    await listen(tls, this.#options.httpsPort, this.#options.bind, "https");
    this.#httpsPort = addressPort(tls);
    return { http: addressPort(this.#edge), https: this.#httpsPort };
  }

  /**
   * Stops accepting connections and lets in-flight requests finish within
   * `gracePeriodMs`, then closes what is left and the upstream pools.
   */
  async drain(gracePeriodMs: number, log: Log): Promise<"drained" | "timeout"> {
    const edge = this.#edge;
    const tls = this.#tls;
    const closed = Promise.all([
      new Promise<void>((resolve) => edge.close(() => resolve())),
      new Promise<void>((resolve) => tls?.close(() => resolve()) ?? resolve()),
    ]);
    const idle = setInterval(() => edge.closeIdleConnections(), 100);
    const grace = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), gracePeriodMs).unref());
    const outcome = await Promise.race([closed.then(() => "drained" as const), grace]);
    clearInterval(idle);
    if (outcome === "timeout") {
      log({ level: "warn", msg: "grace period over; closing the remaining connections" });
      edge.closeAllConnections();
      // HTTP/2 sessions and TLS sockets have no closeAllConnections: the exit ends them.
    }
    await this.upstreams.close();
    return outcome;
  }
}

/**
 * 256 connections with read memory of their own (8 MB at most); the rest share
 * one buffer. RENNET_UPSTREAM_OWN_READ_BUFFERS sets another number (tests use
 * 0 to send every read through the shared buffer).
 */
function ownReadBuffersFromEnv(): number {
  const value = Number(process.env.RENNET_UPSTREAM_OWN_READ_BUFFERS ?? "256");
  return Number.isInteger(value) && value >= 0 ? value : 256;
}
