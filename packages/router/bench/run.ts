/**
 * `npm run bench`: every peer on every table, each in its own process
 * (bench/worker.ts), then the report.
 *
 *   node bench/run.ts [--tables A-1k,B-10x1k] [--peers rennet,map]
 *
 * A filtered run writes bench/results/tmp/partial.json and leaves latest.json
 * and the README alone.
 */
import { fork } from "node:child_process";
import { cpus, loadavg, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import { ensureExpected } from "./expected.ts";
import { otherLoad, snapshot, waitForQuiet } from "./load.ts";
import type { Peer } from "./peers/common.ts";
import { EXTRA_PEERS, PEERS } from "./peers/index.ts";
import {
  evaluateGoals,
  goalsText,
  kindTable,
  type Machine,
  markdownReport,
  markdownTable,
  mergeAttempts,
  type PeerInfo,
  type Row,
  type RowResult,
  type TableInfo,
  writeJson,
  writeReadme,
} from "./report.ts";
import { TABLES } from "./tables.ts";
import { makeWorkload } from "./workload.ts";

/** A build that takes longer is stopped and reported as n/a. */
const BUILD_LIMIT_MS = 20_000;
/** Anything else in one worker. */
const WORKER_LIMIT_MS = 120_000;

function option(name: string): string[] | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i === -1) return undefined;
  return (process.argv[i + 1] ?? "").split(",").filter((s) => s !== "");
}

type WorkerMessage =
  | { type: "phase"; phase: string }
  | { type: "result"; result: RowResult; cpuMs: number }
  | { type: "error"; phase: string; message: string; cpuMs: number };

interface Attempt {
  readonly row: Row;
  /** CPU time the worker used, ms (0 when it never said). */
  readonly cpuMs: number;
}

