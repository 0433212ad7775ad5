import { Counter, collectDefaultMetrics, Gauge, Registry } from "prom-client";
import type { RequestObserver, RequestRecord } from "./request-record.js";

/** The Prometheus metrics of one rennet process, in a registry of its own. */
const STATUS_CLASSES = ["1xx", "2xx", "3xx", "4xx", "5xx", "other"] as const;
const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

interface MetricSample {
  readonly metricName?: string;
  readonly labels: Record<string, string | number>;
  readonly value: number;
}

/**
 * A metric the registry reads only when scraped: the request path bumps
 * plain numbers (prom-client's inc/observe hash their labels on every call,
 * about 3% of the CPU per proxied request in a profile).
 */
class ScrapedMetric {
  readonly name: string;
  readonly help: string;
  readonly type: "counter" | "histogram";
  readonly aggregator = "sum";
  readonly #samples: () => MetricSample[];

  constructor(name: string, help: string, type: "counter" | "histogram", samples: () => MetricSample[]) {
    this.name = name;
    this.help = help;
    this.type = type;
    this.#samples = samples;
  }

  async get() {
    return { name: this.name, help: this.help, type: this.type, values: this.#samples(), aggregator: this.aggregator };
  }

  reset(): void {}
}

interface DurationSeries {
  /** Observations per bucket (not cumulative), the last one for +Inf. */
  readonly buckets: number[];
  sum: number;
  count: number;
}

/** The Prometheus metrics of one rennet process, in a registry of its own. */
export class EdgeMetrics implements RequestObserver {
  readonly registry = new Registry();
  /** ingress → service → requests per status class (STATUS_CLASSES order). */
  readonly #requests = new Map<string, Map<string, number[]>>();
  readonly #durations = new Map<string, DurationSeries>();
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
    this.registry.registerMetric(
      new ScrapedMetric(
        "rennet_requests_total",
        "Requests answered, by Ingress, backend Service and status class.",
        "counter",
        () => this.#requestSamples(),
      ) as never,
    );
    this.registry.registerMetric(
      new ScrapedMetric(
        "rennet_request_duration_seconds",
        "Time from request to the end of the response.",
        "histogram",
        () => this.#durationSamples(),
      ) as never,
    );
  }

  onRequest(record: RequestRecord): void {
    let byService = this.#requests.get(record.ingress);
    if (byService === undefined) {
      byService = new Map();
      this.#requests.set(record.ingress, byService);
    }
    let counts = byService.get(record.service);
    if (counts === undefined) {
      counts = [0, 0, 0, 0, 0, 0];
      byService.set(record.service, counts);
    }
    const status = record.status;
    (counts[status >= 100 && status < 600 ? Math.floor(status / 100) - 1 : 5] as number)++;
    let durations = this.#durations.get(record.ingress);
    if (durations === undefined) {
      durations = { buckets: new Array(DURATION_BUCKETS.length + 1).fill(0), sum: 0, count: 0 };
      this.#durations.set(record.ingress, durations);
    }
    const seconds = record.durationMs / 1000;
    let bucket = 0;
    while (bucket < DURATION_BUCKETS.length && seconds > (DURATION_BUCKETS[bucket] as number)) bucket++;
    (durations.buckets[bucket] as number)++;
    durations.sum += seconds;
    durations.count++;
    if (record.upstreamError !== undefined) this.#upstreamErrors.inc({ kind: record.upstreamError });
  }

  #requestSamples(): MetricSample[] {
    const samples: MetricSample[] = [];
    for (const [ingress, byService] of this.#requests) {
      for (const [service, counts] of byService) {
        counts.forEach((value, i) => {
          if (value > 0)
            samples.push({ labels: { ingress, service, status_class: STATUS_CLASSES[i] as string }, value });
        });
      }
    }
    return samples;
  }

  #durationSamples(): MetricSample[] {
    const samples: MetricSample[] = [];
    const name = "rennet_request_duration_seconds";
    for (const [ingress, series] of this.#durations) {
      let cumulative = 0;
      series.buckets.forEach((count, i) => {
        cumulative += count;
        const le = i < DURATION_BUCKETS.length ? (DURATION_BUCKETS[i] as number) : "+Inf";
        samples.push({ metricName: `${name}_bucket`, labels: { le, ingress }, value: cumulative });
      });
      samples.push({ metricName: `${name}_sum`, labels: { ingress }, value: series.sum });
      samples.push({ metricName: `${name}_count`, labels: { ingress }, value: series.count });
    }
    return samples;
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

/** One JSON line per request on stdout; `fields` (e.g. the worker's pid) are added to each. */
export function accessLog(fields?: Readonly<Record<string, string | number>>): RequestObserver {
  return {
    onRequest(record) {
      process.stdout.write(`${JSON.stringify({ ...record, ...fields, time: new Date(record.time).toISOString() })}\n`);
    },
  };
}
