/**
 * `npm run bench:churn`: change→traffic time, failed requests, memory and recompilation CPU of the real rennet
 * CLI while Ingresses and endpoints change under a constant load, through the manifest source and through the
 * Kubernetes API double. See README.md beside this file.
 *
 *   node bench/churn/run.ts [--quick] [--sources manifests,api] [--ingresses N] [--duration S] [--interval MS]
 *                           [--rps N] [--concurrency N] [--baseline S] [--no-wait-quiet]
 *
 * Full: 10k apps (Ingress + Service + EndpointSlice each), 30 s of changes every 50 ms, both sources; results in
 * bench/results/churn-<date>.json and bench/results/latest-churn.md. --quick: 2k apps, 5 s; results in
 * bench/results/tmp/churn-quick.{json,md}; any other flag that changes what is measured: bench/results/tmp/churn-custom-*.
 */
import { type ChildProcess, execFileSync, fork } from "node:child_process";
import { cpus, loadavg, release, totalmem } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { type ChangeRecord, type ChurnResult, Prober, runChurn } from "./churn.ts";
import { type LoadedDouble, loadDouble } from "./double.ts";
import type { PhaseStats } from "./load.ts";
import { Cluster } from "./objects.ts";
import { busyShare, commandLine, cpuMs, environment, machineTicks } from "./procfs.ts";
import { killAllRennets, portOf, RennetProcess, type Sample } from "./rennet.ts";
import { fmt, type Goal, goal, type Machine, type Spread, spread, table, writeText } from "./report.ts";
import { ApiDouble, ManifestFiles, type SeedInfo, type Source } from "./sources.ts";

const HERE = fileURLToPath(new URL(".", import.meta.url));
const ROOT = join(HERE, "../..");
const MB = 1024 * 1024;

// ---- options --------------------------------------------------------------------------------------------------

const { values: flags } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    sources: { type: "string" },
    ingresses: { type: "string" },
    duration: { type: "string" },
    interval: { type: "string" },
    rps: { type: "string" },
    concurrency: { type: "string" },
    baseline: { type: "string" },
    "load-routes": { type: "string" },
    "no-wait-quiet": { type: "boolean", default: false },
    "node-options": { type: "string" },
    "no-inspect": { type: "boolean", default: false },
  },
  strict: true,
});

const quick = flags.quick === true;
const num = (value: string | undefined, fallback: number): number => {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) throw new Error(`not a positive number: ${value}`);
  return parsed;
};
const options = {
  quick,
  sources: (flags.sources ?? "manifests,api").split(",").map((s) => s.trim()) as ("manifests" | "api")[],
  apps: Math.round(num(flags.ingresses, quick ? 2000 : 10_000)),
  durationMs: num(flags.duration, quick ? 5 : 30) * 1000,
  intervalMs: num(flags.interval, 50),
  rps: num(flags.rps, 1000),
  concurrency: Math.round(num(flags.concurrency, 8)),
  baselineMs: num(flags.baseline, quick ? 3 : 10) * 1000,
  warmupMs: quick ? 1000 : 2000,
  loadRoutes: Math.round(num(flags["load-routes"], 1000)),
  appsPerFile: 100,
  churnPool: 64,
  backends: 4,
  probeTimeoutMs: 15_000,
  sampleMs: 200,
  waitQuiet: flags["no-wait-quiet"] !== true,
  /** NODE_OPTIONS for rennet (e.g. "--max-semi-space-size=8"), to try V8 settings. */
  nodeOptions: flags["node-options"] ?? "",
  /** rennet runs with --inspect=127.0.0.1:0 so that the bench can force a full GC before reading live heap. */
  inspect: flags["no-inspect"] !== true,
};
for (const source of options.sources) {
  if (source !== "manifests" && source !== "api") throw new Error(`unknown source ${source} (manifests, api)`);
}
// The whole run, bounded: 10k apps take about 2 minutes per source.
const WATCHDOG_MS = (quick ? 3 : 9) * 60_000;

// ---- children and clean-up ------------------------------------------------------------------------------------

const children = new Set<ChildProcess>();
const cleanups: (() => Promise<void> | void)[] = [];
let disposeDouble: (() => void) | undefined;

function killChildren(): void {
  killAllRennets();
  for (const child of children) child.kill("SIGKILL");
}
process.on("exit", killChildren);
async function cleanUp(): Promise<void> {
  killChildren();
  for (const cleanup of cleanups.splice(0).reverse()) {
    try {
      await cleanup();
    } catch {
      // best effort
    }
  }
  disposeDouble?.();
  disposeDouble = undefined;
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    console.error(`bench:churn: ${signal}, cleaning up`);
    void cleanUp().finally(() => process.exit(130));
  });
}
const watchdog = setTimeout(() => {
  console.error(`bench:churn: still running after ${WATCHDOG_MS / 60_000} min; giving up`);
  void cleanUp().finally(() => process.exit(3));
}, WATCHDOG_MS);
watchdog.unref();

