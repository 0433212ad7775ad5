/**
 * `npm run bench:proxy`: rennet against no proxy, nginx, HAProxy,
 * node-http-proxy and fastify + @fastify/reply-from, on loopback; and, for
 * rennet and nginx, HTTPS (TLS termination with the same certificate): on
 * keep-alive connections, with a new connection and full handshake per
 * request, and HTTP/2.
 *
 *   node bench/proxy/run.mjs [--quick] [--warmup S] [--duration S] [--reps N]
 *                            [--only rennet,fastify] [--rows plain|tls|64B,https,…]
 *                            [--profile] [--keep-tmp]
 *
 * Full (default: warm-up 2 s, 5 s measured, 5 repetitions) writes
 * bench/results/proxy-latest.{md,json} and the README section. --quick
 * (1 s / 2 s / 1), --only and changed timings write bench/results/tmp/
 * instead. --profile runs only rennet under node --cpu-prof for one measured
 * window and prints the functions with the most self time.
 *
 * It refuses to run (exit 1, nothing written) rather than produce a partial
 * table: a missing tool, a target that does not start or fails its
 * correctness check, or a target that dies mid-run stops everything.
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, release, tmpdir, totalmem } from "node:os";
import { dirname, join, relative } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { BODIES, startBackend } from "./backend.mjs";
import { checkTarget } from "./check.mjs";
import { ensureBenchPackages, ensureCores, ensureRennetBuilt, ensureTools } from "./install.mjs";
import { BENCH_HOST } from "./manifests.mjs";
import { debianVersion, nginxVersion } from "./nginx-conf.mjs";
import {
  freePort,
  installSignalHandlers,
  logTail,
  machineBusy,
  measureWhile,
  processTree,
  rssKiB,
  stopAll,
  stopChild,
} from "./procs.mjs";
import { areaTable, byArea, readProfile, selfTimes, topTable } from "./profile.mjs";
import {
  evaluateGoals,
  markdownReport,
  readmeSection,
  summarize,
  writeJson,
  writeReadme,
  writeText,
} from "./report.mjs";
import { TARGETS } from "./targets/index.mjs";
import { startRennet } from "./targets/rennet.mjs";
import { buildNewconn, checkTls, makeCertificate, runH2load, runNewconn } from "./tls.mjs";
import { runWrk } from "./wrk.mjs";

const benchDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const root = join(benchDir, "..");
const PROXY_CPU = "0";
const LOAD_CPU = "1";
const CONNECTIONS = 32;
/** Whatever happens, the bench stops after this long. */
const HARD_LIMIT_MS = 20 * 60_000;

const PENDING = [];

/**
 * The rows of the table. The plain ones for every target; the TLS ones for
 * the targets that terminate TLS (rennet and nginx, target.tls), on their
 * HTTPS port. `tool` is the load generator (see tls.mjs for why the
 * new-handshake row is not wrk).
 */
const SCENARIOS = [
  ...BODIES.map((body) => ({ key: body.key, label: body.label, body, tls: false, tool: "wrk" })),
  {
    key: "https",
    label: "HTTPS/1.1 on keep-alive connections, 64-byte body",
    body: BODIES[0],
    tls: true,
    tool: "wrk",
    unit: "req/s",
  },
  {
    key: "https-new",
    label: "HTTPS/1.1, a new connection with a full TLS handshake per request, 64-byte body",
    body: BODIES[0],
    tls: true,
    tool: "newconn",
    unit: "handshakes/s",
  },
  {
    key: "h2",
    label: "HTTP/2 over TLS on keep-alive connections, 64-byte body",
    body: BODIES[0],
    tls: true,
    tool: "h2load",
    unit: "req/s",
  },
];

