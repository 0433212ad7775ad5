/**
 * Runs a worker inside workerd (Cloudflare's Workers runtime) for tests.
 *
 * `startWorkerd` writes a Cap'n Proto config and copies of the worker's modules into a fresh temp
 * directory, starts `workerd serve` with an HTTP socket on 127.0.0.1 port 0, learns the port that
 * workerd picked from its control descriptor (`--control-fd`, one JSON line per listening socket),
 * waits until that port answers, and hands back the URL. Every wait is bounded; if anything goes
 * wrong the process is killed and the error carries workerd's output. `stop()` always kills it and
 * removes the temp directory; processes still running when the test process exits are killed too.
 *
 * Modules are listed one by one (no bundler): a module's `name` is the specifier the worker sees,
 * and relative imports resolve against it, so `distModules(dir, "router/")` makes a tsc output
 * directory importable as "./router/index.js" from a main module named "worker.js". A bare import
 * ("hono") resolves to the module of exactly that name, so a package can be mounted with
 * `distModules(".../hono/dist", "hono/dist/")` plus an alias module
 * `{ name: "hono", contents: 'export * from "./hono/dist/index.js";' }`.
 *
 * Node APIs are off by default: workerd turns nodejs_compat on by default for compatibility dates
 * from 2026-08-04, so the harness adds "no_nodejs_compat" and "no_nodejs_compat_v2" unless
 * `nodejsCompat` is set. Outbound network is off by default; `outbound: "local"` lets the worker's
 * fetch() reach loopback (and other local) addresses only, e.g. a backend the test started.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, relative, sep } from "node:path";
import type { Readable } from "node:stream";

export type WorkerdModuleType = "esModule" | "commonJsModule" | "text" | "data" | "json" | "wasm";

export interface WorkerdModule {
  /** The specifier the worker sees, e.g. "worker.js" or "router/index.js". Relative imports resolve against it. */
  readonly name: string;
  /** Default "esModule". */
  readonly type?: WorkerdModuleType;
  /** A file to copy into the config directory... */
  readonly path?: string;
  /** ...or the module's contents. Exactly one of `path` and `contents`. */
  readonly contents?: string | Uint8Array;
}

export type WorkerdBinding =
  | { readonly text: string }
  | { readonly json: unknown }
  /** Name of a service of the config: "main", "outbound", or one from `extraServices`. */
  | { readonly service: string };

export interface WorkerdOptions {
  /** The worker's modules; the first one is the main module (it must `export default { fetch }`). */
  readonly modules: readonly WorkerdModule[];
  /** Default: the newest date the installed workerd supports. */
  readonly compatibilityDate?: string;
  /** Extra compatibility flags. */
  readonly compatibilityFlags?: readonly string[];
  /** Allow Node.js APIs (nodejs_compat). Default false: "no_nodejs_compat" and "no_nodejs_compat_v2" are set. */
  readonly nodejsCompat?: boolean;
  /**
   * What the worker's global fetch() may reach. "none" (default): nothing. "local": loopback and
   * other local addresses only (workerd network service with allow = ["local"]).
   */
  readonly outbound?: "none" | "local";
  /** Bindings on the worker's `env`. */
  readonly bindings?: Readonly<Record<string, WorkerdBinding>>;
  /**
   * Extra services, as Cap'n Proto text of one `Workerd.Service` each, e.g.
   * `(name = "backend", external = (address = "127.0.0.1:8080", http = ()))`.
   */
  readonly extraServices?: readonly string[];
  /** Bound on the whole start-up (spawn, listen, first answer), in ms. Default 15 000. */
  readonly timeoutMs?: number;
  /** The workerd binary. Default: the one of the `workerd` npm package. */
  readonly binary?: string;
}

