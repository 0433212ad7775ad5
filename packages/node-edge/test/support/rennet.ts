/**
 * The real rennet CLI as a child process: `node bin/rennet.mjs serve …` on 127.0.0.1 with
 * ephemeral ports, learnt from the JSON line `{"msg":"rennet is serving","http":…,"https":…,"admin":…}`
 * it logs on stderr. stdout (the access log) and stderr (operational log) are kept line by line.
 * Run `tsc -b` first: the launcher loads dist/cli.js.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { waitForOutput } from "./wait-for-output.js";

export const LAUNCHER = fileURLToPath(new URL("../../bin/rennet.mjs", import.meta.url));

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface LogLine {
  readonly msg?: string;
  readonly level?: string;
  readonly [key: string]: unknown;
}

export interface AccessLogLine {
  readonly time: string;
  readonly method: string;
  readonly host: string;
  readonly path: string;
  readonly status: number;
  readonly bytes: number;
  readonly durationMs: number;
  readonly upstream: string;
  readonly ingress: string;
  readonly service: string;
  readonly upstreamError?: string;
}

const running = new Set<ChildProcess>();
// Should the test process die without its hooks, no rennet outlives it.
process.on("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

function lines(stream: NodeJS.ReadableStream, into: string[], onLine: () => void): void {
  let rest = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    rest += chunk;
    let newline = rest.indexOf("\n");
    while (newline !== -1) {
      into.push(rest.slice(0, newline));
      rest = rest.slice(newline + 1);
      newline = rest.indexOf("\n");
    }
    onLine();
  });
  stream.on("end", () => {
    if (rest !== "") into.push(rest);
    rest = "";
    onLine();
  });
}

function parse(line: string): LogLine | undefined {
  try {
    return JSON.parse(line) as LogLine;
  } catch {
    return undefined;
  }
}

export class Rennet {
  readonly child: ChildProcess;
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<Exit>;
  httpPort = 0;
  httpsPort = 0;
  adminPort = 0;
  #exit: Exit | undefined;
  #listeners = new Set<() => void>();

  constructor(args: readonly string[], env?: NodeJS.ProcessEnv) {
    this.child = spawn(process.execPath, [LAUNCHER, ...args], { stdio: ["ignore", "pipe", "pipe"], env });
    running.add(this.child);
    const notify = () => {
      for (const listener of this.#listeners) listener();
    };
    lines(this.child.stdout as NodeJS.ReadableStream, this.stdout, notify);
    lines(this.child.stderr as NodeJS.ReadableStream, this.stderr, notify);
    this.exited = new Promise((resolve) => {
      // "close": the process exited and its output has been read to the end.
      this.child.on("close", (code, signal) => {
        running.delete(this.child);
        this.#exit = { code, signal };
        notify();
        resolve(this.#exit);
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get exit(): Exit | undefined {
    return this.#exit;
  }

  /** Base URL of the proxy listener. */
  get url(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  get adminUrl(): string {
    return `http://127.0.0.1:${this.adminPort}`;
  }

  /** The operational log (stderr), parsed. */
  logs(): LogLine[] {
    return this.stderr.map(parse).filter((line): line is LogLine => line !== undefined);
  }

  /** The access log (stdout), parsed; a line that is not JSON fails the test. */
  accessLog(): AccessLogLine[] {
    return this.stdout.filter((line) => line !== "").map((line) => JSON.parse(line) as AccessLogLine);
  }

  /** Resolves with the first stderr log line satisfying `predicate`, or rejects after `timeoutMs` or on exit. */
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs = 5000, from = 0): Promise<LogLine> {
    return this.#waitFor(
      () =>
        this.stderr
          .slice(from)
          .map(parse)
          .find((line) => line !== undefined && predicate(line)),
      timeoutMs,
      "log line",
    );
  }

  /** Resolves with the first access log line satisfying `predicate`. */
  waitForAccessLog(predicate: (line: AccessLogLine) => boolean, timeoutMs = 5000): Promise<AccessLogLine> {
    return this.#waitFor(() => this.accessLog().find(predicate), timeoutMs, "access log line");
  }

  #waitFor<T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return waitForOutput(this.#listeners, {
      probe,
      timeoutMs,
      exited: () =>
        this.#exit === undefined
          ? undefined
          : new Error(`rennet exited (${JSON.stringify(this.#exit)}) before the ${what}\n${this.output()}`),
      timedOut: () => new Error(`no ${what} within ${timeoutMs} ms\n${this.output()}`),
    });
  }

  /** How many configurations were applied so far (stderr "configuration applied" lines). */
  appliedCount(): number {
    return this.logs().filter((line) => line.msg === "configuration applied").length;
  }

  /** Resident set size of the rennet process in bytes, from /proc/<pid>/status. */
  rss(): number {
    const status = readFileSync(`/proc/${this.pid}/status`, "utf8");
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    if (match === null) throw new Error("no VmRSS in /proc status");
    return Number(match[1]) * 1024;
  }

  signal(signal: NodeJS.Signals): void {
    if (this.#exit === undefined) this.child.kill(signal);
  }

  /** SIGTERM, then SIGKILL when it has not exited after `graceMs`. */
  async stop(graceMs = 5000): Promise<Exit> {
    if (this.#exit !== undefined) return this.#exit;
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  output(): string {
    return `--- rennet stderr ---\n${this.stderr.slice(-40).join("\n")}\n--- rennet stdout (last 10) ---\n${this.stdout.slice(-10).join("\n")}`;
  }
}

export interface StartOptions {
  readonly manifests: readonly string[];
  /** More flags for `rennet serve`. */
  readonly args?: readonly string[];
  /** Bound on the start-up. Default 10 s. */
  readonly timeoutMs?: number;
  /** Environment variables added to the test process's own. */
  readonly env?: Readonly<Record<string, string>>;
}

/** Starts `rennet serve` and resolves once it logs that it is serving. */
export async function startRennet(options: StartOptions): Promise<Rennet> {
  const args = ["serve", "--bind", "127.0.0.1", "--http-port", "0", "--https-port", "0", "--admin-port", "0"];
  for (const path of options.manifests) args.push("--manifests", path);
  args.push(...(options.args ?? []));
  const env = options.env === undefined ? undefined : { ...process.env, ...options.env };
  return untilServing(new Rennet(args, env), options.timeoutMs);
}

/**
 * Resolves with `rennet` once it logs that it is serving, its ports taken from that line. One that
 * does not get there is killed: a failed start must not leave a process behind.
 */
export async function untilServing(rennet: Rennet, timeoutMs = 10_000): Promise<Rennet> {
  try {
    const serving = await rennet.waitForLog((line) => line.msg === "rennet is serving", timeoutMs);
    rennet.httpPort = portOf(serving.http);
    rennet.httpsPort = portOf(serving.https);
    rennet.adminPort = portOf(serving.admin);
  } catch (error) {
    rennet.child.kill("SIGKILL");
    await rennet.exited;
    throw error;
  }
  return rennet;
}

function portOf(address: unknown): number {
  const port = Number(String(address).split(":").pop());
  if (!Number.isInteger(port) || port <= 0) throw new Error(`no port in ${String(address)}`);
  return port;
}

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI to completion (killed after `timeoutMs`). */
export async function runCli(
  args: readonly string[],
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<CliResult> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const rennet = new Rennet(args, options.env);
  const timer = setTimeout(() => rennet.child.kill("SIGKILL"), timeoutMs);
  const exit = await rennet.exited;
  clearTimeout(timer);
  return { ...exit, stdout: rennet.stdout.join("\n"), stderr: rennet.stderr.join("\n") };
}