function forkChild(script: string, args: string[] = []): ChildProcess {
  const child = fork(join(HERE, script), args, { stdio: ["ignore", "inherit", "inherit", "ipc"], execArgv: [] });
  children.add(child);
  child.on("exit", () => children.delete(child));
  return child;
}

function message<T>(child: ChildProcess, type: string, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no "${type}" message from a child within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (msg: { type?: string }) => {
      if (msg?.type !== type) return;
      cleanup();
      resolve(msg as T);
    };
    const onExit = () => {
      cleanup();
      reject(new Error(`child exited before sending "${type}"`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.off("message", onMessage);
      child.off("exit", onExit);
    };
    child.on("message", onMessage);
    child.on("exit", onExit);
  });
}

// ---- machine ----------------------------------------------------------------------------------------------------

function machine(): Machine {
  let commit = "unknown";
  try {
    commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim();
    const status = execFileSync("git", ["status", "--porcelain", "--", "packages"], { cwd: ROOT, encoding: "utf8" });
    if (/^.. packages\/[^/]+\/(src|bin)\//m.test(status)) commit += " (uncommitted changes in packages/*/src or bin)";
  } catch {
    // not a git checkout
  }
  return {
    cpu: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    os: `Linux ${release()}`,
    node: process.version,
    commit,
    loadAverageAtStart: loadavg().map((v) => Math.round(v * 100) / 100),
  };
}

/** Waits (bounded) until the machine is mostly idle: other benchmarks on it would skew every figure. */
async function waitForQuiet(maxMs: number): Promise<number> {
  const deadline = performance.now() + maxMs;
  let share = 1;
  while (performance.now() < deadline) {
    const before = machineTicks();
    await sleep(2000);
    share = busyShare(before, machineTicks());
    if (share < 0.25) return share;
    console.error(`bench:churn: machine ${Math.round(share * 100)}% busy; waiting for it to calm down`);
  }
  return share;
}

// ---- one source ---------------------------------------------------------------------------------------------------

interface Backends {
  readonly child: ChildProcess;
  readonly port: number;
  readonly addresses: string[];
}

interface SourceResult {
  readonly source: "manifests" | "api";
  readonly objects: { apps: number; ingresses: number; services: number; endpointSlices: number; loadRoutes: number };
  readonly seed: SeedInfo;
  readonly sync: Record<string, number | null>;
  readonly changes: {
    made: number;
    reached: number;
    timedOut: number;
    late: number;
    changeToTrafficMs: Spread;
    byOp: Record<string, Spread & { made: number }>;
    breakdownMs: { source: Spread; translateAndUpdate: Spread; toTraffic: Spread; unmatched: number };
  };
  readonly applies: { count: number; msTotal: number; ms: Spread; msPerChange: number | null };
  readonly cpu: {
    baselinePercent: number | null;
    churnPercent: number | null;
    churnMs: number | null;
    extraMs: number | null;
    extraMsPerChange: number | null;
    machineBusyPercent: number;
    backgroundPercent: number | null;
  };
  readonly requests: {
    total: number;
    failed: number;
    load: PhaseStats[];
    probes: { requests: number; failed: number };
    failureSamples: unknown[];
  };
  readonly memory: {
    startMB: number | null;
    afterSyncMB: number | null;
    churnStartMB: number | null;
    endMB: number | null;
    peakMB: number | null;
    /** RSS 0.5 s after the full GC that starts the churn. */
    churnStartAfterGcMB: number | null;
    /**
     * endAfterGc - churnStartAfterGc: both taken at the same point of the GC
     * cycle. Between full GCs RSS rises and falls by ~30 MB at 10k Ingresses
     * (the old generation may grow 25% over the live heap, see bin/rennet.mjs),
     * so two samples at arbitrary moments differ by that much either way.
     */
    churnGrowthMB: number | null;
    /** end - churnStart: two samples at arbitrary points of the GC cycle. */
    churnDeltaWithoutGcMB: number | null;
    churnSlopeMBPerMin: number | null;
    endAfterGcMB: number | null;
    heapAfterSync: HeapFigures;
    heapEnd: HeapFigures;
    heapsAfterGc: HeapFigures[];
    /** Heap used right after a full GC (forced through the inspector): live data. */
    liveHeapMB: { afterSync: number | null; churnStart: number | null; end: number | null };
    liveHeapGrowthOverChurnMB: number | null;
    gcMs: number[];
  };
  /** The runtime flags rennet runs with (its command line's options before the script). */
  readonly runtimeFlags: string[];
  readonly notes: string[];
  /** For diagnosis: every change and every apply during the churn, ms since the churn started. */
  readonly timeline: {
    changes: { seq: number; op: string; file: number; atMs: number; latencyMs: number | null; failures: number }[];
    applies: { atMs: number; ms: number; ingresses: number }[];
    /** rennet's RSS (MB) about every second, ms since spawn. */
    rss: { atMs: number; mb: number }[];
    /** ms since spawn of the phases' starts. */
    phases: Record<string, number>;
  };
}

interface HeapFigures {
  readonly heapUsedMB: number | null;
  readonly heapTotalMB: number | null;
  /** The young generation's committed size: it grows under allocation bursts and stays. */
  readonly newSpaceMB: number | null;
  readonly oldSpaceUsedMB: number | null;
  /** Objects too big for the young generation (e.g. a Set of 30k entries) go here and die only in a full GC. */
  readonly largeObjectMB: number | null;
  /** Committed old-generation pages: used + free space left in them by the GC (fragmentation). */
  readonly oldSpaceTotalMB: number | null;
  readonly codeSpaceTotalMB: number | null;
  /** ArrayBuffers and other memory outside the V8 heap that V8 accounts for. */
  readonly externalMB: number | null;
}

/** V8 heap figures from the admin /metrics (prom-client's default metrics). */
async function scrapeHeap(adminPort: number): Promise<HeapFigures> {
  let text = "";
  try {
    const response = await fetch(`http://127.0.0.1:${adminPort}/metrics`, { signal: AbortSignal.timeout(5000) });
    text = await response.text();
  } catch {
    // figures stay null
  }
  const get = (pattern: RegExp) => {
    const match = pattern.exec(text);
    return match ? Number(match[1]) / MB : null;
  };
  return {
    heapUsedMB: get(/^rennet_nodejs_heap_size_used_bytes\s+(\S+)/m),
    heapTotalMB: get(/^rennet_nodejs_heap_size_total_bytes\s+(\S+)/m),
    newSpaceMB: get(/^rennet_nodejs_heap_space_size_total_bytes\{space="new"\}\s+(\S+)/m),
    oldSpaceUsedMB: get(/^rennet_nodejs_heap_space_size_used_bytes\{space="old"\}\s+(\S+)/m),
    largeObjectMB: get(/^rennet_nodejs_heap_space_size_used_bytes\{space="large_object"\}\s+(\S+)/m),
    oldSpaceTotalMB: get(/^rennet_nodejs_heap_space_size_total_bytes\{space="old"\}\s+(\S+)/m),
    codeSpaceTotalMB: get(/^rennet_nodejs_heap_space_size_total_bytes\{space="code"\}\s+(\S+)/m),
    externalMB: get(/^rennet_nodejs_external_memory_bytes\s+(\S+)/m),
  };
}

function slopePerMinute(samples: readonly Sample[]): number | null {
  if (samples.length < 3) return null;
  const xs = samples.map((s) => s.at / 60_000);
  const ys = samples.map((s) => s.rss / MB);
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i++) {
    num += ((xs[i] as number) - mx) * ((ys[i] as number) - my);
    den += ((xs[i] as number) - mx) ** 2;
  }
  return den > 0 ? num / den : null;
}

