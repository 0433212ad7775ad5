import {
  type Endpoint,
  type EndpointConditions,
  type EndpointSlice,
  type Ingress,
  type IngressClass,
  type KubeObject,
  type ObjectMeta,
  SERVICE_NAME_LABEL,
  type Secret,
  type Service,
} from "../objects.js";
import { KINDS, type Kind } from "../snapshot.js";

/** Written by `kubectl apply`: a full JSON copy of the object, read by nothing here. */
export const LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration";

// Input from the API is validated where it is used: anything may be null or of the wrong type.
type Loose = Record<string, unknown> | undefined;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

// A cluster has few namespaces and thousands of objects in each: one string per namespace, not per object.
const namespaces = new Map<string, string>();
function intern(namespace: unknown): string | undefined {
  if (typeof namespace !== "string") return undefined;
  let interned = namespaces.get(namespace);
  if (interned === undefined) {
    if (namespaces.size >= 10_000) namespaces.clear();
    interned = namespace;
    namespaces.set(namespace, interned);
  }
  return interned;
}

// client-node's list calls give Date timestamps; watch events and manifests give RFC 3339 strings.
function timestamp(value: unknown): string | undefined {
  if (value instanceof Date) return value.toISOString();
  return typeof value === "string" ? value : undefined;
}

function annotations(value: unknown): Readonly<Record<string, string>> | undefined {
  if (!isObject(value) || !(LAST_APPLIED_ANNOTATION in value)) return value as Record<string, string> | undefined;
  const { [LAST_APPLIED_ANNOTATION]: _dropped, ...rest } = value;
  return rest as Record<string, string>;
}

function serviceLabel(value: unknown): Readonly<Record<string, string>> | undefined {
  if (!isObject(value)) return value as undefined;
  const keys = Object.keys(value);
  if (keys.length === 1 && keys[0] === SERVICE_NAME_LABEL) return value as Record<string, string>;
  return SERVICE_NAME_LABEL in value ? { [SERVICE_NAME_LABEL]: value[SERVICE_NAME_LABEL] as string } : {};
}

// The three conditions, in a handful of combinations: one shared frozen object per combination.
const conditionShapes = new Map<string, EndpointConditions>();
function conditions(value: unknown): EndpointConditions | undefined {
  if (!isObject(value)) return value as undefined;
  const { ready, serving, terminating } = value as EndpointConditions;
  const key = `${ready}|${serving}|${terminating}`;
  let shared = conditionShapes.get(key);
  if (shared === undefined) {
    shared = Object.freeze({ ready, serving, terminating });
    if (conditionShapes.size < 64) conditionShapes.set(key, shared);
  }
  return shared;
}

function endpoints(value: unknown): readonly Endpoint[] | null | undefined {
  if (!Array.isArray(value)) return value as null | undefined;
  return value.map((endpoint: unknown) =>
    isObject(endpoint)
      ? { addresses: endpoint.addresses as string[] | undefined, conditions: conditions(endpoint.conditions) }
      : (endpoint as Endpoint),
  );
}

/**
 * The parts of an object from the API that rennet reads, in one plain shape
 * whether it came from a list (client-node model instances, Date timestamps,
 * no kind) or a watch event (plain JSON). Everything else is dropped before
 * the informer caches the object: managedFields, the last-applied
 * annotation, labels and annotations nothing reads, status conditions,
 * endpoints' targetRef, nodeName, zone and hints. Kept, per kind:
 *
 * - metadata: name, namespace, resourceVersion (informers and TLS versions);
 *   Ingress: uid (Events), creationTimestamp (conflict order), annotations;
 *   IngressClass: annotations; EndpointSlice: the kubernetes.io/service-name label.
 * - Ingress: spec, status. IngressClass: spec. Service: spec,
 *   status.loadBalancer.ingress (--publish-service). EndpointSlice: addressType,
 *   ports, endpoints' addresses and conditions. Secret: type, data.
 *
 * The translation of slim objects equals that of the originals (tested).
 */
export function slimObject(object: unknown, kind: Kind): KubeObject {
  const source = (isObject(object) ? object : {}) as Record<string, unknown>;
  const meta = (isObject(source.metadata) ? source.metadata : {}) as Record<string, unknown>;
  const apiVersion = KINDS[kind].apiVersion;
  const name = meta.name as string | undefined;
  const namespace = intern(meta.namespace);
  const resourceVersion = meta.resourceVersion as string | undefined;
  switch (kind) {
    case "Ingress": {
      const metadata: ObjectMeta = {
        name,
        namespace,
        resourceVersion,
        uid: meta.uid as string | undefined,
        creationTimestamp: timestamp(meta.creationTimestamp),
        annotations: annotations(meta.annotations),
      };
      return { apiVersion, kind, metadata, spec: source.spec, status: source.status } as Ingress;
    }
    case "IngressClass": {
      const metadata: ObjectMeta = { name, resourceVersion, annotations: annotations(meta.annotations) };
      return { apiVersion, kind, metadata, spec: source.spec } as IngressClass;
    }
    case "Service": {
      const metadata: ObjectMeta = { name, namespace, resourceVersion };
      // Only --publish-service reads it, and only its ingress entries.
      const loadBalancer = (source.status as Loose)?.loadBalancer as Loose;
      const entries = loadBalancer?.ingress;
      const status = Array.isArray(entries) && entries.length > 0 ? { loadBalancer: { ingress: entries } } : undefined;
      return { apiVersion, kind, metadata, spec: source.spec, status } as Service;
    }
    case "EndpointSlice": {
      const metadata: ObjectMeta = { name, namespace, resourceVersion, labels: serviceLabel(meta.labels) };
      return {
        apiVersion,
        kind,
        metadata,
        addressType: source.addressType,
        ports: source.ports,
        endpoints: endpoints(source.endpoints),
      } as EndpointSlice;
    }
    case "Secret": {
      const metadata: ObjectMeta = { name, namespace, resourceVersion };
      return { apiVersion, kind, metadata, type: source.type, data: source.data } as Secret;
    }
  }
}
