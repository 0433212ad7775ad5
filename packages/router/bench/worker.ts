/**
 * Measures one peer on one table, in a process of its own (so no peer's code
 * shapes the JIT feedback or the heap of another):
 *   node --expose-gc bench/worker.ts <table id> <peer key> <expected answers file>
 * Reports phases and the result to the parent over IPC (or prints the result
 * when run by hand).
 */
import { readExpected } from "./expected.ts";
import { measureBuild, measureLookups, measureUpdates } from "./measure.ts";
import { PEERS } from "./peers/index.ts";
import type { Disagreement, RowResult } from "./report.ts";
import { tableSpec } from "./tables.ts";
import { makeUpdates } from "./updates.ts";
import { makeWorkload } from "./workload.ts";

const BUILD_BUDGET_MS = 1_000;
const BUILD_MAX_SAMPLES = 7;
const UPDATE_COUNT = 200;

function send(message: unknown): void {
  if (process.send) process.send(message);
  else console.log(JSON.stringify(message, null, 2));
}

let phase = "setup";
function enter(next: string): void {
  phase = next;
  send({ type: "phase", phase });
}

function main(): RowResult {
  const [tableId, peerKey, expectedPath] = process.argv.slice(2);
  if (tableId === undefined || peerKey === undefined || expectedPath === undefined) {
    throw new Error("usage: node --expose-gc bench/worker.ts <table> <peer> <expected.json>");
  }
  const peer = PEERS[peerKey];
  if (peer === undefined) throw new Error(`unknown peer ${peerKey}; known: ${Object.keys(PEERS).join(", ")}`);
  enter("setup");
  const table = tableSpec(tableId).make();
  const workload = makeWorkload(table);
  const expected = readExpected(expectedPath);
  const { hosts, paths } = workload;

  enter("build");
  const build = measureBuild(
    () => {
      peer.build(table.ingresses);
      // Anything a library defers to its first lookup belongs to the build.
      peer.lookup(hosts[0] as string, paths[0] as string);
    },
    BUILD_BUDGET_MS,
    BUILD_MAX_SAMPLES,
  );
  enter("lookup");
  const lookup = measureLookups(peer.lookup, hosts, paths, {
    warmupMs: 250,
    sampleMs: 25,
    maxSamples: 11,
    budgetMs: 1_000,
  });

  // The same loop on the requests of one kind at a time, shorter: where a peer wins or loses.
  enter("lookup-by-kind");
  const byKindNs: Record<string, number> = {};
  for (const kind of new Set(workload.kinds)) {
    const idx = workload.kinds.flatMap((k, i) => (k === kind ? [i] : []));
    const r = measureLookups(
      peer.lookup,
      idx.map((i) => hosts[i] as string),
      idx.map((i) => paths[i] as string),
      { warmupMs: 20, sampleMs: 8, maxSamples: 5, budgetMs: 80 },
    );
    byKindNs[kind] = r.nsPerLookup;
  }

  enter("check");
  let disagreements = 0;
  const examples: Disagreement[] = [];
  const byKind: Record<string, number> = {};
  for (let i = 0; i < hosts.length; i++) {
    const got = peer.lookup(hosts[i] as string, paths[i] as string);
    const want = expected[i] ?? null;
    if (got === want) continue;
    disagreements++;
    const kind = workload.kinds[i] as string;
    byKind[kind] = (byKind[kind] ?? 0) + 1;
    if (examples.length < 5) {
      examples.push({ host: hosts[i] as string, path: paths[i] as string, kind, expected: want, got });
    }
  }

  let updateUs: number | null = null;
  let updateSamples: number[] = [];
  const update = peer.update;
  if (update !== undefined) {
    enter("update");
    const steps = makeUpdates(table, UPDATE_COUNT).map((u) => () => {
      update(u.ingress);
      peer.lookup(u.probeHost, u.probePath);
    });
    const r = measureUpdates(steps, { warmup: 10, budgetMs: 1_000, minSamples: 3 });
    updateUs = r.us;
    updateSamples = r.samples;
  }

  return {
    table: table.id,
    peer: peer.name,
    status: "ok",
    nsPerLookup: lookup.nsPerLookup,
    lookupSamples: lookup.samples,
    nsPerLookupByKind: byKindNs,
    passesPerSample: lookup.passesPerSample,
    hits: lookup.hits,
    buildMs: build.ms,
    firstBuildMs: build.firstMs,
    buildSamples: build.samples,
    heapBytes: build.heapBytes,
    heapBytesPerRule: build.heapBytes / table.ruleCount,
    updateUs,
    updateSamples,
    disagreements,
    disagreementsByKind: byKind,
    disagreementExamples: examples,
  };
}

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
try {
  const result = main();
  send({ type: "result", result, cpuMs: cpuMs() });
} catch (error) {
  const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
  send({ type: "error", phase, message, cpuMs: cpuMs() });
}
if (process.connected) process.disconnect();
