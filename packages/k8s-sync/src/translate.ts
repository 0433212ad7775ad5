import type { IngressInput, IngressPath as RouterPath, IngressRule as RouterRule } from "@rennet/router";
import { type IngressPolicies, parsePolicies } from "./annotations.js";
import { backendKey, type ResolvedBackend, resolveBackend } from "./backends.js";
import { type ClassOptions, hasDefaultClass, servesIngress } from "./ingress-class.js";
import type { HTTPIngressPath, Ingress, IngressBackend, IngressRule } from "./objects.js";
import { objectKey, type Snapshot } from "./snapshot.js";
import { readTlsSecret, type TlsBinding, type TlsSecret, tlsBindings } from "./tls.js";

export type TranslatedIngress = IngressInput<string, IngressPolicies>;

export interface TranslationProblem {
  readonly ingress: { readonly namespace: string; readonly name: string };
  readonly code: "backend-unavailable" | "invalid-annotation" | "tls-secret" | "tls-host-conflict";
  readonly message: string;
}

/** What a snapshot means for the data plane: router input plus where each backend goes. */
export interface Translation {
  readonly ingresses: readonly TranslatedIngress[];
  /** Every backend key the served Ingresses use, resolved to endpoints. */
  readonly backends: ReadonlyMap<string, ResolvedBackend>;
  readonly problems: readonly TranslationProblem[];
  /** Hosts that terminate TLS, and the Secrets they name (read, not yet validated). */
  readonly tls: {
    readonly bindings: readonly TlsBinding[];
    readonly secrets: ReadonlyMap<string, TlsSecret>;
    /** The --default-certificate Secret, read; undefined when none is configured. */
    readonly defaultCertificate?: TlsSecret;
  };
}

export interface TranslateOptions extends ClassOptions {
  /** "namespace/name" of the Secret whose certificate serves unknown SNI (--default-certificate). */
  readonly defaultCertificate?: string;
}

// Input is validated only as far as the parser goes: anything here may be null or of the wrong type.
function isBackend(backend: unknown): backend is IngressBackend {
  return typeof backend === "object" && backend !== null && !Array.isArray(backend);
}

function referencedBackends(ingress: Ingress): IngressBackend[] {
  const found: IngressBackend[] = [];
  if (isBackend(ingress.spec?.defaultBackend)) found.push(ingress.spec.defaultBackend);
  const rules = ingress.spec?.rules;
  for (const rule of Array.isArray(rules) ? rules : []) {
    const paths = rule?.http?.paths;
    for (const path of Array.isArray(paths) ? paths : []) if (isBackend(path?.backend)) found.push(path.backend);
  }
  return found;
}

// Only backends that referencedBackends() resolves get a key, so that every key the router hands back is resolved.
function backendRef(namespace: string, backend: IngressBackend | undefined): string | undefined {
  return isBackend(backend) ? backendKey(namespace, backend) : undefined;
}

function translateRule(namespace: string, rule: IngressRule): RouterRule<string> {
  const paths = rule?.http?.paths;
  return {
    host: rule?.host,
    http: rule?.http && {
      // Anything malformed is passed on as is: the router reports it per Ingress.
      paths: Array.isArray(paths)
        ? paths.map((path: HTTPIngressPath) => ({
            path: path?.path,
            pathType: path?.pathType ?? "",
            backend: backendRef(namespace, path?.backend) as string,
          }))
        : (paths as unknown as RouterPath<string>[]),
    },
  };
}

/** Turns one Ingress object into router input; backends become "namespace/service:port" keys. */
export function translateIngress(ingress: Ingress): TranslatedIngress {
  const namespace = ingress.metadata?.namespace ?? "default";
  const rules = ingress.spec?.rules;
  return {
    namespace,
    name: ingress.metadata?.name ?? "",
    creationTimestamp: ingress.metadata?.creationTimestamp,
    rules: Array.isArray(rules) ? rules.map((rule) => translateRule(namespace, rule)) : (rules as undefined),
    defaultBackend: backendRef(namespace, ingress.spec?.defaultBackend),
    policies: parsePolicies(ingress).policies,
  };
}

/**
 * The pure translation from a snapshot to what the data plane serves: the
 * Ingresses of our class as router input, and every backend they name
 * resolved through Services and EndpointSlices.
 */
