import type { IngressRef } from "@rennet/router";
import { type ResolvedBackend, resolveBackend } from "./backends.js";
import { hasDefaultClass, servesIngress } from "./ingress-class.js";
import type { EndpointSlice, Ingress, IngressClass, KubeObject, Secret, Service } from "./objects.js";
import { keyOf, type Snapshot, sliceServiceKey } from "./snapshot.js";
import {
  factsOf,
  type IngressFacts,
  type TranslatedIngress,
  type TranslateOptions,
  type Translation,
  TranslationMemo,
  type TranslationProblem,
  translateTls,
} from "./translate.js";

/** What one apply changed, for an incremental router and data-plane update. */
export interface TranslationDelta {
  readonly upsert: readonly TranslatedIngress[];
  readonly remove: readonly IngressRef[];
  /** Backends whose resolution changed; undefined when no served Ingress uses the key any more. */
  readonly backends: ReadonlyMap<string, ResolvedBackend | undefined>;
  /** Set when TLS hosts or their Secrets changed. */
  readonly tlsChanged: boolean;
}

function identity(object: KubeObject): string {
  return `${object.kind}/${keyOf(object)}`;
}

/**
 * The translation kept current change by change, so that one changed object
 * costs work in proportion to what it touches, not to the cluster: an
 * Ingress re-translates itself, an EndpointSlice re-resolves the backends of
 * its Service, a Secret re-reads TLS. Only an IngressClass change (rare)
 * re-evaluates every Ingress. Each step reuses the pure functions of
 * translate(); the full view (`translation`) always equals translate() of the
 * same objects.
 */
export class IncrementalTranslator {
  readonly #options: TranslateOptions;
  readonly #memo = new TranslationMemo();
  // The objects, by kind, as last applied.
  readonly #all = new Map<string, KubeObject>();
  readonly #known = new Set<KubeObject>();
  readonly #ingresses = new Map<string, Ingress>();
  readonly #classes = new Map<string, IngressClass>();
  readonly #services = new Map<string, Service>();
  readonly #slices = new Map<string, Map<string, EndpointSlice>>();
  readonly #secrets = new Map<string, Secret>();
  readonly #snapshot: Snapshot;
  // What the served Ingresses mean.
  readonly #served = new Map<string, IngressFacts>();
  readonly #users = new Map<string, Set<string>>();
  readonly #byService = new Map<string, Set<string>>();
  readonly #serviceOf = new Map<string, string>();
  readonly #resolved = new Map<string, ResolvedBackend>();
  readonly #problems = new Map<string, TranslationProblem[]>();
  #tls: Translation["tls"] = { bindings: [], secrets: new Map() };
  #tlsProblems: TranslationProblem[] = [];
  #first = true;