async function checkRoutes(prober: Prober, hosts: readonly string[]): Promise<string[]> {
  const bad: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < hosts.length) {
        const host = hosts[next++] as string;
        const response = await prober.get(host);
        if (response.status !== 200) bad.push(`${host}: ${response.status ?? response.error}`);
      }
    }),
  );
  return bad;
}

async function runSource(kind: "manifests" | "api", backends: Backends, double: LoadedDouble | undefined) {
  const notes: string[] = [];
  const cluster = new Cluster({
    apps: options.apps,
    files: Math.ceil(options.apps / options.appsPerFile),
    loadRoutes: options.loadRoutes,
    churnPool: options.churnPool,
    backends: backends.addresses,
    port: backends.port,
  });
  const expectedIngresses = cluster.apps.length + cluster.churn.length;
  let source: Source;
  if (kind === "manifests") source = await ManifestFiles.create(cluster);
  else source = new ApiDouble(cluster, double as LoadedDouble);
  cleanups.push(() => source.close());
  console.error(
    `bench:churn [${kind}]: seeding ${expectedIngresses} Ingresses, ${cluster.apps.length} Services and EndpointSlices`,
  );
  const seed = await source.seed();

  // -- start and initial sync
  const env = { ...process.env };
  delete env.NODE_IP; // no Ingress status writes: they would add 10k API writes and watch events to the run
  delete env.NODE_OPTIONS;
  if (options.nodeOptions !== "") env.NODE_OPTIONS = options.nodeOptions;
  const args = ["serve", "--bind", "127.0.0.1", "--http-port", "0", "--https-port", "0", "--admin-port", "0"];
  args.push("--access-log", "off", ...source.args());
  const rennet = new RennetProcess(args, env, options.sampleMs, options.inspect ? ["--inspect=127.0.0.1:0"] : []);
  cleanups.push(() => rennet.stop(1000));
  const spawnedAt = rennet.startedAt;
  const serving = await rennet.waitForLog((l) => l.msg === "rennet is serving", 120_000, "rennet is serving");
  const full = await rennet.waitForLog(
    (l) => l.msg === "configuration applied" && Number(l.ingresses) >= expectedIngresses,
    120_000,
    `a configuration with ${expectedIngresses} Ingresses`,
  );
  const cmdline = commandLine(rennet.pid) ?? [];
  const script = cmdline.findIndex((arg) => arg.endsWith("rennet.mjs"));
  // The V8 flags the launcher added, and the malloc settings it put in the environment.
  const runtimeFlags = [...cmdline.slice(1, script === -1 ? 1 : script), ...(environment(rennet.pid, "MALLOC_") ?? [])];
  rennet.httpPort = portOf(serving.line.http);
  rennet.adminPort = portOf(serving.line.admin);
  const firstApplied = rennet.applied[0];
  const logAt = (msg: string) => rennet.logs.find((l) => l.line.msg === msg)?.at;
  const since = (at: number | undefined) => (at === undefined ? null : Math.round(at - spawnedAt));
  const sync: Record<string, number | null> = {
    spawnToServingMs: since(serving.at),
    spawnToFullConfigMs: since(full.at),
    firstApplyMs: firstApplied?.ms ?? null,
    fullConfigApplyMs: Number(full.line.ms),
    appliesBeforeFull: rennet.applied.filter((a) => a.at <= full.at).length,
  };
  if (kind === "api") {
    sync.spawnToClusterModeMs = since(logAt("cluster mode"));
    sync.spawnToListedMs = since(logAt("every informer has listed; configuration follows the cluster"));
  }
  console.error(`bench:churn [${kind}]: serving; full configuration ${sync.spawnToFullConfigMs} ms after spawn`);

  const prober = new Prober(rennet.httpPort, options.probeTimeoutMs);
  const loadHosts = cluster.loadApps.map((app) => app.host);
  const bad = await checkRoutes(prober, [...loadHosts, ...cluster.churn.map((c) => c.host)]);
  if (bad.length > 0)
    notes.push(`${bad.length} routes did not answer 200 before the load started: ${bad.slice(0, 5).join(", ")}`);
  await sleep(500);
  const afterSync = rennet.sample();
  const heapAfterSync = await scrapeHeap(rennet.adminPort);
  const gcMs: number[] = [];
  /** The V8 heap right after each forced full GC: after sync, at churn start, at the end. */
  const heapsAfterGc: HeapFigures[] = [];
  const live = async () => {
    const took = await rennet.collectGarbage().catch(() => undefined);
    if (took === undefined) return null;
    gcMs.push(took);
    const heap = await scrapeHeap(rennet.adminPort);
    heapsAfterGc.push(heap);
    return heap.heapUsedMB;
  };
  const liveAfterSync = await live();

  // -- load: warm-up, load-only baseline, churn, tail
  const load = forkChild("load.ts");
  await message(load, "hello", 10_000);
  load.send({
    type: "start",
    port: rennet.httpPort,
    hosts: loadHosts,
    rps: options.rps,
    concurrency: options.concurrency,
    timeoutMs: 10_000,
  });
  await message(load, "started", 10_000);
  await sleep(options.warmupMs);
  load.send({ type: "phase", name: "baseline" });
  const baseStart = { at: performance.now(), cpu: cpuMs(rennet.pid) };
  await sleep(options.baselineMs);
  const baseEnd = { at: performance.now(), cpu: cpuMs(rennet.pid) };
  const beforeChurn = rennet.sample();
  // A full GC (its pause kept out of the baseline and churn phases), then the live heap the churn starts from.
  load.send({ type: "phase", name: "gc" });
  const liveChurnStart = await live();
  await sleep(500);
  const churnStartAfterGc = rennet.sample();
  load.send({ type: "phase", name: "churn" });

  const ours = () =>
    [rennet.pid, load.pid ?? -1, backends.child.pid ?? -1].reduce((sum, pid) => sum + (cpuMs(pid) ?? 0), 0) +
    (process.cpuUsage().user + process.cpuUsage().system) / 1000;
  const churnStart = { at: performance.now(), cpu: cpuMs(rennet.pid), machine: machineTicks(), ours: ours() };
  const appliedBefore = rennet.applied.length;
  console.error(
    `bench:churn [${kind}]: ${options.durationMs / 1000} s of changes every ${options.intervalMs} ms under ${options.rps} req/s`,
  );
  const churn: ChurnResult = await runChurn(cluster, source, prober, {
    durationMs: options.durationMs,
    intervalMs: options.intervalMs,
  });
  const churnEnd = { at: performance.now(), cpu: cpuMs(rennet.pid), machine: machineTicks(), ours: ours() };
  load.send({ type: "phase", name: "tail" });
  await sleep(1000);
  load.send({ type: "stop" });
  const stats = await message<{ phases: PhaseStats[] }>(load, "stats", 30_000);
  const end = rennet.sample();
  const heapEnd = await scrapeHeap(rennet.adminPort);
  const liveEnd = await live();
  await sleep(500);
  const endAfterGc = rennet.sample();
  await rennet.stop();
  await source.close();

  // -- figures
  const churnApplies = rennet.applied.slice(appliedBefore).filter((a) => a.at <= churnEnd.at);
  const changes = churn.changes;
  const reached = changes.filter((c) => c.latencyMs !== undefined);
  const byOp: Record<string, Spread & { made: number }> = {};
  for (const op of ["add", "roll", "remove", "rollout"]) {
    const mine = changes.filter((c) => c.op === op);
    byOp[op] = { made: mine.length, ...spread(mine.flatMap((c) => (c.latencyMs === undefined ? [] : [c.latencyMs]))) };
  }
  const breakdown = decompose(reached, churnApplies);
  const msTotal = churnApplies.reduce((sum, a) => sum + a.ms, 0);
  const churnSeconds = (churnEnd.at - churnStart.at) / 1000;
  const baseSeconds = (baseEnd.at - baseStart.at) / 1000;
  const baseCpu = baseEnd.cpu !== undefined && baseStart.cpu !== undefined ? baseEnd.cpu - baseStart.cpu : null;
  const churnCpu = churnEnd.cpu !== undefined && churnStart.cpu !== undefined ? churnEnd.cpu - churnStart.cpu : null;
  const extra = baseCpu !== null && churnCpu !== null ? churnCpu - (baseCpu / baseSeconds) * churnSeconds : null;
  const busy = busyShare(churnStart.machine, churnEnd.machine);
  const capacityMs = churnSeconds * 1000 * cpus().length;
  const background = capacityMs > 0 ? busy - (churnEnd.ours - churnStart.ours) / capacityMs : null;

  const loadPhases = stats.phases;
  const loadFailed = loadPhases
    .filter((p) => p.name === "churn" || p.name === "tail")
    .reduce((sum, p) => sum + p.failed, 0);
  const loadTotal = loadPhases
    .filter((p) => p.name === "churn" || p.name === "tail")
    .reduce((sum, p) => sum + p.requests, 0);
  const probeFailed = changes.reduce((sum, c) => sum + c.failures.length, 0);
  const failureSamples = [
    ...loadPhases.flatMap((p) =>
      p.failures.map((f) => ({ from: "load", phase: p.name, ...f, nearestChange: nearestChange(changes, f.at) })),
    ),
    ...changes.flatMap((c) => c.failures.map((f) => ({ from: "probe", op: c.op, host: c.host, file: c.file, ...f }))),
  ].slice(0, 100);
  const churnSamples = rennet.samples.filter((s) => s.at >= churnStart.at && s.at <= churnEnd.at);
  const peak = Math.max(...rennet.samples.map((s) => s.rss)) / MB;
  const startSample = rennet.samples[0];
  const result: SourceResult = {
    source: kind,
    objects: {
      apps: cluster.apps.length,
      ingresses: expectedIngresses,
      services: cluster.apps.length,
      endpointSlices: cluster.apps.length,
      loadRoutes: loadHosts.length,
    },
    seed,
    sync,
    changes: {
      made: changes.length,
      reached: reached.length,
      timedOut: changes.length - reached.length,
      late: churn.late,
      changeToTrafficMs: spread(reached.map((c) => c.latencyMs as number)),
      byOp,
      breakdownMs: breakdown,
    },
    applies: {
      count: churnApplies.length,
      msTotal,
      ms: spread(churnApplies.map((a) => a.ms)),
      msPerChange: changes.length > 0 ? msTotal / changes.length : null,
    },
    cpu: {
      baselinePercent: baseCpu === null ? null : (100 * baseCpu) / (baseSeconds * 1000),
      churnPercent: churnCpu === null ? null : (100 * churnCpu) / (churnSeconds * 1000),
      churnMs: churnCpu,
      extraMs: extra,
      extraMsPerChange: extra === null || changes.length === 0 ? null : extra / changes.length,
      machineBusyPercent: 100 * busy,
      backgroundPercent: background === null ? null : 100 * background,
    },
    requests: {
      total: loadTotal + churn.probeRequests,
      failed: loadFailed + probeFailed,
      load: loadPhases,
      probes: { requests: churn.probeRequests, failed: probeFailed },
      failureSamples,
    },
    memory: {
      startMB: startSample ? startSample.rss / MB : null,
      afterSyncMB: afterSync ? afterSync.rss / MB : null,
      churnStartMB: beforeChurn ? beforeChurn.rss / MB : null,
      endMB: end ? end.rss / MB : null,
      peakMB: peak,
      churnStartAfterGcMB: churnStartAfterGc ? churnStartAfterGc.rss / MB : null,
      churnGrowthMB:
        endAfterGc && churnStartAfterGc && liveChurnStart !== null && liveEnd !== null
          ? (endAfterGc.rss - churnStartAfterGc.rss) / MB
          : null,
      churnDeltaWithoutGcMB: end && beforeChurn ? (end.rss - beforeChurn.rss) / MB : null,
      churnSlopeMBPerMin: slopePerMinute(churnSamples),
      endAfterGcMB: endAfterGc ? endAfterGc.rss / MB : null,
      heapAfterSync,
      heapEnd,
      heapsAfterGc,
      liveHeapMB: { afterSync: liveAfterSync, churnStart: liveChurnStart, end: liveEnd },
      liveHeapGrowthOverChurnMB: liveEnd !== null && liveChurnStart !== null ? liveEnd - liveChurnStart : null,
      gcMs,
    },
    runtimeFlags,
    notes,
    timeline: {
      changes: changes.map((c) => ({
        seq: c.seq,
        op: c.op,
        file: c.file,
        atMs: round(c.madeAt - churn.startedAt),
        latencyMs: c.latencyMs === undefined ? null : round(c.latencyMs),
        failures: c.failures.length,
      })),
      applies: churnApplies.map((a) => ({ atMs: round(a.at - churn.startedAt), ms: a.ms, ingresses: a.ingresses })),
      rss: rennet.samples
        .filter((_, i) => i % Math.max(1, Math.round(1000 / options.sampleMs)) === 0)
        .map((sample) => ({ atMs: Math.round(sample.at - spawnedAt), mb: round(sample.rss / MB) })),
      phases: {
        serving: Math.round(serving.at - spawnedAt),
        fullConfig: Math.round(full.at - spawnedAt),
        baseline: Math.round(baseStart.at - spawnedAt),
        churn: Math.round(churnStart.at - spawnedAt),
        churnEnd: Math.round(churnEnd.at - spawnedAt),
      },
    },
  };
  prober.close();
  return result;
}

