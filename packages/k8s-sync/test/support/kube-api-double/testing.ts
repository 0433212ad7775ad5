/** Small helpers for tests that drive client-node against the double: bounded waits and an event log for informers. */
import { setTimeout as sleep } from "node:timers/promises";

/** Polls `condition` every 10 ms until it holds; fails after `timeoutMs` with `what` in the message. */
export async function waitFor(what: string, condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

interface InformerLike<T> {
  on(verb: "add" | "update" | "delete", cb: (obj: T) => void): void;
  on(verb: "error" | "connect", cb: (err?: unknown) => void): void;
}

interface Named {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
}

/** Records an informer's callbacks as "add default/web", "update default/web", "delete …", and its errors. */
export function recordInformer<T extends Named>(informer: InformerLike<T>) {
  const events: string[] = [];
  const errors: unknown[] = [];
  let connects = 0;
  const key = (o: T) => `${o.metadata?.namespace ? `${o.metadata.namespace}/` : ""}${o.metadata?.name ?? ""}`;
  informer.on("add", (o) => events.push(`add ${key(o)}`));
  informer.on("update", (o) => events.push(`update ${key(o)}`));
  informer.on("delete", (o) => events.push(`delete ${key(o)}`));
  informer.on("error", (e) => errors.push(e));
  informer.on("connect", () => connects++);
  return {
    events,
    errors,
    get connects() {
      return connects;
    },
    /** Empties the event log (not the errors). */
    clear() {
      events.length = 0;
    },
  };
}

interface Restartable {
  on(verb: "error", cb: (err?: unknown) => void): void;
  start(): Promise<void>;
}

/**
 * client-node's ListWatch stops for good on any watch or list error other than 410 and its own timeout; this
 * restarts it `delayMs` after each error (from its last resourceVersion, so without a relist unless it had none).
 * The AbortError that ListWatch reports when stop() aborts its watch is ignored.
 * Returns a function that stops restarting.
 */
export function restartOnError(informer: Restartable, delayMs = 20): () => void {
  let active = true;
  const timers = new Set<NodeJS.Timeout>();
  informer.on("error", (err) => {
    // stop() aborts the watch and ListWatch reports the AbortError: that one is no reason to restart.
    if (!active || (err instanceof Error && err.name === "AbortError")) return;
    const t = setTimeout(() => {
      timers.delete(t);
      if (active) void informer.start();
    }, delayMs);
    timers.add(t);
  });
  return () => {
    active = false;
    for (const t of timers) clearTimeout(t);
  };
}
