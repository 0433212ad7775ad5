/**
 * Loads the Kubernetes API double (packages/k8s-sync/test/support/kube-api-double) into this process. Node cannot
 * run its sources directly (imports name `.js` files that are `.ts`, and it uses constructor parameter properties,
 * which type stripping refuses), so it is compiled first with the workspace's TypeScript (no type check, about
 * half a second) into a temporary directory, with a node_modules/yaml link for its one runtime dependency.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type * as DoubleModule from "../../packages/k8s-sync/test/support/kube-api-double/index.ts";

export type { KubeApiDouble, KubeObject } from "../../packages/k8s-sync/test/support/kube-api-double/index.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SOURCE = join(ROOT, "packages/k8s-sync/test/support/kube-api-double");

export interface LoadedDouble {
  readonly module: typeof DoubleModule;
  readonly compileMs: number;
  /** Removes the compiled copy. */
  readonly dispose: () => void;
}

export async function loadDouble(): Promise<LoadedDouble> {
  const started = performance.now();
  const out = mkdtempSync(join(tmpdir(), "rennet-churn-double-"));
  const dispose = () => rmSync(out, { recursive: true, force: true });
  try {
    const tsc = spawnSync(
      process.execPath,
      [
        join(ROOT, "node_modules/typescript/bin/tsc"),
        "--ignoreConfig",
        "--noCheck",
        "--outDir",
        out,
        "--rootDir",
        SOURCE,
        "--module",
        "nodenext",
        "--moduleResolution",
        "nodenext",
        "--target",
        "es2023",
        "--types",
        "node",
        "--skipLibCheck",
        "--declaration",
        "false",
        "--sourceMap",
        "false",
        join(SOURCE, "index.ts"),
      ],
      { cwd: ROOT, encoding: "utf8", timeout: 120_000 },
    );
    if (tsc.status !== 0) throw new Error(`compiling the API double failed:\n${tsc.stdout}\n${tsc.stderr}`);
    mkdirSync(join(out, "node_modules"));
    symlinkSync(realpathSync(join(ROOT, "packages/k8s-sync/node_modules/yaml")), join(out, "node_modules/yaml"), "dir");
    const module = (await import(pathToFileURL(join(out, "index.js")).href)) as typeof DoubleModule;
    return { module, compileMs: performance.now() - started, dispose };
  } catch (error) {
    dispose();
    throw error;
  }
}
