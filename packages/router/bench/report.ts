/**
 * Turns measurements into the outputs: the markdown table (stdout and the
 * README between the bench markers), rennet's goals as PASS/FAIL, and
 * bench/results/latest.json.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { KIND_WEIGHTS } from "./workload.ts";

export interface Disagreement {
  readonly host: string;
  readonly path: string;
  readonly kind: string;
  readonly expected: string | null;
  readonly got: string | null;
}

export interface RowResult {
  readonly table: string;
  readonly peer: string;
  readonly status: "ok";
  readonly nsPerLookup: number;
  readonly lookupSamples: number[];
  /** ns/lookup on the requests of each kind alone. */
  readonly nsPerLookupByKind: Record<string, number>;
  readonly passesPerSample: number;
  readonly hits: number;
  readonly buildMs: number;
  readonly firstBuildMs: number;
  readonly buildSamples: number[];
  readonly heapBytes: number;
  readonly heapBytesPerRule: number;
  /** null when the peer has no update (the reference matcher). */
  readonly updateUs: number | null;
  readonly updateSamples: number[];
  readonly disagreements: number;
  readonly disagreementsByKind: Record<string, number>;
  readonly disagreementExamples: Disagreement[];
  /** Cores' worth of other work on the machine while this was measured (null where unknown). */
  readonly otherLoadCores?: number | null;
  /** Each attempt's medians, when the peer was measured more than once (the row keeps the best of each). */
  readonly attempts?: AttemptSummary[];
}

export interface AttemptSummary {
  readonly nsPerLookup: number;
  readonly buildMs: number;
  readonly heapBytesPerRule: number;
  readonly updateUs: number | null;
  readonly otherLoadCores: number | null;
}

export interface NaRow {
  readonly table: string;
  readonly peer: string;
  readonly status: "n/a";
  readonly reason: string;
}

export type Row = RowResult | NaRow;

export interface TableInfo {
  readonly id: string;
  readonly shape: string;
  readonly description: string;
  readonly rules: number;
  readonly ingresses: number;
  readonly hosts: number;
  readonly workload: { readonly requests: number; readonly counts: Readonly<Record<string, number>> };
}

export interface PeerInfo {
  readonly key: string;
  readonly name: string;
  readonly version: string;
  readonly notes: string;
  readonly updateStrategy: string;
}

export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly node: string;
  readonly v8: string;
  readonly platform: string;
  readonly date: string;
  /** 1-minute load average when the run started and when it ended (other work on the machine skews timings). */
  readonly loadAverage: { readonly start: number; readonly end: number };
}

export interface Goal {
  readonly goal: string;
  readonly status: "PASS" | "FAIL" | "n/a";
  readonly detail: string;
}

export const RENNET = "rennet";
export const MAP = "map (hand-written)";

