import type { Endpoint, EndpointPort, EndpointSlice, IngressBackend, Service, ServicePort } from "./objects.js";
import { objectKey } from "./snapshot.js";

export interface EndpointAddress {
  /** IPv4, IPv6 (without brackets) or a DNS name. */
  readonly address: string;
  readonly port: number;
}

/** Where a backend's traffic goes, or why it cannot go anywhere (then 503). */
export type ResolvedBackend =
  | {
      readonly kind: "endpoints";
      readonly key: string;
      readonly service: string;
      readonly endpoints: readonly EndpointAddress[];
      /** True when no endpoint is ready and serving-but-terminating ones are used. */
      readonly terminatingFallback: boolean;
    }
  | {
      readonly kind: "external-name";
      readonly key: string;
      readonly service: string;
      readonly host: string;
      readonly port: number;
    }
  | { readonly kind: "unavailable"; readonly key: string; readonly service: string; readonly reason: string };

/** The key under which the router hands a backend back: "namespace/service:port". */
export function backendKey(namespace: string, backend: IngressBackend | undefined): string {
  const service = backend?.service;
  if (service === undefined || service === null) {
    const resource = backend?.resource;
    return `${namespace}/resource:${resource?.kind ?? "?"}/${resource?.name ?? "?"}`;
  }
  const port = service.port?.number ?? service.port?.name ?? "";
  return `${namespace}/${service.name ?? ""}:${port}`;
}

function unavailable(key: string, service: string, reason: string): ResolvedBackend {
  return { kind: "unavailable", key, service, reason };
}

function findServicePort(service: Service, wanted: IngressBackend["service"]): ServicePort | string {
  const ports = Array.isArray(service.spec?.ports) ? (service.spec?.ports as readonly ServicePort[]) : [];
  const number = wanted?.port?.number;
  const name = wanted?.port?.name;
  if (number !== undefined && number !== null)
    return ports.find((port) => port?.port === number) ?? `has no port ${number}`;
  if (name !== undefined && name !== null && name !== "")
    return ports.find((port) => port?.name === name) ?? `has no port named "${name}"`;
  const [only] = ports;
  return ports.length === 1 && typeof only === "object" && only !== null
    ? only
    : "needs a port number or name in the Ingress backend";
}

function isReady(conditions: { ready?: boolean | null } | undefined): boolean {
  return conditions?.ready !== false;
}

function isServingTerminating(conditions: { serving?: boolean | null; terminating?: boolean | null } | undefined) {
  return conditions?.serving === true && conditions.terminating === true;
}

function collectEndpoints(
  slices: Iterable<EndpointSlice>,
  portName: string,
  accept: (endpoint: Endpoint) => boolean,
): EndpointAddress[] {
  const seen = new Set<string>();
  const found: EndpointAddress[] = [];
  for (const slice of slices) {
    const ports = Array.isArray(slice.ports) ? (slice.ports as readonly EndpointPort[]) : [];
    const port = ports.find((candidate) => (candidate?.name ?? "") === portName)?.port;
    if (typeof port !== "number") continue;
    for (const endpoint of Array.isArray(slice.endpoints) ? (slice.endpoints as readonly Endpoint[]) : []) {
      if (endpoint === null || typeof endpoint !== "object" || !accept(endpoint)) continue;
      const addresses = Array.isArray(endpoint.addresses) ? (endpoint.addresses as readonly string[]) : [];
      for (const address of addresses) {
        if (typeof address !== "string" || address === "") continue;
        const id = `${address}|${port}`;
        if (seen.has(id)) continue;
        seen.add(id);
        found.push({ address, port });
      }
    }
  }
  return found.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : a.port - b.port));
}

/**
 * Resolves an Ingress backend through its Service's ports to the endpoint
 * addresses of the Service's EndpointSlices (pod IPs, never the ClusterIP).
 * Ready endpoints are used; when none is ready, serving-and-terminating ones.
 */
export function resolveBackend(
  namespace: string,
  backend: IngressBackend | undefined,
  services: ReadonlyMap<string, Service>,
  endpointSlices: ReadonlyMap<string, ReadonlyMap<string, EndpointSlice>>,
): ResolvedBackend {
  const key = backendKey(namespace, backend);
  const wanted = backend?.service;
  if (wanted === undefined || wanted === null) {
    return unavailable(key, "", "only Service backends are supported (resource backends are not)");
  }
  const serviceKey = objectKey(namespace, wanted.name);
  const service = services.get(serviceKey);
  if (service === undefined) return unavailable(key, serviceKey, `Service ${serviceKey} not found`);
  if (service.spec?.type === "ExternalName") {
    const host = service.spec.externalName;
    if (host === undefined || host === "")
      return unavailable(key, serviceKey, `ExternalName Service ${serviceKey} has no externalName`);
    const port = findServicePort(service, wanted);
    const number = typeof port === "object" ? port.port : wanted.port?.number;
    return { kind: "external-name", key, service: serviceKey, host, port: number ?? 80 };
  }
  const servicePort = findServicePort(service, wanted);
  if (typeof servicePort === "string") return unavailable(key, serviceKey, `Service ${serviceKey} ${servicePort}`);
  const slices = endpointSlices.get(serviceKey)?.values() ?? [];
  const sliceList = [...slices];
  const portName = servicePort.name ?? "";
  const ready = collectEndpoints(sliceList, portName, (endpoint) => isReady(endpoint.conditions));
  if (ready.length > 0)
    return { kind: "endpoints", key, service: serviceKey, endpoints: ready, terminatingFallback: false };
  const terminating = collectEndpoints(sliceList, portName, (endpoint) => isServingTerminating(endpoint.conditions));
  return {
    kind: "endpoints",
    key,
    service: serviceKey,
    endpoints: terminating,
    terminatingFallback: terminating.length > 0,
  };
}
