import type { EndpointSlice, Ingress, IngressClass, KubeObject, Secret, Service } from "./objects.js";
import { SERVICE_NAME_LABEL } from "./objects.js";

/** The kinds rennet reads, by the name used in manifests and the API. */
export type Kind = "Ingress" | "IngressClass" | "Service" | "EndpointSlice" | "Secret";

export const KINDS: Readonly<Record<Kind, { readonly apiVersion: string; readonly namespaced: boolean }>> = {
  Ingress: { apiVersion: "networking.k8s.io/v1", namespaced: true },
  IngressClass: { apiVersion: "networking.k8s.io/v1", namespaced: false },
  Service: { apiVersion: "v1", namespaced: true },
  EndpointSlice: { apiVersion: "discovery.k8s.io/v1", namespaced: true },
  Secret: { apiVersion: "v1", namespaced: true },
};

/** Everything a translation reads: one immutable view of the cluster (or of the files). */
export interface Snapshot {
  readonly ingresses: ReadonlyMap<string, Ingress>;
  readonly ingressClasses: ReadonlyMap<string, IngressClass>;
  readonly services: ReadonlyMap<string, Service>;
  /** Keyed by the owning Service ("namespace/service"), then by slice name. */
  readonly endpointSlices: ReadonlyMap<string, ReadonlyMap<string, EndpointSlice>>;
  readonly secrets: ReadonlyMap<string, Secret>;
}

export function objectKey(namespace: string | undefined, name: string | undefined): string {
  return namespace === undefined || namespace === "" ? (name ?? "") : `${namespace}/${name ?? ""}`;
}

export function keyOf(object: KubeObject): string {
  return objectKey(object.metadata?.namespace, object.metadata?.name);
}

/** The Service an EndpointSlice belongs to, or undefined when it is not labelled. */
export function sliceServiceKey(slice: EndpointSlice): string | undefined {
  const service = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
  return service === undefined || service === "" ? undefined : objectKey(slice.metadata?.namespace, service);
}

/** Builds a snapshot from a flat list of objects of any kinds; unknown kinds are ignored. */
export function snapshotOf(objects: Iterable<KubeObject>): Snapshot {
  const ingresses = new Map<string, Ingress>();
  const ingressClasses = new Map<string, IngressClass>();
  const services = new Map<string, Service>();
  const endpointSlices = new Map<string, Map<string, EndpointSlice>>();
  const secrets = new Map<string, Secret>();
  for (const object of objects) {
    switch (object.kind) {
      case "Ingress":
        ingresses.set(keyOf(object), object);
        break;
      case "IngressClass":
        ingressClasses.set(object.metadata?.name ?? "", object);
        break;
      case "Service":
        services.set(keyOf(object), object);
        break;
      case "EndpointSlice": {
        const service = sliceServiceKey(object);
        if (service === undefined) break;
        let slices = endpointSlices.get(service);
        if (slices === undefined) {
          slices = new Map();
          endpointSlices.set(service, slices);
        }
        slices.set(object.metadata?.name ?? "", object);
        break;
      }
      case "Secret":
        secrets.set(keyOf(object), object);
        break;
    }
  }
  return { ingresses, ingressClasses, services, endpointSlices, secrets };
}
