import type { Context, MiddlewareHandler } from "hono";
import { HOP_BY_HOP_HEADERS } from "../hop-by-hop.js";
import { normalizePath } from "../request-path.js";
import type { DefaultBackendRoute, RouteMatch, RouteTable } from "../types.js";

export interface RennetProxyOptions<B, P> {
  /** The table, or a function returning the current one (so it can be swapped). */
  readonly table: RouteTable<B, P> | (() => RouteTable<B, P>);
  /**
   * Where a backend's traffic goes: an origin such as "http://10.0.0.7:8080"
   * (picked per request, so round-robin belongs here). null or undefined answers 503.
   */
  readonly resolve: (
    backend: B,
    route: RouteMatch<B, P> | DefaultBackendRoute<B, P>,
    c: Context,
  ) => string | null | undefined | Promise<string | null | undefined>;
  /** The client's address for X-Forwarded-For, when the runtime tells it (e.g. CF-Connecting-IP). */
  readonly clientIp?: (c: Context) => string | undefined;
  /** When no rule and no default backend matches: "next" hands over to the app, "404" answers. Default "404". */
  readonly noRoute?: "next" | "404";
  /** The fetch to forward with; the runtime's own by default. */
  readonly fetch?: typeof fetch;
}

function stripHopByHop(headers: Headers): Headers {
  const listed = headers.get("connection");
  for (const name of HOP_BY_HOP_HEADERS) headers.delete(name);
  if (listed !== null) for (const name of listed.split(",")) if (name.trim() !== "") headers.delete(name.trim());
  return headers;
}

function plain(status: number, body: string): Response {
  return new Response(`${body}\n`, { status, headers: { "content-type": "text/plain; charset=utf-8" } });
}

/**
 * A Hono middleware that routes by rennet's table and proxies with fetch.
 * Paths are normalised first (400 when rejected); hop-by-hop headers are
 * stripped both ways; X-Forwarded-Host/Proto (and -For when `clientIp` knows
 * it) are set. Fetch cannot forward the client's Host header, so the backend
 * sees the resolved origin as Host and the original one in X-Forwarded-Host.
 */
export function rennetProxy<B, P>(options: RennetProxyOptions<B, P>): MiddlewareHandler {
  const currentTable = typeof options.table === "function" ? options.table : () => options.table as RouteTable<B, P>;
  return async (c, next) => {
    const url = new URL(c.req.url);
    const target = normalizePath(url.pathname + url.search);
    if (!target.ok) return plain(400, `400 Bad Request: ${target.reason}`);
    const table = currentTable();
    const host = c.req.header("host") ?? url.host;
    const route = table.match(host, target.path) ?? table.defaultBackend;
    if (route === null) {
      if (options.noRoute === "next") return next();
      return plain(404, "404 page not found");
    }
    const origin = await options.resolve(route.backend, route, c);
    if (origin === null || origin === undefined) return plain(503, "503 Service Unavailable: no endpoint");
    const headers = stripHopByHop(new Headers(c.req.raw.headers));
    headers.delete("host");
    headers.set("x-forwarded-host", host);
    headers.set("x-forwarded-proto", url.protocol.replace(":", ""));
    const clientIp = options.clientIp?.(c);
    if (clientIp !== undefined) {
      const prior = headers.get("x-forwarded-for");
      headers.set("x-forwarded-for", prior === null ? clientIp : `${prior}, ${clientIp}`);
      headers.set("x-real-ip", clientIp);
    }
    const method = c.req.method;
    const hasBody = method !== "GET" && method !== "HEAD";
    let upstream: Response;
    try {
      upstream = await (options.fetch ?? fetch)(new URL(target.path + target.query, origin), {
        method,
        headers,
        body: hasBody ? c.req.raw.body : null,
        redirect: "manual",
        ...(hasBody ? { duplex: "half" } : {}),
      } as RequestInit);
    } catch {
      return plain(502, "502 Bad Gateway");
    }
    return new Response(upstream.body, {
      status: upstream.status,
      statusText: upstream.statusText,
      headers: stripHopByHop(new Headers(upstream.headers)),
    });
  };
}