export function translate(
  snapshot: Snapshot,
  options: TranslateOptions,
  /** Remembers translations per Ingress object, so unchanged Ingresses translate to the same object. */
  memo?: WeakMap<Ingress, TranslatedIngress>,
): Translation {
  const defaultClass = hasDefaultClass(snapshot.ingressClasses, options);
  const ingresses: TranslatedIngress[] = [];
  const backends = new Map<string, ResolvedBackend>();
  const problems: TranslationProblem[] = [];
  const served: Ingress[] = [];
  for (const ingress of snapshot.ingresses.values()) {
    if (!servesIngress(ingress, snapshot.ingressClasses, options, defaultClass)) continue;
    served.push(ingress);
    let translated = memo?.get(ingress);
    if (translated === undefined) {
      translated = translateIngress(ingress);
      memo?.set(ingress, translated);
    }
    ingresses.push(translated);
    const reported = new Set<string>();
    for (const backend of referencedBackends(ingress)) {
      const key = backendKey(translated.namespace, backend);
      let resolved = backends.get(key);
      if (resolved === undefined) {
        resolved = resolveBackend(translated.namespace, backend, snapshot.services, snapshot.endpointSlices);
        backends.set(key, resolved);
      }
      if (resolved.kind === "unavailable" && !reported.has(key)) {
        reported.add(key);
        problems.push({
          ingress: { namespace: translated.namespace, name: translated.name },
          code: "backend-unavailable",
          message: `backend ${key} answers 503: ${resolved.reason}`,
        });
      }
    }
  }
  return {
    ingresses,
    backends,
    problems: [...problems, ...annotationProblems(served)],
    tls: translateTls(served, snapshot, problems, options.defaultCertificate),
  };
}

function refOf(ingress: Ingress) {
  return { namespace: ingress.metadata?.namespace ?? "default", name: ingress.metadata?.name ?? "" };
}

function annotationProblems(served: readonly Ingress[]): TranslationProblem[] {
  const found: TranslationProblem[] = [];
  for (const ingress of served) {
    for (const problem of parsePolicies(ingress).problems) {
      found.push({ ingress: refOf(ingress), code: "invalid-annotation", message: problem.message });
    }
  }
  return found;
}

function age(ingress: Ingress): number {
  const parsed = Date.parse(ingress.metadata?.creationTimestamp ?? "");
  return Number.isNaN(parsed) ? Number.POSITIVE_INFINITY : parsed;
}

/**
 * TLS hosts and their Secrets. When two Ingresses give the same host
 * different Secrets, the older Ingress wins (as for paths) and the other is told.
 */
function translateTls(
  served: readonly Ingress[],
  snapshot: Snapshot,
  problems: TranslationProblem[],
  defaultCertificate: string | undefined,
): Translation["tls"] {
  const ordered = [...served].sort(
    (a, b) =>
      age(a) - age(b) ||
      (objectKey(refOf(a).namespace, refOf(a).name) < objectKey(refOf(b).namespace, refOf(b).name) ? -1 : 1),
  );
  const byHost = new Map<string, TlsBinding>();
  const secrets = new Map<string, TlsSecret>();
  for (const ingress of ordered) {
    for (const binding of tlsBindings(ingress)) {
      const winner = byHost.get(binding.host);
      if (winner !== undefined) {
        if (winner.secret !== binding.secret) {
          problems.push({
            ingress: refOf(ingress),
            code: "tls-host-conflict",
            message: `TLS host ${binding.host} uses Secret ${winner.secret} of older Ingress ${winner.ingress}, not ${binding.secret}`,
          });
        }
        continue;
      }
      byHost.set(binding.host, binding);
      let secret = secrets.get(binding.secret);
      if (secret === undefined) {
        secret = readTlsSecret(binding.secret, snapshot.secrets.get(binding.secret));
        secrets.set(binding.secret, secret);
      }
      if (!secret.ok) {
        problems.push({
          ingress: refOf(ingress),
          code: "tls-secret",
          message: `${secret.reason}; host ${binding.host} is served with the default certificate`,
        });
      }
    }
  }
  return {
    bindings: [...byHost.values()],
    secrets,
    ...(defaultCertificate !== undefined
      ? { defaultCertificate: readTlsSecret(defaultCertificate, snapshot.secrets.get(defaultCertificate)) }
      : {}),
  };
}
