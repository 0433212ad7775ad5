/**
 * Timing and heap primitives: a careful hand loop (warm-up, calibrated
 * samples, median) for lookups, repeated builds within a time budget, the
 * heap retained by one build, and individually timed updates.
 */
import type { Backend } from "./tables.ts";

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

const gcFn = (globalThis as { gc?: () => void }).gc;

export function collectGarbage(): void {
  if (gcFn === undefined) throw new Error("run with node --expose-gc");
  gcFn();
  gcFn();
}

/** V8 heap plus ArrayBuffer memory, so typed arrays count too. */
export function retainedBytes(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

export interface BuildResult {
  /** Median over all builds (the first, cold one included). */
  readonly ms: number;
  readonly firstMs: number;
  readonly samples: number[];
  /** Bytes the first build retained. */
  readonly heapBytes: number;
}

/**
 * Builds once between two full GCs to see what the structure retains, then
 * again while the budget lasts (at most `maxSamples` in all).
 */
export function measureBuild(build: () => void, budgetMs: number, maxSamples: number): BuildResult {
  collectGarbage();
  const before = retainedBytes();
  let t = performance.now();
  build();
  const firstMs = performance.now() - t;
  collectGarbage();
  const heapBytes = retainedBytes() - before;
  const samples = [firstMs];
  const deadline = performance.now() + budgetMs;
  while (samples.length < maxSamples && firstMs < budgetMs / 2 && performance.now() < deadline) {
    t = performance.now();
    build();
    samples.push(performance.now() - t);
  }
  return { ms: median(samples), firstMs, samples, heapBytes };
}

export interface LookupResult {
  readonly nsPerLookup: number;
  /** ns per lookup of every sample. */
  readonly samples: number[];
  readonly passesPerSample: number;
  readonly hits: number;
}

type Lookup = (host: string, path: string) => Backend | null;

function pass(lookup: Lookup, hosts: readonly string[], paths: readonly string[]): number {
  let hits = 0;
  for (let i = 0; i < hosts.length; i++) {
    if (lookup(hosts[i] as string, paths[i] as string) !== null) hits++;
  }
  return hits;
}

/**
 * Loops over the whole workload; a sample is as many passes as take about
 * `sampleMs`. Reports the median sample in ns per lookup.
 */
export function measureLookups(
  lookup: Lookup,
  hosts: readonly string[],
  paths: readonly string[],
  opts: { warmupMs: number; sampleMs: number; maxSamples: number; budgetMs: number },
): LookupResult {
  let hits = 0;
  const warmStart = performance.now();
  let warmPasses = 0;
  while (warmPasses < 3 || performance.now() - warmStart < opts.warmupMs) {
    hits = pass(lookup, hosts, paths);
    warmPasses++;
  }
  const passMs = (performance.now() - warmStart) / warmPasses;
  const passesPerSample = Math.max(1, Math.round(opts.sampleMs / passMs));
  const samples: number[] = [];
  const start = performance.now();
  while (samples.length < opts.maxSamples && (samples.length < 3 || performance.now() - start < opts.budgetMs)) {
    const t = performance.now();
    for (let p = 0; p < passesPerSample; p++) hits = pass(lookup, hosts, paths);
    const elapsed = performance.now() - t;
    samples.push((elapsed * 1e6) / (passesPerSample * hosts.length));
  }
  return { nsPerLookup: median(samples), samples, passesPerSample, hits };
}

export interface UpdateResult {
  /** Median µs of one update plus its probe lookup. */
  readonly us: number;
  readonly samples: number[];
}

/**
 * Times each step on its own. The first `warmup` steps are run but not
 * counted (fewer when they are slow: warm-up stops after a third of the budget).
 */
export function measureUpdates(
  steps: readonly (() => void)[],
  opts: { warmup: number; budgetMs: number; minSamples: number },
): UpdateResult {
  const samples: number[] = [];
  const start = performance.now();
  let counting = false;
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i] as () => void;
    counting ||= i >= opts.warmup || performance.now() - start > opts.budgetMs / 3;
    const t = performance.now();
    step();
    const us = (performance.now() - t) * 1000;
    if (counting) samples.push(us);
    if (samples.length >= opts.minSamples && performance.now() - start > opts.budgetMs) break;
  }
  return { us: median(samples), samples };
}
