import {
  ApiException,
  createConfiguration,
  HttpMethod,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  RequestContext,
} from "@kubernetes/client-node";
import type { Kind } from "../snapshot.js";
import { TLS_SECRET_TYPE } from "../tls.js";

/** One kind rennet watches: where to list and watch it, and how it is named in RBAC. */
export interface WatchedResource {
  readonly kind: Kind;
  /** RBAC resource and API group, for error messages that say what permission is missing. */
  readonly resource: string;
  readonly group: string;
  readonly path: string;
  readonly fieldSelector?: string;
  /** The list, as the API sends it: plain JSON (items without kind). */
  readonly list: () => Promise<KubernetesListObject<KubernetesObject>>;
}

/**
 * A list call that keeps the API's JSON as it is. client-node's typed list
 * calls turn every item into model instances (Date timestamps, arrays grown
 * by push), which the cluster source would only convert back: at 10k objects
 * per kind, a second full copy of the cluster during the initial sync. The
 * request is made as client-node makes it (same authentication, TLS and
 * HTTP library), and failures are the same ApiException.
 */
function jsonList(config: KubeConfig, path: string, fieldSelector: string | undefined) {
  const http = createConfiguration().httpApi;
  return async (): Promise<KubernetesListObject<KubernetesObject>> => {
    const cluster = config.getCurrentCluster();
    if (!cluster) throw new Error("No active cluster!");
    const url = new URL(cluster.server + path);
    if (fieldSelector !== undefined) url.searchParams.set("fieldSelector", fieldSelector);
    const request = new RequestContext(url.toString(), HttpMethod.GET);
    request.setHeaderParam("Accept", "application/json");
    await config.applySecurityAuthentication(request);
    const response = await http.send(request).toPromise();
    const code = response.httpStatusCode;
    if (code === 401) throw new ApiException(code, "Unauthorized", undefined, response.headers);
    const text = await response.body.text();
    if (code < 200 || code > 299) throw new ApiException(code, "Unknown API Status Code!", text, response.headers);
    return JSON.parse(text) as KubernetesListObject<KubernetesObject>;
  };
}

/**
 * Ingress, IngressClass, Service, EndpointSlice and TLS Secrets, cluster-wide
 * or in one namespace (IngressClass is cluster-scoped either way).
 */
export function watchedResources(config: KubeConfig, namespace: string | undefined): WatchedResource[] {
  const scoped = (prefix: string, plural: string) =>
    namespace === undefined ? `${prefix}/${plural}` : `${prefix}/namespaces/${namespace}/${plural}`;
  const resource = (
    kind: Kind,
    plural: string,
    group: string,
    path: string,
    fieldSelector?: string,
  ): WatchedResource => ({
    kind,
    resource: plural,
    group,
    path,
    ...(fieldSelector !== undefined ? { fieldSelector } : {}),
    list: jsonList(config, path, fieldSelector),
  });
  return [
    resource("Ingress", "ingresses", "networking.k8s.io", scoped("/apis/networking.k8s.io/v1", "ingresses")),
    resource("IngressClass", "ingressclasses", "networking.k8s.io", "/apis/networking.k8s.io/v1/ingressclasses"),
    resource("Service", "services", "", scoped("/api/v1", "services")),
    resource(
      "EndpointSlice",
      "endpointslices",
      "discovery.k8s.io",
      scoped("/apis/discovery.k8s.io/v1", "endpointslices"),
    ),
    resource("Secret", "secrets", "", scoped("/api/v1", "secrets"), `type=${TLS_SECRET_TYPE}`),
  ];
}
