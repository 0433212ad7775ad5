import type { IngressInput, IngressPath as RouterPath, IngressRule as RouterRule } from "@rennet/router";
import { backendKey, type ResolvedBackend, resolveBackend } from "./backends.js";
import { type ClassOptions, hasDefaultClass, servesIngress } from "./ingress-class.js";
import type { HTTPIngressPath, Ingress, IngressBackend, IngressRule } from "./objects.js";
import type { Snapshot } from "./snapshot.js";

/** Per-Ingress settings from annotations; filled in as features arrive. */
export type IngressPolicies = Readonly<Record<string, never>>;

export type TranslatedIngress = IngressInput<string, IngressPolicies>;

export interface TranslationProblem {
  readonly ingress: { readonly namespace: string; readonly name: string };
  readonly code: "backend-unavailable";
  readonly message: string;
}

/** What a snapshot means for the data plane: router input plus where each backend goes. */
export interface Translation {
  readonly ingresses: readonly TranslatedIngress[];
  /** Every backend key the served Ingresses use, resolved to endpoints. */
  readonly backends: ReadonlyMap<string, ResolvedBackend>;
  readonly problems: readonly TranslationProblem[];
}

export type TranslateOptions = ClassOptions;

function referencedBackends(ingress: Ingress): IngressBackend[] {
  const found: IngressBackend[] = [];
  if (ingress.spec?.defaultBackend !== undefined) found.push(ingress.spec.defaultBackend);
  for (const rule of ingress.spec?.rules ?? []) {
    for (const path of rule?.http?.paths ?? []) if (path?.backend !== undefined) found.push(path.backend);
  }
  return found;
}

function backendRef(namespace: string, backend: IngressBackend | undefined): string | undefined {
  return backend === undefined || backend === null ? undefined : backendKey(namespace, backend);
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
    policies: {},
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
  for (const ingress of snapshot.ingresses.values()) {
    if (!servesIngress(ingress, snapshot.ingressClasses, options, defaultClass)) continue;
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
  return { ingresses, backends, problems };
}
