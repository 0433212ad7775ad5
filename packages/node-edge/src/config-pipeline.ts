import {
  type Ingress,
  type KubeObject,
  type Log,
  snapshotOf,
  type TranslatedIngress,
  type TranslateOptions,
  type Translation,
  translate,
} from "@rennet/k8s-sync";
import { nextConfig } from "./edge-config.js";
import type { EdgeProxy } from "./edge-proxy.js";
import type { EdgeMetrics } from "./metrics.js";

export interface IngressProblems {
  readonly ingress: string;
  readonly problems: readonly { readonly code: string; readonly message: string }[];
}

/**
 * source objects → snapshot → pure translation → incremental table update →
 * one atomic swap into the proxy. Problems are logged once each, when they
 * first appear, and kept for the admin API.
 */
export class ConfigPipeline {
  readonly #proxy: EdgeProxy;
  readonly #metrics: EdgeMetrics;
  readonly #log: Log;
  readonly #options: TranslateOptions;
  readonly #memo = new WeakMap<Ingress, TranslatedIngress>();
  #translation: Translation | undefined;
  #reported = new Set<string>();
  #problems: IngressProblems[] = [];
  #applied = false;

  readonly #onTls: ((tls: Translation["tls"]) => void) | undefined;
  /** Called after each applied configuration, with what it was made from. */
  onApplied: ((objects: readonly KubeObject[], translation: Translation) => void) | undefined;

  constructor(
    proxy: EdgeProxy,
    metrics: EdgeMetrics,
    log: Log,
    options: TranslateOptions,
    onTls?: (tls: Translation["tls"]) => void,
  ) {
    this.#onTls = onTls;
    this.#proxy = proxy;
    this.#metrics = metrics;
    this.#log = log;
    this.#options = options;
  }

  get applied(): boolean {
    return this.#applied;
  }

  get problems(): readonly IngressProblems[] {
    return this.#problems;
  }

  /**
   * "namespace/name" of the Ingresses that serve traffic now: of our class,
   * with at least one winning route or the winning default backend.
   */
  servedIngresses(): Set<string> {
    const table = this.#proxy.config.table;
    const served = new Set<string>();
    for (const route of table.routes()) served.add(`${route.ingress.namespace}/${route.ingress.name}`);
    const fallback = table.defaultBackend;
    if (fallback !== null) served.add(`${fallback.ingress.namespace}/${fallback.ingress.name}`);
    return served;
  }

  apply(objects: readonly KubeObject[]): void {
    const started = performance.now();
    try {
      const translation = translate(snapshotOf(objects), this.#options, this.#memo);
      const config = nextConfig(this.#proxy.config, translation, this.#translation);
      this.#onTls?.(translation.tls);
      this.#proxy.swap(config);
      this.#translation = translation;
      this.#applied = true;
      this.#metrics.reloads.inc({ result: "success" });
      this.#metrics.routes.set(config.table.routeCount);
      this.#metrics.ingresses.set(config.table.ingressCount);
      let endpoints = 0;
      for (const backend of config.backends.values()) endpoints += backend.endpoints.length;
      this.#metrics.endpoints.set(endpoints);
      this.#report(translation, config.table.allDiagnostics());
      this.onApplied?.(objects, translation);
      this.#log({
        level: "info",
        msg: "configuration applied",
        generation: config.generation,
        ingresses: config.table.ingressCount,
        routes: config.table.routeCount,
        backends: config.backends.size,
        ms: Math.round((performance.now() - started) * 100) / 100,
      });
    } catch (error) {
      // A bug here must not take the proxy down: the last configuration keeps serving.
      this.#metrics.reloads.inc({ result: "failure" });
      this.#log({
        level: "error",
        msg: "configuration not applied; the previous one keeps serving",
        error: String(error),
      });
    }
  }

  #report(translation: Translation, diagnostics: ReturnType<EdgeProxy["config"]["table"]["allDiagnostics"]>): void {
    const byIngress = new Map<string, Array<{ code: string; message: string }>>();
    const add = (ingress: string, code: string, message: string) => {
      const list = byIngress.get(ingress) ?? [];
      list.push({ code, message });
      byIngress.set(ingress, list);
    };
    for (const { ingress, diagnostics: list } of diagnostics) {
      for (const diagnostic of list) add(`${ingress.namespace}/${ingress.name}`, diagnostic.code, diagnostic.message);
    }
    for (const problem of translation.problems) {
      add(`${problem.ingress.namespace}/${problem.ingress.name}`, problem.code, problem.message);
    }
    const current = new Set<string>();
    for (const [ingress, problems] of byIngress) {
      for (const problem of problems) {
        const key = `${ingress}|${problem.message}`;
        current.add(key);
        if (!this.#reported.has(key)) {
          this.#log({ level: "warn", msg: "ingress problem", ingress, code: problem.code, problem: problem.message });
        }
      }
    }
    this.#reported = current;
    this.#problems = [...byIngress].map(([ingress, problems]) => ({ ingress, problems }));
  }
}
