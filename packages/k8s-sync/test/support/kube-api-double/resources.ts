/**
 * The resource types the double serves, described the way the API server's discovery describes them,
 * plus the few per-type behaviours the double models (status subresource, generation, field selectors).
 */
import type { KubeObject } from "./json.js";
import { getPath } from "./json.js";

export interface ResourceDef {
  /** API group; "" for the core group. */
  readonly group: string;
  readonly version: string;
  /** Plural resource name, as in URLs and RBAC rules. */
  readonly resource: string;
  readonly singular: string;
  readonly kind: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  /** Whether /status is a subresource: a plain update then keeps the stored .status, and /status changes only it. */
  readonly statusSubresource: boolean;
  /** Whether metadata.generation is kept (1 on create, +1 when anything outside metadata and status changes). */
  readonly hasGeneration: boolean;
  /** Field selector keys beyond metadata.name and metadata.namespace, mapped to the object path they read. */
  readonly fieldSelectors: Readonly<Record<string, readonly string[]>>;
  /** metav1.MicroTime fields: the API server only accepts RFC 3339 with exactly six fractional digits there. */
  readonly microTimeFields: readonly (readonly string[])[];
}

/** Verbs the double implements for every resource (no deletecollection). */
export const RESOURCE_VERBS = ["create", "delete", "get", "list", "patch", "update", "watch"] as const;
export const STATUS_VERBS = ["get", "patch", "update"] as const;

function def(
  d: Pick<ResourceDef, "group" | "version" | "resource" | "singular" | "kind" | "namespaced"> & Partial<ResourceDef>,
): ResourceDef {
  return {
    shortNames: [],
    statusSubresource: false,
    hasGeneration: false,
    fieldSelectors: {},
    microTimeFields: [],
    ...d,
  };
}

export const RESOURCES: readonly ResourceDef[] = [
  def({
    group: "",
    version: "v1",
    resource: "namespaces",
    singular: "namespace",
    kind: "Namespace",
    namespaced: false,
    shortNames: ["ns"],
    statusSubresource: true,
    fieldSelectors: { "status.phase": ["status", "phase"] },
  }),
  def({
    group: "",
    version: "v1",
    resource: "services",
    singular: "service",
    kind: "Service",
    namespaced: true,
    shortNames: ["svc"],
    statusSubresource: true,
  }),
  def({
    group: "",
    version: "v1",
    resource: "secrets",
    singular: "secret",
    kind: "Secret",
    namespaced: true,
    fieldSelectors: { type: ["type"] },
  }),
  def({
    group: "",
    version: "v1",
    resource: "events",
    singular: "event",
    kind: "Event",
    namespaced: true,
    shortNames: ["ev"],
    fieldSelectors: {
      "involvedObject.kind": ["involvedObject", "kind"],
      "involvedObject.namespace": ["involvedObject", "namespace"],
      "involvedObject.name": ["involvedObject", "name"],
      "involvedObject.uid": ["involvedObject", "uid"],
      "involvedObject.apiVersion": ["involvedObject", "apiVersion"],
      "involvedObject.resourceVersion": ["involvedObject", "resourceVersion"],
      "involvedObject.fieldPath": ["involvedObject", "fieldPath"],
      reason: ["reason"],
      reportingComponent: ["reportingComponent"],
      source: ["source", "component"],
      type: ["type"],
    },
  }),
  def({
    group: "networking.k8s.io",
    version: "v1",
    resource: "ingresses",
    singular: "ingress",
    kind: "Ingress",
    namespaced: true,
    shortNames: ["ing"],
    statusSubresource: true,
    hasGeneration: true,
  }),
  def({
    group: "networking.k8s.io",
    version: "v1",
    resource: "ingressclasses",
    singular: "ingressclass",
    kind: "IngressClass",
    namespaced: false,
    hasGeneration: true,
  }),
  def({
    group: "discovery.k8s.io",
    version: "v1",
    resource: "endpointslices",
    singular: "endpointslice",
    kind: "EndpointSlice",
    namespaced: true,
    hasGeneration: true,
  }),
  def({
    group: "coordination.k8s.io",
    version: "v1",
    resource: "leases",
    singular: "lease",
    kind: "Lease",
    namespaced: true,
    microTimeFields: [
      ["spec", "acquireTime"],
      ["spec", "renewTime"],
    ],
  }),
  def({
    group: "events.k8s.io",
    version: "v1",
    resource: "events",
    singular: "event",
    kind: "Event",
    namespaced: true,
    shortNames: ["ev"],
    microTimeFields: [["eventTime"], ["series", "lastObservedTime"]],
  }),
];

export function apiVersionOf(d: ResourceDef): string {
  return d.group === "" ? d.version : `${d.group}/${d.version}`;
}

/** "ingresses.networking.k8s.io", or just "services" in the core group: how the API server names a resource in messages. */
export function qualifiedName(d: ResourceDef): string {
  return d.group === "" ? d.resource : `${d.resource}.${d.group}`;
}

/** "Ingress.networking.k8s.io", or "Service": how validation messages name a kind. */
export function qualifiedKind(d: ResourceDef): string {
  return d.group === "" ? d.kind : `${d.kind}.${d.group}`;
}

/** A stable key for maps: "networking.k8s.io/v1/ingresses". */
export function resourceKey(d: ResourceDef): string {
  return `${apiVersionOf(d)}/${d.resource}`;
}

export function findByPath(group: string, version: string, resource: string): ResourceDef | undefined {
  return RESOURCES.find((d) => d.group === group && d.version === version && d.resource === resource);
}

export function findByApiVersionKind(apiVersion: string, kind: string): ResourceDef | undefined {
  return RESOURCES.find((d) => apiVersionOf(d) === apiVersion && d.kind === kind);
}

/**
 * How tests name a type: a kind ("Ingress"), a plural ("ingresses"), a qualified plural
 * ("events.events.k8s.io"), or { apiVersion, kind }. A bare "Event"/"events" means core v1.
 */
export type KindRef = string | { readonly apiVersion: string; readonly kind: string };

export function resolveKind(ref: KindRef): ResourceDef {
  let found: ResourceDef | undefined;
  if (typeof ref === "string") {
    found =
      RESOURCES.find((d) => d.kind === ref) ??
      RESOURCES.find((d) => d.resource === ref) ??
      RESOURCES.find((d) => qualifiedName(d) === ref);
  } else {
    found = findByApiVersionKind(ref.apiVersion, ref.kind);
  }
  if (!found) throw new Error(`kube-api-double: unknown kind ${JSON.stringify(ref)}`);
  return found;
}

export function resourceForObject(obj: KubeObject): ResourceDef {
  const { apiVersion, kind } = obj;
  if (typeof apiVersion !== "string" || typeof kind !== "string") {
    throw new Error("kube-api-double: the object needs apiVersion and kind");
  }
  return resolveKind({ apiVersion, kind });
}

/** The value a field selector key reads from an object; undefined when the key is not supported for the type. */
export function fieldValue(d: ResourceDef, obj: KubeObject, field: string): string | undefined {
  if (field === "metadata.name") return obj.metadata?.name ?? "";
  if (field === "metadata.namespace") return obj.metadata?.namespace ?? "";
  const path = d.fieldSelectors[field];
  if (!path) return undefined;
  const v = getPath(obj, path);
  return v === undefined || v === null ? "" : String(v);
}

export function supportsField(d: ResourceDef, field: string): boolean {
  return field === "metadata.name" || field === "metadata.namespace" || d.fieldSelectors[field] !== undefined;
}
