/**
 * The change stream and its probes. Every `intervalMs` one change, in a fixed cycle:
 *
 * - add:     a new Ingress (host churn-N.example.com) routing to an existing Service  → its host goes 404 → 200
 * - roll:    a loaded app's endpoints [x, y] become [x, z] (one stays, one new)        → z starts getting requests
 * - remove:  the oldest churn Ingress (added long before)                              → its host goes 200 → 404
 * - rollout: a loaded app's ready endpoints R are marked not ready/terminating and two
 *            others become ready                                                      → the new ones get requests
 *
 * Every app keeps at least one ready endpoint that is up, so any 5xx is a failure. A probe polls the changed
 * route from the moment the change was made (file renamed / double.apply() returned): every 3 ms for the first
 * second, then every 20 ms, then every 100 ms, up to `timeoutMs`. "Reached" is the arrival of the first response
 * showing the new state; two more polls must confirm it (a regression is counted as a failed request).
 */
import { Agent, request } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { type App, type Cluster, type EndpointState, endpointSlice } from "./objects.ts";
import type { Change, Source } from "./sources.ts";

export type Op = "add" | "roll" | "remove" | "rollout";
const CYCLE: readonly Op[] = ["add", "roll", "remove", "rollout"];

interface Expectation {
  readonly host: string;
  /** "status": wait for this status; "backend": wait for a 200 from one of `reach`. */
  readonly kind: "status" | "backend";
  readonly status?: 200 | 404;
  /** Statuses that are fine before the change shows (the old state). */
  readonly before?: number;
  readonly reach?: ReadonlySet<string>;
  /** Backends allowed once reached. */
  readonly after?: ReadonlySet<string>;
  /** Requests per poll: 2 when an old endpoint stays (round-robin alternates, so one of two reaches the new). */
  readonly parallel: number;
}

export interface ProbeFailure {
  /** ms after the change. */
  readonly atMs: number;
  readonly stage: "before" | "after";
  readonly status?: number;
  readonly backend?: string;
  readonly error?: string;
}

export interface ChangeRecord {
  readonly seq: number;
  readonly op: Op;
  readonly host: string;
  readonly file: number;
  /** performance.now() when the change was due and when it was made. */
  readonly dueAt: number;
  readonly madeAt: number;
  /** performance.now() of the first response showing the new state; undefined when it never did. */
  reachedAt?: number;
  /** reachedAt − madeAt. */
  latencyMs?: number;
  polls: number;
  readonly failures: ProbeFailure[];
}

interface Response {
  readonly at: number;
  readonly status?: number;
  readonly backend?: string;
  readonly error?: string;
}

