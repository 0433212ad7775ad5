/** Temp manifest files and a ManifestSource that records what it reports, for the file-watching tests. */
import { mkdtemp, realpath, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { KubeObject, LogEntry, ManifestSourceOptions } from "../../src/index.js";
import { ManifestSource } from "../../src/index.js";

export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await realpath(await mkdtemp(join(tmpdir(), "rennet-k8s-sync-")));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A Service manifest; `port` makes different contents of the same object. */
export function serviceYaml(name: string, port = 80, namespace?: string): string {
  return `apiVersion: v1
kind: Service
metadata:
  name: ${name}
${namespace === undefined ? "" : `  namespace: ${namespace}\n`}spec:
  ports:
    - name: http
      port: ${port}
`;
}

export interface Recorder {
  readonly source: ManifestSource;
  /** Every onChange call, in order. */
  readonly changes: KubeObject[][];
  readonly logs: LogEntry[];
  /** The objects of the last onChange, as "Kind namespace/name:port" (port for Services). */
  latest(): string[];
}

export function describeObject(object: KubeObject): string {
  const port = (object as { spec?: { ports?: Array<{ port?: number }> } }).spec?.ports?.[0]?.port;
  const ns = object.metadata?.namespace;
  return `${object.kind} ${ns === undefined ? "" : `${ns}/`}${object.metadata?.name}${port === undefined ? "" : `:${port}`}`;
}

export function recorder(options: Partial<ManifestSourceOptions> & Pick<ManifestSourceOptions, "paths">): Recorder {
  const changes: KubeObject[][] = [];
  const logs: LogEntry[] = [];
  const source = new ManifestSource({
    onChange: (objects) => changes.push([...objects]),
    log: (entry) => logs.push(entry),
    ...options,
  });
  return {
    source,
    changes,
    logs,
    latest: () => (changes.at(-1) ?? []).map(describeObject).sort(),
  };
}

/** Polls `condition` every 10 ms for up to `timeoutMs`; resolves with the milliseconds it took. */
export async function waitFor(what: string, condition: () => boolean, timeoutMs = 3000): Promise<number> {
  const started = performance.now();
  while (!condition()) {
    if (performance.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
  return performance.now() - started;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
