import {
  IncrementalTranslator,
  type KubeObject,
  type Log,
  type TranslateOptions,
  type Translation,
  type TranslationDelta,
  type TranslationProblem,
} from "@rennet/k8s-sync";
import { applyDelta } from "./edge-config.js";
import type { EdgeProxy } from "./edge-proxy.js";
import type { EdgeMetrics } from "./metrics.js";

export interface IngressProblems {
  readonly ingress: string;
  readonly problems: readonly { readonly code: string; readonly message: string }[];
}

/**
 * source objects → incremental translation (pure steps) → incremental table update →
 * one atomic swap into the proxy. Problems are logged once each, when they
 * first appear, and kept for the admin API.
 */
export class ConfigPipeline {
  readonly #proxy: EdgeProxy;
  readonly #metrics: EdgeMetrics;
  readonly #log: Log;
  readonly #translator: IncrementalTranslator;
  #reported = new Set<string>();
  #problems: IngressProblems[] = [];
  #applied = false;

  readonly #onTls: ((tls: Translation["tls"]) => void) | undefined;
  /** Called after each applied configuration. */
  onApplied: (() => void) | undefined;
  /**
   * Called with each applied change, and with the TLS inputs when they changed:
   * data-plane workers (--workers) apply the same.
   */
  onDelta: ((generation: number, delta: TranslationDelta, tls: Translation["tls"] | undefined) => void) | undefined;

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
    this.#translator = new IncrementalTranslator(options);
  }

  /** The whole current configuration as one change from nothing, for a worker that starts empty. */
  snapshot(): { generation: number; delta: TranslationDelta; tls: Translation["tls"] } {
    const translation = this.#translator.translation;
    return {
      generation: this.#proxy.config.generation,
      delta: { upsert: translation.ingresses, remove: [], backends: translation.backends, tlsChanged: true },
      tls: translation.tls,
    };
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
  servedIngresses(): (namespace: string, name: string) => boolean {
    const table = this.#proxy.config.table;
    return (namespace, name) => table.isServing(namespace, name);
  }

  /** Applies the complete current set of objects (the manifest source). */
  apply(objects: readonly KubeObject[]): void {
    this.#update(() => this.#translator.apply(objects));
  }

  /**
   * Applies what changed (the cluster source): upserts replace the object of
   * the same kind and name, deletions remove it. Costs what the change
   * touches, whatever the size of the cluster.
   */
  applyChanges(upserts: readonly KubeObject[], deletes: readonly KubeObject[]): void {
    this.#update(() => this.#translator.applyChanges(upserts, deletes));
  }

  #update(translate: () => TranslationDelta): void {
    const started = performance.now();
    try {
      const delta = translate();
      const change = applyDelta(this.#proxy.config, delta);
      const config = change.config;
      const tls = delta.tlsChanged || !this.#applied ? this.#translator.translation.tls : undefined;
      if (tls !== undefined) this.#onTls?.(tls);
      this.#proxy.swap(change);
      this.onDelta?.(config.generation, delta, tls);
      this.#applied = true;
      this.#metrics.reloads.inc({ result: "success" });
      this.#metrics.routes.set(config.table.routeCount);
      this.#metrics.ingresses.set(config.table.ingressCount);
      this.#metrics.endpoints.set(this.#proxy.upstreams.endpointCount);
      this.#report(this.#translator.problems, config.table.allDiagnostics());
      this.onApplied?.();
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

  #report(
    translationProblems: readonly TranslationProblem[],
    diagnostics: ReturnType<EdgeProxy["config"]["table"]["allDiagnostics"]>,
  ): void {
    const byIngress = new Map<string, Array<{ code: string; message: string }>>();
    const add = (ingress: string, code: string, message: string) => {
      const list = byIngress.get(ingress) ?? [];
      list.push({ code, message });
      byIngress.set(ingress, list);
    };
    for (const { ingress, diagnostics: list } of diagnostics) {
      for (const diagnostic of list) add(`${ingress.namespace}/${ingress.name}`, diagnostic.code, diagnostic.message);
    }
    for (const problem of translationProblems) {
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