export class Prober {
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 256 });
  readonly #port: number;
  readonly #timeoutMs: number;
  requests = 0;

  constructor(port: number, timeoutMs: number) {
    this.#port = port;
    this.#timeoutMs = timeoutMs;
  }

  get(host: string): Promise<Response> {
    this.requests++;
    return new Promise((resolve) => {
      const req = request(
        { host: "127.0.0.1", port: this.#port, path: "/", headers: { host }, agent: this.#agent },
        (res) => {
          const at = performance.now();
          const backend = res.headers["x-backend"];
          res.resume();
          res.on("end", () =>
            resolve({ at, status: res.statusCode ?? 0, ...(typeof backend === "string" ? { backend } : {}) }),
          );
          res.on("error", (error) => resolve({ at, status: res.statusCode ?? 0, error: error.message }));
        },
      );
      req.setTimeout(5000, () => req.destroy(new Error("timeout after 5000 ms")));
      req.on("error", (error) =>
        resolve({ at: performance.now(), error: (error as NodeJS.ErrnoException).code ?? error.message }),
      );
      req.end();
    });
  }

  #reached(expect: Expectation, response: Response): boolean {
    if (expect.kind === "status") return response.status === expect.status;
    return response.status === 200 && response.backend !== undefined && (expect.reach?.has(response.backend) ?? false);
  }

  #fine(expect: Expectation, response: Response, stage: "before" | "after"): boolean {
    if (response.error !== undefined) return false;
    if (expect.kind === "status")
      return stage === "after" ? response.status === expect.status : response.status === expect.before;
    if (response.status !== 200) return false;
    return stage === "before" || (response.backend !== undefined && (expect.after?.has(response.backend) ?? false));
  }

  /** Polls until the new state shows (then confirms it twice) or the timeout; fills `record`. */
  async probe(expect: Expectation, record: ChangeRecord): Promise<void> {
    const start = record.madeAt;
    const fail = (response: Response, stage: "before" | "after") =>
      record.failures.push({
        atMs: response.at - start,
        stage,
        ...(response.status !== undefined ? { status: response.status } : {}),
        ...(response.backend !== undefined ? { backend: response.backend } : {}),
        ...(response.error !== undefined ? { error: response.error } : {}),
      });
    while (performance.now() - start < this.#timeoutMs) {
      const tick = performance.now();
      const responses = await Promise.all(Array.from({ length: expect.parallel }, () => this.get(expect.host)));
      record.polls += responses.length;
      const hits = responses.filter((response) => this.#reached(expect, response));
      for (const response of responses)
        if (!hits.includes(response) && !this.#fine(expect, response, "before")) fail(response, "before");
      if (hits.length > 0) {
        record.reachedAt = Math.min(...hits.map((hit) => hit.at));
        record.latencyMs = record.reachedAt - start;
        for (let k = 0; k < 2; k++) {
          const response = await this.get(expect.host);
          record.polls++;
          if (!this.#fine(expect, response, "after")) fail(response, "after");
        }
        return;
      }
      const elapsed = tick - start;
      const every = elapsed < 1000 ? 3 : elapsed < 5000 ? 20 : 100;
      const wait = tick + every - performance.now();
      if (wait > 0) await sleep(wait);
    }
  }

  close(): void {
    this.#agent.destroy();
  }
}

/** mulberry32: a small seeded PRNG, so that every run makes the same changes. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface ChurnOptions {
  readonly durationMs: number;
  readonly intervalMs: number;
}

export interface ChurnResult {
  readonly startedAt: number;
  /** When the last change was made. */
  readonly lastChangeAt: number;
  /** When the last probe finished. */
  readonly endedAt: number;
  readonly changes: ChangeRecord[];
  /** Changes made more than one interval after they were due. */
  readonly late: number;
  readonly probeRequests: number;
}

export async function runChurn(
  cluster: Cluster,
  source: Source,
  prober: Prober,
  options: ChurnOptions,
): Promise<ChurnResult> {
  const rand = random(20_241_126);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;
  const backends = cluster.options.backends;
  const loadSet = new Set(cluster.loadApps);
  const quiet = cluster.apps.filter((app) => !loadSet.has(app));
  const busy = new Set<App>();
  const freeLoadApp = (): App => {
    for (let attempt = 0; attempt < 100; attempt++) {
      const app = pick(cluster.loadApps);
      if (!busy.has(app)) return app;
    }
    return pick(cluster.loadApps);
  };
  const sliceOf = (app: App): Change => ({
    file: app.file,
    upserts: [endpointSlice(app.name, cluster.options.port, app.endpoints)],
    deletes: [],
  });

  const plan = (op: Op): { change: Change; expect: Expectation; app?: App; host: string } => {
    switch (op) {
      case "add": {
        const churn = cluster.newChurnIngress(pick(quiet));
        cluster.churn.push(churn);
        return {
          host: churn.host,
          change: { file: churn.app.file, upserts: [cluster.churnObject(churn)], deletes: [] },
          expect: { host: churn.host, kind: "status", status: 200, before: 404, parallel: 1 },
        };
      }
      case "remove": {
        const churn = cluster.churn.shift();
        if (churn === undefined) throw new Error("no churn Ingress left to remove");
        return {
          host: churn.host,
          change: { file: churn.app.file, upserts: [], deletes: [{ kind: "Ingress", name: churn.name }] },
          expect: { host: churn.host, kind: "status", status: 404, before: 200, parallel: 1 },
        };
      }
      case "roll": {
        const app = freeLoadApp();
        const ready = app.endpoints.filter((endpoint) => endpoint.ready).map((endpoint) => endpoint.address);
        const keep = pick(ready);
        const fresh = pick(backends.filter((address) => !ready.includes(address)));
        app.endpoints = [keep, fresh].map((address): EndpointState => ({ address, ready: true }));
        return {
          app,
          host: app.host,
          change: sliceOf(app),
          expect: {
            host: app.host,
            kind: "backend",
            reach: new Set([fresh]),
            after: new Set([keep, fresh]),
            parallel: 2,
          },
        };
      }
      case "rollout": {
        const app = freeLoadApp();
        const ready = app.endpoints.filter((endpoint) => endpoint.ready).map((endpoint) => endpoint.address);
        const fresh = backends.filter((address) => !ready.includes(address)).slice(0, 2);
        app.endpoints = [
          ...ready.map((address): EndpointState => ({ address, ready: false })),
          ...fresh.map((address): EndpointState => ({ address, ready: true })),
        ];
        const reach = new Set(fresh);
        return {
          app,
          host: app.host,
          change: sliceOf(app),
          expect: { host: app.host, kind: "backend", reach, after: reach, parallel: 1 },
        };
      }
    }
  };

  const changes: ChangeRecord[] = [];
  const probes: Promise<void>[] = [];
  const count = Math.floor(options.durationMs / options.intervalMs);
  const startedAt = performance.now();
  let late = 0;
  let lastChangeAt = startedAt;
  for (let seq = 0; seq < count; seq++) {
    const dueAt = startedAt + seq * options.intervalMs;
    const wait = dueAt - performance.now();
    if (wait > 0) await sleep(wait);
    const op = CYCLE[seq % CYCLE.length] as Op;
    const planned = plan(op);
    await source.commit(planned.change);
    const madeAt = performance.now();
    lastChangeAt = madeAt;
    if (madeAt - dueAt > options.intervalMs) late++;
    const record: ChangeRecord = {
      seq,
      op,
      host: planned.host,
      file: planned.change.file,
      dueAt,
      madeAt,
      polls: 0,
      failures: [],
    };
    changes.push(record);
    const app = planned.app;
    if (app !== undefined) busy.add(app);
    probes.push(prober.probe(planned.expect, record).finally(() => app !== undefined && busy.delete(app)));
  }
  await Promise.all(probes);
  return { startedAt, lastChangeAt, endedAt: performance.now(), changes, late, probeRequests: prober.requests };
}
