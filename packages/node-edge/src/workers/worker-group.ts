import cluster, { type Worker } from "node:cluster";
import type { Log, Translation, TranslationDelta } from "@rennet/k8s-sync";
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue } from "prom-client";
import { type FromWorker, isMessage, type ToWorker } from "./worker-messages.js";

/** The whole configuration, as a delta from nothing, for a worker that starts empty. */
export interface ConfigSnapshot {
  readonly generation: number;
  readonly delta: TranslationDelta;
  readonly tls: Translation["tls"];
}

export interface WorkerGroupOptions {
  readonly count: number;
  readonly log: Log;
  /** The current configuration; taken when a worker is started. */
  readonly snapshot: () => ConfigSnapshot;
  /** How long after SIGKILL follows a drain request. */
  readonly stopTimeoutMs: number;
  /** Delay before a worker that died is replaced. */
  readonly restartDelayMs?: number;
}

interface WorkerState {
  readonly worker: Worker;
  generation: number;
  ports: { http: number; https: number } | null;
}

export interface WorkerInfo {
  readonly pid: number | undefined;
  readonly generation: number;
  readonly listening: boolean;
}

/**
 * The data-plane workers of a control-plane process (--workers): forked with
 * node:cluster (the listeners are shared: the primary accepts connections and
 * hands them out round-robin), given a snapshot of the configuration when they
 * start and every change after it, replaced when they die.
 */
export class WorkerGroup {
  readonly #options: WorkerGroupOptions;
  readonly #workers = new Map<number, WorkerState>();
  readonly #pendingMetrics = new Map<number, (metrics: MetricObjectWithValues<MetricValue<string>>[]) => void>();
  #nextMetricsId = 0;
  #stopping = false;
  #listening: ((ports: { http: number; https: number }) => void) | undefined;

  constructor(options: WorkerGroupOptions) {
    this.#options = options;
    // Maps (backends, Secrets) cross the channel as they are.
    cluster.setupPrimary({ serialization: "advanced" });
  }

  /** Starts the workers; resolves once every one of them listens, with the ports they got. */
  start(): Promise<{ http: number; https: number }> {
    const ready = new Promise<{ http: number; https: number }>((resolve) => {
      this.#listening = resolve;
    });
    for (let i = 0; i < this.#options.count; i++) this.#fork();
    return ready;
  }

  /** Sends an applied change to every worker. */
  broadcast(generation: number, delta: TranslationDelta, tls: Translation["tls"] | undefined): void {
    const message: ToWorker =
      tls === undefined
        ? { type: "rennet:config", generation, delta }
        : { type: "rennet:config", generation, delta, tls };
    for (const state of this.#workers.values()) this.#send(state.worker, message);
  }

  /** True when every worker listens and has applied generation `generation` or a later one. */
  hasApplied(generation: number): boolean {
    return this.#allListening() && [...this.#workers.values()].every((state) => state.generation >= generation);
  }

  /** True when every worker there should be is running and listening. */
  #allListening(): boolean {
    if (this.#workers.size < this.#options.count) return false;
    for (const state of this.#workers.values()) if (state.ports === null) return false;
    return true;
  }

  workers(): WorkerInfo[] {
    return [...this.#workers.values()].map((state) => ({
      pid: state.worker.process.pid,
      generation: state.generation,
      listening: state.ports !== null,
    }));
  }

  /** Every worker's metrics, for the control plane's /metrics (a worker that does not answer in 1 s is left out). */
  async metrics(): Promise<MetricObjectWithValues<MetricValue<string>>[][]> {
    const answers = [...this.#workers.values()].map(
      (state) =>
        new Promise<MetricObjectWithValues<MetricValue<string>>[]>((resolve) => {
          const id = ++this.#nextMetricsId;
          const timer = setTimeout(() => {
            this.#pendingMetrics.delete(id);
            resolve([]);
          }, 1000);
          this.#pendingMetrics.set(id, (metrics) => {
            clearTimeout(timer);
            this.#pendingMetrics.delete(id);
            resolve(metrics);
          });
          this.#send(state.worker, { type: "rennet:metrics", id });
        }),
    );
    return Promise.all(answers);
  }

  /** Asks every worker to drain; resolves when all have exited (SIGKILL after stopTimeoutMs). */
  async stop(): Promise<void> {
    this.#stopping = true;
    const exits = [...this.#workers.values()].map(({ worker }) => {
      if (worker.isDead()) return Promise.resolve();
      const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
      this.#send(worker, { type: "rennet:drain" });
      const kill = setTimeout(() => worker.process.kill("SIGKILL"), this.#options.stopTimeoutMs);
      return exited.then(() => clearTimeout(kill));
    });
    await Promise.all(exits);
  }

  #fork(): void {
    const worker = cluster.fork();
    const state: WorkerState = { worker, generation: -1, ports: null };
    this.#workers.set(worker.id, state);
    // Queued on the channel before anything the control plane applies later: ordered.
    const snapshot = this.#options.snapshot();
    this.#send(worker, { type: "rennet:config", ...snapshot });
    worker.on("message", (message: unknown) => this.#onMessage(state, message));
    worker.on("error", () => undefined); // a send to a dying worker; its exit is handled below
    worker.on("exit", (code, signal) => {
      this.#workers.delete(worker.id);
      if (this.#stopping) return;
      this.#options.log({
        level: "error",
        msg: "data-plane worker exited; starting another",
        pid: worker.process.pid,
        code,
        signal,
      });
      setTimeout(() => {
        if (!this.#stopping) this.#fork();
      }, this.#options.restartDelayMs ?? 1000).unref();
    });
  }

  #onMessage(state: WorkerState, message: unknown): void {
    if (!isMessage<FromWorker>(message)) return;
    switch (message.type) {
      case "rennet:applied":
        state.generation = message.generation;
        break;
      case "rennet:listening":
        state.ports = { http: message.http, https: message.https };
        if (this.#listening !== undefined && this.#allListening()) {
          this.#listening(state.ports);
          this.#listening = undefined;
        }
        break;
      case "rennet:metrics":
        this.#pendingMetrics.get(message.id)?.(message.metrics);
        break;
    }
  }

  #send(worker: Worker, message: ToWorker): void {
    if (worker.isConnected()) worker.send(message);
  }
}

/** The Prometheus text of the control plane's own metrics and its workers', summed per series. */
export async function aggregatedMetrics(
  own: MetricObjectWithValues<MetricValue<string>>[],
  workers: MetricObjectWithValues<MetricValue<string>>[][],
): Promise<string> {
  return AggregatorRegistry.aggregate([own, ...workers]).metrics();
}
