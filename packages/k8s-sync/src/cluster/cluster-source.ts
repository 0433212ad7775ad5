import { type KubeConfig, type KubernetesObject, ListWatch, Watch } from "@kubernetes/client-node";
import type { Log } from "../log.js";
import type { KubeObject } from "../objects.js";
import { describeApiError } from "./api-errors.js";
import { type WatchedResource, watchedResources } from "./watched-resources.js";

/**
 * client-node's Watch asks for no bookmarks; with them the API server keeps
 * the informers' resourceVersion fresh, so reconnects seldom need a relist.
 * It also tells when a watch was accepted (HTTP 200), which a restart from a
 * resourceVersion has instead of a successful list.
 */
class BookmarkingWatch extends Watch {
  readonly #onAccepted: (path: string) => void;

  constructor(config: KubeConfig, onAccepted: (path: string) => void) {
    super(config);
    this.#onAccepted = onAccepted;
  }

  override async watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (error: unknown) => void,
  ): Promise<AbortController> {
    // client-node calls done(error) before it returns when the watch was refused (non-200, connection error).
    let refused = false;
    const controller = await super.watch(path, { ...queryParams, allowWatchBookmarks: true }, callback, (error) => {
      if (error) refused = true;
      done(error);
    });
    if (!refused) this.#onAccepted(path);
    return controller;
  }
}

export interface ClusterSourceOptions {
  readonly config: KubeConfig;
  /** Watch one namespace only (--watch-namespace); cluster-wide when undefined. */
  readonly namespace?: string;
  readonly log: Log;
  /** Every watched object, after all informers listed once and after each burst of changes. */
  readonly onChange: (objects: readonly KubeObject[]) => void;
  /** How long a burst of watch events is gathered before one update (ms). */
  readonly coalesceMs?: number;
  /** First and longest wait before restarting a failed informer (ms). */
  readonly backoffMs?: { readonly initial: number; readonly max: number };
}

interface Informer {
  readonly resource: WatchedResource;
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
 * once; after that a lost API server keeps the last objects.
 */
export class ClusterSource {
  readonly #options: ClusterSourceOptions;
  readonly #informers: Informer[];
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #ready = false;

  constructor(options: ClusterSourceOptions) {
    this.#options = options;
    // A watch the API accepted ends a run of failures, as a successful list does: the next failure waits 1 s
    // again, not the doubled wait of every blip since start-up.
    const watch = new BookmarkingWatch(options.config, (path) => {
      const informer = this.#informers.find((candidate) => candidate.resource.path === path);
      if (informer !== undefined) informer.failures = 0;
    });
    this.#informers = watchedResources(options.config, options.namespace).map((resource) => {
      const informer: Informer = {
        resource,
        listed: false,
        failures: 0,
        restart: undefined,
        watch: new ListWatch(
          resource.path,
          watch,
          async () => {
            const list = await resource.list();
            informer.listed = true;
            informer.failures = 0;
            return list;
          },
          false,
          undefined,
          resource.fieldSelector,
        ),
      };
      const changed = () => this.#changed();
      informer.watch.on("add", changed);
      informer.watch.on("update", changed);
      informer.watch.on("delete", changed);
      informer.watch.on("error", (error: unknown) => this.#failed(informer, error));
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
    this.#emit();
  }

  #changed(): void {
    if (!this.#ready || this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#emit();
    }, this.#options.coalesceMs ?? 5);
  }

  #emit(): void {
    if (this.#stopped) return;
    this.#options.onChange(this.objects());
  }

  /** Every object the informers hold now, in the shape the translation reads. */
  objects(): KubeObject[] {
    const all: KubeObject[] = [];
    for (const informer of this.#informers) {
      for (const object of informer.watch.list()) all.push(this.#normalised(object, informer.resource.kind));
    }
    return all;
  }

  // Listed objects are client-node model instances without kind and with Date
  // timestamps; watched ones are plain JSON. One plain shape for both, made
  // once per object, so that unchanged objects keep their identity downstream
  // (the translation skips them by identity).
  readonly #shapes = new WeakMap<KubernetesObject, KubeObject>();

  #normalised(object: KubernetesObject, kind: string): KubeObject {
    let shaped = this.#shapes.get(object);
    if (shaped === undefined) {
      const created = object.metadata?.creationTimestamp as unknown;
      shaped =
        object.kind === undefined || created instanceof Date
          ? ({
              ...object,
              kind,
              metadata: {
                ...object.metadata,
                ...(created instanceof Date ? { creationTimestamp: created.toISOString() } : {}),
              },
            } as KubeObject)
          : (object as KubeObject);
      this.#shapes.set(object, shaped);
    }
    return shaped;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    for (const informer of this.#informers) clearTimeout(informer.restart);
    await Promise.all(this.#informers.map((informer) => informer.watch.stop()));
  }
}