function fmt(n: number, digits: number): string {
  return n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function fmtNs(ns: number): string {
  return ns >= 1000 ? fmt(ns, 0) : ns >= 100 ? fmt(ns, 0) : fmt(ns, 1);
}

function fmtMs(ms: number): string {
  return ms >= 100 ? fmt(ms, 0) : ms >= 10 ? fmt(ms, 1) : fmt(ms, 2);
}

function fmtUs(us: number): string {
  return us >= 100 ? fmt(us, 0) : fmt(us, 1);
}

function rennetRow(rows: readonly Row[], table: string): RowResult | undefined {
  const r = rows.find((x) => x.table === table && x.peer === RENNET);
  return r?.status === "ok" ? r : undefined;
}

export function markdownTable(rows: readonly Row[]): string {
  const lines = [
    "| table | peer | ns/lookup | ratio to rennet | build ms | heap bytes/rule | update µs | disagreements |",
    "|---|---|--:|--:|--:|--:|--:|--:|",
  ];
  for (const r of rows) {
    if (r.status === "n/a") {
      lines.push(`| ${r.table} | ${r.peer} | n/a: ${r.reason} | | | | | |`);
      continue;
    }
    const base = rennetRow(rows, r.table);
    const ratio = base === undefined ? "" : `${fmt(r.nsPerLookup / base.nsPerLookup, 2)}x`;
    const update = r.updateUs === null ? "n/a" : fmtUs(r.updateUs);
    lines.push(
      `| ${r.table} | ${r.peer} | ${fmtNs(r.nsPerLookup)} | ${ratio} | ${fmtMs(r.buildMs)} | ${fmt(r.heapBytesPerRule, 0)} | ${update} | ${r.disagreements} |`,
    );
  }
  return lines.join("\n");
}

/**
 * rennet against the hand-written Map peer by request kind: rennet's ns/lookup
 * on the requests of that kind alone divided by the Map peer's (< 1: rennet faster).
 */
export function kindTable(rows: readonly Row[], tables: readonly TableInfo[], against = MAP): string {
  const present = new Set(tables.flatMap((t) => Object.keys(t.workload.counts)));
  const kinds = Object.keys(KIND_WEIGHTS).filter((k) => present.has(k));
  const lines = [`| table | ${kinds.join(" | ")} |`, `|---|${kinds.map(() => "--:").join("|")}|`];
  for (const t of tables) {
    const mine = ok(rows, t.id);
    const theirs = ok(rows, t.id, against);
    if (mine === undefined || theirs === undefined) continue;
    const cells = kinds.map((k) => {
      const a = mine.nsPerLookupByKind[k];
      const b = theirs.nsPerLookupByKind[k];
      return a === undefined || b === undefined ? "" : `${fmt(a / b, 2)}x`;
    });
    lines.push(`| ${t.id} | ${cells.join(" | ")} |`);
  }
  return lines.join("\n");
}

function better(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.min(a, b);
}

/**
 * One row from several attempts of the same peer on the same table: the
 * lowest median of each metric (lookup samples and per-kind numbers come from
 * the attempt with the lowest ns/lookup). n/a if every attempt was.
 */
export function mergeAttempts(attempts: readonly Row[]): Row {
  const done = attempts.filter((r): r is RowResult => r.status === "ok");
  const first = attempts[0];
  if (first === undefined) throw new Error("no attempts to merge");
  const best = done.reduce<RowResult | undefined>(
    (acc, r) => (acc === undefined || r.nsPerLookup < acc.nsPerLookup ? r : acc),
    undefined,
  );
  if (best === undefined) return first;
  if (done.length === 1) return best;
  return {
    ...best,
    buildMs: Math.min(...done.map((r) => r.buildMs)),
    firstBuildMs: Math.min(...done.map((r) => r.firstBuildMs)),
    heapBytes: Math.min(...done.map((r) => r.heapBytes)),
    heapBytesPerRule: Math.min(...done.map((r) => r.heapBytesPerRule)),
    updateUs: done.map((r) => r.updateUs).reduce(better, null),
    disagreements: Math.max(...done.map((r) => r.disagreements)),
    attempts: done.map((r) => ({
      nsPerLookup: r.nsPerLookup,
      buildMs: r.buildMs,
      heapBytesPerRule: r.heapBytesPerRule,
      updateUs: r.updateUs,
      otherLoadCores: r.otherLoadCores ?? null,
    })),
  };
}

function ok(rows: readonly Row[], table: string, peer = RENNET): RowResult | undefined {
  const r = rows.find((x) => x.table === table && x.peer === peer);
  return r?.status === "ok" ? r : undefined;
}

function verdict(checks: readonly boolean[]): "PASS" | "FAIL" | "n/a" {
  if (checks.length === 0) return "n/a";
  return checks.every(Boolean) ? "PASS" : "FAIL";
}

/** rennet's goals, evaluated on whatever tables were measured. */
export function evaluateGoals(rows: readonly Row[], tables: readonly TableInfo[]): Goal[] {
  const goals: Goal[] = [];

  const fastest: boolean[] = [];
  const losses: string[] = [];
  for (const t of tables) {
    const mine = ok(rows, t.id);
    if (mine === undefined) continue;
    for (const r of rows) {
      if (r.table !== t.id || r.peer === RENNET || r.status !== "ok") continue;
      const faster = mine.nsPerLookup < r.nsPerLookup;
      fastest.push(faster);
      if (!faster) {
        losses.push(`${t.id}: ${r.peer} ${fmtNs(r.nsPerLookup)} ns vs ${fmtNs(mine.nsPerLookup)} ns`);
      }
    }
  }
  goals.push({
    goal: "lookup faster than every peer at every size and both shapes",
    status: verdict(fastest),
    detail: losses.length === 0 ? `${fastest.length} comparisons won` : `lost: ${losses.join("; ")}`,
  });

  const scaling: boolean[] = [];
  const scalingDetail: string[] = [];
  for (const [big, small, counted] of [
    ["A-100k", "A-1k", true],
    ["B-10x10k", "B-10x1k", false],
  ] as const) {
    const b = ok(rows, big);
    const s = ok(rows, small);
    if (b === undefined || s === undefined) continue;
    const ratio = b.nsPerLookup / s.nsPerLookup;
    if (counted) scaling.push(ratio <= 2);
    const mb = ok(rows, big, MAP);
    const ms = ok(rows, small, MAP);
    const context =
      mb === undefined || ms === undefined ? "" : `, Map peer ${fmt(mb.nsPerLookup / ms.nsPerLookup, 2)}x`;
    scalingDetail.push(`${big}/${small} = ${fmt(ratio, 2)}x${context}${counted ? "" : " (information)"}`);
  }
  goals.push({
    goal: "lookup at 100k rules ≤ 2x lookup at 1k rules",
    status: verdict(scaling),
    detail: scalingDetail.join("; "),
  });

  const tenK = tables.filter((t) => t.rules === 10_000).map((t) => t.id);
  const buildChecks: boolean[] = [];
  const buildDetail: string[] = [];
  const updateChecks: boolean[] = [];
  const updateDetail: string[] = [];
  for (const id of tenK) {
    const r = ok(rows, id);
    if (r === undefined) continue;
    buildChecks.push(r.buildMs < 50);
    buildDetail.push(`${id}: ${fmtMs(r.buildMs)} ms`);
    if (r.updateUs !== null) {
      updateChecks.push(r.updateUs < 1000);
      updateDetail.push(`${id}: ${fmtUs(r.updateUs)} µs`);
    }
  }
  goals.push({ goal: "10k-rule build < 50 ms", status: verdict(buildChecks), detail: buildDetail.join("; ") });
  goals.push({
    goal: "10k-rule one-Ingress update < 1 ms",
    status: verdict(updateChecks),
    detail: updateDetail.join("; "),
  });

  const heapChecks: boolean[] = [];
  const heapDetail: string[] = [];
  for (const t of tables) {
    const r = ok(rows, t.id);
    if (r === undefined) continue;
    const counted = t.rules >= 1_000;
    if (counted) heapChecks.push(r.heapBytesPerRule < 1024);
    heapDetail.push(`${t.id}: ${fmt(r.heapBytesPerRule, 0)} B${counted ? "" : " (fixed cost dominates, not counted)"}`);
  }
  goals.push({ goal: "heap < 1 KiB per rule", status: verdict(heapChecks), detail: heapDetail.join("; ") });
  return goals;
}

export function goalsText(goals: readonly Goal[]): string {
  return goals.map((g) => `- **${g.status}** ${g.goal}: ${g.detail}`).join("\n");
}

export function markdownReport(
  rows: readonly Row[],
  goals: readonly Goal[],
  tables: readonly TableInfo[],
  peers: readonly PeerInfo[],
  machine: Machine,
): string {
  const tableLines = tables.map((t) => `- **${t.id}**: ${t.description}, ${t.ingresses} Ingresses`);
  const peerLines = peers.map((p) => `- **${p.name}** ${p.version}: ${p.notes} Update: ${p.updateStrategy}`);
  return [
    `Measured ${machine.date.slice(0, 10)} on ${machine.cpu} (${machine.cores} cores, load average ${fmt(machine.loadAverage.start, 2)} at the start and ${fmt(machine.loadAverage.end, 2)} at the end), Node ${machine.node}, by \`npm run bench\` in packages/router (full numbers in bench/results/latest.json).`,
    "",
    "Each peer runs in a process of its own. The runner waits for a quiet moment before each measurement and " +
      "measures again (up to 3 attempts) when other work on the machine used more than a quarter of a core meanwhile; " +
      "each number is then the best of the attempts' medians, since other load only makes numbers worse " +
      "(the load seen is in latest.json). " +
      "ns/lookup: median over samples of one loop over the table's fixed workload of " +
      `${tables[0]?.workload.requests ?? 0} mixed requests. Build: median ms from Ingress objects to a ready router. ` +
      "Heap: bytes a build retains (V8 heap + ArrayBuffers after full GC) per path rule. " +
      "Update: median µs to apply one changed Ingress plus one lookup on it. " +
      "Disagreements: workload requests whose backend differs from the reference matcher's.",
    "",
    markdownTable(rows),
    "",
    "rennet's ns/lookup divided by the hand-written Map peer's, on the requests of one kind at a time " +
      "(below 1.00x rennet is faster; share of each kind in the workload: see latest.json):",
    "",
    kindTable(rows, tables),
    "",
    "Goals of rennet:",
    "",
    goalsText(goals),
    "",
    "Tables:",
    "",
    ...tableLines,
    "",
    "Peers:",
    "",
    ...peerLines,
  ].join("\n");
}

const START = "<!-- bench:start -->";
const END = "<!-- bench:end -->";

/** Replaces what is between the bench markers of the README (creating the file or markers if needed). */
export function writeReadme(file: URL, markdown: string): void {
  let text = existsSync(file) ? readFileSync(file, "utf8") : "# @rennet/router\n\n## Benchmarks\n\n";
  const block = `${START}\n${markdown}\n${END}`;
  const s = text.indexOf(START);
  const e = text.indexOf(END);
  if (s !== -1 && e > s) text = text.slice(0, s) + block + text.slice(e + END.length);
  else text = `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, text);
}

export function writeJson(file: URL, data: unknown): void {
  mkdirSync(new URL(".", file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
}
