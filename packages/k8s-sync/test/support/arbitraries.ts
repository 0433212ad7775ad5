/**
 * Small random clusters for property tests: a few names of each kind, so that
 * objects collide, replace each other and refer to each other often.
 */
import fc from "fast-check";
import type {
  EndpointSlice,
  Ingress,
  IngressClass,
  KubeObject,
  Secret,
  Service,
  Translation,
} from "../../src/index.js";

export const OPTIONS = { className: "rennet", defaultCertificate: "default/fallback" };
const NAMESPACES = ["default", "shop"];
const SERVICES = ["web", "api", "gone"];
const HOSTS = ["a.example.com", "b.example.com", "*.example.com", undefined];

// Every object is built fresh from its parameters, so a changed version is a new object.
export const ingressClass = (isDefault: boolean, controller: string): IngressClass => ({
  apiVersion: "networking.k8s.io/v1",
  kind: "IngressClass",
  metadata: { name: "rennet", annotations: isDefault ? { "ingressclass.kubernetes.io/is-default-class": "true" } : {} },
  spec: { controller },
});

export const service = (namespace: string, name: string, portName: string, external: boolean): Service => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { namespace, name },
  spec: external
    ? { type: "ExternalName", externalName: `${name}.example.net`, ports: [{ name: portName, port: 80 }] }
    : { ports: [{ name: portName, port: 80 }] },
});

export const slice = (
  namespace: string,
  name: string,
  owner: string,
  ready: boolean[],
  port: number,
): EndpointSlice => ({
  apiVersion: "discovery.k8s.io/v1",
  kind: "EndpointSlice",
  metadata: { namespace, name, labels: { "kubernetes.io/service-name": owner } },
  addressType: "IPv4",
  ports: [{ name: "http", port }],
  endpoints: ready.map((isReady, index) => ({
    addresses: [`10.0.${index}.${port % 250}`],
    conditions: { ready: isReady, serving: true, terminating: !isReady },
  })),
});

export const ingress = (
  namespace: string,
  name: string,
  host: string | undefined,
  backendService: string,
  tlsSecret: string | undefined,
  className: string | undefined,
  annotation: string | undefined,
  age: number,
): Ingress => ({
  apiVersion: "networking.k8s.io/v1",
  kind: "Ingress",
  metadata: {
    namespace,
    name,
    creationTimestamp: new Date(Date.UTC(2026, 0, 1 + age)).toISOString(),
    annotations: annotation === undefined ? {} : { "rennet.dev/ssl-redirect": annotation },
  },
  spec: {
    ...(className === undefined ? {} : { ingressClassName: className }),
    ...(tlsSecret === undefined ? {} : { tls: [{ hosts: host ? [host] : [], secretName: tlsSecret }] }),
    rules: [
      {
        ...(host === undefined ? {} : { host }),
        http: {
          paths: [
            { path: "/", pathType: "Prefix", backend: { service: { name: backendService, port: { name: "http" } } } },
          ],
        },
      },
    ],
  },
});

export const secret = (namespace: string, name: string, type: string, version: number): Secret => ({
  apiVersion: "v1",
  kind: "Secret",
  type,
  metadata: { namespace, name },
  data: {
    "tls.crt": Buffer.from(`cert ${version}`).toString("base64"),
    "tls.key": Buffer.from(`key ${version}`).toString("base64"),
  },
});

export const objectArb: fc.Arbitrary<KubeObject> = fc.oneof(
  fc
    .tuple(fc.boolean(), fc.constantFrom("rennet.dev/ingress-controller", "other.dev/controller"))
    .map(([d, c]) => ingressClass(d, c)),
  fc
    .tuple(fc.constantFrom(...NAMESPACES), fc.constantFrom(...SERVICES), fc.constantFrom("http", "web"), fc.boolean())
    .map(([ns, name, port, external]) => service(ns, name, port, external && name === "gone")),
  fc
    .tuple(
      fc.constantFrom(...NAMESPACES),
      fc.constantFrom("s1", "s2", "s3"),
      fc.constantFrom(...SERVICES),
      fc.array(fc.boolean(), { maxLength: 3 }),
      fc.constantFrom(8080, 8081),
    )
    .map(([ns, name, owner, ready, port]) => slice(ns, name, owner, ready, port)),
  fc
    .tuple(
      fc.constantFrom(...NAMESPACES),
      fc.constantFrom("i1", "i2", "i3", "i4"),
      fc.constantFrom(...HOSTS),
      fc.constantFrom(...SERVICES),
      fc.constantFrom(undefined, "tls-a", "tls-b"),
      fc.constantFrom(undefined, "rennet", "other"),
      fc.constantFrom(undefined, "true", "maybe"),
      fc.integer({ min: 0, max: 3 }),
    )
    .map((args) => ingress(...args)),
  fc
    .tuple(
      fc.constantFrom(...NAMESPACES, "default"),
      fc.constantFrom("tls-a", "tls-b", "fallback"),
      fc.constantFrom("kubernetes.io/tls", "Opaque"),
      fc.integer({ min: 0, max: 2 }),
    )
    .map(([ns, name, type, version]) => secret(ns, name, type, version)),
);

/** The same translation in a form that does not depend on iteration order. */
export function canonical(translation: Translation) {
  const byKey = <T>(entries: Iterable<[string, T]>) => [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    ingresses: [...translation.ingresses].sort((a, b) =>
      `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`),
    ),
    backends: byKey(translation.backends),
    problems: translation.problems.map((problem) => JSON.stringify(problem)).sort(),
    tlsBindings: [...translation.tls.bindings].map((binding) => JSON.stringify(binding)).sort(),
    tlsSecrets: byKey(translation.tls.secrets),
    defaultCertificate: translation.tls.defaultCertificate,
  };
}
