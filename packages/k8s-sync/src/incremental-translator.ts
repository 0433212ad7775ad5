import type { IngressRef } from "@rennet/router";
import { type ResolvedBackend, resolveBackend } from "./backends.js";
import { hasDefaultClass, servesIngress } from "./ingress-class.js";
import type { EndpointSlice, Ingress, IngressClass, KubeObject, Secret, Service } from "./objects.js";
import { KINDS, keyOf, type Snapshot, sliceServiceKey } from "./snapshot.js";
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
  // The objects, by kind, as last applied (IngressClasses by name, the others by "namespace/name").
  readonly #ingresses = new Map<string, Ingress>();
  readonly #classes = new Map<string, IngressClass>();
  readonly #services = new Map<string, Service>();
  /** By owning Service, then by name (as the Snapshot has them). */
  readonly #slices = new Map<string, Map<string, EndpointSlice>>();
  /** By "namespace/name": a changed slice may name another Service. */
  readonly #sliceByKey = new Map<string, EndpointSlice>();
  readonly #secrets = new Map<string, Secret>();
  /** Every object above, by identity: only once apply() is used (see there). */
  #applied: Set<KubeObject> | undefined;
  readonly #snapshot: Snapshot;
  // What the served Ingresses mean.
  readonly #served = new Map<string, IngressFacts>();
  /** Backend key → the served Ingresses that use it. */
  readonly #users = new SetMap();
  /** "namespace/service" → the backend keys that name it. */
  readonly #byService = new SetMap();
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
    // The applied objects by identity, kept from the first full apply on (sources that send
    // changes never pay for it): the diff is then two Set walks, no key strings.
    if (this.#applied === undefined) {
      this.#applied = new Set();
      for (const stored of [this.#ingresses, this.#classes, this.#services, this.#sliceByKey, this.#secrets]) {
        for (const object of stored.values()) this.#applied.add(object);
      }
    }
    const applied = this.#applied;
    const current = new Set(objects);
    const upserts = objects.filter((object) => !applied.has(object));
    const deletes: KubeObject[] = [];
    for (const object of applied) if (!current.has(object)) deletes.push(object);
    return this.applyChanges(upserts, deletes);
  }

  /** The object of the same kind and name as last applied. */
  #stored(object: KubeObject): KubeObject | undefined {
    switch (object.kind) {
      case "Ingress":
        return this.#ingresses.get(keyOf(object));
      case "IngressClass":
        return this.#classes.get(object.metadata?.name ?? "");
      case "Service":
        return this.#services.get(keyOf(object));
      case "EndpointSlice":
        return this.#sliceByKey.get(keyOf(object));
      case "Secret":
        return this.#secrets.get(keyOf(object));
      default:
        return undefined;
    }
  }

  /**
   * Applies changed and deleted objects: an upsert replaces the object of the
   * same kind and name, a deletion removes it (whichever version was applied).
   * Deletions are applied first, so one call may delete and re-create a name.
   */
  applyChanges(upserts: readonly KubeObject[], deletes: readonly KubeObject[]): TranslationDelta {
    const touchedIngresses = new Set<string>();
    const touchedServices = new Set<string>();
    let classesChanged = false;
    let secretsChanged = false;
    const store = (object: KubeObject, present: boolean) => {
      const stored = this.#stored(object);
      if (present ? stored === object : stored === undefined) return; // nothing changes
      if (this.#applied !== undefined && Object.hasOwn(KINDS, object.kind ?? "")) {
        if (stored !== undefined) this.#applied.delete(stored);
        if (present) this.#applied.add(object);
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
          // The applied version leaves its Service (which may not be the new version's).
          if (stored !== undefined) this.#storeSlice(stored as EndpointSlice, false, touchedServices);
          if (present) {
            this.#sliceByKey.set(key, object);
            this.#storeSlice(object, true, touchedServices);
          } else this.#sliceByKey.delete(key);
          break;
        case "Secret":
          present ? this.#secrets.set(key, object) : this.#secrets.delete(key);
          secretsChanged = true;
          break;
      }
    };
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
          if (!this.#users.has(backend)) {
            newKeys.add(backend);
            const service = `${after.translated.namespace}/${spec.service?.name ?? ""}`;
            this.#byService.add(service, backend);
            this.#serviceOf.set(backend, service);
          }
          this.#users.add(backend, key);
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
    for (const service of touchedServices) for (const key of this.#byService.values(service)) toResolve.add(key);
    for (const key of recheck) {
      if (this.#users.has(key) || !this.#resolved.has(key)) continue;
      this.#resolved.delete(key);
      backends.set(key, undefined);
    }
    for (const key of toResolve) {
      const firstUser = this.#users.first(key);
      if (firstUser === undefined) continue;
      const facts = this.#served.get(firstUser) as IngressFacts;
      const spec = facts.backends.find((entry) => entry.key === key)?.backend;
      const resolved = resolveBackend(facts.translated.namespace, spec, this.#services, this.#slices);
      const previous = this.#resolved.get(key);
      if (previous !== undefined && sameResolution(previous, resolved)) continue;
      this.#resolved.set(key, resolved);
      backends.set(key, resolved);
      for (const user of this.#users.values(key)) this.#problemsOf(user, this.#served.get(user) as IngressFacts);
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
      if (!this.#users.delete(backend, key) || this.#users.has(backend)) continue;
      // The last user is gone.
      const service = this.#serviceOf.get(backend);
      this.#serviceOf.delete(backend);
      if (service !== undefined) this.#byService.delete(service, backend);
      recheck.add(backend);
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

/**
 * string → set of strings, where nearly every key holds one value (a backend
 * used by one Ingress, a Service with one port): a lone value is stored as
 * is, a Set only from the second on. 10k one-element Sets cost ~2 MB.
 */
class SetMap {
  readonly #map = new Map<string, string | Set<string>>();

  has(key: string): boolean {
    return this.#map.has(key);
  }

  add(key: string, value: string): void {
    const held = this.#map.get(key);
    if (held === undefined) this.#map.set(key, value);
    else if (typeof held === "string") {
      if (held !== value) this.#map.set(key, new Set([held, value]));
    } else held.add(value);
  }

  /** Removes one value; true when it was there. A key left without values is removed. */
  delete(key: string, value: string): boolean {
    const held = this.#map.get(key);
    if (held === undefined) return false;
    if (typeof held === "string") {
      if (held !== value) return false;
      this.#map.delete(key);
      return true;
    }
    if (!held.delete(value)) return false;
    if (held.size === 1) this.#map.set(key, held.values().next().value as string);
    return true;
  }

  first(key: string): string | undefined {
    const held = this.#map.get(key);
    return held === undefined || typeof held === "string" ? held : held.values().next().value;
  }

  values(key: string): Iterable<string> {
    const held = this.#map.get(key);
    return held === undefined ? [] : typeof held === "string" ? [held] : held;
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
