import { randomBytes } from "node:crypto";
import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import type { Log } from "../log.js";
import { describeApiError } from "./api-errors.js";

export interface EventTarget {
  readonly namespace: string;
  readonly name: string;
  readonly uid?: string;
}

export interface EventRecorderOptions {
  readonly config: KubeConfig;
  readonly log: Log;
  /** Tokens per second and burst of the rate limit. */
  readonly perSecond?: number;
  readonly burst?: number;
  /** The same event is not repeated within this window (ms). */
  readonly dedupeMs?: number;
  readonly now?: () => number;
}

/**
 * Warning Events on Ingresses for what rennet rejects, deduplicated (one per
 * Ingress, reason and message within a window) and rate-limited (token
 * bucket), so a broken configuration cannot flood the API server.
 */
export class EventRecorder {
  readonly #api: CoreV1Api;
  readonly #options: EventRecorderOptions;
  readonly #sent = new Map<string, number>();
  #tokens: number;
  #refilled: number;

  constructor(options: EventRecorderOptions) {
    this.#options = options;
    this.#api = options.config.makeApiClient(CoreV1Api);
    this.#tokens = options.burst ?? 25;
    this.#refilled = this.#now();
  }

  #now(): number {
    return (this.#options.now ?? Date.now)();
  }

  #take(): boolean {
    const now = this.#now();
    const burst = this.#options.burst ?? 25;
    this.#tokens = Math.min(burst, this.#tokens + ((now - this.#refilled) / 1000) * (this.#options.perSecond ?? 1));
    this.#refilled = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Records a Warning; returns false when it was a duplicate or rate-limited. */
  async warn(target: EventTarget, reason: string, message: string): Promise<boolean> {
    const key = `${target.namespace}/${target.name}|${reason}|${message}`;
    const now = this.#now();
    const last = this.#sent.get(key);
    if (last !== undefined && now - last < (this.#options.dedupeMs ?? 600_000)) return false;
    if (!this.#take()) return false;
    this.#sent.set(key, now);
    const time = new Date(now);
    try {
      await this.#api.createNamespacedEvent({
        namespace: target.namespace,
        body: {
          metadata: { name: `${target.name}.${randomBytes(8).toString("hex")}`, namespace: target.namespace },
          involvedObject: {
            apiVersion: "networking.k8s.io/v1",
            kind: "Ingress",
            namespace: target.namespace,
            name: target.name,
            ...(target.uid ? { uid: target.uid } : {}),
          },
          reason,
          message: message.slice(0, 1024),
          type: "Warning",
          count: 1,
          firstTimestamp: time,
          lastTimestamp: time,
          source: { component: "rennet" },
          reportingComponent: "rennet.dev/ingress-controller",
          reportingInstance: process.env.POD_NAME ?? "rennet",
        },
      });
      return true;
    } catch (error) {
      this.#sent.delete(key);
      this.#options.log({
        level: "warn",
        msg: "could not record an Event",
        target: `${target.namespace}/${target.name}`,
        problem: describeApiError(error, { resource: "events", group: "" }, "create"),
      });
      return false;
    }
  }
}
