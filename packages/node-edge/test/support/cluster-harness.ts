/**
 * Cluster-mode end-to-end tests: the real `rennet serve --kubeconfig …` against the Kubernetes API double
 * (packages/k8s-sync/test/support/kube-api-double). `useCluster()` registers, in the calling test file, an
 * afterEach hook (through `useHarness`) that stops every rennet, API double and backend started through it (and
 * removes every test CA), in reverse order of start.
 *
 * Cluster instances get the short lease timing tests need (RENNET_LEASE_DURATION_MS 1500, RENNET_LEASE_RETRY_MS
 * 200), a POD_NAME (their leader-election identity) and a 1 s grace period, so that stopping them is quick.
 */
import { type KubeApiDouble, startKubeApiDouble } from "../../../k8s-sync/test/support/kube-api-double/index.js";
import type { Backend, BackendOptions } from "./backends.js";
import { useHarness } from "./harness.js";
import { admin, request } from "./http.js";
import type { Manifest } from "./manifests.js";
import { type LogLine, Rennet, untilServing } from "./rennet.js";
import type { Pki } from "./tls-harness.js";

export const ELECTION_NAMESPACE = "rennet";
export const LEASE_NAME = "rennet-leader";

/** Env of a cluster-mode instance: its identity and the short lease timing. */
export function clusterEnv(podName: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    POD_NAME: podName,
    RENNET_LEASE_DURATION_MS: "1500",
    RENNET_LEASE_RETRY_MS: "200",
    ...extra,
  };
}

export interface ClusterRennetOptions {
  /** The kubeconfig to use; default: the double's. */
  readonly kubeconfig?: string;
  /** More flags for `rennet serve` (e.g. --publish-address, --watch-namespace). */
  readonly args?: readonly string[];
  /** POD_NAME, the leader-election identity. Default "rennet-0". */
  readonly podName?: string;
  /** More environment variables. */
  readonly env?: Record<string, string>;
  /** Bound on the start-up (until "rennet is serving"). Default 10 s. */
  readonly timeoutMs?: number;
}

/**
 * Starts `rennet serve` in cluster mode and resolves once it logs "rennet is serving" — which it does even while
 * the API server cannot be listed (then /readyz answers 503).
 */
export async function startClusterRennet(double: KubeApiDouble, options: ClusterRennetOptions = {}): Promise<Rennet> {
  const args = [
    "serve",
    "--bind",
    "127.0.0.1",
    "--http-port",
    "0",
    "--https-port",
    "0",
    "--admin-port",
    "0",
    "--grace-period",
    "1s",
    "--kubeconfig",
    options.kubeconfig ?? double.kubeconfigPath,
    "--election-namespace",
    ELECTION_NAMESPACE,
    ...(options.args ?? []),
  ];
  return untilServing(new Rennet(args, clusterEnv(options.podName ?? "rennet-0", options.env)), options.timeoutMs);
}

export interface Cluster {
  /** A new API double (stopped after the test). */
  api(seed?: readonly Manifest[]): Promise<KubeApiDouble>;
  rennet(double: KubeApiDouble, options?: ClusterRennetOptions): Promise<Rennet>;
  backend(options: BackendOptions): Promise<Backend>;
  /** A test CA, removed after the test. */
  pki(): Promise<Pki>;
  defer(cleanup: () => Promise<unknown> | unknown): void;
}

export function useCluster(): Cluster {
  const harness = useHarness("each");
  return {
    async api(objects = []) {
      const double = await startKubeApiDouble();
      harness.defer(() => double.stop());
      apply(double, objects);
      return double;
    },
    async rennet(double, options) {
      const rennet = await startClusterRennet(double, options);
      harness.defer(() => rennet.stop(3000));
      return rennet;
    },
    backend: (options) => harness.backend(options),
    pki: () => harness.pki(),
    defer: (cleanup) => harness.defer(cleanup),
  };
}

/** Creates or replaces objects through the double's back door (watches see ADDED/MODIFIED). */
export function apply(double: KubeApiDouble, objects: readonly Manifest[]): void {
  for (const object of objects) double.apply(object as Parameters<KubeApiDouble["apply"]>[0]);
}

/**
 * Changes objects as a user would (kubectl apply, a PUT of the main resource): the spec is replaced, the stored
 * status is kept. (The back door's apply() replaces the status too.)
 */
export function update(double: KubeApiDouble, objects: readonly Manifest[]): void {
  for (const object of objects) {
    const metadata = object.metadata as { name: string; namespace?: string };
    const kind = String(object.kind);
    const stored = double.get(
      kind,
      metadata.namespace ?? (kind === "IngressClass" ? undefined : "default"),
      metadata.name,
    );
    const status = (stored as { status?: unknown } | undefined)?.status;
    apply(double, [status === undefined ? object : { ...object, status }]);
  }
}

/** status.loadBalancer.ingress of an Ingress as the API holds it (undefined when unset or missing). */
export function loadBalancerOf(double: KubeApiDouble, name: string, namespace = "default"): unknown {
  const ingress = double.get("Ingress", namespace, name) as
    | { status?: { loadBalancer?: { ingress?: unknown } } }
    | undefined;
  return ingress?.status?.loadBalancer?.ingress;
}

/** spec.holderIdentity of the leader Lease ("" when released, undefined before anyone created it). */
export function leaseHolder(double: KubeApiDouble): string | undefined {
  const lease = double.get("Lease", ELECTION_NAMESPACE, LEASE_NAME) as
    | { spec?: { holderIdentity?: string } }
    | undefined;
  return lease === undefined ? undefined : (lease.spec?.holderIdentity ?? "");
}

/** The /readyz status code, 0 when the admin port does not answer. */
export async function readyz(rennet: Rennet): Promise<number> {
  try {
    return (await admin(rennet.adminPort, "/readyz", 2000)).status;
  } catch {
    return 0;
  }
}

/** Which backend answered a request for `host` (+ `path`): its name, or "<status>" when no backend did. */
export async function answeredBy(rennet: Rennet, host: string, path = "/"): Promise<string> {
  const reply = await request(rennet.httpPort, { host, path, timeoutMs: 3000 });
  if (reply.status !== 200) return String(reply.status);
  try {
    return String(reply.json<{ me?: unknown }>().me);
  } catch {
    return "200 (not an echo)";
  }
}

/** rennet's operational log lines with this msg. */
export function logsWith(rennet: Rennet, msg: string): LogLine[] {
  return rennet.logs().filter((line) => line.msg === msg);
}
