/**
 * The two ways objects reach rennet: manifest files in a directory (one file per ~100 apps; a change rewrites one
 * file by write-then-rename), or the Kubernetes API double (a change is double.apply()/delete() on its back door,
 * which the informers see as watch events).
 */
import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { KubeApiDouble, KubeObject, LoadedDouble } from "./double.ts";
import { type Cluster, fileName, ingressClass, type Manifest, NAMESPACE, toYaml } from "./objects.ts";

export interface Change {
  /** The manifest file holding every object the change touches. */
  readonly file: number;
  readonly upserts: readonly Manifest[];
  readonly deletes: readonly { readonly kind: string; readonly name: string }[];
}

export interface SeedInfo {
  readonly ms: number;
  readonly objects: number;
  readonly files?: number;
  readonly bytes?: number;
}

export interface Source {
  readonly name: "manifests" | "api";
  seed(): Promise<SeedInfo>;
  /** Flags for `rennet serve` that select this source. */
  args(): string[];
  /** Makes the change; resolves once it is made (file renamed into place / double.apply() returned). */
  commit(change: Change): Promise<void>;
  close(): Promise<void>;
}

export class ManifestFiles implements Source {
  readonly name = "manifests" as const;
  readonly #cluster: Cluster;
  readonly #dir: string;
  #renames = 0;

  private constructor(cluster: Cluster, dir: string) {
    this.#cluster = cluster;
    this.#dir = dir;
  }

  static async create(cluster: Cluster): Promise<ManifestFiles> {
    return new ManifestFiles(cluster, await mkdtemp(join(tmpdir(), "rennet-churn-manifests-")));
  }

  async seed(): Promise<SeedInfo> {
    const started = performance.now();
    let bytes = 0;
    let objects = 1;
    const klass = toYaml([ingressClass()]);
    await writeFile(join(this.#dir, "00-ingress-class.yaml"), klass);
    bytes += klass.length;
    for (let file = 0; file < this.#cluster.fileCount; file++) {
      const content = this.#cluster.fileObjects(file);
      objects += content.length;
      const text = toYaml(content);
      bytes += text.length;
      await writeFile(join(this.#dir, fileName(file)), text);
    }
    return { ms: performance.now() - started, objects, files: this.#cluster.fileCount + 1, bytes };
  }

  args(): string[] {
    return ["--manifests", this.#dir];
  }

  async commit(change: Change): Promise<void> {
    const name = fileName(change.file);
    // A hidden temp file beside it (the source ignores dot files), then an atomic rename over it.
    const temp = join(this.#dir, `.${name}.${this.#renames++}.tmp`);
    await writeFile(temp, toYaml(this.#cluster.fileObjects(change.file)));
    await rename(temp, join(this.#dir, name));
  }

  async close(): Promise<void> {
    await rm(this.#dir, { recursive: true, force: true });
  }
}

export class ApiDouble implements Source {
  readonly name = "api" as const;
  readonly #cluster: Cluster;
  readonly #loaded: LoadedDouble;
  #double: KubeApiDouble | undefined;

  constructor(cluster: Cluster, loaded: LoadedDouble) {
    this.#cluster = cluster;
    this.#loaded = loaded;
  }

  get double(): KubeApiDouble {
    if (this.#double === undefined) throw new Error("API double not started");
    return this.#double;
  }

  async seed(): Promise<SeedInfo> {
    this.#double = await this.#loaded.module.startKubeApiDouble();
    const started = performance.now();
    const objects = this.#cluster.allObjects();
    for (const object of objects) this.#double.apply(object as KubeObject);
    return { ms: performance.now() - started, objects: objects.length };
  }

  args(): string[] {
    return ["--kubeconfig", this.double.kubeconfigPath, "--election-namespace", "rennet"];
  }

  async commit(change: Change): Promise<void> {
    for (const object of change.upserts) this.double.apply(object as KubeObject);
    for (const { kind, name } of change.deletes) this.double.delete(kind, NAMESPACE, name);
  }

  async close(): Promise<void> {
    await this.#double?.stop();
  }
}
