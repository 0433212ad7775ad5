import cluster from "node:cluster";
import { parseArgs } from "node:util";
import { ManifestSource } from "@rennet/k8s-sync";
import { adminApp } from "./admin-app.js";
import type { ClusterMode } from "./cluster-mode.js";
import { ConfigPipeline } from "./config-pipeline.js";
import { addressPort, DataPlane, listen } from "./data-plane.js";
import { createAdminServer } from "./edge-server.js";
import { duration, namespacedName, oneOf, port, UsageError } from "./flags.js";
import { stderrLog } from "./logger.js";
import { EdgeMetrics } from "./metrics.js";
import { runDataPlaneWorker } from "./workers/data-plane-worker.js";
import { aggregatedMetrics, WorkerGroup } from "./workers/worker-group.js";

export const SERVE_HELP = `Usage: rennet serve [--manifests <file-or-dir> …] [flags]

Standalone mode (--manifests): serves the Ingresses of manifest files (YAML,
multi-document, or JSON; directories are read recursively and watched: changes
apply within a second, without restart).
Cluster mode (no --manifests): watches the Kubernetes API (in-cluster service
account, or --kubeconfig, then $KUBECONFIG, then ~/.kube/config), writes Ingress
status and Events from the elected leader only.

Flags:
  --manifests <path>                 manifest file or directory (repeatable); selects standalone mode
  --kubeconfig <file>                cluster mode: kubeconfig to use
  --watch-namespace <ns>             cluster mode: watch one namespace (default: all)
  --publish-address <ip-or-host>     cluster mode: address written to Ingress status
  --publish-service <ns/name>        cluster mode: take the status address from this Service's load balancer
                                     or external IPs (default: the node IP from $NODE_IP)
  --election-namespace <ns>          cluster mode: namespace of the leader election Lease
                                     (default: $POD_NAMESPACE, else "rennet")
  --http-port <port>                 HTTP listener port (default 8000)
  --https-port <port>                HTTPS listener port: HTTP/2 and HTTP/1.1, certificates by SNI (default 8443)
  --default-certificate <ns/name>    TLS Secret for unknown or missing SNI (default: self-signed, generated in memory)
  --ssl-redirect                     redirect HTTP to HTTPS (308) for hosts with TLS unless an Ingress says
                                     rennet.dev/ssl-redirect: "false" (default off, as the Kubernetes spec expects)
  --admin-port <port>                admin port: /healthz /readyz /metrics /api/config (default 8080)
  --bind <address>                   address the listeners bind (default 0.0.0.0)
  --ingress-class <name>             class name for the kubernetes.io/ingress.class annotation (default rennet)
  --access-log <json|off>            one JSON line per request on stdout (default json)
  --load-balancing <strategy>        round-robin or least-request (power of two choices) (default round-robin)
  --upstream-connect-timeout <dur>   time to connect to an endpoint before 504 (default 5s)
  --upstream-response-timeout <dur>  time to wait for response headers, and between body chunks (default 60s)
  --client-header-timeout <dur>      time a client has to send the request head (default 20s)
  --client-request-timeout <dur>     time a client has to send a whole request (default 300s)
  --max-header-size <bytes>          largest request head accepted, else 431 (default 16384)
  --grace-period <dur>               on SIGTERM, how long in-flight requests may finish (default 30s)
  --workers <n>                      processes serving traffic (default 1). With n > 1 this process keeps the
                                     control plane (sources, translation, admin port, Kubernetes writes) and n
                                     workers share the listeners, each applying the configuration it sends
  -h, --help                         show this help
`;

export interface ServeOptions {
  readonly manifests: readonly string[];
  readonly kubeconfig: string | undefined;
  readonly watchNamespace: string | undefined;
  readonly publishAddress: string | undefined;
  readonly publishService: string | undefined;
  readonly electionNamespace: string;
  readonly httpPort: number;
  readonly httpsPort: number;
  readonly defaultCertificate: string | undefined;
  readonly sslRedirect: boolean;
  readonly adminPort: number;
  readonly bind: string;
  readonly ingressClass: string;
  readonly accessLog: "json" | "off";
  readonly loadBalancing: "round-robin" | "least-request";
  readonly connectTimeoutMs: number;
  readonly responseTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly maxHeaderSize: number;
  readonly gracePeriodMs: number;
  readonly workers: number;
}

