import type { IngressInput, IngressPath as RouterPath, IngressRule as RouterRule } from "@rennet/router";
import { type IngressPolicies, parsePolicies } from "./annotations.js";
import { backendKey, type ResolvedBackend, resolveBackend } from "./backends.js";
import { type ClassOptions, hasDefaultClass, servesIngress } from "./ingress-class.js";
import type { EndpointSlice, HTTPIngressPath, Ingress, IngressBackend, IngressRule, Service } from "./objects.js";
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
  return translateWith(ingress, parsePolicies(ingress).policies);
}

// Policies are plain data; an Ingress without any (the usual case) shares one empty set.
const NO_POLICIES: IngressPolicies = Object.freeze({ tlsHosts: Object.freeze([]) });

function translateWith(ingress: Ingress, parsed: IngressPolicies): TranslatedIngress {
  const policies = Object.keys(parsed).length === 1 && parsed.tlsHosts.length === 0 ? NO_POLICIES : parsed;
  const namespace = ingress.metadata?.namespace ?? "default";
  const rules = ingress.spec?.rules;
  return {
    namespace,
    name: ingress.metadata?.name ?? "",
    creationTimestamp: ingress.metadata?.creationTimestamp,
    rules: Array.isArray(rules) ? rules.map((rule) => translateRule(namespace, rule)) : (rules as undefined),
    defaultBackend: backendRef(namespace, ingress.spec?.defaultBackend),
    policies,
  };
}

export interface IngressFacts {
  readonly translated: TranslatedIngress;
  readonly backends: readonly { readonly key: string; readonly backend: IngressBackend }[];
  readonly annotationProblems: readonly string[];
  readonly tls: readonly TlsBinding[];
  /** Epoch ms of creationTimestamp; +Infinity when absent (only TLS host conflicts need it). */
  readonly createdAt: number;
}

/**
 * What translate() may reuse between calls, keyed by object identity: an
 * unchanged Ingress translates to the same object (so the router skips it),
 * and an unchanged Service with unchanged EndpointSlices resolves to the same
 * backend object (so the data plane keeps its endpoint state).
 */
export class TranslationMemo {
  readonly ingresses = new WeakMap<Ingress, IngressFacts>();
  readonly backends = new WeakMap<
    Service,
    Map<string, { readonly slices: readonly EndpointSlice[]; readonly resolved: ResolvedBackend }>
  >();
}

// Most Ingresses have no annotation problems and no TLS: one shared empty list instead of one each.
const NONE: readonly never[] = Object.freeze([]);
const orNone = <T>(list: readonly T[]): readonly T[] => (list.length === 0 ? NONE : list);

export function factsOf(ingress: Ingress, memo: TranslationMemo | undefined): IngressFacts {
  const known = memo?.ingresses.get(ingress);
  if (known !== undefined) return known;
  const { policies, problems } = parsePolicies(ingress);
  const translated = translateWith(ingress, policies);
  const parsed = Date.parse(ingress.metadata?.creationTimestamp ?? "");
  const facts: IngressFacts = {
    translated,
    backends: referencedBackends(ingress).map((backend) => ({
      key: backendKey(translated.namespace, backend),
      backend,
    })),
    annotationProblems: orNone(problems.map((problem) => problem.message)),
    tls: orNone(tlsBindings(ingress)),
    createdAt: Number.isNaN(parsed) ? Number.POSITIVE_INFINITY : parsed,
  };
  memo?.ingresses.set(ingress, facts);
  return facts;
}

function sameSlices(a: readonly EndpointSlice[], b: readonly EndpointSlice[]): boolean {
  return a.length === b.length && a.every((slice, index) => slice === b[index]);
}

function resolveMemoised(
  namespace: string,
  key: string,
  backend: IngressBackend,
  snapshot: Snapshot,
  memo: TranslationMemo | undefined,
): ResolvedBackend {
  const service = snapshot.services.get(objectKey(namespace, backend.service?.name));
  if (memo === undefined || service === undefined) {
    return resolveBackend(namespace, backend, snapshot.services, snapshot.endpointSlices);
  }
  const slices = [...(snapshot.endpointSlices.get(objectKey(namespace, backend.service?.name))?.values() ?? [])];
  let byKey = memo.backends.get(service);
  if (byKey === undefined) {
    byKey = new Map();
    memo.backends.set(service, byKey);
  }
  const known = byKey.get(key);
  if (known !== undefined && sameSlices(known.slices, slices)) return known.resolved;
  const resolved = resolveBackend(namespace, backend, snapshot.services, snapshot.endpointSlices);
  byKey.set(key, { slices, resolved });
  return resolved;
}

/**
 * The pure translation from a snapshot to what the data plane serves: the
 * Ingresses of our class as router input, and every backend they name
 * resolved through Services and EndpointSlices. With a memo, the work per
 * call is a walk over the Ingresses plus what changed.
 */
export function translate(snapshot: Snapshot, options: TranslateOptions, memo?: TranslationMemo): Translation {
  const defaultClass = hasDefaultClass(snapshot.ingressClasses, options);
  const ingresses: TranslatedIngress[] = [];
  const backends = new Map<string, ResolvedBackend>();
  const problems: TranslationProblem[] = [];
  const withTls: IngressFacts[] = [];
  for (const ingress of snapshot.ingresses.values()) {
    if (!servesIngress(ingress, snapshot.ingressClasses, options, defaultClass)) continue;
    const facts = factsOf(ingress, memo);
    const translated = facts.translated;
    const ref = { namespace: translated.namespace, name: translated.name };
    ingresses.push(translated);
    if (facts.tls.length > 0) withTls.push(facts);
    for (const message of facts.annotationProblems)
      problems.push({ ingress: ref, code: "invalid-annotation", message });
    let reported: Set<string> | undefined;
    for (const { key, backend } of facts.backends) {
      let resolved = backends.get(key);
      if (resolved === undefined) {
        resolved = resolveMemoised(translated.namespace, key, backend, snapshot, memo);
        backends.set(key, resolved);
      }
      if (resolved.kind === "unavailable" && !reported?.has(key)) {
        reported ??= new Set();
        reported.add(key);
        problems.push({
          ingress: ref,
          code: "backend-unavailable",
          message: `backend ${key} answers 503: ${resolved.reason}`,
        });
      }
    }
  }
  const tls = translateTls(withTls, snapshot, problems, options.defaultCertificate);
  return { ingresses, backends, problems, tls };
}

/**
 * TLS hosts and their Secrets. When two Ingresses give the same host
 * different Secrets, the older Ingress wins (as for paths) and the other is told.
 */
export function translateTls(
  withTls: readonly IngressFacts[],
  snapshot: Snapshot,
  problems: TranslationProblem[],
  defaultCertificate: string | undefined,
): Translation["tls"] {
  const ordered = [...withTls].sort((a, b) => {
    if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? -1 : 1;
    const left = objectKey(a.translated.namespace, a.translated.name);
    const right = objectKey(b.translated.namespace, b.translated.name);
    return left < right ? -1 : left > right ? 1 : 0;
  });
  const byHost = new Map<string, TlsBinding>();
  const secrets = new Map<string, TlsSecret>();
  for (const facts of ordered) {
    const ref = { namespace: facts.translated.namespace, name: facts.translated.name };
    for (const binding of facts.tls) {
      const winner = byHost.get(binding.host);
      if (winner !== undefined) {
        if (winner.secret !== binding.secret) {
          problems.push({
            ingress: ref,
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
          ingress: ref,
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
