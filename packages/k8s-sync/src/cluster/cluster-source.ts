import { type KubeConfig, type KubernetesObject, ListWatch, Watch } from "@kubernetes/client-node";
import type { Log } from "../log.js";
import type { KubeObject } from "../objects.js";
import { type Kind, keyOf } from "../snapshot.js";
import { describeApiError } from "./api-errors.js";
import { slimObject } from "./slim.js";
import { type WatchedResource, watchedResources } from "./watched-resources.js";

/**
 * client-node's Watch asks for no bookmarks; with them the API server keeps
 * the informers' resourceVersion fresh, so reconnects seldom need a relist.
 * It also tells when a watch was accepted (HTTP 200), which a restart from a
 * resourceVersion has instead of a successful list. Watched objects are made
 * slim (slimObject) before the informer caches them.
 */
class SlimmingWatch extends Watch {
  readonly #kind: Kind;
  readonly #onAccepted: () => void;

  constructor(config: KubeConfig, kind: Kind, onAccepted: () => void) {
    super(config);
    this.#kind = kind;
    this.#onAccepted = onAccepted;
  }

  override async watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (error: unknown) => void,
  ): Promise<AbortController> {
    const kind = this.#kind;
    const slimming = (phase: string, apiObj: unknown, watchObj?: unknown) =>
      callback(
        phase,
        phase === "ADDED" || phase === "MODIFIED" || phase === "DELETED" ? slimObject(apiObj, kind) : apiObj,
        watchObj,
      );
    // client-node calls done(error) before it returns when the watch was refused (non-200, connection error).
    let refused = false;
    const controller = await super.watch(path, { ...queryParams, allowWatchBookmarks: true }, slimming, (error) => {
      if (error) refused = true;
      done(error);
    });
    if (!refused) this.#onAccepted();
    return controller;
  }
}

/** What changed since the last update: the latest version of each changed object, and the deleted ones. */
export interface ObjectChanges {
  readonly upserts: readonly KubeObject[];
  /** Deleted objects (a deletion names the object by kind, namespace and name). */
  readonly deletes: readonly KubeObject[];
}

export interface ClusterSourceOptions {
  readonly config: KubeConfig;
  /** Watch one namespace only (--watch-namespace); cluster-wide when undefined. */
  readonly namespace?: string;
  readonly log: Log;
  /**
   * Once every informer has listed: every watched object, as upserts; then
   * after each burst of watch events, only what the burst changed.
   */
  readonly onChange: (changes: ObjectChanges) => void;
  /** How long a burst of watch events is gathered before one update (ms). */
  readonly coalesceMs?: number;
  /** First and longest wait before restarting a failed informer (ms). */
  readonly backoffMs?: { readonly initial: number; readonly max: number };
}

interface Informer {
  readonly resource: WatchedResource;
  readonly kind: Kind;
  readonly watch: ListWatch<KubernetesObject>;
  listed: boolean;
  failures: number;
  restart: NodeJS.Timeout | undefined;
}

/**
 * Kubernetes objects from the API server through client-node informers
 * (list + watch). client-node relists by itself on 410 Gone; on any other
 * error an informer stops, so this restarts it with exponential backoff from
 * its last resourceVersion. Nothing is applied until every informer has listed
 * once; after that a lost API server keeps the last objects. Updates carry
 * what changed, so a change costs what it touches, not the size of the
 * cluster; the informers' caches hold the one (slim) copy of each object.
 */
export class ClusterSource {
  readonly #options: ClusterSourceOptions;
  readonly #informers: Informer[];
  readonly #byKind = new Map<string, Informer>();
  // Changes since the last update, by kind and key: the latest version, present or deleted.
  #pending = new Map<string, { readonly object: KubeObject; readonly present: boolean }>();
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #ready = false;