export function parseServeFlags(argv: readonly string[]): ServeOptions | "help" {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof SERVE_FLAGS; strict: true; allowPositionals: false }>>;
  try {
    parsed = parseArgs({ args: [...argv], options: SERVE_FLAGS, strict: true, allowPositionals: false });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const v = parsed.values;
  if (v.help) return "help";
  const manifests = v.manifests ?? [];
  if (manifests.length > 0) {
    for (const flag of ["kubeconfig", "watch-namespace", "publish-address", "publish-service"] as const) {
      if (v[flag] !== undefined)
        throw new UsageError(`--${flag} is for cluster mode; it cannot be used with --manifests`);
    }
  }
  const watchNamespace = v["watch-namespace"];
  if (watchNamespace !== undefined && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(watchNamespace)) {
    throw new UsageError(`--watch-namespace must be a namespace name, got "${watchNamespace}"`);
  }
  const publishAddress = v["publish-address"];
  if (publishAddress !== undefined && !/^[A-Za-z0-9.:-]+$/.test(publishAddress)) {
    throw new UsageError(`--publish-address must be an IP address or a host name, got "${publishAddress}"`);
  }
  const maxHeaderSize = Number(v["max-header-size"]);
  if (!Number.isInteger(maxHeaderSize) || maxHeaderSize < 1024) {
    throw new UsageError(`--max-header-size must be a whole number of bytes >= 1024, got "${v["max-header-size"]}"`);
  }
  const workers = Number(v.workers);
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) {
    throw new UsageError(`--workers must be a whole number from 1 to 64, got "${v.workers}"`);
  }
  const ingressClass = v["ingress-class"];
  if (ingressClass === "") throw new UsageError("--ingress-class must not be empty");
  return {
    manifests,
    kubeconfig: v.kubeconfig,
    watchNamespace,
    publishAddress,
    publishService: namespacedName("publish-service", v["publish-service"]),
    electionNamespace: v["election-namespace"] ?? process.env.POD_NAMESPACE ?? "rennet",
    httpPort: port("http-port", v["http-port"]),
    httpsPort: port("https-port", v["https-port"]),
    defaultCertificate: namespacedName("default-certificate", v["default-certificate"]),
    sslRedirect: v["ssl-redirect"],
    adminPort: port("admin-port", v["admin-port"]),
    bind: v.bind,
    ingressClass,
    accessLog: oneOf("access-log", v["access-log"], ["json", "off"] as const),
    loadBalancing: oneOf("load-balancing", v["load-balancing"], ["round-robin", "least-request"] as const),
    connectTimeoutMs: duration("upstream-connect-timeout", v["upstream-connect-timeout"]),
    responseTimeoutMs: duration("upstream-response-timeout", v["upstream-response-timeout"]),
    headersTimeoutMs: duration("client-header-timeout", v["client-header-timeout"]),
    requestTimeoutMs: duration("client-request-timeout", v["client-request-timeout"]),
    maxHeaderSize,
    gracePeriodMs: duration("grace-period", v["grace-period"]),
    workers,
  };
}

const SERVE_FLAGS = {
  manifests: { type: "string", multiple: true },
  kubeconfig: { type: "string" },
  "watch-namespace": { type: "string" },
  "publish-address": { type: "string" },
  "publish-service": { type: "string" },
  "election-namespace": { type: "string" },
  "http-port": { type: "string", default: "8000" },
  "https-port": { type: "string", default: "8443" },
  "default-certificate": { type: "string" },
  "ssl-redirect": { type: "boolean", default: false },
  "admin-port": { type: "string", default: "8080" },
  bind: { type: "string", default: "0.0.0.0" },
  "ingress-class": { type: "string", default: "rennet" },
  "access-log": { type: "string", default: "json" },
  "load-balancing": { type: "string", default: "round-robin" },
  "upstream-connect-timeout": { type: "string", default: "5s" },
  "upstream-response-timeout": { type: "string", default: "60s" },
  "client-header-timeout": { type: "string", default: "20s" },
  "client-request-timeout": { type: "string", default: "300s" },
  "max-header-size": { type: "string", default: "16384" },
  "grace-period": { type: "string", default: "30s" },
  workers: { type: "string", default: "1" },
  help: { type: "boolean", short: "h", default: false },
} as const;

