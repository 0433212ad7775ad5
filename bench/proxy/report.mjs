// Turns the runs into the summary (medians, min–max, ratios, goals), the
// markdown report, the JSON file, and the README section between
// <!-- bench-proxy:start --> and <!-- bench-proxy:end -->.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

export const README_START = "<!-- bench-proxy:start -->";
export const README_END = "<!-- bench-proxy:end -->";

export function median(values) {
  const sorted = values.filter((v) => typeof v === "number" && Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function spread(values) {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

/** Per body and target: medians over the repetitions, ratios to direct and nginx. */
export function summarize(runs, targets, bodies) {
  const out = {};
  for (const body of bodies) {
    const rows = {};
    for (const target of targets) {
      const mine = runs.filter((r) => r.body === body.key && r.target === target.key);
      if (mine.length === 0) continue;
      rows[target.key] = {
        requestsPerSecond: spread(mine.map((r) => r.requestsPerSecond)),
        p50Ms: spread(mine.map((r) => r.latencyMs.p50)),
        p99Ms: spread(mine.map((r) => r.latencyMs.p99)),
        errors: mine.reduce((sum, r) => sum + r.errors, 0),
        requests: mine.reduce((sum, r) => sum + r.requests, 0),
        proxyCpuPercent: median(mine.map((r) => r.cpuPercent)),
        loadCoreBusyPercent: median(mine.map((r) => r.loadCoreBusyPercent)),
        proxyCoreBusyPercent: median(mine.map((r) => r.proxyCoreBusyPercent)),
        backgroundCpuPercent: spread(mine.map((r) => r.backgroundCpuPercent)),
        peakRssMiB: mine[0].peakRssKiB === null ? null : Math.max(...mine.map((r) => r.peakRssKiB)) / 1024,
      };
    }
    for (const row of Object.values(rows)) {
      const rps = row.requestsPerSecond.median;
      row.ratioToDirect = rows.direct ? rps / rows.direct.requestsPerSecond.median : null;
      row.ratioToNginx = rows.nginx ? rps / rows.nginx.requestsPerSecond.median : null;
    }
    out[body.key] = rows;
  }
  return out;
}

/** The issue's goals for rennet, from the summary (null where a peer is missing). */
export function evaluateGoals(summary) {
  const s64 = summary["64B"] ?? {};
  const s16 = summary["16KiB"] ?? {};
  const ratio = (rows, peer) =>
    rows.rennet && rows[peer] ? rows.rennet.requestsPerSecond.median / rows[peer].requestsPerSecond.median : null;
  const goals = [
    { goal: "req/s ≥ 1.6× fastify + reply-from (64 B)", value: ratio(s64, "fastify"), threshold: 1.6, unit: "×" },
    { goal: "req/s ≥ 0.35× nginx (64 B)", value: ratio(s64, "nginx"), threshold: 0.35, unit: "×" },
    { goal: "req/s ≥ 0.45× nginx (16 KiB)", value: ratio(s16, "nginx"), threshold: 0.45, unit: "×" },
  ];
  for (const [key, rows] of [
    ["64 B", s64],
    ["16 KiB", s16],
  ]) {
    const value = rows.rennet && rows.fastify ? rows.rennet.p99Ms.median : null;
    goals.push({
      goal: `p99 no worse than fastify's (${key})`,
      value,
      threshold: rows.fastify?.p99Ms.median ?? null,
      unit: "ms",
      atMost: true,
    });
  }
  for (const g of goals) {
    g.met =
      g.value === null || g.threshold === null ? null : g.atMost ? g.value <= g.threshold : g.value >= g.threshold;
  }
  return goals;
}

const int = (n) => (n === null || n === undefined ? "—" : Math.round(n).toLocaleString("en-US"));
const ms = (n) => (n === null || n === undefined ? "—" : n < 1 ? `${n.toFixed(3)} ms` : `${n.toFixed(2)} ms`);
const times = (n) => (n === null || n === undefined ? "—" : `${n.toFixed(2)}×`);
const pct = (n) => (n === null || n === undefined ? "—" : `${Math.round(n)}%`);
const mib = (n) => (n === null || n === undefined ? "—" : `${n.toFixed(1)} MiB`);
const secs = (msValue) => (msValue === null || msValue === undefined ? "—" : `${(msValue / 1000).toFixed(2)} s`);

function bodyTable(result, bodyKey) {
  const rows = result.summary[bodyKey];
  const lines = [
    "| target | req/s (median) | min–max | × direct | × nginx | p50 | p99 (min–max) | errors | proxy CPU | load core busy | proxy RSS peak | background CPU (max) |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const target of result.targets) {
    const row = rows[target.key];
    if (row === undefined) continue;
    lines.push(
      `| ${target.label} | ${int(row.requestsPerSecond.median)} | ${int(row.requestsPerSecond.min)}–${int(row.requestsPerSecond.max)} | ${times(row.ratioToDirect)} | ${times(row.ratioToNginx)} | ${ms(row.p50Ms.median)} | ${ms(row.p99Ms.median)} (${ms(row.p99Ms.min)}–${ms(row.p99Ms.max)}) | ${int(row.errors)} | ${pct(row.proxyCpuPercent)} | ${pct(row.loadCoreBusyPercent)} | ${mib(row.peakRssMiB)} | ${pct(row.backgroundCpuPercent.max)} |`,
    );
  }
  return lines.join("\n");
}

/** The HTTPS rows: rennet and nginx per row, the same columns as the plain tables. */
function tlsTable(result) {
  const lines = [
    "| row | target | median | min–max | × nginx | p50 | p99 (min–max) | errors | proxy CPU | proxy CPU per request | load core busy | proxy RSS peak | background CPU (max) |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const sc of result.tls.rows) {
    const rows = result.summary[sc.key] ?? {};
    for (const target of result.targets) {
      const row = rows[target.key];
      if (row === undefined) continue;
      lines.push(
        `| ${TLS_SHORT[sc.key] ?? sc.key} | ${target.label} | ${int(row.requestsPerSecond.median)} ${sc.unit} | ${int(row.requestsPerSecond.min)}–${int(row.requestsPerSecond.max)} | ${times(row.ratioToNginx)} | ${ms(row.p50Ms.median)} | ${ms(row.p99Ms.median)} (${ms(row.p99Ms.min)}–${ms(row.p99Ms.max)}) | ${int(row.errors)} | ${pct(row.proxyCpuPercent)} | ${perRequest(row.proxyCpuPercent, row.requestsPerSecond.median)} | ${pct(row.loadCoreBusyPercent)} | ${mib(row.peakRssMiB)} | ${pct(row.backgroundCpuPercent.max)} |`,
      );
    }
  }
  return lines.join("\n");
}

/** CPU time of the proxy per request (µs), from its CPU % and the requests per second. */
const perRequest = (cpuPercent, rps) =>
  cpuPercent === null || cpuPercent === undefined || !rps ? "—" : `${Math.round((cpuPercent / 100 / rps) * 1e6)} µs`;

const TLS_SHORT = {
  https: "HTTPS/1.1 keep-alive",
  "https-new": "new connection + full handshake per request",
  h2: "HTTP/2 keep-alive",
};

/** rennet ÷ nginx per HTTPS row (with the proxies' CPU). */
function tlsRatioTable(result) {
  const lines = [
    "| HTTPS row (64-byte body) | rennet | nginx | rennet ÷ nginx | CPU rennet / nginx |",
    "| --- | ---: | ---: | ---: | ---: |",
  ];
  for (const sc of result.tls.rows) {
    const rows = result.summary[sc.key] ?? {};
    const a = rows.rennet;
    const b = rows.nginx;
    lines.push(
      `| ${TLS_SHORT[sc.key] ?? sc.key} (${sc.unit}) | ${int(a?.requestsPerSecond.median)} | ${int(b?.requestsPerSecond.median)} | ${times(a && b ? a.requestsPerSecond.median / b.requestsPerSecond.median : null)} | ${pct(a?.proxyCpuPercent)} / ${pct(b?.proxyCpuPercent)} |`,
    );
  }
  return lines.join("\n");
}

/** What each TLS proxy negotiated: from the check (Node client) and from the load tools. */
function negotiatedLines(result) {
  const out = [];
  for (const target of result.targets) {
    const n = result.tls.negotiated?.[target.key];
    if (n === undefined) continue;
    const parts = [];
    if (n.check) parts.push(`check (node:tls): ${n.check.protocol} ${n.check.cipher}`);
    for (const sc of result.tls.rows) {
      const m = n[sc.key];
      if (m) parts.push(`${sc.tool}: ${[m.protocol, m.cipher, m.group, m.alpn].filter((x) => x).join(" ")}`);
    }
    out.push(`- ${target.label}: ${parts.join("; ")}.`);
  }
  return out;
}

export const TLS_NOTE = [
  "Method. The certificate is made with openssl at bench time in the bench's temp directory (never committed): a bench CA and a leaf for the bench host, both RSA 2048 — cert-manager's default key — the leaf's key in PKCS#1 as cert-manager writes it. rennet reads it from a kubernetes.io/tls Secret named by the bench Ingress's spec.tls (hosts: the bench host), which is also its --default-certificate; nginx reads the same PEM files. Both allow TLS 1.2 and 1.3 (nginx 1.22 needs ssl_protocols for 1.3), offer h2 and http/1.1 by ALPN, and resume sessions by tickets only (rennet: Node keeps no server-side session cache; nginx: ssl_session_tickets on and ssl_session_cache none, its defaults). Same pinning as the plain rows: the proxy on CPU 0, the backend (plain HTTP/1.1, the same backend as the plain rows) and the load tool on CPU 1.",
  "",
  'Before any load each TLS proxy passed a check over TLS: with SNI the bench host it shows the bench certificate, which verifies against the bench CA for that name; without SNI it shows the same certificate; TLS 1.3 is negotiated; over HTTPS/1.1 and over HTTP/2 the backend saw the client\'s Host, X-Forwarded-For "203.0.113.7, 127.0.0.1" and X-Forwarded-Proto "https", and both bodies came back byte for byte.',
  "",
  "- HTTPS/1.1 keep-alive: wrk, 1 thread, 32 keep-alive connections, https URL (wrk sends the SNI 127.0.0.1 and no ALPN, so both proxies answer with their default certificate — the bench certificate — over HTTP/1.1). Its handshakes are a handful per window; the row measures TLS record encryption and the proxying.",
  "- New connection + full handshake per request: newconn (bench/proxy/newconn.c, compiled against the system OpenSSL at bench time), 32 concurrent slots, each opening a TCP connection, completing a full TLS handshake (SNI the bench host, ALPN http/1.1), sending one GET with Connection: close, reading the response and closing, then starting over. No session is ever resumed (fresh SSL per connection, client session cache off, no ticket kept; the bench refuses a window in which a single handshake resumed). The figure is completed connections per second = full handshakes per second (TLS 1.3 with an X25519 key exchange and an RSA 2048 signature by the server, each plus one proxied request); p50/p99 from connect() to the last byte of the response. wrk with Connection: close is not used because wrk resumes: it keeps the session on the connection object it reuses, so with nginx all but the first handshake of each of its connections were resumptions; h2load resumes likewise when it reconnects.",
  "- HTTP/2 keep-alive: h2load (nghttp2), 1 thread, 32 connections with 1 stream each (32 requests in flight, as in the HTTP/1.1 rows), SNI and :authority the bench host, TLS 1.3 cipher suites offered in OpenSSL's default order as wrk and newconn do; p50/p99 from its per-request log.",
  "",
  "Columns as in the plain tables; proxy CPU per request is the proxy's CPU time divided by what it served (for the new-connection row: the cost of one connection with its handshake and request), comparable between the two even where the load core, not the proxy, limits the rate.",
].join("\n");

function goalsTable(goals) {
  const lines = ["| goal | measured | target | met |", "| --- | ---: | ---: | :---: |"];
  for (const g of goals) {
    const fmt = (v) => (v === null ? "—" : g.unit === "ms" ? ms(v) : times(v));
    lines.push(
      `| ${g.goal} | ${fmt(g.value)} | ${g.atMost ? "≤ " : "≥ "}${fmt(g.threshold)} | ${g.met === null ? "—" : g.met ? "yes" : "**no**"} |`,
    );
  }
  return lines.join("\n");
}

function memoryTable(memory) {
  const lines = [
    "| rennet with | objects | routes | startup to serving | RSS idle | RSS under load (peak) | req/s 64 B (median) | p99 64 B |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const m of memory) {
    lines.push(
      `| ${m.label} | ${int(m.objects)} | ${int(m.routes)} | ${secs(m.startupMs)} | ${mib(m.idleRssMiB)} | ${mib(m.loadPeakRssMiB)} | ${int(m.requestsPerSecond)} | ${ms(m.p99Ms)} |`,
    );
  }
  return lines.join("\n");
}

function workersTable(workers) {
  const lines = [
    "| rennet | req/s (median) | rennet CPU | req/s per core of rennet CPU | p99 | errors |",
    "| --- | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const w of workers) {
    lines.push(
      `| --workers ${w.workers} | ${int(w.requestsPerSecond)} | ${pct(w.proxyCpuPercent)} | ${int(w.requestsPerCoreSecond)} | ${ms(w.p99Ms)} | ${int(w.errors)} |`,
    );
  }
  return lines.join("\n");
}

const WORKERS_NOTE =
  "Both rennet processes (1k Ingresses, 64-byte body) may use both cores (taskset 0,1), as two workers need two; this machine has no third core for wrk and the backend, so they share the cores with rennet and req/s is bounded by the machine. The CPU column is the whole process tree (the control plane is idle); req/s per core is req/s divided by it. --workers 1 is the usual single process; --workers 2 is a control-plane process and two workers.";

function settingsLine(result) {
  const s = result.settings;
  return `Loopback only. wrk ${s.threads} thread, ${s.connections} keep-alive connections; warm-up ${s.warmupSeconds} s, then ${s.durationSeconds} s measured, ${s.repetitions} repetition${s.repetitions === 1 ? "" : "s"} interleaved round-robin across the targets (the order rotates each repetition); medians, min–max over the repetitions.`;
}

function machineLine(result) {
  const m = result.machine;
  return `Measured ${result.date.slice(0, 10)} on ${m.cpuModel} (${m.cores} cores, ${m.memoryGiB} GiB), Linux ${m.kernel}, Node ${result.versions.node}.`;
}

export const PINNING_NOTE =
  "Pinning (taskset): the proxy under test on CPU 0, the backend nginx and wrk together on CPU 1. " +
  "Caveat: the load core also runs the backend, so every row is bounded by what CPU 1 can generate and serve; " +
  "the direct row (no proxy, CPU 0 idle) is the ceiling of this setup, not the physical limit of nginx or of the machine. " +
  'A proxy whose "load core busy" is near 100% while its own CPU is below 100% is limited by the load core, not by itself.';

/** A warning when other work on the machine took CPU during the measured windows. */
function quietness(result) {
  const worst = Math.max(
    ...result.runs.map((r) => r.backgroundCpuPercent ?? 0),
    ...result.memory.map((m) => m.backgroundCpuPercentMax ?? 0),
  );
  if (worst <= 10) return [];
  return [
    "",
    `**Warning: the machine was not quiet.** Other processes used up to ${Math.round(worst)}% of a core during a measured window (${Math.round(result.machine.otherCpuBeforeStartPercent ?? 0)}% just before the start); the rows with a high background CPU are disturbed.`,
  ];
}

/** The full markdown report (bench/results/proxy-latest.md). */
export function markdownReport(result) {
  const parts = [
    `# Proxy benchmark (\`npm run bench:proxy${result.mode === "quick" ? " -- --quick" : ""}\`)`,
    "",
    machineLine(result),
    settingsLine(result),
    "",
    PINNING_NOTE,
    "",
    'Every target first passed a correctness check: the backend saw the client\'s Host, an X-Forwarded-For of "203.0.113.7, 127.0.0.1" for a client that sent "203.0.113.7", and both bodies came back byte for byte. rennet routes through a table of 1,000 Ingresses (one of them for the bench host), with its access log off.',
  ];
  for (const body of result.bodies) {
    parts.push("", `## ${body.label} (GET ${body.path})`, "", bodyTable(result, body.key));
  }
  parts.push(
    "",
    "errors: wrk's non-2xx/3xx responses plus socket errors (connect, read, write, timeout), summed over the repetitions. proxy CPU: utime+stime of the proxy's process tree over the measured window, as a % of one core. load core busy: CPU 1 over the same window. proxy RSS peak: VmRSS of the proxy's process tree, sampled every 100 ms. background CPU: CPU time used during the window by processes other than the proxy, the backend, wrk and the bench itself (% of one core; the highest repetition) — anything above a few % means other work on the machine disturbed that row. A window with more than 10% is measured again (a budget of one retry per three windows); what stays above 10% is left in the table, visible in this column.",
    ...quietness(result),
    "",
    ...(result.tls
      ? [
          "## HTTPS: rennet and nginx terminating TLS with the same certificate",
          "",
          tlsRatioTable(result),
          "",
          tlsTable(result),
          "",
          `Certificate: ${result.tls.certificate}. Negotiated:`,
          "",
          ...negotiatedLines(result),
          "",
          TLS_NOTE,
          "",
        ]
      : []),
    "## rennet against its goals",
    "",
    goalsTable(result.goals),
    "",
    "## rennet's memory",
    "",
    memoryTable(result.memory),
    "",
    "Each row is a rennet process of its own, reading the generated manifests from YAML files (objects: the IngressClass, the Ingresses, their Services and EndpointSlices of three endpoints each); RSS idle is read 1 s after it logs that it serves. The 1k row is the process of the table above (under-load figures from its runs); the 10k row is a second process under the same 64-byte load.",
    "",
    ...(result.workers
      ? ["## Scaling with data-plane workers (--workers)", "", workersTable(result.workers), "", WORKERS_NOTE, ""]
      : []),
    ...(result.pending.length > 0 ? ["## Pending", "", ...result.pending.map((p) => `- ${p}`), ""] : []),
    "## Targets and versions",
    "",
    "| target | configuration | version |",
    "| --- | --- | --- |",
    ...result.targets.map((t) => `| ${t.label} | ${t.notes} | ${t.version} |`),
    ...(result.tls
      ? result.targets.filter((t) => t.tls).map((t) => `| ${t.label} (HTTPS) | ${t.tlsNotes} | ${t.version} |`)
      : []),
    "",
    `Backend: ${result.versions.nginx}, 1 worker, static files, no access log. Load: ${result.versions.wrk}${result.versions.h2load ? `; ${result.versions.h2load}; newconn built against ${result.versions.openssl}` : ""}.`,
    "",
  );
  return parts.join("\n");
}

/** The section of the root README. */
export function readmeSection(result, reportPath) {
  const s64 = result.summary["64B"];
  const s16 = result.summary["16KiB"];
  const lines = [
    README_START,
    `${machineLine(result)} ${settingsLine(result)} Proxy on CPU 0, backend nginx and wrk on CPU 1 (so the direct row is the ceiling of the setup). rennet routes through 1,000 Ingresses. Full report: [${reportPath}](${reportPath}).`,
    "",
    "| target | 64 B req/s | × nginx | p99 | 16 KiB req/s | × nginx | p99 | proxy CPU (64 B) |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const target of result.targets) {
    const a = s64[target.key];
    const b = s16[target.key];
    if (a === undefined || b === undefined) continue;
    lines.push(
      `| ${target.label} | ${int(a.requestsPerSecond.median)} | ${times(a.ratioToNginx)} | ${ms(a.p99Ms.median)} | ${int(b.requestsPerSecond.median)} | ${times(b.ratioToNginx)} | ${ms(b.p99Ms.median)} | ${pct(a.proxyCpuPercent)} |`,
    );
  }
  if (result.tls) {
    lines.push(
      "",
      "HTTPS, rennet and nginx terminating TLS with the same RSA 2048 certificate (TLS 1.3; new connections: a full handshake each, no resumption; details in the full report):",
      "",
      tlsRatioTable(result),
    );
  }
  const met = result.goals.filter((g) => g.met === true).length;
  lines.push(
    "",
    `Goals met: ${met} of ${result.goals.length} (${result.goals.map((g) => `${g.goal}: ${g.met ? "yes" : "no"}`).join("; ")}).`,
    "",
    `rennet RSS: ${result.memory.map((m) => `${m.label}: ${mib(m.idleRssMiB)} idle, ${mib(m.loadPeakRssMiB)} under load`).join("; ")}.`,
    "",
    ...(result.workers
      ? [
          `Data-plane workers (both cores, shared with the load): ${result.workers.map((w) => `--workers ${w.workers}: ${int(w.requestsPerSecond)} req/s at ${pct(w.proxyCpuPercent)} CPU (${int(w.requestsPerCoreSecond)} req/s per core)`).join("; ")}.`,
          "",
        ]
      : []),
    ...(result.pending.length > 0 ? [`Pending: ${result.pending.join(" ")}`] : []),
    ...quietness(result).map((line) =>
      line.replace(/ the rows with .*$/, " see the background column of the full report."),
    ),
    README_END,
  );
  return lines.join("\n");
}

export function writeJson(file, result) {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
}

export function writeText(file, text) {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}

/** Replaces the README section between the markers (appends the markers at the end if missing). */
export function writeReadme(file, section) {
  let text = readFileSync(file, "utf8");
  const start = text.indexOf(README_START);
  const end = text.indexOf(README_END);
  if (start === -1 || end === -1 || end < start) {
    text = `${text.trimEnd()}\n\n${section}\n`;
  } else {
    text = text.slice(0, start) + section + text.slice(end + README_END.length);
  }
  writeFileSync(file, text);
}