  constructor(options: ClusterSourceOptions) {
    this.#options = options;
    this.#informers = watchedResources(options.config, options.namespace).map((resource) => {
      const kind = resource.kind;
      // A watch the API accepted ends a run of failures, as a successful list does: the next failure waits 1 s
      // again, not the doubled wait of every blip since start-up.
      const watch = new SlimmingWatch(options.config, kind, () => {
        informer.failures = 0;
      });
      const informer: Informer = {
        resource,
        kind,
        listed: false,
        failures: 0,
        restart: undefined,
        watch: new ListWatch(
          resource.path,
          watch,
          async () => {
            const list = await resource.list();
            list.items = list.items.map((item) => slimObject(item, kind) as KubernetesObject);
            informer.listed = true;
            informer.failures = 0;
            return list;
          },
          false,
          undefined,
          resource.fieldSelector,
        ),
      };
      informer.watch.on("add", (object) => this.#changed(object, true));
      informer.watch.on("update", (object) => this.#changed(object, true));
      informer.watch.on("delete", (object) => this.#changed(object, false));
      informer.watch.on("error", (error: unknown) => this.#failed(informer, error));
      this.#byKind.set(kind, informer);
      return informer;
    });
  }

  /** True once every informer has listed at least once. */
  get ready(): boolean {
    return this.#ready;
  }

  /** Starts every informer; resolves when each has made its first attempt (listed or failed). */
  async start(): Promise<void> {
    await Promise.all(this.#informers.map((informer) => this.#start(informer)));
    this.#checkReady();
  }

  async #start(informer: Informer): Promise<void> {
    try {
      await informer.watch.start();
    } catch (error) {
      this.#failed(informer, error);
    }
  }

  #failed(informer: Informer, error: unknown): void {
    if (this.#stopped) return;
    informer.failures++;
    const backoff = this.#options.backoffMs ?? { initial: 1000, max: 30_000 };
    const delay = Math.min(backoff.max, backoff.initial * 2 ** Math.min(informer.failures - 1, 16));
    this.#options.log({
      level: "error",
      msg: informer.listed
        ? "watch failed; the last configuration keeps serving"
        : "cannot list from the Kubernetes API; not ready until it answers",
      resource: informer.resource.kind,
      problem: describeApiError(error, informer.resource, informer.listed ? "watch" : "list"),
      retryInMs: delay,
    });
    clearTimeout(informer.restart);
    informer.restart = setTimeout(() => void this.#start(informer).then(() => this.#checkReady()), delay);
  }

  #checkReady(): void {
    if (this.#ready || !this.#informers.every((informer) => informer.listed)) return;
    this.#ready = true;
    this.#options.log({ level: "info", msg: "every informer has listed; configuration follows the cluster" });
    this.#emitAll();
  }

  #changed(object: KubernetesObject, present: boolean): void {
    // Before every informer has listed, the first update will carry everything in the caches anyway.
    if (!this.#ready) return;
    const kubeObject = object as KubeObject;
    this.#pending.set(`${kubeObject.kind}/${keyOf(kubeObject)}`, { object: kubeObject, present });
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#emitPending();
    }, this.#options.coalesceMs ?? 5);
  }

  #emitAll(): void {
    if (this.#stopped) return;
    this.#pending.clear();
    this.#options.onChange({ upserts: this.objects(), deletes: [] });
  }

  #emitPending(): void {
    if (this.#stopped || this.#pending.size === 0) return;
    const upserts: KubeObject[] = [];
    const deletes: KubeObject[] = [];
    for (const { object, present } of this.#pending.values()) (present ? upserts : deletes).push(object);
    this.#pending = new Map();
    this.#options.onChange({ upserts, deletes });
  }

  /** Every object the informers hold now. */
  objects(): KubeObject[] {
    const all: KubeObject[] = [];
    for (const informer of this.#informers) for (const object of informer.watch.list()) all.push(object as KubeObject);
    return all;
  }

  /** The objects of one kind the informers hold now. */
  list(kind: Kind): KubeObject[] {
    return (this.#byKind.get(kind)?.watch.list() ?? []) as KubeObject[];
  }

  /** One object the informers hold now, if any. */
  get(kind: Kind, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.#byKind.get(kind)?.watch.get(name, namespace) as KubeObject | undefined;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    for (const informer of this.#informers) clearTimeout(informer.restart);
    await Promise.all(this.#informers.map((informer) => informer.watch.stop()));
  }
}
