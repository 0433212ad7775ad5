/**
 * The double's etcd: objects by resource, one global monotonically increasing resourceVersion shared by every
 * resource, and a bounded history of changes that watches replay from. Server-managed metadata (uid,
 * creationTimestamp, resourceVersion, generation) is assigned here. Listeners are called synchronously on each
 * change, so a watch that replays history and then subscribes without awaiting in between misses nothing.
 */
import { randomUUID } from "node:crypto";
import type { KubeObject, StoredObject } from "./json.js";
import { clone, deepEqual, rfc3339Now } from "./json.js";
import type { ResourceDef } from "./resources.js";
import { apiVersionOf, resourceKey } from "./resources.js";

export type ChangeType = "ADDED" | "MODIFIED" | "DELETED";

export interface Change {
  /** The resourceVersion of this change. */
  readonly rv: number;
  readonly def: ResourceDef;
  readonly type: ChangeType;
  /** ADDED/MODIFIED: the new state. DELETED: the last state, carrying the deletion's resourceVersion. */
  readonly object: StoredObject;
  /** MODIFIED/DELETED: the state before the change (for selector transitions). */
  readonly prev: StoredObject | undefined;
}

export type ChangeListener = (change: Change) => void;

function objectKey(namespace: string | undefined, name: string): string {
  return `${namespace ?? ""}/${name}`;
}

/** Everything but metadata and status: what a change of bumps metadata.generation. */
function specPart(obj: KubeObject): Record<string, unknown> {
  const { metadata: _m, status: _s, ...rest } = obj;
  return rest;
}

function withoutResourceVersion(obj: KubeObject): KubeObject {
  const { resourceVersion: _rv, ...metadata } = obj.metadata ?? {};
  return { ...obj, metadata };
}

export class Store {
  private rv: number;
  /** Watches from a resourceVersion below this get 410: every change after it is still in history. */
  private floor: number;
  private readonly objects = new Map<string, Map<string, StoredObject>>();
  private history: Change[] = [];
  private readonly listeners = new Set<ChangeListener>();

  constructor(
    private readonly historyLimit: number,
    initialResourceVersion: number,
  ) {
    this.rv = initialResourceVersion;
    this.floor = initialResourceVersion;
  }

  /** The latest resourceVersion handed out (what a list returns in metadata.resourceVersion). */
  get resourceVersion(): number {
    return this.rv;
  }

  /** The oldest resourceVersion a watch may start from. */
  get oldestWatchable(): number {
    return this.floor;
  }

  private bucket(def: ResourceDef): Map<string, StoredObject> {
    const key = resourceKey(def);
    let b = this.objects.get(key);
    if (!b) {
      b = new Map();
      this.objects.set(key, b);
    }
    return b;
  }

  get(def: ResourceDef, namespace: string | undefined, name: string): StoredObject | undefined {
    const found = this.bucket(def).get(objectKey(def.namespaced ? namespace : undefined, name));
    return found ? clone(found) : undefined;
  }

  /** Every object of a type, sorted by namespace then name like etcd keys. */
  list(def: ResourceDef): StoredObject[] {
    return [...this.bucket(def).entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, obj]) => clone(obj));
  }

  /**
   * Stores a new object. metadata.uid and creationTimestamp are kept when given (the test back door seeds them),
   * otherwise generated; resourceVersion and generation are always assigned.
   */
  create(def: ResourceDef, obj: KubeObject & { metadata: { name: string } }): StoredObject {
    const meta = obj.metadata;
    const rv = this.rv + 1;
    const stored: StoredObject = {
      ...clone(obj),
      apiVersion: apiVersionOf(def),
      kind: def.kind,
      metadata: {
        ...clone(meta),
        name: meta.name,
        uid: meta.uid ?? randomUUID(),
        creationTimestamp: meta.creationTimestamp ?? rfc3339Now(),
        resourceVersion: String(rv),
      },
    };
    if (!def.namespaced) delete stored.metadata.namespace;
    if (def.hasGeneration) stored.metadata.generation = 1;
    else delete stored.metadata.generation;
    this.bucket(def).set(objectKey(stored.metadata.namespace, meta.name), stored);
    this.commit({ rv, def, type: "ADDED", object: stored, prev: undefined });
    return clone(stored);
  }

  /**
   * Replaces an existing object. uid and creationTimestamp are kept from the stored one; generation goes up when
   * anything outside metadata and status changed. A write that changes nothing is a no-op: no new
   * resourceVersion and no watch event, like the API server.
   */
  update(def: ResourceDef, obj: KubeObject & { metadata: { name: string } }): StoredObject {
    const b = this.bucket(def);
    const key = objectKey(def.namespaced ? obj.metadata.namespace : undefined, obj.metadata.name);
    const prev = b.get(key);
    if (!prev) throw new Error(`kube-api-double: update of a missing object ${key}`);
    const next: StoredObject = {
      ...clone(obj),
      apiVersion: apiVersionOf(def),
      kind: def.kind,
      metadata: {
        ...clone(obj.metadata),
        name: prev.metadata.name,
        uid: prev.metadata.uid,
        creationTimestamp: prev.metadata.creationTimestamp,
        resourceVersion: prev.metadata.resourceVersion,
      },
    };
    if (def.namespaced) next.metadata.namespace = prev.metadata.namespace;
    else delete next.metadata.namespace;
    if (def.hasGeneration) {
      const bump = deepEqual(specPart(prev), specPart(next)) ? 0 : 1;
      next.metadata.generation = (prev.metadata.generation ?? 1) + bump;
    } else {
      delete next.metadata.generation;
    }
    if (deepEqual(withoutResourceVersion(prev), withoutResourceVersion(next))) return clone(prev);
    const rv = this.rv + 1;
    next.metadata.resourceVersion = String(rv);
    b.set(key, next);
    this.commit({ rv, def, type: "MODIFIED", object: next, prev });
    return clone(next);
  }

  /** Removes an object; returns its last state with the deletion's resourceVersion, or undefined when missing. */
  delete(def: ResourceDef, namespace: string | undefined, name: string): StoredObject | undefined {
    const b = this.bucket(def);
    const key = objectKey(def.namespaced ? namespace : undefined, name);
    const prev = b.get(key);
    if (!prev) return undefined;
    b.delete(key);
    const rv = this.rv + 1;
    const last: StoredObject = clone(prev);
    last.metadata.resourceVersion = String(rv);
    this.commit({ rv, def, type: "DELETED", object: last, prev });
    return clone(last);
  }

  /** Changes after `rv`, oldest first; undefined when history no longer reaches back that far. */
  changesSince(rv: number): Change[] | undefined {
    if (rv < this.floor) return undefined;
    return this.history.filter((c) => c.rv > rv);
  }

  /**
   * Forgets all history and moves the resourceVersion on by one, as if the cluster had seen other writes since:
   * a watch from any resourceVersion handed out before gets 410 Expired. Open watches are not affected.
   */
  compact(): void {
    this.history = [];
    this.rv += 1;
    this.floor = this.rv;
  }

  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private commit(change: Change): void {
    this.rv = change.rv;
    this.history.push(change);
    while (this.history.length > this.historyLimit) {
      const dropped = this.history.shift();
      if (dropped) this.floor = dropped.rv;
    }
    for (const l of [...this.listeners]) l(change);
  }
}
