// Child processes of the bench: started pinned to a CPU (taskset), each in its
// own process group, every one of them registered so that it is killed at the
// end — on success, on failure and on SIGINT/SIGTERM/SIGHUP. Also the /proc
// readings: CPU time and resident memory of a process tree, busy time per core.
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { createWriteStream, readdirSync, readFileSync } from "node:fs";
import { createConnection } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/** Every child still alive, by pid. */
const live = new Map();

/** Kernel clock ticks per second (utime/stime in /proc/<pid>/stat). */
export const CLK_TCK = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;

/**
 * Starts `cmd args` pinned to `cpu` (a taskset CPU list, or null for no
 * pinning) in a process group of its own; stdout and stderr go to
 * `<logDir>/<name>.log` and to `onStderr`, if given, line by line.
 */
export function startChild(name, cmd, args, { cpu, logDir, cwd, env, onStderr } = {}) {
  const argv = cpu === null || cpu === undefined ? [cmd, ...args] : ["taskset", "-c", String(cpu), cmd, ...args];
  const logFile = join(logDir, `${name}.log`);
  const log = createWriteStream(logFile, { flags: "a" });
  const child = spawn(argv[0], argv.slice(1), {
    cwd,
    env: env ?? process.env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const entry = { name, child, logFile, exited: false, exitCode: null, exitSignal: null };
  child.stdout.pipe(log, { end: false });
  let pending = "";
  child.stderr.on("data", (chunk) => {
    log.write(chunk);
    if (onStderr === undefined) return;
    pending += chunk.toString("utf8");
    let newline = pending.indexOf("\n");
    while (newline !== -1) {
      onStderr(pending.slice(0, newline));
      pending = pending.slice(newline + 1);
      newline = pending.indexOf("\n");
    }
  });
  entry.exitedPromise = new Promise((resolve) => {
    child.on("exit", (code, signal) => {
      entry.exited = true;
      entry.exitCode = code;
      entry.exitSignal = signal;
      live.delete(child.pid);
      resolve();
    });
    child.on("error", (error) => {
      entry.exited = true;
      entry.error = error;
      live.delete(child.pid);
      resolve();
    });
  });
  child.on("close", () => log.end());
  if (child.pid !== undefined) live.set(child.pid, entry);
  return entry;
}

function signalGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/** Stops one child: `signal`, then SIGKILL to its whole group after `graceMs`. */
export async function stopChild(entry, { signal = "SIGTERM", graceMs = 3000 } = {}) {
  if (entry === undefined || entry.child.pid === undefined) return;
  if (!entry.exited) {
    signalGroup(entry.child.pid, signal);
    const timer = sleep(graceMs).then(() => "timeout");
    if ((await Promise.race([entry.exitedPromise.then(() => "exited"), timer])) === "timeout") {
      signalGroup(entry.child.pid, "SIGKILL");
      await entry.exitedPromise;
    }
  }
  // Whatever the group still holds (e.g. an nginx worker whose master died) goes too.
  signalGroup(entry.child.pid, "SIGKILL");
}

/** Kills every registered child (and its group) at once; synchronous, usable in exit handlers. */
export function killAllNow() {
  for (const pid of [...live.keys()]) signalGroup(pid, "SIGKILL");
  live.clear();
}

/** Stops every registered child, politely first. */
export async function stopAll() {
  await Promise.all([...live.values()].map((entry) => stopChild(entry, { graceMs: 2000 })));
}

let handlersInstalled = false;
/** On SIGINT/SIGTERM/SIGHUP and at exit, no child outlives the bench. */
export function installSignalHandlers(onSignal) {
  if (handlersInstalled) return;
  handlersInstalled = true;
  let stopping = false;
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    // process.on, not once: a second signal (timeout(1) and a terminal signal the
    // whole process group) must not kill the bench before its children are gone.
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      killAllNow();
      process.stderr.write(`\nbench: ${signal}, stopped every child process\n`);
      onSignal?.();
      process.exit(128 + ({ SIGHUP: 1, SIGINT: 2, SIGTERM: 15 }[signal] ?? 0));
    });
  }
  process.once("exit", killAllNow);
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port, or throws after `timeoutMs`. */
export async function waitForPort(port, { timeoutMs = 10_000, entry } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (entry?.exited) throw new Error(`${entry.name} exited (${entry.exitSignal ?? entry.exitCode}) before listening`);
    const ok = await new Promise((resolve) => {
      const socket = createConnection({ host: "127.0.0.1", port });
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort() {
  const { createServer } = await import("node:net");
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Parent pid of every process, read from /proc/<pid>/stat. */
function parents() {
  const out = new Map();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out.set(Number(name), Number(fields[1]));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** `pid` and all its descendants. */
export function processTree(pid) {
  const parentOf = parents();
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) {
    for (const [child, parent] of parentOf) if (parent === tree[i]) tree.push(child);
  }
  return tree;
}

/** utime + stime of the processes, in clock ticks (all threads included). */
export function cpuTicks(pids) {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]); // fields 14 and 15 of proc(5)
    } catch {
      // exited
    }
  }
  return ticks;
}

