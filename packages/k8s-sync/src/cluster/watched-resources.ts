import {
  CoreV1Api,
  DiscoveryV1Api,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  NetworkingV1Api,
} from "@kubernetes/client-node";
import { TLS_SECRET_TYPE } from "../tls.js";

/** One kind rennet watches: where to list and watch it, and how it is named in RBAC. */
export interface WatchedResource {
  readonly kind: string;
  /** RBAC resource and API group, for error messages that say what permission is missing. */
  readonly resource: string;
  readonly group: string;
  readonly path: string;
  readonly fieldSelector?: string;
  readonly list: () => Promise<KubernetesListObject<KubernetesObject>>;
}

/**
 * Ingress, IngressClass, Service, EndpointSlice and TLS Secrets, cluster-wide
 * or in one namespace (IngressClass is cluster-scoped either way).
 */
export function watchedResources(config: KubeConfig, namespace: string | undefined): WatchedResource[] {
  const core = config.makeApiClient(CoreV1Api);
  const networking = config.makeApiClient(NetworkingV1Api);
  const discovery = config.makeApiClient(DiscoveryV1Api);
  const scoped = (prefix: string, plural: string) =>
    namespace === undefined ? `${prefix}/${plural}` : `${prefix}/namespaces/${namespace}/${plural}`;
  const secretSelector = `type=${TLS_SECRET_TYPE}`;
  type List = () => Promise<KubernetesListObject<KubernetesObject>>;
  return [
    {
      kind: "Ingress",
      resource: "ingresses",
      group: "networking.k8s.io",
      path: scoped("/apis/networking.k8s.io/v1", "ingresses"),
      list: (namespace === undefined
        ? () => networking.listIngressForAllNamespaces()
        : () => networking.listNamespacedIngress({ namespace })) as List,
    },
    {
      kind: "IngressClass",
      resource: "ingressclasses",
      group: "networking.k8s.io",
      path: "/apis/networking.k8s.io/v1/ingressclasses",
      list: (() => networking.listIngressClass()) as List,
    },
    {
      kind: "Service",
      resource: "services",
      group: "",
      path: scoped("/api/v1", "services"),
      list: (namespace === undefined
        ? () => core.listServiceForAllNamespaces()
        : () => core.listNamespacedService({ namespace })) as List,
    },
    {
      kind: "EndpointSlice",
      resource: "endpointslices",
      group: "discovery.k8s.io",
      path: scoped("/apis/discovery.k8s.io/v1", "endpointslices"),
      list: (namespace === undefined
        ? () => discovery.listEndpointSliceForAllNamespaces()
        : () => discovery.listNamespacedEndpointSlice({ namespace })) as List,
    },
    {
      kind: "Secret",
      resource: "secrets",
      group: "",
      path: scoped("/api/v1", "secrets"),
      fieldSelector: secretSelector,
      list: (namespace === undefined
        ? () => core.listSecretForAllNamespaces({ fieldSelector: secretSelector })
        : () => core.listNamespacedSecret({ namespace, fieldSelector: secretSelector })) as List,
    },
  ];
}
