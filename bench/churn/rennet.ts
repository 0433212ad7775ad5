/**
 * The real CLI as a child process (`node packages/node-edge/bin/rennet.mjs serve …`), its JSON log lines on
 * stderr timestamped on arrival (performance.now()), and /proc samples of its RSS and CPU time.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { waitForOutput } from "../../packages/node-edge/test/support/wait-for-output.ts";
import { cpuMs, rssBytes } from "./procfs.ts";

export const LAUNCHER = fileURLToPath(new URL("../../packages/node-edge/bin/rennet.mjs", import.meta.url));

export interface LogLine {
  readonly msg?: string;
  readonly level?: string;
  readonly [key: string]: unknown;
}

export interface TimedLog {
  /** performance.now() when the line arrived. */
  readonly at: number;
  readonly line: LogLine;
}

/** One "configuration applied" line. */
export interface Applied {
  readonly at: number;
  readonly generation: number;
  readonly ms: number;
  readonly ingresses: number;
  readonly routes: number;
}

export interface Sample {
  readonly at: number;
  readonly rss: number;
  readonly cpuMs: number;
}

const running = new Set<ChildProcess>();
/** Kills every rennet still running (on exit and on failure). */
export function killAllRennets(): void {
  for (const child of running) child.kill("SIGKILL");
}

export class RennetProcess {
  readonly child: ChildProcess;
  readonly startedAt = performance.now();
  readonly logs: TimedLog[] = [];
  readonly applied: Applied[] = [];
  readonly samples: Sample[] = [];
  readonly stderrTail: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  httpPort = 0;
  adminPort = 0;
  /** The inspector's WebSocket URL, when rennet runs with --inspect. */
  inspectorUrl: string | undefined;
  #listeners = new Set<() => void>();
  #sampler: NodeJS.Timeout;

  constructor(args: readonly string[], env: NodeJS.ProcessEnv, sampleMs: number, execArgv: readonly string[] = []) {
    this.child = spawn(process.execPath, [...execArgv, LAUNCHER, ...args], {
      stdio: ["ignore", "ignore", "pipe"],
      env,
    });
    running.add(this.child);
    let rest = "";
    const stderr = this.child.stderr as NodeJS.ReadableStream;
    stderr.setEncoding("utf8");
    stderr.on("data", (chunk: string) => {
      const at = performance.now();
      rest += chunk;
      let newline = rest.indexOf("\n");
      while (newline !== -1) {
        this.#line(rest.slice(0, newline), at);
        rest = rest.slice(newline + 1);
        newline = rest.indexOf("\n");
      }
      this.#notify();
    });
    this.exited = new Promise((resolve) => {
      this.child.on("close", (code, signal) => {
        running.delete(this.child);
        this.exit = { code, signal };
        clearInterval(this.#sampler);
        this.#notify();
        resolve(this.exit);
      });
    });
    this.#sampler = setInterval(() => this.sample(), sampleMs);
    this.#sampler.unref();
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  sample(): Sample | undefined {
    const rss = rssBytes(this.pid);
    const cpu = cpuMs(this.pid);
    if (rss === undefined || cpu === undefined) return undefined;
    const sample = { at: performance.now(), rss, cpuMs: cpu };
    this.samples.push(sample);
    return sample;
  }

  #line(text: string, at: number): void {
    this.stderrTail.push(text);
    if (this.stderrTail.length > 60) this.stderrTail.shift();
    const inspector = /^Debugger listening on (ws:\/\/\S+)/.exec(text);
    if (inspector) this.inspectorUrl = inspector[1];
    let line: LogLine;
    try {
      line = JSON.parse(text) as LogLine;
    } catch {
      return;
    }
    this.logs.push({ at, line });
    if (line.msg === "configuration applied") {
      this.applied.push({
        at,
        generation: Number(line.generation),
        ms: Number(line.ms),
        ingresses: Number(line.ingresses),
        routes: Number(line.routes),
      });
    }
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) listener();
  }

  /** Resolves with the first log line (from index `from`) satisfying `predicate`; rejects on timeout or exit. */
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs: number, what: string, from = 0): Promise<TimedLog> {
    let checked = from;
    return waitForOutput(this.#listeners, {
      probe: () => {
        for (; checked < this.logs.length; checked++) {
          const entry = this.logs[checked] as TimedLog;
          if (predicate(entry.line)) return entry;
        }
        return undefined;
      },
      timeoutMs,
      exited: () =>
        this.exit === undefined
          ? undefined
          : new Error(`rennet exited (${JSON.stringify(this.exit)}) before ${what}\n${this.tail()}`),
      timedOut: () => new Error(`no ${what} within ${timeoutMs} ms\n${this.tail()}`),
    });
  }

  /**
   * A full garbage collection through the inspector (HeapProfiler.collectGarbage), so that heap figures read
   * afterwards are live data, not garbage waiting for the next GC. Resolves with how long it took, or undefined
   * when rennet runs without --inspect.
   */
  async collectGarbage(timeoutMs = 30_000): Promise<number | undefined> {
    const url = this.inspectorUrl;
    if (url === undefined) return undefined;
    const started = performance.now();
    const socket = new WebSocket(url);
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("inspector: no answer to collectGarbage")), timeoutMs);
        socket.addEventListener("open", () =>
          socket.send(JSON.stringify({ id: 1, method: "HeapProfiler.collectGarbage" })),
        );
        socket.addEventListener("message", (event) => {
          if ((JSON.parse(String(event.data)) as { id?: number }).id === 1) {
            clearTimeout(timer);
            resolve();
          }
        });
        socket.addEventListener("error", () => {
          clearTimeout(timer);
          reject(new Error("inspector: WebSocket error"));
        });
      });
    } finally {
      socket.close();
    }
    return performance.now() - started;
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.exit !== undefined) return;
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  tail(): string {
    return `--- rennet stderr (last lines) ---\n${this.stderrTail.slice(-30).join("\n")}`;
  }
}

export function portOf(address: unknown): number {
  const port = Number(String(address).split(":").pop());
  if (!Number.isInteger(port) || port <= 0) throw new Error(`no port in ${String(address)}`);
  return port;
}
