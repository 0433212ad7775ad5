/**
 * Watch streams: `?watch=true` answers 200 at once and then writes one JSON event per line,
 * {"type":"ADDED"|"MODIFIED"|"DELETED"|"BOOKMARK"|"ERROR","object":…}.
 *
 * - resourceVersion unset or "0": synthetic ADDED events for the current objects, then changes.
 * - resourceVersion N: every change after N from history, then live changes. N older than the retained history:
 *   200 + one ERROR event with a 410 Expired Status, then the stream ends (or an HTTP 410 with the switch).
 *   N newer than the store: wait a moment, then an ERROR event with a 504 ResourceVersionTooLarge Status.
 * - Selectors apply to old and new state: an object that starts matching comes as ADDED, one that stops matching as
 *   DELETED (its previous state with the change's resourceVersion).
 * - BOOKMARK events (metadata.resourceVersion only) every bookmark interval when allowWatchBookmarks=true; with
 *   sendInitialEvents=true one follows the initial events, annotated k8s.io/initial-events-end: "true".
 * - timeoutSeconds ends the stream cleanly after that long.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { StoredObject } from "./json.js";
import { filterFromQuery } from "./list.js";
import type { ResourceDef } from "./resources.js";
import { apiVersionOf } from "./resources.js";
import type { ObjectFilter } from "./selectors.js";
import { matchesFilter } from "./selectors.js";
import type { Status } from "./status.js";
import { ApiError, badRequest, expired, tooLargeResourceVersion } from "./status.js";
import type { Change, Store } from "./store.js";

export type BookmarkMode = "requested" | "always" | "never";

export interface WatchSettings {
  bookmarkIntervalMs: number;
  bookmarkMode: BookmarkMode;
  /** How long a watch from a future resourceVersion waits for the store to catch up before failing. */
  tooLargeResourceVersionWaitMs: number;
  gone410AsHttpStatus: boolean;
}

type EventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";

export const INITIAL_EVENTS_END = "k8s.io/initial-events-end";

interface Start {
  readonly kind: "initial" | "from" | "expired" | "tooLarge";
  readonly rv: number;
  readonly requested: string;
}

function parseStart(store: Store, requested: string | null): Start {
  if (requested === null || requested === "" || requested === "0") {
    return { kind: "initial", rv: store.resourceVersion, requested: requested ?? "" };
  }
  if (!/^[0-9]+$/.test(requested)) throw badRequest(`invalid resource version: ${requested}`);
  const rv = Number(requested);
  if (rv < store.oldestWatchable) return { kind: "expired", rv, requested };
  if (rv > store.resourceVersion) return { kind: "tooLarge", rv, requested };
  return { kind: "from", rv, requested };
}

class WatchStream {
  private unsubscribe: (() => void) | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private closed = false;

  constructor(
    req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly store: Store,
    private readonly def: ResourceDef,
    private readonly filter: ObjectFilter,
    private readonly onClose: (s: WatchStream) => void,
  ) {
    req.on("close", () => this.cleanup());
    res.on("close", () => this.cleanup());
  }

  begin(): void {
    this.res.writeHead(200, {
      "Content-Type": "application/json",
      "Cache-Control": "no-cache, private",
      "Transfer-Encoding": "chunked",
    });
    this.res.flushHeaders();
  }

  send(type: EventType, object: unknown): void {
    if (this.closed || this.res.destroyed) return;
    this.res.write(`${JSON.stringify({ type, object })}\n`);
  }

  sendChange(change: Change): void {
    if (change.def !== this.def) return;
    const matches = (o: StoredObject) => matchesFilter(this.filter, this.def, o);
    const cur = change.type !== "DELETED" && matches(change.object);
    const old = change.prev !== undefined && matches(change.prev);
    if (cur && !old) this.send("ADDED", change.object);
    else if (cur && old) this.send("MODIFIED", change.object);
    else if (!cur && old) {
      if (change.type === "DELETED") this.send("DELETED", change.object);
      else if (change.prev) {
        const gone = structuredClone(change.prev);
        gone.metadata.resourceVersion = String(change.rv);
        this.send("DELETED", gone);
      }
    }
  }