export interface WorkerdInstance {
  /** Base URL of the worker, e.g. "http://127.0.0.1:41234". */
  readonly url: string;
  readonly port: number;
  /** The generated Cap'n Proto config (for assertions and debugging). */
  readonly config: string;
  /** workerd's stdout and stderr so far (the last 256 KiB), interleaved as received. */
  output(): string;
  /** Kills workerd (SIGTERM, then SIGKILL after 5 s) and removes the temp directory. Safe to call twice. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const OUTPUT_LIMIT = 256 * 1024;
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const child of running) child.kill("SIGKILL");
  });
}

/** Path of the workerd binary shipped by the `workerd` npm package. */
export function workerdBinary(): string {
  const mod = createRequire(import.meta.url)("workerd") as { default?: unknown } | string;
  const bin = typeof mod === "string" ? mod : mod.default;
  if (typeof bin !== "string") throw new Error("the workerd package did not export its binary path");
  return bin;
}

/** The newest compatibility date the installed workerd supports. */
export function workerdCompatibilityDate(): string {
  const mod = createRequire(import.meta.url)("workerd") as { compatibilityDate?: unknown };
  if (typeof mod.compatibilityDate !== "string")
    throw new Error("the workerd package did not export compatibilityDate");
  return mod.compatibilityDate;
}

/** Every .js/.mjs file under `dir`, as ES modules named `prefix` + path relative to `dir` (with "/"). */
export async function distModules(dir: string, prefix = ""): Promise<WorkerdModule[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && /\.m?js$/.test(e.name))
    .map((e) => join(e.parentPath, e.name))
    .sort()
    .map((path) => ({ name: prefix + relative(dir, path).split(sep).join("/"), path }));
}

const SAFE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.@+/-]*$/;

function checkName(kind: string, name: string): void {
  if (!SAFE_NAME.test(name) || name.includes("..") || name.includes("//")) {
    throw new Error(`workerd harness: unsupported ${kind} name ${JSON.stringify(name)}`);
  }
}

/** Cap'n Proto text literal (JSON string escapes are a subset that Cap'n Proto accepts, except \u). */
function capnpString(value: string): string {
  if (!/^[\x20-\x7e]*$/.test(value))
    throw new Error(`workerd harness: non-ASCII config string ${JSON.stringify(value)}`);
  return JSON.stringify(value);
}

export async function startWorkerd(options: WorkerdOptions): Promise<WorkerdInstance> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const deadline = Date.now() + timeoutMs;
  if (options.modules.length === 0) throw new Error("workerd harness: no modules");

  const dir = await mkdtemp(join(tmpdir(), "rennet-workerd-"));
  let child: ChildProcess | undefined;
  let output = "";
  const append = (chunk: Buffer | string): void => {
    output += chunk.toString();
    if (output.length > OUTPUT_LIMIT) output = output.slice(output.length - OUTPUT_LIMIT);
  };

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      if (child) await kill(child);
      await rm(dir, { recursive: true, force: true });
    })();
    return stopped;
  };

  try {
    const config = await writeConfig(dir, options);
    child = spawn(options.binary ?? workerdBinary(), ["serve", "config.capnp", "--control-fd=3"], {
      cwd: dir,
      stdio: ["ignore", "pipe", "pipe", "pipe"],
    });
    running.add(child);
    installExitHook();
    child.stdout?.on("data", append);
    child.stderr?.on("data", append);

    const port = await waitForListen(child, deadline);
    const url = `http://127.0.0.1:${port}`;
    await waitForAnswer(url, child, deadline);
    return { url, port, config, output: () => output, stop, [Symbol.asyncDispose]: stop };
  } catch (error) {
    await stop();
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`${message}\n--- workerd output ---\n${output || "(none)"}`, { cause: error });
  }
}