/** Runs rennet until SIGTERM/SIGINT; resolves to the exit code. */
export async function serve(options: ServeOptions): Promise<number> {
  if (cluster.isWorker) return runDataPlaneWorker(options);
  const log = stderrLog;
  const metrics = new EdgeMetrics();
  // With --workers the data plane of this process never listens: it holds the configuration the
  // admin API shows, and the workers serve.
  const plane = new DataPlane(options, metrics, log);
  const proxy = plane.proxy;
  const pipeline = new ConfigPipeline(
    proxy,
    metrics,
    log,
    {
      className: options.ingressClass,
      ...(options.defaultCertificate !== undefined ? { defaultCertificate: options.defaultCertificate } : {}),
    },
    (tls) => plane.applyTls(tls),
  );
  const workers =
    options.workers > 1
      ? new WorkerGroup({
          count: options.workers,
          log,
          snapshot: () => pipeline.snapshot(),
          stopTimeoutMs: options.gracePeriodMs + 5_000,
        })
      : undefined;
  /** The generation of the first configuration applied: workers are ready once they have it. */
  let firstGeneration: number | undefined;
  pipeline.onDelta = (generation, delta, tls) => {
    firstGeneration ??= generation;
    workers?.broadcast(generation, delta, tls);
  };
  let draining = false;
  const admin = createAdminServer(
    adminApp(proxy, metrics, {
      ready: () =>
        pipeline.applied && (workers === undefined || workers.hasApplied(firstGeneration ?? Number.POSITIVE_INFINITY)),
      draining: () => draining,
      problems: () => pipeline.problems,
      certificates: () => plane.certificates.certificates(),
      ...(workers !== undefined
        ? {
            metricsText: async () =>
              aggregatedMetrics(await metrics.registry.getMetricsAsJSON(), await workers.metrics()),
            workers: () => workers.workers(),
          }
        : {}),
    }),
  );
  // Cluster mode is loaded only when used: @kubernetes/client-node alone adds tens of MB.
  const source =
    options.manifests.length > 0
      ? new ManifestSource({
          paths: options.manifests,
          log,
          // What changed, not all 30k objects again: the translator then costs what the change touches.
          onChange: (_objects, changes) => pipeline.applyChanges(changes.upserts, changes.deletes),
        })
      : new (await import("./cluster-mode.js")).ClusterMode(pipeline, log, {
          kubeconfig: options.kubeconfig,
          watchNamespace: options.watchNamespace,
          publishAddress: options.publishAddress,
          publishService: options.publishService,
          electionNamespace: options.electionNamespace,
          ...leaseTimingFromEnv(),
        });

  await listen(admin, options.adminPort, options.bind, "admin");
  // Cluster mode serves (503 from /readyz) while it waits for the API server.
  await (source instanceof ManifestSource ? source.start() : source.start().catch(() => undefined));
  const ports = workers === undefined ? await plane.listen() : await workers.start();
  log({
    level: "info",
    msg: "rennet is serving",
    // The launcher may re-execute rennet under another Node: this is the process that serves.
    pid: process.pid,
    http: `${options.bind}:${ports.http}`,
    https: `${options.bind}:${ports.https}`,
    admin: `${options.bind}:${addressPort(admin)}`,
    mode: options.manifests.length > 0 ? "standalone" : "cluster",
    manifests: options.manifests,
    workers: options.workers,
  });

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGTERM", () => resolve("SIGTERM"));
    process.once("SIGINT", () => resolve("SIGINT"));
  });
  draining = true;
  log({
    level: "info",
    msg: "draining: no new connections, in-flight requests may finish",
    signal,
    gracePeriodMs: options.gracePeriodMs,
  });
  if (source instanceof ManifestSource) source.close();
  else await (source as ClusterMode).stop();
  const outcome =
    workers === undefined ? await plane.drain(options.gracePeriodMs, log) : await workers.stop().then(() => "drained");
  admin.close();
  admin.closeAllConnections();
  log({ level: "info", msg: "stopped", outcome });
  return 0;
}

// Lease timing for tests that exercise failover; production uses client-go's defaults (15 s / 2 s).
function leaseTimingFromEnv(): { leaseDurationMs?: number; retryPeriodMs?: number } {
  const lease = Number(process.env.RENNET_LEASE_DURATION_MS);
  const retry = Number(process.env.RENNET_LEASE_RETRY_MS);
  return {
    ...(Number.isFinite(lease) && lease > 0 ? { leaseDurationMs: lease } : {}),
    ...(Number.isFinite(retry) && retry > 0 ? { retryPeriodMs: retry } : {}),
  };
}

export async function serveCommand(argv: readonly string[]): Promise<number> {
  const options = parseServeFlags(argv);
  if (options === "help") {
    process.stdout.write(SERVE_HELP);
    return 0;
  }
  return serve(options);
}

export { UsageError };
