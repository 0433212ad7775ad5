import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { RequestObserver, RequestRecord } from "./request-record.js";

function statusClass(status: number): string {
  return status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : "other";
}

/** The Prometheus metrics of one rennet process, in a registry of its own. */
export class EdgeMetrics implements RequestObserver {
  readonly registry = new Registry();
  readonly #requests = new Counter({
    name: "rennet_requests_total",
    help: "Requests answered, by Ingress, backend Service and status class.",
    labelNames: ["ingress", "service", "status_class"] as const,
    registers: [this.registry],
  });
  readonly #duration = new Histogram({
    name: "rennet_request_duration_seconds",
    help: "Time from request to the end of the response.",
    labelNames: ["ingress"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly #upstreamErrors = new Counter({
    name: "rennet_upstream_errors_total",
    help: "Upstream failures by kind.",
    labelNames: ["kind"] as const,
    registers: [this.registry],
  });
  readonly reloads = new Counter({
    name: "rennet_config_reloads_total",
    help: "Configuration changes applied (result=success) or rejected (result=failure).",
    labelNames: ["result"] as const,
    registers: [this.registry],
  });
  readonly routes = new Gauge({
    name: "rennet_routes",
    help: "Path rules that serve traffic.",
    registers: [this.registry],
  });
  readonly ingresses = new Gauge({ name: "rennet_ingresses", help: "Ingresses served.", registers: [this.registry] });
  readonly endpoints = new Gauge({
    name: "rennet_endpoints",
    help: "Backend endpoints known.",
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: "rennet_" });
  }

  onRequest(record: RequestRecord): void {
    this.#requests.inc({ ingress: record.ingress, service: record.service, status_class: statusClass(record.status) });
    this.#duration.observe({ ingress: record.ingress }, record.durationMs / 1000);
    if (record.upstreamError !== undefined) this.#upstreamErrors.inc({ kind: record.upstreamError });
  }
}

/** Fans one request record out to several observers. */
export function observers(...list: RequestObserver[]): RequestObserver {
  return {
    onRequest(record) {
      for (const observer of list) observer.onRequest(record);
    },
  };
}

export const accessLog: RequestObserver = {
  onRequest(record) {
    process.stdout.write(`${JSON.stringify({ ...record, time: new Date(record.time).toISOString() })}\n`);
  },
};