function runWorker(tableId: string, peerKey: string, peerName: string, expectedFile: string): Promise<Attempt> {
  return new Promise((resolve) => {
    const child = fork(fileURLToPath(new URL("./worker.ts", import.meta.url)), [tableId, peerKey, expectedFile], {
      execArgv: ["--expose-gc", "--max-old-space-size=6144"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    let phase = "start";
    let row: Row | undefined;
    let cpuMs = 0;
    let buildTimer: NodeJS.Timeout | undefined;
    const na = (reason: string): Row => ({ table: tableId, peer: peerName, status: "n/a", reason });
    const stop = (reason: string): void => {
      row ??= na(reason);
      child.kill("SIGKILL");
    };
    const overall = setTimeout(() => stop(`${phase} exceeded ${WORKER_LIMIT_MS / 1000} s`), WORKER_LIMIT_MS);
    child.on("message", (m: WorkerMessage) => {
      if (m.type === "phase") {
        phase = m.phase;
        clearTimeout(buildTimer);
        if (phase === "build") {
          buildTimer = setTimeout(() => stop(`build exceeded ${BUILD_LIMIT_MS / 1000} s`), BUILD_LIMIT_MS);
        }
      } else if (m.type === "result") {
        row ??= m.result;
        cpuMs = m.cpuMs;
      } else {
        row ??= na(`${m.phase} threw: ${m.message}`);
        cpuMs = m.cpuMs;
      }
    });
    child.on("exit", (code, signal) => {
      clearTimeout(overall);
      clearTimeout(buildTimer);
      resolve({ row: row ?? na(`worker died in ${phase} (${signal ?? `exit ${code}`})`), cpuMs });
    });
  });
}

/** Wait for the rest of the machine to use less than this (in cores) before a measurement... */
const QUIET_CORES = 0.2;
/** ...and measure again when it used more than this during one, */
const DISTURBED_CORES = 0.25;
/** up to this many attempts in all; each metric keeps its best attempt. */
const MAX_ATTEMPTS = 3;
/** No more waiting or measuring again after this much of the run, to stay within ~10 minutes. */
const PATIENCE_MS = 5 * 60_000;

async function measure(tableId: string, key: string, peer: Peer, expected: string, started: number): Promise<Row> {
  const attempts: Row[] = [];
  for (;;) {
    const patient = performance.now() - started < PATIENCE_MS;
    await waitForQuiet(QUIET_CORES, patient ? 8_000 : 0);
    const before = snapshot();
    const { row, cpuMs } = await runWorker(tableId, key, peer.name, expected);
    const load = otherLoad(before, snapshot(), cpuMs);
    const measured: Row = row.status === "ok" ? { ...row, otherLoadCores: load } : row;
    attempts.push(measured);
    console.error(`  ${peer.name}: ${status(measured)}`);
    const again =
      row.status === "ok" &&
      peer.noRetry !== true &&
      load !== null &&
      load > DISTURBED_CORES &&
      attempts.length < MAX_ATTEMPTS &&
      performance.now() - started < PATIENCE_MS;
    if (!again) return mergeAttempts(attempts);
    console.error(`    (other work used ${load.toFixed(2)} cores meanwhile: measuring again)`);
  }
}

function machine(loadAtStart: number): Machine {
  return {
    cpu: cpus()[0]?.model.trim() ?? "unknown",
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    v8: process.versions.v8,
    platform: `${process.platform}-${process.arch}`,
    date: new Date().toISOString(),
    loadAverage: { start: loadAtStart, end: loadavg()[0] ?? 0 },
  };
}

function status(row: Row): string {
  if (row.status === "n/a") return `n/a (${row.reason})`;
  const update = row.updateUs === null ? "" : `, update ${row.updateUs.toFixed(1)} µs`;
  const load = row.otherLoadCores == null ? "" : `; other load ${row.otherLoadCores.toFixed(2)} cores`;
  return (
    `${row.nsPerLookup.toFixed(1)} ns/lookup, build ${row.buildMs.toFixed(2)} ms, ` +
    `${row.heapBytesPerRule.toFixed(0)} B/rule${update}, ${row.disagreements} disagreements${load}`
  );
}

async function main(): Promise<void> {
  const tableFilter = option("tables");
  const peerFilter = option("peers");
  const tables = TABLES.filter((t) => tableFilter === undefined || tableFilter.includes(t.id));
  const peerKeys = Object.keys(PEERS).filter((k) =>
    peerFilter === undefined ? !EXTRA_PEERS.has(k) : peerFilter.includes(k),
  );
  const started = performance.now();
  const loadAtStart = loadavg()[0] ?? 0;
  const rows: Row[] = [];
  const tableInfos: TableInfo[] = [];

  for (const spec of tables) {
    const table = spec.make();
    const workload = makeWorkload(table);
    tableInfos.push({
      id: table.id,
      shape: table.shape,
      description: table.description,
      rules: table.ruleCount,
      ingresses: table.ingresses.length,
      hosts: table.hostCount,
      workload: { requests: workload.hosts.length, counts: workload.counts },
    });
    const t = performance.now();
    const expected = fileURLToPath(ensureExpected(table, workload));
    console.error(
      `${table.id}: ${table.description}; reference answers ready in ${(performance.now() - t).toFixed(0)} ms`,
    );
    for (const key of peerKeys) {
      const peer = PEERS[key] as (typeof PEERS)[string];
      if (peer.maxRules !== undefined && table.ruleCount > peer.maxRules) continue;
      rows.push(await measure(table.id, key, peer, expected, started));
    }
  }

  const goals = evaluateGoals(rows, tableInfos);
  const peers: PeerInfo[] = peerKeys.map((key) => {
    const p = PEERS[key] as (typeof PEERS)[string];
    return { key, name: p.name, version: p.version, notes: p.notes, updateStrategy: p.updateStrategy };
  });
  const info = machine(loadAtStart);
  const partial = tableFilter !== undefined || peerFilter !== undefined;
  const json = {
    machine: info,
    durationS: Math.round((performance.now() - started) / 1000),
    peers,
    tables: tableInfos,
    results: rows,
    goals,
  };
  const out = new URL(partial ? "./results/tmp/partial.json" : "./results/latest.json", import.meta.url);
  writeJson(out, json);
  if (!partial)
    writeReadme(new URL("../README.md", import.meta.url), markdownReport(rows, goals, tableInfos, peers, info));

  console.log(markdownTable(rows));
  console.log("");
  console.log("rennet / map (hand-written) ns per lookup, by request kind:");
  console.log(kindTable(rows, tableInfos));
  console.log("");
  console.log(goalsText(goals).replaceAll("**", ""));
  console.log("");
  console.log(`${fileURLToPath(out)} (${json.durationS} s)`);
}

await main();
