/**
 * Child process (forked by run.ts): the constant load. `concurrency` keep-alive connections (node:http Agent),
 * each a closed loop paced to rps/concurrency requests per second, going round the given hosts (routes that
 * exist for the whole run). Anything but a 200, and any error or timeout, is a failed request.
 *
 * IPC in: {type:"start", port, hosts, rps, concurrency, timeoutMs}, {type:"phase", name}, {type:"stop"}.
 * IPC out: {type:"started"}, {type:"stats", phases: PhaseStats[]} (then it exits).
 */
import { Agent, request } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";

export interface LoadFailure {
  /** Epoch ms (performance.timeOrigin + now(): sub-millisecond, comparable across processes). */
  readonly at: number;
  readonly host: string;
  readonly status?: number;
  readonly error?: string;
  readonly body?: string;
}

export interface PhaseStats {
  readonly name: string;
  readonly startedAt: number;
  endedAt: number;
  requests: number;
  failed: number;
  readonly statuses: Record<string, number>;
  readonly errors: Record<string, number>;
  /** Latency percentiles (ms) over this phase's requests. */
  latencyMs?: { p50: number; p99: number; max: number };
  readonly failures: LoadFailure[];
}

interface StartMessage {
  readonly type: "start";
  readonly port: number;
  readonly hosts: readonly string[];
  readonly rps: number;
  readonly concurrency: number;
  readonly timeoutMs: number;
}

const MAX_FAILURE_SAMPLES = 200;
const epoch = () => performance.timeOrigin + performance.now();

let phase: PhaseStats = newPhase("warmup");
let latencies: number[] = [];
const phases: PhaseStats[] = [phase];
let running = false;

function newPhase(name: string): PhaseStats {
  return { name, startedAt: epoch(), endedAt: 0, requests: 0, failed: 0, statuses: {}, errors: {}, failures: [] };
}

function closePhase(): void {
  phase.endedAt = epoch();
  const sorted = latencies.sort((a, b) => a - b);
  if (sorted.length > 0) {
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
    phase.latencyMs = { p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] as number };
  }
  latencies = [];
}

function get(
  agent: Agent,
  port: number,
  host: string,
  timeoutMs: number,
): Promise<{ status?: number; error?: string; body?: string }> {
  return new Promise((resolve) => {
    const req = request({ host: "127.0.0.1", port, path: "/", headers: { host }, agent }, (res) => {
      const status = res.statusCode ?? 0;
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        if (status !== 200 && body.length < 200) body += chunk;
      });
      res.on("end", () => resolve(status === 200 ? { status } : { status, body: body.slice(0, 200) }));
      res.on("error", (error) => resolve({ status, error: `response: ${error.message}` }));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on("error", (error) => resolve({ error: (error as NodeJS.ErrnoException).code ?? error.message }));
    req.end();
  });
}

async function worker(options: StartMessage, agent: Agent, offset: number): Promise<void> {
  const interval = (1000 * options.concurrency) / options.rps;
  let next = performance.now() + (offset * interval) / options.concurrency;
  let index = offset;
  while (running) {
    const wait = next - performance.now();
    if (wait > 0) await sleep(wait);
    else if (wait < -1000) next = performance.now(); // far behind: no catch-up burst
    if (!running) break;
    next += interval;
    const host = options.hosts[index % options.hosts.length] as string;
    index += options.concurrency;
    const started = performance.now();
    const result = await get(agent, options.port, host, options.timeoutMs);
    const current = phase;
    latencies.push(performance.now() - started);
    current.requests++;
    if (result.status !== undefined) current.statuses[result.status] = (current.statuses[result.status] ?? 0) + 1;
    if (result.error !== undefined) current.errors[result.error] = (current.errors[result.error] ?? 0) + 1;
    if (result.status !== 200 || result.error !== undefined) {
      current.failed++;
      if (current.failures.length < MAX_FAILURE_SAMPLES) current.failures.push({ at: epoch(), host, ...result });
    }
  }
}

let workers: Promise<void>[] = [];

process.on("message", (message: { type?: string; name?: string }) => {
  if (message?.type === "start") {
    const options = message as StartMessage;
    const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency, maxFreeSockets: options.concurrency });
    running = true;
    workers = Array.from({ length: options.concurrency }, (_, k) => worker(options, agent, k));
    process.send?.({ type: "started" });
  } else if (message?.type === "phase") {
    closePhase();
    phase = newPhase(message.name ?? "?");
    phases.push(phase);
  } else if (message?.type === "stop") {
    running = false;
    void Promise.all(workers).then(() => {
      closePhase();
      process.send?.({ type: "stats", phases }, () => process.exit(0));
    });
  }
});
process.on("disconnect", () => process.exit(0));
process.send?.({ type: "hello" });