  sendBookmark(annotations?: Record<string, string>): void {
    const metadata: { resourceVersion: string; annotations?: Record<string, string> } = {
      resourceVersion: String(this.store.resourceVersion),
    };
    if (annotations) metadata.annotations = annotations;
    this.send("BOOKMARK", { kind: this.def.kind, apiVersion: apiVersionOf(this.def), metadata });
  }

  sendError(status: Status): void {
    this.send("ERROR", status);
  }

  /** Replays what the watch asked for and follows the store from there on. */
  follow(startRv: number | "initial"): void {
    if (startRv === "initial") {
      for (const obj of this.store.list(this.def)) {
        if (matchesFilter(this.filter, this.def, obj)) this.send("ADDED", obj);
      }
    } else {
      for (const change of this.store.changesSince(startRv) ?? []) this.sendChange(change);
    }
    this.unsubscribe = this.store.subscribe((c) => this.sendChange(c));
  }

  every(ms: number, fn: () => void): void {
    const t = setInterval(fn, ms);
    t.unref();
    this.timers.push(t);
  }

  after(ms: number, fn: () => void): void {
    const t = setTimeout(fn, ms);
    t.unref();
    this.timers.push(t);
  }

  /** Ends the response cleanly: the client sees the stream end. */
  end(): void {
    if (!this.closed && !this.res.destroyed) this.res.end();
    this.cleanup();
  }

  /** Cuts the connection: the client sees the body fail mid-stream. */
  destroy(): void {
    this.res.socket?.destroy();
    this.res.destroy();
    this.cleanup();
  }

  private cleanup(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe?.();
    for (const t of this.timers) clearTimeout(t);
    this.onClose(this);
  }
}

export class WatchHub {
  private readonly streams = new Set<WatchStream>();

  constructor(
    private readonly store: Store,
    private readonly settings: () => WatchSettings,
  ) {}

  get openCount(): number {
    return this.streams.size;
  }

  /**
   * Serves one watch request. Throws an ApiError before anything is written for a bad request (400) or, with the
   * switch on, a compacted resourceVersion (410).
   */
  open(
    req: IncomingMessage,
    res: ServerResponse,
    def: ResourceDef,
    namespace: string | undefined,
    query: URLSearchParams,
  ): void {
    const settings = this.settings();
    const filter = filterFromQuery(def, namespace, query);
    const start = parseStart(this.store, query.get("resourceVersion"));
    const oldest = this.store.oldestWatchable;
    if (start.kind === "expired" && settings.gone410AsHttpStatus) throw new ApiError(expired(start.requested, oldest));
    const timeoutParam = query.get("timeoutSeconds");
    const timeoutSeconds = timeoutParam === null ? undefined : Number.parseInt(timeoutParam, 10);
    const bookmarks =
      settings.bookmarkMode === "always" ||
      (settings.bookmarkMode === "requested" && query.get("allowWatchBookmarks") === "true");
    const initialEventsEnd = bookmarks && query.get("sendInitialEvents") === "true";

    const stream = new WatchStream(req, res, this.store, def, filter, (s) => this.streams.delete(s));
    this.streams.add(stream);
    stream.begin();
    if (start.kind === "expired") {
      stream.sendError(expired(start.requested, oldest));
      stream.end();
      return;
    }
    if (timeoutSeconds !== undefined && Number.isFinite(timeoutSeconds) && timeoutSeconds > 0) {
      stream.after(timeoutSeconds * 1000, () => stream.end());
    }
    const run = (from: number | "initial") => {
      stream.follow(from);
      if (initialEventsEnd && from === "initial") stream.sendBookmark({ [INITIAL_EVENTS_END]: "true" });
      if (bookmarks) stream.every(settings.bookmarkIntervalMs, () => stream.sendBookmark());
    };
    if (start.kind === "tooLarge") {
      stream.after(settings.tooLargeResourceVersionWaitMs, () => {
        if (start.rv > this.store.resourceVersion) {
          stream.sendError(tooLargeResourceVersion(start.requested, this.store.resourceVersion));
          stream.end();
        } else {
          run(start.rv);
        }
      });
      return;
    }
    run(start.kind === "initial" ? "initial" : start.rv);
  }

  /** Closes every open watch: abruptly (socket destroyed) or cleanly (response ended). */
  dropAll(mode: "abrupt" | "graceful"): number {
    const all = [...this.streams];
    for (const s of all) {
      if (mode === "abrupt") s.destroy();
      else s.end();
    }
    return all.length;
  }
}
