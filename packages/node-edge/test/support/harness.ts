/**
 * One place that starts what a test needs (backends, manifest directories, test CAs, rennet
 * processes) and takes all of it down afterwards: `useHarness()` registers an afterEach hook (or
 * afterAll with "all") in the calling test file that stops every rennet (SIGTERM, SIGKILL after
 * 3 s), closes every backend and removes every temp directory started through it.
 */
import { afterAll, afterEach } from "vitest";
import { type Backend, type BackendOptions, type Pods, startBackend, startPods } from "./backends.js";
import { ManifestDir } from "./manifests.js";
import { type Rennet, type StartOptions, startRennet } from "./rennet.js";
import { Pki } from "./tls-harness.js";

export interface Harness {
  backend(options: BackendOptions): Promise<Backend>;
  pods(name: string, hosts: readonly string[], websocket?: boolean): Promise<Pods>;
  manifestDir(): Promise<ManifestDir>;
  /** A test CA and the leaf certificates it signs, in a temp directory. */
  pki(): Promise<Pki>;
  rennet(options: StartOptions): Promise<Rennet>;
  /** Runs `cleanup` with the others. */
  defer(cleanup: () => Promise<unknown> | unknown): void;
}

export function useHarness(scope: "each" | "all" = "each"): Harness {
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  const hook = scope === "each" ? afterEach : afterAll;
  hook(async () => {
    const errors: unknown[] = [];
    while (cleanups.length > 0) {
      const cleanup = cleanups.pop() as () => Promise<unknown>;
      try {
        await cleanup();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0) throw errors[0];
  }, 15_000);
  return {
    async backend(options) {
      const backend = await startBackend(options);
      cleanups.push(() => backend.close());
      return backend;
    },
    async pods(name, hosts, websocket) {
      const pods = await startPods(name, hosts, websocket);
      cleanups.push(() => pods.close());
      return pods;
    },
    async manifestDir() {
      const dir = await ManifestDir.create();
      cleanups.push(() => dir.dispose());
      return dir;
    },
    async pki() {
      const pki = await Pki.create();
      cleanups.push(() => pki.dispose());
      return pki;
    },
    async rennet(options) {
      const rennet = await startRennet(options);
      cleanups.push(() => rennet.stop(3000));
      return rennet;
    },
    defer(cleanup) {
      cleanups.push(cleanup);
    },
  };
}