function options() {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      warmup: { type: "string" },
      duration: { type: "string" },
      reps: { type: "string" },
      only: { type: "string" },
      rows: { type: "string" },
      profile: { type: "boolean", default: false },
      "keep-tmp": { type: "boolean", default: false },
    },
    allowPositionals: false,
  });
  // Five windows per row, not three: on this shared machine one window of a row can run 40% off
  // the others, and a median of three moves with a single such window.
  const base = values.quick ? { warmup: 1, duration: 2, reps: 1 } : { warmup: 2, duration: 5, reps: 5 };
  const whole = (name, fallback, min) => {
    const raw = values[name];
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be a whole number >= ${min}, got "${raw}"`);
    return n;
  };
  const settings = {
    warmupSeconds: whole("warmup", base.warmup, 0),
    durationSeconds: whole("duration", base.duration, 1),
    repetitions: whole("reps", base.reps, 1),
    connections: CONNECTIONS,
    threads: 1,
  };
  const only = values.only?.split(",").filter((s) => s !== "");
  const unknown = only?.filter((key) => !TARGETS.some((t) => t.key === key)) ?? [];
  if (unknown.length > 0)
    throw new Error(`--only: unknown target ${unknown.join(", ")} (${TARGETS.map((t) => t.key)})`);
  let scenarios = SCENARIOS;
  if (values.rows !== undefined) {
    const wanted = values.rows.split(",").filter((s) => s !== "");
    const bad = wanted.filter((w) => w !== "plain" && w !== "tls" && !SCENARIOS.some((sc) => sc.key === w));
    if (bad.length > 0 || wanted.length === 0)
      throw new Error(`--rows: unknown row ${bad.join(", ")} (plain, tls, ${SCENARIOS.map((sc) => sc.key)})`);
    scenarios = SCENARIOS.filter(
      (sc) => wanted.includes(sc.key) || (sc.tls ? wanted.includes("tls") : wanted.includes("plain")),
    );
  }
  const defaults =
    !values.quick && values.warmup === undefined && values.duration === undefined && values.reps === undefined;
  return {
    settings,
    mode: values.quick ? "quick" : defaults ? "full" : "custom",
    only,
    scenarios,
    official: defaults && only === undefined && values.rows === undefined,
    profile: values.profile,
    keepTmp: values["keep-tmp"],
  };
}

const say = (text) => process.stderr.write(`${text}\n`);

/** Other work on the machine (% of one core) above which the bench waits before it starts. */
const QUIET_PERCENT = 15;
/** A measured window during which other processes used more than this (% of one core) is measured again. */
const DISTURBED_PERCENT = 10;

/** Waits up to `maxMs` for the machine to be quiet; returns the last reading. */
async function waitForQuiet(maxMs) {
  const deadline = Date.now() + maxMs;
  let busy = await machineBusy(1000);
  while (busy > QUIET_PERCENT && Date.now() < deadline) {
    say(`bench: other processes use ${Math.round(busy)}% of a core; waiting for a quieter machine`);
    busy = await machineBusy(2000);
  }
  if (busy > QUIET_PERCENT && maxMs > 10_000) {
    say(`bench: warning: measuring on a busy machine (${Math.round(busy)}% of a core in use by other processes)`);
  }
  return busy;
}

function machine() {
  let cpuModel = cpus()[0]?.model ?? "unknown";
  try {
    cpuModel = /^model name\s*:\s*(.*)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? cpuModel;
  } catch {
    // keep os.cpus()
  }
  return {
    cpuModel,
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    pinning: { proxy: `CPU ${PROXY_CPU}`, backendAndLoad: `CPU ${LOAD_CPU}` },
  };
}

function wrkVersion() {
  const deb = debianVersion("wrk");
  return deb ? `wrk ${deb} (Debian)` : "wrk";
}

/** h2load's and OpenSSL's versions (newconn is built against the system OpenSSL). */
function tlsToolVersions(tools) {
  const h2 = spawnSync(tools.h2load, ["--version"], { encoding: "utf8" }).stdout?.trim() ?? "h2load";
  const ssl = spawnSync(tools.openssl, ["version"], { encoding: "utf8" }).stdout?.trim() ?? "openssl";
  const deb = debianVersion("nghttp2-client");
  return { h2load: `${h2}${deb ? ` (Debian ${deb})` : ""}`, openssl: ssl };
}

/**
 * One load window of `scenario` against a started target, with its tool:
 * wrk (plain or https), newconn (new connection + full handshake per request)
 * or h2load (HTTP/2). `onSpawn` gets the tool's pid; `measured` asks h2load
 * for its per-request log (latency percentiles).
 */
function runLoad(ctx, started, scenario, seconds, { onSpawn, measured = false } = {}) {
  const common = {
    port: scenario.tls ? started.httpsPort : started.port,
    path: scenario.body.path,
    host: BENCH_HOST,
    seconds,
    connections: CONNECTIONS,
    cpu: LOAD_CPU,
    onSpawn,
  };
  switch (scenario.tool) {
    case "newconn":
      return runNewconn({ ...common, bin: ctx.newconn });
    case "h2load":
      return runH2load({
        ...common,
        h2load: ctx.tools.h2load,
        logFile: measured ? join(ctx.tmp, "h2load-requests.log") : undefined,
      });
    default:
      return runWrk({ ...common, scheme: scenario.tls ? "https" : "http" });
  }
}

/** One measured window against a started target, with the proxy's CPU and memory alongside. */
async function measure(ctx, started, scenario, seconds) {
  const m = await measureWhile(
    started.pid,
    (track) => runLoad(ctx, started, scenario, seconds, { onSpawn: track, measured: true }),
    { known: [ctx.backend.child.pid] },
  );
  if (started.entry?.exited) {
    throw new Error(
      `${started.entry.name} died during the load (${started.entry.exitSignal ?? started.entry.exitCode}):\n${logTail(started.entry)}`,
    );
  }
  if (ctx.backend.exited) throw new Error(`the backend nginx died during the load:\n${logTail(ctx.backend)}`);
  return {
    ...m.result,
    raw: undefined,
    cpuPercent: m.cpuPercent,
    peakRssKiB: m.peakRssKiB,
    proxyCoreBusyPercent: m.coreBusyPercent[PROXY_CPU] ?? null,
    loadCoreBusyPercent: m.coreBusyPercent[LOAD_CPU] ?? null,
    backgroundCpuPercent: m.backgroundCpuPercent,
  };
}

async function warmAndMeasure(ctx, started, scenario, settings) {
  if (settings.warmupSeconds > 0) await runLoad(ctx, started, scenario, settings.warmupSeconds);
  return measure(ctx, started, scenario, settings.durationSeconds);
}

const rssMiB = (pid) => rssKiB(processTree(pid)) / 1024;

const bodiesAndHost = () => ({ host: BENCH_HOST, bodies: Object.fromEntries(BODIES.map((b) => [b.path, b.bytes])) });

async function checked(target, started) {
  return checkTarget(target.label, started.port, { ...bodiesAndHost(), proxied: target.proxied });
}

/** The scenarios a target is measured in: the plain ones always, the TLS ones if it terminates TLS. */
const scenariosOf = (opts, target) => opts.scenarios.filter((sc) => !sc.tls || target.tls === true);

/** The table: every target, every row it has, repetitions interleaved round-robin. */
async function benchmark(ctx, opts) {
  const { settings } = opts;
  const targets = TARGETS.filter(
    (t) =>
      (opts.only === undefined || ["direct", "nginx", ...opts.only].includes(t.key)) && scenariosOf(opts, t).length > 0,
  );
  const started = new Map();
  const memory = [];
  const negotiated = {};
  const versions = {};
  for (const target of targets) {
    say(`bench: starting ${target.label}`);
    const s = await target.start(ctx);
    started.set(target.key, s);
    // Read now, not after the load: what was started, and a failure before any measurement.
    versions[target.key] = target.version(ctx);
    await checked(target, s);
    if (ctx.tls !== undefined && target.tls) {
      negotiated[target.key] = {
        check: await checkTls(target.label, s.httpsPort, { ...bodiesAndHost(), tls: ctx.tls }),
      };
    }
    if (target.key === "rennet") {
      await sleep(1000);
      memory.push({
        label: "1k Ingresses",
        ...s.table,
        objects: s.objects,
        startupMs: s.startupMs,
        idleRssMiB: rssMiB(s.pid),
      });
    }
  }
  const runs = [];
  const total = settings.repetitions * targets.reduce((n, t) => n + scenariosOf(opts, t).length, 0);
  const perWindowMs = (settings.warmupSeconds + settings.durationSeconds) * 1000;
  const retries = { left: Math.ceil(total / 3) };
  let done = 0;
  for (let rep = 0; rep < settings.repetitions; rep++) {
    const order = targets.map((_, i) => targets[(i + rep) % targets.length]);
    for (const target of order) {
      for (const scenario of scenariosOf(opts, target)) {
        let run = await warmAndMeasure(ctx, started.get(target.key), scenario, settings);
        let attempts = 1;
        // Another process took CPU during the window: measure it again, within a budget
        // that leaves time for the remaining windows (and the 10k run) before the hard limit.
        const timeForRetry = () =>
          Date.now() + (total - done + 1 + settings.repetitions + 2) * perWindowMs + 30_000 < ctx.deadline;
        while (run.backgroundCpuPercent > DISTURBED_PERCENT && retries.left > 0 && timeForRetry()) {
          retries.left--;
          attempts++;
          say(
            `bench: ${target.label} ${scenario.key} disturbed (background ${Math.round(run.backgroundCpuPercent)}%), again`,
          );
          await waitForQuiet(10_000);
          run = await warmAndMeasure(ctx, started.get(target.key), scenario, settings);
        }
        runs.push({ rep: rep + 1, target: target.key, body: scenario.key, attempts, ...run });
        if (run.negotiated && negotiated[target.key] && negotiated[target.key][scenario.key] === undefined) {
          negotiated[target.key][scenario.key] = run.negotiated;
        }
        done++;
        say(
          `bench: [${done}/${total}] rep ${rep + 1} ${target.label} ${scenario.key}: ${Math.round(run.requestsPerSecond)} ${scenario.unit ?? "req/s"}, p99 ${run.latencyMs.p99?.toFixed(3) ?? "—"} ms, errors ${run.errors}, proxy CPU ${run.cpuPercent === null ? "—" : `${Math.round(run.cpuPercent)}%`}, load core ${Math.round(run.loadCoreBusyPercent)}%, background ${Math.round(run.backgroundCpuPercent)}%`,
        );
      }
    }
  }
  const targetInfo = targets.map((t) => ({
    key: t.key,
    label: t.label,
    notes: t.notes,
    tls: t.tls === true,
    tlsNotes: t.tlsNotes,
    version: versions[t.key],
  }));
  const plainKeys = new Set(SCENARIOS.filter((sc) => !sc.tls).map((sc) => sc.key));
  const rennetRuns = runs.filter((r) => r.target === "rennet" && r.body === "64B");
  if (memory[0] !== undefined && rennetRuns.length > 0) {
    memory[0].loadPeakRssMiB =
      Math.max(...runs.filter((r) => r.target === "rennet" && plainKeys.has(r.body)).map((r) => r.peakRssKiB)) / 1024;
    memory[0].requestsPerSecond = medianOf(rennetRuns.map((r) => r.requestsPerSecond));
    memory[0].p99Ms = medianOf(rennetRuns.map((r) => r.latencyMs.p99));
  }
  for (const [key, s] of started) {
    if (s.entry !== undefined) await stopChild(s.entry);
    started.delete(key);
  }
  return { targets: targetInfo, runs, memory, versions, negotiated };
}

function medianOf(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** rennet with a single Ingress: the baseline of its resident memory. */
async function baseline(ctx) {
  const s = await startRennet(ctx, { ingresses: 1, name: "rennet-1" });
  try {
    await checked({ label: "rennet (1 Ingress)", proxied: true }, s);
    await sleep(1000);
    return {
      label: "1 Ingress (baseline)",
      ...s.table,
      objects: s.objects,
      startupMs: s.startupMs,
      idleRssMiB: rssMiB(s.pid),
    };
  } finally {
    await stopChild(s.entry);
  }
}

/** A second rennet with 10k Ingresses: startup, idle RSS, RSS and req/s under the 64-byte load. */
async function tenThousand(ctx, settings) {
  say("bench: starting rennet with 10k Ingresses");
  const s = await startRennet(ctx, { ingresses: 10_000 });
  try {
    await checked({ label: "rennet (10k Ingresses)", proxied: true }, s);
    await sleep(1000);
    const idle = rssMiB(s.pid);
    const body = SCENARIOS[0]; // plain, 64 bytes
    const runs = [];
    for (let rep = 0; rep < settings.repetitions; rep++) {
      let run = await warmAndMeasure(ctx, s, body, settings);
      for (let again = 0; again < 2 && run.backgroundCpuPercent > DISTURBED_PERCENT; again++) {
        say(`bench: rennet 10k disturbed (background ${Math.round(run.backgroundCpuPercent)}%), again`);
        await waitForQuiet(10_000);
        run = await warmAndMeasure(ctx, s, body, settings);
      }
      runs.push(run);
    }
    const rps = medianOf(runs.map((r) => r.requestsPerSecond));
    say(
      `bench: rennet 10k: startup ${Math.round(s.startupMs)} ms, RSS idle ${idle.toFixed(1)} MiB, ${Math.round(rps)} req/s`,
    );
    return {
      label: "10k Ingresses",
      ...s.table,
      objects: s.objects,
      startupMs: s.startupMs,
      idleRssMiB: idle,
      loadPeakRssMiB: Math.max(...runs.map((r) => r.peakRssKiB)) / 1024,
      requestsPerSecond: rps,
      p99Ms: medianOf(runs.map((r) => r.latencyMs.p99)),
      errors: runs.reduce((sum, r) => sum + r.errors, 0),
      backgroundCpuPercentMax: Math.max(...runs.map((r) => r.backgroundCpuPercent)),
      runs,
    };
  } finally {
    await stopChild(s.entry);
  }
}

/**
 * Scaling with data-plane workers: rennet (1k table) with --workers 1 and 2,
 * both free to use both cores (taskset 0,1: two workers need two cores, and
 * this machine has no third for the load), 64-byte body, repetitions
 * interleaved. The load core is shared here, so req/s is bounded by the
 * machine; req/s per core of rennet CPU is the figure that shows scaling.
 */
async function workerScaling(ctx, settings) {
  const body = SCENARIOS[0]; // plain, 64 bytes
  const variants = [];
  try {
    for (const workers of [1, 2]) {
      say(`bench: starting rennet with --workers ${workers}`);
      const s = await startRennet(ctx, {
        ingresses: 1000,
        name: `rennet-workers-${workers}`,
        args: ["--workers", String(workers)],
        cpu: `${PROXY_CPU},${LOAD_CPU}`,
      });
      await checked({ label: `rennet --workers ${workers}`, proxied: true }, s);
      variants.push({ workers, started: s, runs: [] });
    }
    for (let rep = 0; rep < settings.repetitions; rep++) {
      for (const v of rep % 2 === 0 ? variants : [...variants].reverse()) {
        let run = await warmAndMeasure(ctx, v.started, body, settings);
        for (let again = 0; again < 2 && run.backgroundCpuPercent > DISTURBED_PERCENT; again++) {
          say(
            `bench: rennet --workers ${v.workers} disturbed (background ${Math.round(run.backgroundCpuPercent)}%), again`,
          );
          await waitForQuiet(10_000);
          run = await warmAndMeasure(ctx, v.started, body, settings);
        }
        v.runs.push(run);
      }
    }
  } finally {
    for (const v of variants) await stopChild(v.started.entry);
  }
  return variants.map((v) => {
    const perCore = v.runs.map((r) => r.requestsPerSecond / Math.max(0.01, (r.cpuPercent ?? 0) / 100));
    return {
      workers: v.workers,
      requestsPerSecond: medianOf(v.runs.map((r) => r.requestsPerSecond)),
      proxyCpuPercent: medianOf(v.runs.map((r) => r.cpuPercent ?? 0)),
      requestsPerCoreSecond: medianOf(perCore),
      p99Ms: medianOf(v.runs.map((r) => r.latencyMs.p99)),
      errors: v.runs.reduce((sum, r) => sum + r.errors, 0),
      backgroundCpuPercentMax: Math.max(...v.runs.map((r) => r.backgroundCpuPercent)),
      runs: v.runs,
    };
  });
}

/** rennet (1k table) under node --cpu-prof: one warm-up, one measured window, the top self-time functions. */
async function profile(ctx, settings) {
  const dir = join(ctx.tmp, "cpu-prof");
  const s = await startRennet(ctx, {
    ingresses: 1000,
    name: "rennet-cpu-prof",
    nodeArgs: ["--cpu-prof", "--cpu-prof-dir", dir],
  });
  let window;
  let run;
  try {
    await checked({ label: "rennet (cpu-prof)", proxied: true }, s);
    const body = SCENARIOS[0]; // plain, 64 bytes
    if (settings.warmupSeconds > 0) {
      await runWrk({
        port: s.port,
        path: body.body.path,
        host: BENCH_HOST,
        seconds: settings.warmupSeconds,
        connections: CONNECTIONS,
        cpu: LOAD_CPU,
      });
    }
    const from = Number(process.hrtime.bigint() / 1000n);
    run = await measure(ctx, s, body, settings.durationSeconds);
    window = { fromUs: from, toUs: Number(process.hrtime.bigint() / 1000n) };
  } finally {
    await stopChild(s.entry, { signal: "SIGTERM", graceMs: 20_000 });
  }
  const { file, profile: cpuProfile } = readProfile(dir);
  const top = selfTimes(cpuProfile, window);
  const outDir = join(benchDir, "results/tmp");
  mkdirSync(outDir, { recursive: true });
  cpSync(file, join(outDir, "rennet.cpuprofile"));
  const text = [
    `# rennet CPU profile (64-byte body, ${settings.durationSeconds} s, ${Math.round(run.requestsPerSecond)} req/s under --cpu-prof)`,
    "",
    top.windowed
      ? `Self time per function (name + script) over the measured window only: ${(top.totalUs / 1000).toFixed(0)} ms of samples.`
      : `Self time per function over the whole process life (the measured window could not be matched to the profile's clock): ${(top.totalUs / 1000).toFixed(0)} ms.`,
    "",
    topTable(top, root, 15),
    "",
    "Busy time (without idle) by where the code lives; native / V8 includes the system calls made from C++ (e.g. writeUtf8String is a socket write):",
    "",
    areaTable(byArea(top)),
    "",
    `Profile: ${relative(root, join(outDir, "rennet.cpuprofile"))} (open in Chrome DevTools or speedscope).`,
    "",
  ].join("\n");
  writeText(join(outDir, "rennet-cpu-profile.md"), text);
  writeJson(join(outDir, "rennet-cpu-profile.json"), {
    run: { ...run },
    windowed: top.windowed,
    totalUs: top.totalUs,
    top: top.functions.slice(0, 50),
  });
  process.stdout.write(text);
}

