/**
 * A Kubernetes API server double for tests: plain HTTP on 127.0.0.1, spoken to by the real @kubernetes/client-node
 * through a kubeconfig it writes. See README.md beside this file for what it models and what it does not.
 *
 *   const double = await startKubeApiDouble();
 *   const kc = new KubeConfig();
 *   kc.loadFromFile(double.kubeconfigPath);
 *   double.apply({ apiVersion: "networking.k8s.io/v1", kind: "Ingress", metadata: { name: "web" }, spec: {} });
 *   …
 *   await double.stop();
 */
import { randomBytes } from "node:crypto";
import type { Server, ServerResponse } from "node:http";
import { createServer } from "node:http";
import type { Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { handleRequest } from "./handler.js";
import type { KubeObject, StoredObject } from "./json.js";
import { writeKubeconfig } from "./kubeconfig.js";
import type { RecordedRequest, RequestMatch } from "./recording.js";
import { requestMatches, WRITE_VERBS } from "./recording.js";
import type { KindRef } from "./resources.js";
import { resolveKind, resourceForObject } from "./resources.js";
import { Store } from "./store.js";
import type { FailRequestsOptions, ForbidRule } from "./switches.js";
import { Switches } from "./switches.js";
import type { BookmarkMode, WatchSettings } from "./watch.js";
import { WatchHub } from "./watch.js";

export type { KubeObject, StoredObject } from "./json.js";
export type { RecordedRequest, RequestFilter, RequestMatch, Verb } from "./recording.js";
export type { KindRef } from "./resources.js";
export type { Status } from "./status.js";
export type { FailRequestsOptions, ForbidRule } from "./switches.js";
export type { BookmarkMode } from "./watch.js";
export { INITIAL_EVENTS_END } from "./watch.js";

export interface KubeApiDoubleOptions {
  /** The bearer token the double requires (and writes into the kubeconfig). Random by default. */
  readonly token?: string;
  /** The user named in 403 messages. Default "system:serviceaccount:rennet:rennet". */
  readonly user?: string;
  /** The kubeconfig context's namespace. Default "default". */
  readonly namespace?: string;
  /** How often BOOKMARK events are sent on watches that get them. Default 1000 ms (kube-apiserver: about a minute). */
  readonly bookmarkIntervalMs?: number;
  /** "requested" (default: only with allowWatchBookmarks=true, like the API server), "always", or "never". */
  readonly bookmarks?: BookmarkMode;
  /** How many changes history keeps for watches to replay; older resourceVersions get 410. Default 10000. */
  readonly historySize?: number;
  /** The resourceVersion before the first write. Default 1. */
  readonly initialResourceVersion?: number;
  /** How long a watch from a future resourceVersion waits before its 504 ERROR event. Default 1000 ms. */
  readonly tooLargeResourceVersionWaitMs?: number;
  /** Objects stored before the server listens, as with apply(). */
  readonly seed?: readonly KubeObject[];
}

export interface DropWatchesOptions {
  /** Default "abrupt": the sockets are destroyed mid-stream. "graceful" ends each response cleanly. */
  readonly mode?: "abrupt" | "graceful";
}

export class KubeApiDouble {
  private readonly store: Store;
  private readonly switches = new Switches();
  private readonly watchHub: WatchHub;
  private readonly recorded: RecordedRequest[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;
  private readonly watchSettings: WatchSettings;
  private port = 0;
  private down = true;
  private stopped = false;
  private kubeconfig: { path: string; remove: () => Promise<void> } | undefined;
  readonly token: string;

  private constructor(options: KubeApiDoubleOptions) {
    this.token = options.token ?? randomBytes(16).toString("hex");
    this.store = new Store(options.historySize ?? 10_000, options.initialResourceVersion ?? 1);
    this.watchSettings = {
      bookmarkIntervalMs: options.bookmarkIntervalMs ?? 1000,
      bookmarkMode: options.bookmarks ?? "requested",
      tooLargeResourceVersionWaitMs: options.tooLargeResourceVersionWaitMs ?? 1000,
      gone410AsHttpStatus: false,
    };
    this.watchHub = new WatchHub(this.store, () => ({
      ...this.watchSettings,
      gone410AsHttpStatus: this.switches.gone410AsHttpStatus,
    }));
    const deps = {
      store: this.store,
      watches: this.watchHub,
      switches: this.switches,
      token: this.token,
      user: options.user ?? "system:serviceaccount:rennet:rennet",
      requests: this.recorded,
      serverAddress: () => `127.0.0.1:${this.port}`,
    };
    this.server = createServer({ keepAliveTimeout: 5000 }, (req, res: ServerResponse) => {
      void handleRequest(deps, req, res);
    });
    this.server.on("connection", (socket: Socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
    for (const obj of options.seed ?? []) this.apply(obj);
  }

  /** Starts a double on 127.0.0.1 (a free port) and writes its kubeconfig. */
  static async start(options: KubeApiDoubleOptions = {}): Promise<KubeApiDouble> {
    const double = new KubeApiDouble(options);
    await double.listen(0);
    double.kubeconfig = await writeKubeconfig({
      server: double.url,
      token: double.token,
      namespace: options.namespace ?? "default",
    });
    return double;
  }

  /** http://127.0.0.1:PORT */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** A kubeconfig file (in a temporary directory removed by stop()) whose current context points here. */
  get kubeconfigPath(): string {
    if (!this.kubeconfig) throw new Error("kube-api-double: not started");
    return this.kubeconfig.path;
  }

  // ---- store back door ------------------------------------------------------------------------------------------

  /** The latest resourceVersion, as a list would return it. */
  get resourceVersion(): string {
    return String(this.store.resourceVersion);
  }

  /**
   * Creates or replaces an object as given (status included; no validation; typed client-node models work too),
   * bypassing the API: watches see ADDED or MODIFIED. A namespaced object without a namespace goes to "default". Replacing with identical content is a no-op.
   */
  apply(object: KubeObject): StoredObject {
    const def = resourceForObject(object);
    const name = object.metadata?.name;
    if (!name) throw new Error("kube-api-double: apply() needs metadata.name");
    const namespace = def.namespaced ? object.metadata?.namespace || "default" : undefined;
    // Through JSON, as over the wire: Dates (client-node models) become their serialised strings.
    const json = JSON.parse(JSON.stringify(object)) as KubeObject;
    const metadata = { ...json.metadata, name };
    if (namespace !== undefined) metadata.namespace = namespace;
    const obj = { ...json, metadata };
    return this.store.get(def, namespace, name) ? this.store.update(def, obj) : this.store.create(def, obj);
  }

  /** Deletes an object, bypassing the API; returns its last state, or undefined when it did not exist. */
  delete(kind: KindRef, namespace: string | undefined, name: string): StoredObject | undefined {
    return this.store.delete(resolveKind(kind), namespace, name);
  }

  get(kind: KindRef, namespace: string | undefined, name: string): StoredObject | undefined {
    return this.store.get(resolveKind(kind), namespace, name);
  }

  /** Objects of a type, sorted by namespace and name; only one namespace's when given. */
  list(kind: KindRef, namespace?: string): StoredObject[] {
    const all = this.store.list(resolveKind(kind));
    return namespace === undefined ? all : all.filter((o) => o.metadata.namespace === namespace);
  }

  /** Stored events, core v1 and events.k8s.io/v1 (kept apart, unlike a real cluster), in resourceVersion order. */
  events(): StoredObject[] {
    const all = [...this.store.list(resolveKind("Event")), ...this.store.list(resolveKind("events.events.k8s.io"))];
    return all.sort((a, b) => Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion));
  }

  /**
   * Forgets watch history and moves the resourceVersion on, as if the cluster had seen other writes: a watch from
   * any resourceVersion handed out before gets 410 Expired. Open watches go on; combine with dropWatches().
   */
  compact(): void {
    this.store.compact();
  }

  // ---- requests -------------------------------------------------------------------------------------------------

  /** Every request received, oldest first. */
  get requests(): readonly RecordedRequest[] {
    return this.recorded;
  }

  /** The create/update/patch/delete requests received (whatever their outcome). */
  get writes(): readonly RecordedRequest[] {
    return this.recorded.filter((r) => r.verb !== undefined && WRITE_VERBS.includes(r.verb));
  }

  requestsMatching(match: RequestMatch): RecordedRequest[] {
    return this.recorded.filter((r) => requestMatches(match, r));
  }

  clearRequests(): void {
    this.recorded.length = 0;
  }

  // ---- switches -------------------------------------------------------------------------------------------------

  /** How many watch streams are open. */
  get openWatches(): number {
    return this.watchHub.openCount;
  }

  /** Closes every open watch stream; returns how many were open. */
  dropWatches(options: DropWatchesOptions = {}): number {
    return this.watchHub.dropAll(options.mode ?? "abrupt");
  }

  /** Answers the next `count` matching requests (all until clearFailures() when no count) with an error Status. */
  failRequests(options: FailRequestsOptions): void {
    this.switches.failRequests(options);
  }

  clearFailures(): void {
    this.switches.clearFailures();
  }

  /** Denies a verb on a resource like RBAC would (403 Forbidden); returns a function that lifts the denial. */
  forbid(rule: ForbidRule): () => void {
    return this.switches.forbid(rule);
  }

  clearForbids(): void {
    this.switches.clearForbids();
  }

  /** true: watches from a compacted resourceVersion get HTTP 410; false (default): 200 + an ERROR event (410 Expired). */
  gone410AsHttpStatus(on: boolean): void {
    this.switches.gone410AsHttpStatus = on;
  }

  /** Changes the bookmark interval for watches opened from now on. */
  setBookmarkInterval(ms: number): void {
    this.watchSettings.bookmarkIntervalMs = ms;
  }

  get isDown(): boolean {
    return this.down;
  }

  /**
   * Down: stops listening and destroys every connection (clients get ECONNREFUSED / socket errors). Up again:
   * listens on the same port. The store is kept.
   */
  async setDown(down: boolean): Promise<void> {
    if (this.stopped) throw new Error("kube-api-double: stopped");
    if (down) await this.close();
    else await this.listen(this.port);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.close();
    await this.kubeconfig?.remove();
  }

  // ---- listener -------------------------------------------------------------------------------------------------

  private async listen(port: number): Promise<void> {
    if (!this.down) return;
    for (let attempt = 0; ; attempt++) {
      try {
        await new Promise<void>((resolve, reject) => {
          const onError = (err: Error) => reject(err);
          this.server.once("error", onError);
          this.server.listen(port, "127.0.0.1", () => {
            this.server.off("error", onError);
            resolve();
          });
        });
        break;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== "EADDRINUSE" || attempt >= 20) throw err;
        await sleep(50);
      }
    }
    const address = this.server.address();
    if (address === null || typeof address === "string") throw new Error("kube-api-double: no TCP address");
    this.port = address.port;
    this.down = false;
  }

  private async close(): Promise<void> {
    if (this.down) return;
    this.down = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.watchHub.dropAll("abrupt");
    for (const s of this.sockets) s.destroy();
    this.server.closeAllConnections();
    await closed;
  }
}

export function startKubeApiDouble(options?: KubeApiDoubleOptions): Promise<KubeApiDouble> {
  return KubeApiDouble.start(options);
}
