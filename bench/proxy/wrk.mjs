// Runs wrk (one thread, keep-alive connections, --latency) pinned to the load
// core and parses its report: requests/s, latency percentiles, errors. Also
// runPinned, which the other load tools (tls.mjs) use.
import { spawn } from "node:child_process";

const UNIT_MS = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "313.00us" → 0.313 (milliseconds). */
export function parseDuration(text) {
  const match = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  if (!match) throw new Error(`wrk: cannot read the duration "${text}"`);
  return Number(match[1]) * UNIT_MS[match[2]];
}

/** The numbers of one wrk report. */
export function parseWrk(output) {
  const number = (re) => {
    const match = re.exec(output);
    return match ? Number(match[1]) : undefined;
  };
  const requestsPerSecond = number(/^Requests\/sec:\s+([\d.]+)/m);
  const totals = /^\s*(\d+) requests in ([\d.]+\w+), ([\d.]+\w+) read/m.exec(output);
  if (requestsPerSecond === undefined || totals === null) throw new Error(`wrk: unreadable report:\n${output}`);
  const latency = {};
  for (const match of output.matchAll(/^\s+(50|75|90|99(?:\.\d+)?)%\s+(\S+)\s*$/gm)) {
    latency[`p${match[1]}`] = parseDuration(match[2]);
  }
  if (latency.p50 === undefined || latency.p99 === undefined)
    throw new Error(`wrk: no latency distribution:\n${output}`);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const socketErrors = socket
    ? { connect: Number(socket[1]), read: Number(socket[2]), write: Number(socket[3]), timeout: Number(socket[4]) }
    : { connect: 0, read: 0, write: 0, timeout: 0 };
  const non2xx = number(/Non-2xx or 3xx responses: (\d+)/) ?? 0;
  return {
    requestsPerSecond,
    requests: Number(totals[1]),
    elapsedMs: parseDuration(totals[2]),
    latencyMs: latency,
    non2xx,
    socketErrors,
    errors: non2xx + socketErrors.connect + socketErrors.read + socketErrors.write + socketErrors.timeout,
  };
}

/**
 * Runs wrk against http://127.0.0.1:port/path (https:// with `scheme`) with
 * the given Host header. Killed (and rejected) if it outlives its duration by 15 s.
 */
export function runWrk({ port, path, host, seconds, connections = 32, cpu, wrk = "wrk", onSpawn, scheme = "http" }) {
  const args = [
    "-t1",
    `-c${connections}`,
    `-d${seconds}s`,
    "--timeout",
    "2s",
    "--latency",
    "-H",
    `Host: ${host}`,
    `${scheme}://127.0.0.1:${port}${path}`,
  ];
  return runPinned({ cmd: wrk, args, cpu, seconds, onSpawn, name: "wrk" }).then((out) => ({
    ...parseWrk(out),
    raw: out,
  }));
}

/**
 * Runs `cmd args` pinned to `cpu` (taskset), resolves to its stdout. Killed
 * (and rejected) if it outlives `seconds` by 15 s; rejected on a non-zero exit.
 */
export function runPinned({ cmd, args, cpu, seconds, onSpawn, name = cmd }) {
  const argv = cpu === null || cpu === undefined ? [cmd, ...args] : ["taskset", "-c", String(cpu), cmd, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
    if (child.pid !== undefined) onSpawn?.(child.pid);
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
    });
    child.stderr.on("data", (chunk) => {
      err += chunk;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), (seconds + 15) * 1000);
    const stopOnExit = () => child.kill("SIGKILL");
    process.once("exit", stopOnExit);
    child.on("error", (error) => {
      clearTimeout(timer);
      process.off("exit", stopOnExit);
      reject(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      process.off("exit", stopOnExit);
      if (code !== 0) {
        reject(new Error(`${name} exited with ${signal ?? code}: ${err.trim() || out.trim()}`));
        return;
      }
      resolve(out);
    });
  });
}
