import { type KubeConfig, NetworkingV1Api } from "@kubernetes/client-node";
import type { Log } from "../log.js";
import type { Ingress } from "../objects.js";
import { describeApiError } from "./api-errors.js";

const STATUS_SLICE = 500;

/** One entry of status.loadBalancer.ingress. */
export interface LoadBalancerIngress {
  readonly ip?: string;
  readonly hostname?: string;
}

/** An IP address becomes {ip}, anything else {hostname}. */
export function publishEntry(address: string): LoadBalancerIngress {
  return /^[\d.]+$/.test(address) || address.includes(":") ? { ip: address } : { hostname: address };
}

function same(a: readonly LoadBalancerIngress[] | undefined, b: readonly LoadBalancerIngress[]): boolean {
  const left = (a ?? []).map((entry) => `${entry.ip ?? ""}|${entry.hostname ?? ""}`).sort();
  const right = b.map((entry) => `${entry.ip ?? ""}|${entry.hostname ?? ""}`).sort();
  return left.length === right.length && left.every((value, index) => value === right[index]);
}

function current(ingress: Ingress): readonly LoadBalancerIngress[] | undefined {
  return (ingress.status as { loadBalancer?: { ingress?: LoadBalancerIngress[] } } | undefined)?.loadBalancer?.ingress;
}

/** What each Ingress's status should become: only the writes that change something. */
export function statusChanges(
  ingresses: readonly Ingress[],
  serves: (namespace: string, name: string) => boolean,
  addresses: readonly LoadBalancerIngress[],
): Array<{ ingress: Ingress; loadBalancer: LoadBalancerIngress[] }> {
  const changes: Array<{ ingress: Ingress; loadBalancer: LoadBalancerIngress[] }> = [];
  for (const ingress of ingresses) {
    const now = current(ingress);
    if (serves(ingress.metadata?.namespace ?? "", ingress.metadata?.name ?? "")) {
      if (addresses.length > 0 && !same(now, addresses)) changes.push({ ingress, loadBalancer: [...addresses] });
    } else if (addresses.length > 0 && now !== undefined && now.length > 0 && same(now, addresses)) {
      // Ours, and no longer served by us (class changed, no valid rule left): take it back.
      changes.push({ ingress, loadBalancer: [] });
    }
  }
  return changes;
}

/**
 * Writes status.loadBalancer.ingress through the status subresource (only
 * the leader calls it). A conflict (409) is left to the next reconcile,
 * which runs on the informer's newer copy.
 */
export class IngressStatusWriter {
  readonly #api: NetworkingV1Api;
  readonly #log: Log;

  constructor(config: KubeConfig, log: Log) {
    this.#api = config.makeApiClient(NetworkingV1Api);
    this.#log = log;
  }

  async reconcile(
    ingresses: readonly Ingress[],
    serves: (namespace: string, name: string) => boolean,
    addresses: readonly LoadBalancerIngress[],
  ) {
    let written = 0;
    // In slices, yielding between them: a check over 10k Ingresses must not hold up requests.
    const changes: ReturnType<typeof statusChanges> = [];
    for (let start = 0; start < ingresses.length; start += STATUS_SLICE) {
      changes.push(...statusChanges(ingresses.slice(start, start + STATUS_SLICE), serves, addresses));
      if (start + STATUS_SLICE < ingresses.length) await new Promise((resolve) => setImmediate(resolve));
    }
    for (const { ingress, loadBalancer } of changes) {
      const namespace = ingress.metadata?.namespace ?? "default";
      const name = ingress.metadata?.name ?? "";
      try {
        await this.#api.replaceNamespacedIngressStatus({
          name,
          namespace,
          body: {
            apiVersion: "networking.k8s.io/v1",
            kind: "Ingress",
            metadata: {
              name,
              namespace,
              ...(ingress.metadata?.resourceVersion ? { resourceVersion: ingress.metadata.resourceVersion } : {}),
            },
            status: { loadBalancer: { ingress: loadBalancer } },
          },
        });
        written++;
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        if (code === 409 || code === 404) continue;
        this.#log({
          level: "warn",
          msg: "could not write Ingress status",
          ingress: `${namespace}/${name}`,
          problem: describeApiError(error, { resource: "ingresses/status", group: "networking.k8s.io" }, "update"),
        });
      }
    }
    return written;
  }
}