const round = (value: number) => Math.round(value * 10) / 10;

/** The change the failure followed most closely (epoch ms → the change made last before it). */
function nearestChange(changes: readonly ChangeRecord[], epochMs: number) {
  const at = epochMs - performance.timeOrigin;
  let found: ChangeRecord | undefined;
  for (const change of changes) if (change.madeAt <= at) found = change;
  return found
    ? { seq: found.seq, op: found.op, host: found.host, file: found.file, msAfter: at - found.madeAt }
    : null;
}

/**
 * Where a change's time went, from the "configuration applied" line that put it live: the last one logged
 * after the change and no later than the first response showing it. source = until that apply started (file
 * events, debounce, settle, read and parse; or watch delivery and coalescing), translateAndUpdate = the line's
 * "ms", toTraffic = from the line to the probe's response.
 */
function decompose(changes: readonly ChangeRecord[], applies: readonly { at: number; ms: number }[]) {
  const source: number[] = [];
  const work: number[] = [];
  const traffic: number[] = [];
  let unmatched = 0;
  for (const change of changes) {
    const reachedAt = change.reachedAt as number;
    let match: { at: number; ms: number } | undefined;
    for (const apply of applies) if (apply.at > change.madeAt && apply.at <= reachedAt + 0.5) match = apply;
    if (match === undefined) {
      unmatched++;
      continue;
    }
    source.push(Math.max(0, match.at - match.ms - change.madeAt));
    work.push(match.ms);
    traffic.push(Math.max(0, reachedAt - match.at));
  }
  return { source: spread(source), translateAndUpdate: spread(work), toTraffic: spread(traffic), unmatched };
}

