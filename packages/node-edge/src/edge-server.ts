import { createServer, type IncomingMessage, type Server, type ServerResponse, STATUS_CODES } from "node:http";
import {
  createSecureServer,
  type Http2SecureServer,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type SecureServerOptions,
} from "node:http2";
import type { Duplex } from "node:stream";
import { createAdaptorServer } from "@hono/node-server";
import type { Hono } from "hono";
import { closingResponse } from "./closing-response.js";
import type { EdgeProxy } from "./edge-proxy.js";
import { sendPlain } from "./edge-proxy.js";
import type { CertificateStore } from "./tls/certificate-store.js";
import { tunnelUpgrade } from "./websocket-tunnel.js";

export interface EdgeServerOptions {
  /** Time allowed for a client to send the request head (slowloris). */
  readonly headersTimeoutMs: number;
  /** Time allowed for a whole request, body included. */
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly maxHeaderSize: number;
  readonly connectTimeoutMs: number;
}

/**
 * The request listener of both listeners: Node's request and response go
 * straight to the proxy, which writes the response itself. Hono serves the
 * admin port; on the data plane it added a Web Request facade, a URL string
 * and a router lookup per request for a single catch-all route (about 6% of
 * the CPU per proxied request in a profile), so the edge hands over directly.
 */
function edgeListener(proxy: EdgeProxy): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    try {
      proxy.handle(req, res);
    } catch (error) {
      process.stderr.write(
        `${JSON.stringify({ level: "error", msg: "request failed inside rennet", error: String(error) })}\n`,
      );
      sendPlain(res, 500, "500 Internal Server Error");
    }
  };
}

const CLIENT_ERROR: Record<string, number> = {
  HPE_HEADER_OVERFLOW: 431,
  ERR_HTTP_REQUEST_TIMEOUT: 408,
};

/** How often the header and request timeouts are checked: a quarter of the header timeout, 100 ms to 1 s. */
function checkingInterval(options: EdgeServerOptions): number {
  return Math.max(100, Math.min(1000, Math.floor(options.headersTimeoutMs / 4)));
}

/** An HTTP server for the edge app, hardened against slow and malformed clients. */
export function createEdgeServer(proxy: EdgeProxy, options: EdgeServerOptions): Server {
  const server = createServer(
    {
      headersTimeout: options.headersTimeoutMs,
      requestTimeout: options.requestTimeoutMs,
      // Node enforces the two timeouts above only when it checks its connections, every 30 s by
      // default: a slow client would keep its connection that long whatever the timeouts say.
      connectionsCheckingInterval: checkingInterval(options),
      keepAliveTimeout: options.keepAliveTimeoutMs,
      maxHeaderSize: options.maxHeaderSize,
      // Reject what request smuggling relies on (e.g. both Content-Length and Transfer-Encoding).
      insecureHTTPParser: false,
    },
    edgeListener(proxy),
  );
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) =>
    tunnelUpgrade(proxy, req, socket, head, options.connectTimeoutMs),
  );
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const status = CLIENT_ERROR[error.code ?? ""] ?? 400;
    socket.end(closingResponse(status, `${status} ${STATUS_CODES[status]}`));
  });
  return server;
}

/**
 * The HTTPS listener: ALPN offers h2 and http/1.1 (HTTP/2 clients are served
 * over HTTP/2 and proxied to HTTP/1.1 backends), certificates by SNI, TLS 1.2
 * at least, session tickets shared by every certificate's context.
 */
export function createEdgeTlsServer(
  proxy: EdgeProxy,
  certificates: CertificateStore,
  options: EdgeServerOptions,
): Http2SecureServer {
  const { cert, key } = certificates.defaultCertificate;
  const server = createSecureServer(
    {
      allowHTTP1: true,
      // Node sets TCP_NODELAY for HTTP/2 sessions only; HTTP/1.1 over TLS wants it as much.
      noDelay: true,
      cert,
      key,
      SNICallback: certificates.SNICallback,
      minVersion: "TLSv1.2",
      honorCipherOrder: true,
      ticketKeys: certificates.ticketKeys,
      maxSessionMemory: 10,
      maxHeaderListPairs: 256,
      maxSendHeaderBlockLength: options.maxHeaderSize * 4,
      settings: { maxHeaderListSize: options.maxHeaderSize },
      // HTTP/1.1 connections on this listener get the same limits as on the plain one.
      headersTimeout: options.headersTimeoutMs,
      requestTimeout: options.requestTimeoutMs,
      keepAliveTimeout: options.keepAliveTimeoutMs,
      maxHeaderSize: options.maxHeaderSize,
    } as SecureServerOptions,
    edgeListener(proxy) as unknown as (req: Http2ServerRequest, res: Http2ServerResponse) => void,
  );
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) =>
    tunnelUpgrade(proxy, req, socket, head, options.connectTimeoutMs),
  );
  server.setTimeout(options.requestTimeoutMs);
  return server;
}

/** The admin server. */
export function createAdminServer(app: Hono): Server {
  return createAdaptorServer({ fetch: app.fetch }) as Server;
}