  constructor(options: TranslateOptions) {
    this.#options = options;
    this.#snapshot = {
      ingresses: this.#ingresses,
      ingressClasses: this.#classes,
      services: this.#services,
      endpointSlices: this.#slices,
      secrets: this.#secrets,
    };
  }

  /** Applies the complete current set of objects (diffed by object identity against the last one). */
  apply(objects: readonly KubeObject[]): TranslationDelta {
    const current = new Set(objects);
    const upserts = objects.filter((object) => !this.#known.has(object));
    const deletes: KubeObject[] = [];
    for (const object of this.#known) if (!current.has(object)) deletes.push(object);
    return this.applyChanges(upserts, deletes);
  }

  /** Applies changed and deleted objects. */
  applyChanges(upserts: readonly KubeObject[], deletes: readonly KubeObject[]): TranslationDelta {
    const touchedIngresses = new Set<string>();
    const touchedServices = new Set<string>();
    let classesChanged = false;
    let secretsChanged = false;
    const store = (object: KubeObject, present: boolean) => {
      const id = identity(object);
      if (present) {
        const replaced = this.#all.get(id);
        if (replaced !== undefined) this.#known.delete(replaced);
        this.#all.set(id, object);
        this.#known.add(object);
      } else if (this.#all.get(id) === object) {
        this.#all.delete(id);
        this.#known.delete(object);
      } else {
        return; // an older version of something already replaced
      }
      const key = keyOf(object);
      switch (object.kind) {
        case "Ingress":
          present ? this.#ingresses.set(key, object) : this.#ingresses.delete(key);
          touchedIngresses.add(key);
          break;
        case "IngressClass":
          present
            ? this.#classes.set(object.metadata?.name ?? "", object)
            : this.#classes.delete(object.metadata?.name ?? "");
          classesChanged = true;
          break;
        case "Service":
          present ? this.#services.set(key, object) : this.#services.delete(key);
          touchedServices.add(key);
          break;
        case "EndpointSlice":
          this.#storeSlice(object, present, touchedServices);
          break;
        case "Secret":
          present ? this.#secrets.set(key, object) : this.#secrets.delete(key);
          secretsChanged = true;
          break;
      }
    };
    // A slice may move between Services: drop the old copy before storing the new one.
    for (const object of upserts) {
      const previous = this.#all.get(identity(object));
      if (previous !== undefined && previous.kind === "EndpointSlice")
        this.#storeSlice(previous, false, touchedServices);
    }
    for (const object of deletes) store(object, false);
    for (const object of upserts) store(object, true);
    if (classesChanged) for (const key of this.#ingresses.keys()) touchedIngresses.add(key);

    const upsert: TranslatedIngress[] = [];
    const remove: IngressRef[] = [];
    const recheck = new Set<string>();
    const newKeys = new Set<string>();
    let tlsChanged = secretsChanged || this.#first;
    this.#first = false;
    const defaultClass = hasDefaultClass(this.#classes, this.#options);
    for (const key of touchedIngresses) {
      const before = this.#served.get(key);
      const ingress = this.#ingresses.get(key);
      const serves = ingress !== undefined && servesIngress(ingress, this.#classes, this.#options, defaultClass);
      const after = serves ? factsOf(ingress, this.#memo) : undefined;
      if (before === after) continue;
      if (before !== undefined) {
        this.#unuse(key, before, recheck);
        if (before.tls.length > 0) tlsChanged = true;
      }
      if (after !== undefined) {
        this.#served.set(key, after);
        for (const { key: backend, backend: spec } of after.backends) {
          let users = this.#users.get(backend);
          if (users === undefined) {
            users = new Set();
            this.#users.set(backend, users);
            newKeys.add(backend);
            const service = `${after.translated.namespace}/${spec.service?.name ?? ""}`;
            let keys = this.#byService.get(service);
            if (keys === undefined) {
              keys = new Set();
              this.#byService.set(service, keys);
            }
            keys.add(backend);
            this.#serviceOf.set(backend, service);
          }
          users.add(key);
        }
        if (after.tls.length > 0) tlsChanged = true;
        upsert.push(after.translated);
        this.#problemsOf(key, after);
      } else {
        this.#served.delete(key);
        this.#problems.delete(key);
        remove.push({ namespace: before?.translated.namespace ?? "", name: before?.translated.name ?? "" });
      }
    }
    // Backends to resolve again: new keys, keys of changed Services and slices.
    const backends = new Map<string, ResolvedBackend | undefined>();
    const toResolve = new Set(newKeys);
    for (const service of touchedServices) for (const key of this.#byService.get(service) ?? []) toResolve.add(key);
    for (const key of recheck) {
      if (this.#users.has(key) || !this.#resolved.has(key)) continue;
      this.#resolved.delete(key);
      backends.set(key, undefined);
    }
    for (const key of toResolve) {
      const users = this.#users.get(key);
      if (users === undefined) continue;
      const [firstUser] = users;
      const facts = this.#served.get(firstUser as string) as IngressFacts;
      const spec = facts.backends.find((entry) => entry.key === key)?.backend;
      const resolved = resolveBackend(facts.translated.namespace, spec, this.#services, this.#slices);
      const previous = this.#resolved.get(key);
      if (previous !== undefined && sameResolution(previous, resolved)) continue;
      this.#resolved.set(key, resolved);
      backends.set(key, resolved);
      for (const user of users) this.#problemsOf(user, this.#served.get(user) as IngressFacts);
    }
    if (tlsChanged) {
      const problems: TranslationProblem[] = [];
      const withTls = [...this.#served.values()].filter((facts) => facts.tls.length > 0);
      this.#tls = translateTls(withTls, this.#snapshot, problems, this.#options.defaultCertificate);
      this.#tlsProblems = problems;
    }
    return { upsert, remove, backends, tlsChanged };
  }

  #storeSlice(slice: EndpointSlice, present: boolean, touched: Set<string>): void {
    const service = sliceServiceKey(slice);
    if (service === undefined) return;
    touched.add(service);
    const name = slice.metadata?.name ?? "";
    let slices = this.#slices.get(service);
    if (present) {
      if (slices === undefined) {
        slices = new Map();
        this.#slices.set(service, slices);
      }
      slices.set(name, slice);
    } else if (slices !== undefined && slices.get(name) === slice) {
      slices.delete(name);
      if (slices.size === 0) this.#slices.delete(service);
    }
  }

  #unuse(key: string, facts: IngressFacts, recheck: Set<string>): void {
    for (const { key: backend } of facts.backends) {
      const users = this.#users.get(backend);
      if (users === undefined) continue;
      users.delete(key);
      if (users.size === 0) {
        this.#users.delete(backend);
        const service = this.#serviceOf.get(backend);
        this.#serviceOf.delete(backend);
        if (service !== undefined) {
          const keys = this.#byService.get(service);
          keys?.delete(backend);
          if (keys?.size === 0) this.#byService.delete(service);
        }
        recheck.add(backend);
      }
    }
  }

  #problemsOf(key: string, facts: IngressFacts): void {
    const ref = { namespace: facts.translated.namespace, name: facts.translated.name };
    const problems: TranslationProblem[] = facts.annotationProblems.map((message) => ({
      ingress: ref,
      code: "invalid-annotation",
      message,
    }));
    const reported = new Set<string>();
    for (const { key: backend } of facts.backends) {
      const resolved = this.#resolved.get(backend);
      if (resolved?.kind !== "unavailable" || reported.has(backend)) continue;
      reported.add(backend);
      problems.push({
        ingress: ref,
        code: "backend-unavailable",
        message: `backend ${backend} answers 503: ${resolved.reason}`,
      });
    }
    if (problems.length > 0) this.#problems.set(key, problems);
    else this.#problems.delete(key);
  }

  /** The whole current translation (what translate() would return for the same objects). */
  get translation(): Translation {
    return {
      ingresses: [...this.#served.values()].map((facts) => facts.translated),
      backends: this.#resolved,
      problems: [...[...this.#problems.values()].flat(), ...this.#tlsProblems],
      tls: this.#tls,
    };
  }

  /** Problems found by the translation (the router reports rule problems itself). */
  get problems(): TranslationProblem[] {
    return [...[...this.#problems.values()].flat(), ...this.#tlsProblems];
  }
}

// Resolutions are plain data: equal content means nothing to update downstream.
function sameResolution(a: ResolvedBackend, b: ResolvedBackend): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === "endpoints" && b.kind === "endpoints") {
    return (
      a.terminatingFallback === b.terminatingFallback &&
      a.endpoints.length === b.endpoints.length &&
      a.endpoints.every(
        (endpoint, index) =>
          endpoint.address === b.endpoints[index]?.address && endpoint.port === b.endpoints[index]?.port,
      )
    );
  }
  return JSON.stringify(a) === JSON.stringify(b);
}