// ---- report -----------------------------------------------------------------------------------------------------

function goals(results: readonly SourceResult[]): Goal[] {
  const list: Goal[] = [];
  for (const r of results) {
    const c = r.changes.changeToTrafficMs;
    list.push(goal(r.source, "change→traffic median < 20 ms", c.median, 20, "ms"));
    list.push(
      goal(
        r.source,
        "change→traffic p99 < 100 ms",
        r.changes.timedOut > 0 ? Number.POSITIVE_INFINITY : c.p99,
        100,
        "ms",
      ),
    );
    list.push(goal(r.source, "failed requests = 0", r.requests.failed, 1, ""));
    list.push(goal(r.source, "RSS < 300 MB (peak)", r.memory.peakMB, 300, "MB"));
    list.push(
      goal(
        r.source,
        "no RSS growth over the churn (< 10 MB, after a full GC at both ends)",
        r.memory.churnGrowthMB,
        10,
        "MB",
      ),
    );
    list.push(
      goal(r.source, "no live-heap growth over the churn (< 5 MB)", r.memory.liveHeapGrowthOverChurnMB, 5, "MB"),
    );
    if (r.source === "api")
      list.push(goal(r.source, "initial sync < 5 s", (r.sync.spawnToFullConfigMs ?? NaN) / 1000, 5, "s"));
  }
  return list;
}