async function writeConfig(dir: string, options: WorkerdOptions): Promise<string> {
  const moduleLines: string[] = [];
  for (const [i, module] of options.modules.entries()) {
    checkName("module", module.name);
    const type = module.type ?? "esModule";
    // stored by index: names "a" and "a/b.js" may both exist
    const file = join(dir, "modules", String(i));
    await mkdir(dirname(file), { recursive: true });
    if ((module.path === undefined) === (module.contents === undefined)) {
      throw new Error(`workerd harness: module ${module.name} needs exactly one of path and contents`);
    }
    await writeFile(file, module.contents ?? (await readFile(module.path as string)));
    moduleLines.push(`    (name = ${capnpString(module.name)}, ${type} = embed "modules/${i}"),`);
    if (i === 0 && type !== "esModule") throw new Error("workerd harness: the main module must be an ES module");
  }

  const bindingLines: string[] = [];
  for (const [name, binding] of Object.entries(options.bindings ?? {})) {
    checkName("binding", name);
    if ("service" in binding) {
      checkName("service", binding.service);
      bindingLines.push(`    (name = ${capnpString(name)}, service = ${capnpString(binding.service)}),`);
      continue;
    }
    const file = join(dir, "bindings", name);
    await mkdir(dirname(file), { recursive: true });
    if ("text" in binding) {
      await writeFile(file, binding.text);
      bindingLines.push(`    (name = ${capnpString(name)}, text = embed "bindings/${name}"),`);
    } else {
      await writeFile(file, JSON.stringify(binding.json));
      bindingLines.push(`    (name = ${capnpString(name)}, json = embed "bindings/${name}"),`);
    }
  }

  const flags = [...(options.nodejsCompat ? [] : ["no_nodejs_compat", "no_nodejs_compat_v2"])];
  for (const flag of options.compatibilityFlags ?? []) if (!flags.includes(flag)) flags.push(flag);
  const allow = options.outbound === "local" ? `["local"]` : "[]";

  const config = `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .mainWorker),
    (name = "outbound", network = (allow = ${allow})),
${(options.extraServices ?? []).map((s) => `    ${s},\n`).join("")}  ],
  sockets = [ (name = "http", address = "127.0.0.1:0", http = (), service = "main") ],
);

const mainWorker :Workerd.Worker = (
  modules = [
${moduleLines.join("\n")}
  ],
  bindings = [
${bindingLines.join("\n")}
  ],
  compatibilityDate = ${capnpString(options.compatibilityDate ?? workerdCompatibilityDate())},
  compatibilityFlags = [${flags.map(capnpString).join(", ")}],
  globalOutbound = "outbound",
);
`;
  await writeFile(join(dir, "config.capnp"), config);
  return config;
}

function exitDescription(child: ChildProcess): string | undefined {
  if (child.exitCode !== null) return `workerd exited with code ${child.exitCode}`;
  if (child.signalCode !== null) return `workerd was killed by ${child.signalCode}`;
  return undefined;
}

/** Resolves with the port from workerd's first "listen" control message. */
function waitForListen(child: ChildProcess, deadline: number): Promise<number> {
  const control = child.stdio[3] as Readable | null;
  if (!control) return Promise.reject(new Error("workerd harness: no control descriptor"));
  return new Promise<number>((resolve, reject) => {
    let buffered = "";
    const finish = (error: Error | undefined, port?: number): void => {
      clearTimeout(timer);
      control.off("data", onData);
      child.off("exit", onExit);
      child.off("error", onError);
      if (error) reject(error);
      else resolve(port as number);
    };
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString();
      for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (!line) continue;
        try {
          const message = JSON.parse(line) as { event?: string; socket?: string; port?: number };
          if (message.event === "listen" && message.socket === "http" && typeof message.port === "number") {
            finish(undefined, message.port);
            return;
          }
        } catch {
          // not JSON: ignore
        }
      }
    };
    const onExit = (): void => finish(new Error(`${exitDescription(child)} before listening`));
    const onError = (error: Error): void => finish(new Error(`could not start workerd: ${error.message}`));
    const timer = setTimeout(
      () => finish(new Error("workerd did not report a listening port within the time limit")),
      Math.max(0, deadline - Date.now()),
    );
    control.on("data", onData);
    child.once("exit", onExit);
    child.once("error", onError);
    if (exitDescription(child)) onExit();
  });
}

/** Polls `url` until any HTTP response comes back. */
async function waitForAnswer(url: string, child: ChildProcess, deadline: number): Promise<void> {
  let last: unknown;
  while (Date.now() < deadline) {
    const exited = exitDescription(child);
    if (exited) throw new Error(`${exited} before answering`);
    try {
      const response = await fetch(url, {
        signal: AbortSignal.timeout(Math.max(1, Math.min(2_000, deadline - Date.now()))),
      });
      await response.arrayBuffer();
      return;
    } catch (error) {
      last = error;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`workerd did not answer on ${url} within the time limit: ${String(last)}`);
}

async function kill(child: ChildProcess): Promise<void> {
  if (exitDescription(child)) {
    running.delete(child);
    return;
  }
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    exited.then(() => false),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), 5_000);
    }),
  ]);
  clearTimeout(timer);
  if (timedOut) {
    child.kill("SIGKILL");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
  }
  running.delete(child);
}
