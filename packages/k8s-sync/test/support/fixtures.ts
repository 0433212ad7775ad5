/** Builders for the Kubernetes objects the tests feed to k8s-sync. Defaults: namespace "default". */
import type {
  Endpoint,
  EndpointConditions,
  EndpointPort,
  EndpointSlice,
  HTTPIngressPath,
  Ingress,
  IngressBackend,
  IngressClass,
  IngressRule,
  KubeObject,
  Service,
  ServicePort,
  Snapshot,
} from "../../src/index.js";
import {
  CONTROLLER_NAME,
  DEFAULT_CLASS_ANNOTATION,
  INGRESS_CLASS_ANNOTATION,
  SERVICE_NAME_LABEL,
  snapshotOf,
} from "../../src/index.js";

export const CLASS_NAME = "rennet";
export const OPTIONS = { className: CLASS_NAME } as const;
export const T0 = "2024-01-01T00:00:00Z";
export const T1 = "2024-01-02T00:00:00Z";

/** A Service backend; a number is a port number, a string a port name, undefined no port at all. */
export function backend(service: string, port?: number | string): IngressBackend {
  if (port === undefined) return { service: { name: service } };
  return { service: { name: service, port: typeof port === "number" ? { number: port } : { name: port } } };
}

/** [path, pathType, backend]. */
export type PathSpec = readonly [path: string, pathType: string, backend: IngressBackend];

export function rule(host: string | undefined, ...paths: PathSpec[]): IngressRule {
  const http = {
    paths: paths.map(([path, pathType, target]): HTTPIngressPath => ({ path, pathType, backend: target })),
  };
  return host === undefined ? { http } : { host, http };
}

export interface IngressOptions {
  namespace?: string;
  /** spec.ingressClassName */
  className?: string;
  /** The legacy kubernetes.io/ingress.class annotation. */
  classAnnotation?: string;
  annotations?: Record<string, string>;
  creationTimestamp?: string;
  rules?: IngressRule[];
  defaultBackend?: IngressBackend;
}

export function ingress(name: string, options: IngressOptions = {}): Ingress {
  const annotations = {
    ...options.annotations,
    ...(options.classAnnotation === undefined ? {} : { [INGRESS_CLASS_ANNOTATION]: options.classAnnotation }),
  };
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: {
      name,
      namespace: options.namespace ?? "default",
      ...(options.creationTimestamp === undefined ? {} : { creationTimestamp: options.creationTimestamp }),
      ...(Object.keys(annotations).length === 0 ? {} : { annotations }),
    },
    spec: {
      ...(options.className === undefined ? {} : { ingressClassName: options.className }),
      ...(options.defaultBackend === undefined ? {} : { defaultBackend: options.defaultBackend }),
      ...(options.rules === undefined ? {} : { rules: options.rules }),
    },
  };
}

export function ingressClass(
  name: string,
  options: { controller?: string; isDefault?: boolean | string } = {},
): IngressClass {
  const { controller = CONTROLLER_NAME, isDefault } = options;
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "IngressClass",
    metadata: {
      name,
      ...(isDefault === undefined ? {} : { annotations: { [DEFAULT_CLASS_ANNOTATION]: String(isDefault) } }),
    },
    spec: { controller },
  };
}

export interface ServiceOptions {
  namespace?: string;
  ports?: ServicePort[];
  type?: string;
  externalName?: string;
}

export function service(name: string, options: ServiceOptions = {}): Service {
  const { namespace = "default", ports = [{ name: "http", port: 80, targetPort: 8080 }], type, externalName } = options;
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace },
    spec: {
      ...(type === undefined ? {} : { type }),
      ...(externalName === undefined ? {} : { externalName }),
      ports,
    },
  };
}

export function endpoint(addresses: string | string[], conditions?: EndpointConditions): Endpoint {
  return {
    addresses: typeof addresses === "string" ? [addresses] : addresses,
    ...(conditions === undefined ? {} : { conditions }),
  };
}

export interface SliceOptions {
  namespace?: string;
  ports?: EndpointPort[];
  addressType?: string;
}

export function endpointSlice(
  name: string,
  serviceName: string,
  endpoints: Endpoint[],
  options: SliceOptions = {},
): EndpointSlice {
  const {
    namespace = "default",
    ports = [{ name: "http", port: 8080, protocol: "TCP" }],
    addressType = "IPv4",
  } = options;
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { name, namespace, labels: { [SERVICE_NAME_LABEL]: serviceName } },
    addressType,
    endpoints,
    ports,
  };
}

export function snapshot(...objects: KubeObject[]): Snapshot {
  return snapshotOf(objects);
}