const heapCell = (h: HeapFigures) =>
  `${fmt(h.heapUsedMB, 0)} / ${fmt(h.heapTotalMB, 0)} / ${fmt(h.newSpaceMB, 0)} / ${fmt(h.largeObjectMB, 0)}`;

function markdown(run: {
  machine: Machine;
  options: typeof options;
  results: SourceResult[];
  goals: Goal[];
  date: string;
}) {
  const { results } = run;
  const head = [
    "source",
    "changes applied",
    "change→traffic median / p99 / max (ms)",
    "failed requests / total",
    "RSS start / after sync / end / peak (MB)",
    "initial sync (s)",
    "recompilation CPU: ms total, per change",
    "rennet CPU during churn (extra over load only)",
  ];
  const rows = results.map((r) => {
    const c = r.changes.changeToTrafficMs;
    const m = r.memory;
    return [
      r.source === "api" ? "API double" : "manifest files",
      `${r.changes.reached} / ${r.changes.made}`,
      `${fmt(c.median)} / ${fmt(c.p99)} / ${fmt(c.max)}`,
      `${r.requests.failed} / ${r.requests.total}`,
      `${fmt(m.startMB, 0)} / ${fmt(m.afterSyncMB, 0)} / ${fmt(m.endMB, 0)} / ${fmt(m.peakMB, 0)}`,
      fmt((r.sync.spawnToFullConfigMs ?? NaN) / 1000, 2),
      `${fmt(r.applies.msTotal, 0)} ms in ${r.applies.count} applies, ${fmt(r.applies.msPerChange, 2)} ms/change`,
      `${fmt(r.cpu.churnMs, 0)} ms (${fmt(r.cpu.churnPercent, 0)}%); +${fmt(r.cpu.extraMs, 0)} ms, ${fmt(r.cpu.extraMsPerChange, 1)} ms/change`,
    ];
  });
  const opRows = results.flatMap((r) =>
    Object.entries(r.changes.byOp).map(([op, s]) => [
      r.source,
      op,
      `${s.n} / ${s.made}`,
      fmt(s.median),
      fmt(s.p99),
      fmt(s.max),
    ]),
  );
  const breakdownRows = results.map((r) => {
    const b = r.changes.breakdownMs;
    const cell = (s: Spread) => `${fmt(s.median)} / ${fmt(s.p99)} / ${fmt(s.max)}`;
    return [r.source, cell(b.source), cell(b.translateAndUpdate), cell(b.toTraffic), String(b.unmatched)];
  });
  const loadRows = results.flatMap((r) =>
    r.requests.load
      .filter((p) => p.name !== "warmup")
      .map((p) => {
        const seconds = (p.endedAt - p.startedAt) / 1000;
        return [
          r.source,
          p.name,
          String(p.requests),
          fmt(p.requests / seconds, 0),
          String(p.failed),
          `${fmt(p.latencyMs?.p50, 2)} / ${fmt(p.latencyMs?.p99, 2)} / ${fmt(p.latencyMs?.max, 1)}`,
        ];
      }),
  );
  const syncRows = results.map((r) => [
    r.source,
    `${fmt(r.seed.ms, 0)} ms (${r.seed.objects} objects${r.seed.bytes ? `, ${fmt(r.seed.bytes / MB, 1)} MB YAML in ${r.seed.files} files` : ""})`,
    fmt(r.sync.spawnToClusterModeMs ?? null, 0),
    fmt(r.sync.spawnToListedMs ?? null, 0),
    fmt(r.sync.spawnToFullConfigMs, 0),
    fmt(r.sync.fullConfigApplyMs, 0),
    fmt(r.sync.spawnToServingMs, 0),
    `${fmt(r.memory.liveHeapMB.afterSync, 1)} / ${fmt(r.memory.liveHeapMB.churnStart, 1)} / ${fmt(r.memory.liveHeapMB.end, 1)}`,
    heapCell(r.memory.heapAfterSync),
    heapCell(r.memory.heapEnd),
    `${fmt(r.memory.churnStartAfterGcMB, 0)} → ${fmt(r.memory.endAfterGcMB, 0)} after a full GC (${fmt(r.memory.churnStartMB, 0)} → ${fmt(r.memory.endMB, 0)} without)`,
  ]);
  const m = run.machine;
  const o = run.options;
  const lines = [
    `# bench:churn — ${run.date}${o.quick ? " (quick)" : ""}`,
    "",
    `${o.apps} apps (Ingress + Service + EndpointSlice each) plus ${o.churnPool} extra Ingresses; changes every ${o.intervalMs} ms for ${o.durationMs / 1000} s ` +
      `(add Ingress, roll one endpoint, remove Ingress, roll out all endpoints — in turn) under ${o.rps} req/s over ${o.loadRoutes} routes (${o.concurrency} keep-alive connections).` +
      (o.nodeOptions !== "" ? ` rennet ran with NODE_OPTIONS="${o.nodeOptions}".` : ""),
    "",
    table(head, rows),
    "",
    "## Goals",
    "",
    table(
      ["source", "goal", "value", "met"],
      run.goals.map((g) => [
        g.source,
        g.goal,
        `${fmt(g.value, g.unit === "s" ? 2 : 1)} ${g.unit}`.trim(),
        g.met === null ? "–" : g.met ? "yes" : "**no**",
      ]),
    ),
    "",
    "## Change→traffic by kind of change (ms)",
    "",
    table(["source", "change", "reached / made", "median", "p99", "max"], opRows),
    "",
    "## Where the time goes (ms, median / p99 / max)",
    "",
    "From the `configuration applied` line that put each change live: *source* = change made → that apply began " +
      "(manifests: file event, 5 ms coalescing, stat + read + parse of the changed documents; API: watch event + 5 ms coalescing), " +
      "*translate + update* = the line's `ms`, *to traffic* = line → first response showing the change (includes the probe's 3 ms poll interval).",
    "",
    table(["source", "source", "translate + update", "to traffic", "unmatched"], breakdownRows),
    "",
    "## Load (failed = not 200)",
    "",
    table(["source", "phase", "requests", "req/s", "failed", "latency p50 / p99 / max (ms)"], loadRows),
    "",
    "## Start-up and memory",
    "",
    table(
      [
        "source",
        "seeding",
        "spawn→cluster mode (ms)",
        "spawn→listed (ms)",
        "spawn→full config (ms)",
        "its apply (ms)",
        "spawn→serving (ms)",
        "live heap after sync / churn start / end (MB)",
        "V8 heap after sync: used / total / young gen / large objects (MB)",
        "… at end",
        "RSS churn start → end (MB)",
      ],
      syncRows,
    ),
    "",
    "Live heap: V8 heap used right after a full GC forced through the inspector (rennet runs with `--inspect=127.0.0.1:0`). " +
      "The V8 heap figures before it include garbage; *young gen* is the committed new space, which grows under allocation bursts and is not given back; " +
      "*large objects* is the large-object space (arrays, Sets and Maps too big for the young generation).",
    "",
    "## Machine",
    "",
    `${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}, commit ${m.commit}; load average at start ${m.loadAverageAtStart.join(" ")}. ` +
      `Machine busy during churn: ${results.map((r) => `${r.source} ${fmt(r.cpu.machineBusyPercent, 0)}% (other processes ${fmt(r.cpu.backgroundPercent, 0)}%)`).join(", ")}. ` +
      `rennet's runtime flags: ${[...new Set(results.map((r) => r.runtimeFlags.join(" ")))].map((f) => `\`${f}\``).join(", ")}.`,
    "",
  ];
  for (const r of results) {
    if (r.changes.late > 0)
      lines.push(
        `- ${r.source}: ${r.changes.late} changes were made more than ${o.intervalMs} ms late (busy bench process).`,
      );
    for (const note of r.notes) lines.push(`- ${r.source}: ${note}`);
  }
  return `${lines.join("\n")}\n`;
}

// ---- main -------------------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const info = machine();
  if (options.waitQuiet) {
    const share = await waitForQuiet(quick ? 20_000 : 90_000);
    if (share >= 0.25) console.error(`bench:churn: machine still ${Math.round(share * 100)}% busy; measuring anyway`);
  }
  const backendsChild = forkChild("backends.ts", [String(options.backends)]);
  const ready = await message<{ port: number; addresses: string[] }>(backendsChild, "ready", 10_000);
  const backends: Backends = { child: backendsChild, port: ready.port, addresses: ready.addresses };
  let double: LoadedDouble | undefined;
  if (options.sources.includes("api")) {
    double = await loadDouble();
    disposeDouble = double.dispose;
  }
  const results: SourceResult[] = [];
  for (const kind of options.sources) {
    results.push(await runSource(kind, backends, double));
    await cleanUpSource();
  }
  const date = new Date().toISOString();
  const run = { date, machine: info, options, results, goals: goals(results) };
  const text = markdown(run);
  const stamp = date.slice(0, 16).replace(":", "");
  const dir = join(ROOT, "bench/results");
  // Only the standard full run (no flags that change what is measured) becomes the results of record.
  const custom = [
    "sources",
    "ingresses",
    "duration",
    "interval",
    "rps",
    "concurrency",
    "baseline",
    "load-routes",
    "node-options",
  ]
    .filter((flag) => flags[flag as keyof typeof flags] !== undefined)
    .concat(flags["no-inspect"] === true ? ["no-inspect"] : []);
  const [jsonPath, mdPath] = quick
    ? [join(dir, "tmp/churn-quick.json"), join(dir, "tmp/churn-quick.md")]
    : custom.length > 0
      ? [join(dir, `tmp/churn-custom-${stamp}.json`), join(dir, `tmp/churn-custom-${stamp}.md`)]
      : [join(dir, `churn-${stamp}.json`), join(dir, "latest-churn.md")];
  writeText(jsonPath, `${JSON.stringify(run, null, 2)}\n`);
  writeText(mdPath, text);
  console.log(text);
  console.error(`bench:churn: wrote ${jsonPath} and ${mdPath}`);
  return 0;
}

/** Runs (and forgets) the clean-ups registered by one source, so that the next starts clean. */
async function cleanUpSource(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
}

main()
  .then(async (code) => {
    await cleanUp();
    process.exit(code);
  })
  .catch(async (error: unknown) => {
    console.error(`bench:churn failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    await cleanUp();
    process.exit(1);
  });
