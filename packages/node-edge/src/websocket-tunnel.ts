import type { IncomingMessage } from "node:http";
import { connect, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import { closingResponse } from "./closing-response.js";
import { type EdgeProxy, isEncrypted } from "./edge-proxy.js";
import { hasDuplicateHost, requestHost, upstreamRequestHead } from "./proxy-headers.js";

function refuse(socket: Duplex, status: number, body: string): void {
  socket.end(closingResponse(status, body));
}

/**
 * Proxies an Upgrade (WebSocket) request: the handshake goes to the endpoint
 * with the usual forwarding headers, and from then on bytes flow both ways
 * untouched, with backpressure through pipe().
 */
export function tunnelUpgrade(
  proxy: EdgeProxy,
  req: IncomingMessage,
  client: Duplex,
  head: Buffer,
  connectTimeoutMs: number,
): void {
  client.on("error", () => client.destroy());
  if (hasDuplicateHost(req)) {
    refuse(client, 400, "400 Bad Request: more than one Host header");
    return;
  }
  const routed = proxy.route(requestHost(req), req.url ?? "");
  if (!routed.ok) {
    refuse(client, routed.status, routed.body);
    return;
  }
  const endpoint = routed.backend.pick(proxy.options.loadBalancing, proxy.upstreams.inFlight);
  if (endpoint === undefined) {
    refuse(client, 503, `503 Service Unavailable: ${routed.backend.reason}`);
    return;
  }
  let upstreamHead: string;
  try {
    upstreamHead = upstreamRequestHead(
      req,
      req.method ?? "GET",
      routed.path,
      {
        clientIp: req.socket.remoteAddress ?? "",
        proto: isEncrypted(req) ? "https" : "http",
        port: req.socket.localPort ?? 0,
      },
      "none",
      true,
    );
  } catch {
    refuse(client, 400, "400 Bad Request: the request target cannot be forwarded");
    return;
  }
  const upstream: Socket = connect({ host: endpoint.host.replace(/^\[|\]$/g, ""), port: endpoint.port });
  upstream.setTimeout(connectTimeoutMs);
  let connected = false;
  upstream.once("timeout", () => {
    if (!connected) {
      upstream.destroy();
      refuse(client, 504, `504 Gateway Timeout: upstream ${endpoint.origin} did not accept the connection`);
    }
  });
  upstream.once("connect", () => {
    connected = true;
    upstream.setTimeout(0);
    upstream.setNoDelay(true);
    upstream.write(upstreamHead, "latin1");
    if (head.length > 0) upstream.write(head);
    upstream.pipe(client);
    client.pipe(upstream);
  });
  upstream.on("error", () => {
    if (!connected) refuse(client, 502, `502 Bad Gateway: upstream ${endpoint.origin} refused the connection`);
    else client.destroy();
  });
  upstream.on("close", () => client.destroy());
  client.on("close", () => upstream.destroy());
}
