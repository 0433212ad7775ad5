import { hostname } from "node:os";
import type { Ingress, Log, Service } from "@rennet/k8s-sync";
import {
  ClusterSource,
  EventRecorder,
  IngressStatusWriter,
  LeaderElector,
  type LoadBalancerIngress,
  loadKubeConfig,
  publishEntry,
} from "@rennet/k8s-sync/cluster";
import type { ConfigPipeline } from "./config-pipeline.js";

export interface ClusterModeOptions {
  readonly kubeconfig: string | undefined;
  readonly watchNamespace: string | undefined;
  readonly publishAddress: string | undefined;
  readonly publishService: string | undefined;
  readonly electionNamespace: string;
  readonly electionName?: string;
  /** Overrides for tests: lease timing (ms). */
  readonly leaseDurationMs?: number;
  readonly retryPeriodMs?: number;
}

const RECONCILE_DELAY_MS = 100;

const EVENT_REASONS: Record<string, string> = {
  "invalid-ingress": "InvalidIngress",
  "invalid-host": "InvalidRule",
  "invalid-path": "InvalidRule",
  "invalid-path-type": "InvalidRule",
  "missing-backend": "InvalidRule",
  "path-conflict": "PathConflict",
  "default-backend-conflict": "DefaultBackendConflict",
  "backend-unavailable": "BackendUnavailable",
  "invalid-annotation": "InvalidAnnotation",
  "tls-secret": "TLSSecretProblem",
  "tls-host-conflict": "TLSHostConflict",
};

/**
 * Cluster mode: informers feed the pipeline; the elected leader alone writes
 * Ingress status and Events, so a DaemonSet of N pods has one writer.
 */
export class ClusterMode {
  readonly source: ClusterSource;
  readonly #pipeline: ConfigPipeline;
  readonly #log: Log;
  readonly #options: ClusterModeOptions;
  readonly #elector: LeaderElector;
  readonly #status: IngressStatusWriter;
  readonly #events: EventRecorder;
  #applied = false;
  #reconciling: Promise<void> = Promise.resolve();
  #again = false;
  #pending: NodeJS.Timeout | undefined;
  #warnedNoAddress = false;

  constructor(pipeline: ConfigPipeline, log: Log, options: ClusterModeOptions) {
    const { config, from } = loadKubeConfig(options.kubeconfig);
    log({
      level: "info",
      msg: "cluster mode",
      kubeconfig: from,
      cluster: config.getCurrentCluster()?.server,
      namespace: options.watchNamespace ?? "(all)",
    });
    this.#pipeline = pipeline;
    this.#log = log;
    this.#options = options;
    this.source = new ClusterSource({
      config,
      ...(options.watchNamespace !== undefined ? { namespace: options.watchNamespace } : {}),
      log,
      onChange: ({ upserts, deletes }) => pipeline.applyChanges(upserts, deletes),
    });
    pipeline.onApplied = () => {
      this.#applied = true;
      this.#reconcile();
    };
    this.#status = new IngressStatusWriter(config, log);
    this.#events = new EventRecorder({ config, log });
    this.#elector = new LeaderElector({
      config,
      namespace: options.electionNamespace,
      name: options.electionName ?? "rennet-leader",
      identity: process.env.POD_NAME ?? `${hostname()}-${process.pid}`,
      log,
      ...(options.leaseDurationMs !== undefined
        ? { leaseDurationMs: options.leaseDurationMs, renewDeadlineMs: Math.round(options.leaseDurationMs * 0.66) }
        : {}),
      ...(options.retryPeriodMs !== undefined ? { retryPeriodMs: options.retryPeriodMs } : {}),
      onChange: (leading) => {
        if (leading) this.#reconcile();
      },
    });
  }

  async start(): Promise<void> {
    this.#elector.start();
    await this.source.start();
  }

  async stop(): Promise<void> {
    clearTimeout(this.#pending);
    await this.#elector.stop();
    await this.source.stop();
  }

  // Status and Events follow configuration changes a little behind them, in
  // one pass per burst, so that writing them never delays a change reaching traffic.
  #reconcile(): void {
    if (!this.#elector.leading || !this.#applied || this.#pending !== undefined) return;
    this.#pending = setTimeout(() => {
      this.#pending = undefined;
      this.#reconcileNow();
    }, RECONCILE_DELAY_MS);
  }

  #reconcileNow(): void {
    if (!this.#elector.leading || !this.#applied) return;
    this.#again = true;
    this.#reconciling = this.#reconciling.then(async () => {
      if (!this.#again) return;
      this.#again = false;
      if (!this.#elector.leading) return;
      await this.#writeStatus();
      await this.#recordEvents();
    });
  }

  #addresses(): LoadBalancerIngress[] {
    if (this.#options.publishAddress !== undefined) return [publishEntry(this.#options.publishAddress)];
    if (this.#options.publishService !== undefined) {
      const [namespace = "", name = ""] = this.#options.publishService.split("/");
      const service = this.source.get("Service", namespace, name) as Service | undefined;
      const status = (service as { status?: { loadBalancer?: { ingress?: LoadBalancerIngress[] } } } | undefined)
        ?.status;
      const fromStatus = status?.loadBalancer?.ingress ?? [];
      if (fromStatus.length > 0)
        return fromStatus.map((entry) => ({
          ...(entry.ip ? { ip: entry.ip } : {}),
          ...(entry.hostname ? { hostname: entry.hostname } : {}),
        }));
      const external = (service?.spec as { externalIPs?: string[] } | undefined)?.externalIPs ?? [];
      return external.map(publishEntry);
    }
    const nodeIp = process.env.NODE_IP;
    if (nodeIp !== undefined && nodeIp !== "") return [publishEntry(nodeIp)];
    if (!this.#warnedNoAddress) {
      this.#warnedNoAddress = true;
      this.#log({
        level: "warn",
        msg: "no publish address (--publish-address, --publish-service or NODE_IP); Ingress status is not written",
      });
    }
    return [];
  }

  async #writeStatus(): Promise<void> {
    const addresses = this.#addresses();
    // Without an address to publish there is nothing to write (statusChanges() finds no change): no pass over every Ingress.
    if (addresses.length === 0) return;
    const ingresses = this.source.list("Ingress") as Ingress[];
    const served = this.#pipeline.servedIngresses();
    await this.#status.reconcile(ingresses, served, addresses);
  }

  async #recordEvents(): Promise<void> {
    for (const { ingress, problems } of this.#pipeline.problems) {
      const [namespace = "", name = ""] = ingress.split("/");
      const uid = this.source.get("Ingress", namespace, name)?.metadata?.uid;
      for (const problem of problems) {
        await this.#events.warn(
          { namespace, name, ...(uid ? { uid } : {}) },
          EVENT_REASONS[problem.code] ?? "Rejected",
          problem.message,
        );
      }
    }
  }
}
