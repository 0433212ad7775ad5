import { CoordinationV1Api, type KubeConfig, type V1Lease, V1MicroTime } from "@kubernetes/client-node";
import type { Log } from "../log.js";
import { describeApiError } from "./api-errors.js";

const LEASES = { resource: "leases", group: "coordination.k8s.io" } as const;

export interface LeaderElectionOptions {
  readonly config: KubeConfig;
  readonly namespace: string;
  readonly name: string;
  /** Unique per instance, e.g. the pod name. */
  readonly identity: string;
  readonly leaseDurationMs?: number;
  /** A leader that could not renew for this long stops leading. */
  readonly renewDeadlineMs?: number;
  readonly retryPeriodMs?: number;
  readonly log: Log;
  readonly onChange: (leading: boolean) => void;
  readonly now?: () => number;
}

function statusOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown })?.code;
  return typeof code === "number" ? code : undefined;
}

/**
 * Leader election through a coordination.k8s.io/v1 Lease, as client-go does
 * it: whoever holds an unexpired lease keeps renewing it; others take it over
 * once it has expired; every write carries the resourceVersion it read, so
 * two candidates cannot both win. A leader that stops releases the lease.
 */
export class LeaderElector {
  readonly #options: LeaderElectionOptions;
  readonly #api: CoordinationV1Api;
  #leading = false;
  #lastRenew = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  /** The verb of the Lease call under way, for error messages that say which permission is missing. */
  #verb: "get" | "create" | "update" = "get";

  constructor(options: LeaderElectionOptions) {
    this.#options = options;
    this.#api = options.config.makeApiClient(CoordinationV1Api);
  }

  get leading(): boolean {
    return this.#leading;
  }

  start(): void {
    void this.#tick();
  }

  #now(): number {
    return (this.#options.now ?? Date.now)();
  }

  async #tick(): Promise<void> {
    if (this.#stopped) return;
    try {
      await this.#tryAcquireOrRenew();
    } catch (error) {
      this.#options.log({
        level: "warn",
        msg: "leader election: lease update failed",
        problem: describeApiError(error, LEASES, this.#verb),
      });
    }
    if (this.#leading && this.#now() - this.#lastRenew > (this.#options.renewDeadlineMs ?? 10_000))
      this.#setLeading(false);
    if (!this.#stopped) this.#timer = setTimeout(() => void this.#tick(), this.#options.retryPeriodMs ?? 2_000);
  }

  async #tryAcquireOrRenew(): Promise<void> {
    const { namespace, name, identity } = this.#options;
    const durationMs = this.#options.leaseDurationMs ?? 15_000;
    const now = this.#now();
    let lease: V1Lease | undefined;
    this.#verb = "get";
    try {
      lease = await this.#api.readNamespacedLease({ name, namespace });
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
    }
    const spec = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(durationMs / 1000),
      renewTime: new V1MicroTime(now),
    };
    if (lease === undefined) {
      this.#verb = "create";
      await this.#write(() =>
        this.#api.createNamespacedLease({
          namespace,
          body: {
            metadata: { name, namespace },
            spec: { ...spec, acquireTime: new V1MicroTime(now), leaseTransitions: 0 },
          },
        }),
      );
      return;
    }
    const holder = lease.spec?.holderIdentity ?? "";
    const renewed = lease.spec?.renewTime ? new Date(lease.spec.renewTime).getTime() : 0;
    const duration = (lease.spec?.leaseDurationSeconds ?? 0) * 1000;
    const expired = holder === "" || renewed + duration < now;
    if (holder !== identity && !expired) {
      if (this.#leading) this.#setLeading(false);
      return;
    }
    const takeover = holder !== identity;
    this.#verb = "update";
    await this.#write(() =>
      this.#api.replaceNamespacedLease({
        name,
        namespace,
        body: {
          ...lease,
          spec: {
            ...lease.spec,
            ...spec,
            ...(takeover
              ? { acquireTime: new V1MicroTime(now), leaseTransitions: (lease.spec?.leaseTransitions ?? 0) + 1 }
              : {}),
          },
        },
      }),
    );
  }

  async #write(call: () => Promise<unknown>): Promise<void> {
    try {
      await call();
    } catch (error) {
      if (statusOf(error) === 409) return; // another candidate wrote first; read again next round
      throw error;
    }
    this.#lastRenew = this.#now();
    this.#setLeading(true);
  }

  #setLeading(leading: boolean): void {
    if (leading === this.#leading) return;
    this.#leading = leading;
    this.#options.log({
      level: "info",
      msg: leading ? "became the leader" : "no longer the leader",
      identity: this.#options.identity,
    });
    this.#options.onChange(leading);
  }

  /** Stops campaigning; a leader releases the lease so another instance takes over at once. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    if (!this.#leading) return;
    this.#setLeading(false);
    const { namespace, name } = this.#options;
    try {
      const lease = await this.#api.readNamespacedLease({ name, namespace });
      if (lease.spec?.holderIdentity !== this.#options.identity) return;
      await this.#api.replaceNamespacedLease({
        name,
        namespace,
        body: { ...lease, spec: { ...lease.spec, holderIdentity: "", leaseDurationSeconds: 1 } },
      });
    } catch {
      // The lease expires on its own.
    }
  }
}
