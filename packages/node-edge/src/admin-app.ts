import { Hono } from "hono";
import type { EdgeProxy } from "./edge-proxy.js";
import type { EdgeMetrics } from "./metrics.js";

export interface AdminState {
  /** True once the first configuration is applied. */
  readonly ready: () => boolean;
  /** True from SIGTERM on: /readyz answers 503 so load balancers stop sending. */
  readonly draining: () => boolean;
  /** Problems found in the configuration, per Ingress. */
  readonly problems: () => unknown;
  /** Certificates in use (subject, SANs, expiry, hosts; never keys). */
  readonly certificates: () => unknown;
  /** The Prometheus text, when it is not just this process's registry (--workers: summed over them). */
  readonly metricsText?: () => Promise<string>;
  /** The data-plane workers (--workers). */
  readonly workers?: () => unknown;
}

/** The admin port: health, readiness, Prometheus metrics and the current configuration. */
export function adminApp(proxy: EdgeProxy, metrics: EdgeMetrics, state: AdminState): Hono {
  const app = new Hono();
  app.get("/healthz", (c) => c.text("ok\n"));
  app.get("/readyz", (c) => {
    if (state.draining()) return c.text("draining\n", 503);
    return state.ready() ? c.text("ready\n") : c.text("waiting for the first configuration\n", 503);
  });
  app.get("/metrics", async (c) => {
    const body = state.metricsText !== undefined ? await state.metricsText() : await metrics.registry.metrics();
    return c.body(body, 200, { "content-type": metrics.registry.contentType });
  });
  app.get("/api/config", (c) => {
    const config = proxy.config;
    return c.json({
      generation: config.generation,
      routes: config.table.routes().map((route) => ({
        host: route.host,
        path: route.path,
        pathType: route.pathType,
        ingress: `${route.ingress.namespace}/${route.ingress.name}`,
        backend: route.backend,
      })),
      defaultBackend: config.table.defaultBackend?.backend ?? null,
      backends: Object.fromEntries(
        [...config.backends].map(([key, backend]) => [
          key,
          {
            service: backend.service,
            endpoints: backend.endpoints.map((endpoint) => endpoint.origin),
            ...(backend.endpoints.length === 0 ? { reason: backend.reason } : {}),
          },
        ]),
      ),
      problems: state.problems(),
    });
  });
  app.get("/api/certificates", (c) => c.json(state.certificates()));
  app.get("/api/workers", (c) => c.json(state.workers?.() ?? []));
  app.notFound((c) => c.text("404 page not found\n", 404));
  return app;
}