async function main() {
  const opts = options();
  let tmp;
  // Interrupted: the children are killed by the handler, the temp dir goes too.
  installSignalHandlers(() => tmp !== undefined && rmSync(tmp, { recursive: true, force: true }));
  const deadline = Date.now() + HARD_LIMIT_MS;
  const hardLimit = setTimeout(() => {
    say(`bench: exceeded ${HARD_LIMIT_MS / 60_000} min, stopping everything`);
    process.exit(1); // the exit handler kills every child
  }, HARD_LIMIT_MS);
  hardLimit.unref();

  const cores = ensureCores();
  const tools = ensureTools();
  ensureBenchPackages(benchDir);
  ensureRennetBuilt(root);
  tmp = mkdtempSync(join(tmpdir(), "rennet-bench-proxy-"));
  const ctx = {
    tools,
    tmp,
    logDir: tmp,
    root,
    benchDir,
    node: process.execPath,
    proxyCpu: PROXY_CPU,
    backendPort: 0,
    deadline,
  };
  let ok = false;
  try {
    const busyBefore = await waitForQuiet(opts.mode === "quick" ? 10_000 : 60_000);
    ctx.backendPort = await freePort();
    say(
      `bench: ${cores} cores; backend nginx and wrk on CPU ${LOAD_CPU}, proxies on CPU ${PROXY_CPU}; temp dir ${tmp}`,
    );
    ctx.backend = await startBackend({ nginx: tools.nginx, tmp, port: ctx.backendPort, cpu: LOAD_CPU, logDir: tmp });
    await checked({ label: "direct (backend)", proxied: false }, { port: ctx.backendPort });

    if (opts.profile) {
      await profile(ctx, opts.settings);
      ok = true;
      return;
    }

    const selected = TARGETS.filter(
      (t) => opts.only === undefined || ["direct", "nginx", ...opts.only].includes(t.key),
    );
    const withTls = opts.scenarios.some((sc) => sc.tls) && selected.some((t) => t.tls);
    if (withTls) {
      // One certificate for both TLS proxies, made now in the temp dir; never kept.
      ctx.tls = makeCertificate(join(tmp, "tls"), BENCH_HOST, tools.openssl);
      say(`bench: certificate for HTTPS: ${ctx.tls.description}`);
      if (opts.scenarios.some((sc) => sc.tool === "newconn")) ctx.newconn = buildNewconn(tmp, tools.cc);
    }
    const withRennet = selected.some((t) => t.key === "rennet") && opts.scenarios.some((sc) => sc.key === "64B");

    const perWindow = opts.settings.warmupSeconds + opts.settings.durationSeconds;
    const count = selected.reduce((n, t) => n + scenariosOf(opts, t).length, 0) + (withRennet ? 1 : 0);
    say(`bench: about ${Math.ceil((count * perWindow * opts.settings.repetitions) / 60)} min of load to run`);

    const table = await benchmark(ctx, opts);
    const extraMemory = withRennet ? [await baseline(ctx), await tenThousand(ctx, opts.settings)] : [];
    const workers = withRennet ? await workerScaling(ctx, opts.settings) : null;

    const summary = summarize(table.runs, table.targets, opts.scenarios);
    const result = {
      date: new Date().toISOString(),
      mode: opts.mode,
      settings: opts.settings,
      machine: { ...machine(), otherCpuBeforeStartPercent: busyBefore },
      versions: {
        node: process.version,
        nginx: `${nginxVersion(tools.nginx)} (Debian ${debianVersion("nginx") ?? "?"})`,
        haproxy: table.versions.haproxy,
        wrk: wrkVersion(),
        ...(withTls ? tlsToolVersions(tools) : {}),
        ...Object.fromEntries(Object.entries(table.versions).filter(([k]) => !["direct", "haproxy"].includes(k))),
      },
      host: BENCH_HOST,
      bodies: BODIES.filter((b) => opts.scenarios.some((sc) => sc.key === b.key)).map(
        ({ key, label, path, bytes }) => ({ key, label, path, bytes: bytes.length }),
      ),
      tls: withTls
        ? {
            certificate: ctx.tls.description,
            rows: opts.scenarios
              .filter((sc) => sc.tls)
              .map(({ key, label, tool, unit, body }) => ({ key, label, tool, unit, path: body.path })),
            negotiated: table.negotiated,
          }
        : null,
      targets: table.targets,
      summary,
      goals: evaluateGoals(summary),
      memory: [extraMemory[0], ...table.memory, extraMemory[1]].filter((m) => m !== undefined),
      workers,
      pending: PENDING,
      runs: table.runs,
    };
    const dir = opts.official ? join(benchDir, "results") : join(benchDir, "results/tmp");
    const base = opts.official ? "proxy-latest" : `proxy-${opts.mode}`;
    const md = markdownReport(result);
    writeJson(join(dir, `${base}.json`), result);
    writeText(join(dir, `${base}.md`), md);
    if (opts.official) {
      writeReadme(join(root, "README.md"), readmeSection(result, "bench/results/proxy-latest.md"));
      say("bench: README.md section updated");
    } else {
      say("bench: not a full default run, so the README and bench/results/proxy-latest.* are left alone");
    }
    say(`bench: wrote ${relative(root, join(dir, `${base}.md`))} and .json`);
    process.stdout.write(`${md}\n`);
    ok = true;
  } finally {
    await stopAll();
    if (ok && !opts.keepTmp) rmSync(tmp, { recursive: true, force: true });
    else say(`bench: logs and configuration kept in ${tmp}`);
    clearTimeout(hardLimit);
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    say(`bench: ${error.message}`);
    say("bench: refusing to write a partial table");
    process.exit(1);
  },
);