/** Sum of VmRSS of the processes, in KiB. */
export function rssKiB(pids) {
  let kib = 0;
  for (const pid of pids) {
    try {
      const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      if (match) kib += Number(match[1]);
    } catch {
      // exited
    }
  }
  return kib;
}

/** Busy and total jiffies per core, and user+nice+system jiffies of all cores ("tasks"), from /proc/stat. */
export function coreTimes() {
  const out = { cores: {}, tasks: 0 };
  for (const line of readFileSync("/proc/stat", "utf8").split("\n")) {
    const match = /^cpu(\d+)\s+(.*)$/.exec(line);
    if (!match) continue;
    const [user, nice, system, idle, iowait, irq, softirq, steal] = match[2].split(/\s+/).map(Number);
    const busy = user + nice + system + irq + softirq + steal;
    out.cores[match[1]] = { busy, total: busy + idle + iowait };
    out.tasks += user + nice + system;
  }
  return out;
}

/** Percentage of each core that was busy between two coreTimes() readings. */
export function coreBusy(before, after) {
  const out = {};
  for (const core of Object.keys(after.cores)) {
    const b = before.cores[core] ?? { busy: 0, total: 0 };
    const total = after.cores[core].total - b.total;
    out[core] = total > 0 ? (100 * (after.cores[core].busy - b.busy)) / total : 0;
  }
  return out;
}

/** This process's own CPU time, in clock ticks. */
function selfTicks() {
  const usage = process.cpuUsage();
  return ((usage.user + usage.system) / 1e6) * CLK_TCK;
}

/**
 * Samples while `work(track)` runs: the CPU of the proxy's process tree (% of
 * one core over the whole window), its resident memory every 100 ms (peak),
 * the busy % of every core, and the background: CPU that neither the proxy,
 * the `known` process trees (the backend), the processes passed to `track`
 * (wrk) nor the bench itself used — other work on the machine, in % of one core.
 */
export async function measureWhile(proxyPid, work, { known = [] } = {}) {
  const proxyTree = proxyPid === null ? [] : processTree(proxyPid);
  const knownTree = known.flatMap((pid) => processTree(pid));
  const proxyBefore = cpuTicks(proxyTree);
  const knownBefore = cpuTicks(knownTree);
  const selfBefore = selfTicks();
  const coresBefore = coreTimes();
  const t0 = process.hrtime.bigint();
  const tracked = new Map();
  let peakKiB = rssKiB(proxyTree);
  const sample = () => {
    peakKiB = Math.max(peakKiB, rssKiB(proxyTree));
    for (const pid of tracked.keys()) {
      const ticks = cpuTicks([pid]);
      if (ticks > 0) tracked.set(pid, ticks);
    }
  };
  const sampler = setInterval(sample, 100);
  let result;
  try {
    result = await work((pid) => tracked.set(pid, 0));
  } finally {
    clearInterval(sampler);
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const coresAfter = coreTimes();
  const proxyTicks = cpuTicks(proxyTree) - proxyBefore;
  const ours =
    proxyTicks +
    (cpuTicks(knownTree) - knownBefore) +
    (selfTicks() - selfBefore) +
    [...tracked.values()].reduce((a, b) => a + b, 0);
  const background = Math.max(0, coresAfter.tasks - coresBefore.tasks - ours);
  return {
    result,
    cpuPercent: proxyPid === null ? null : (100 * proxyTicks) / CLK_TCK / seconds,
    peakRssKiB: proxyPid === null ? null : peakKiB,
    coreBusyPercent: coreBusy(coresBefore, coresAfter),
    backgroundCpuPercent: (100 * background) / CLK_TCK / seconds,
  };
}

/** CPU used on the machine over `ms` (all cores, user+nice+system), in % of one core. */
export async function machineBusy(ms = 1000) {
  const before = coreTimes();
  const self = selfTicks();
  await sleep(ms);
  const ticks = coreTimes().tasks - before.tasks - (selfTicks() - self);
  return (100 * ticks) / CLK_TCK / (ms / 1000);
}

/** The last lines of a child's log, for error messages. */
export function logTail(entry, lines = 20) {
  try {
    return readFileSync(entry.logFile, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}
