import { type FSWatcher, watch } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import type { Log } from "../log.js";
import type { KubeObject } from "../objects.js";
import { parseManifests } from "./parse-manifests.js";

const MANIFEST_FILE = /\.(ya?ml|json)$/i;

export interface ManifestSourceOptions {
  /** Files or directories (read recursively). */
  readonly paths: readonly string[];
  /** Called with every object of every file after the first load and after each applied change. */
  readonly onChange: (objects: readonly KubeObject[]) => void;
  readonly log: Log;
  /** The clock that stamps objects without creationTimestamp when first read. */
  readonly now?: () => number;
  /** How long a burst of file events is gathered before a rescan. */
  readonly debounceMs?: number;
  /** When a file does not parse (maybe half-written), how soon it is read again. */
  readonly retryMs?: number;
  /** A full rescan this often, in case the platform drops a watch event. */
  readonly rescanMs?: number;
  /**
   * A file modified less than this long ago is read again once it has been
   * quiet that long: a file rewritten in place can parse cleanly halfway
   * through (cut at a document boundary, or still empty).
   */
  readonly settleMs?: number;
}

interface FileState {
  readonly signature: string;
  /** The last content that parsed; kept while newer content is broken. */
  readonly objects: readonly KubeObject[];
  readonly broken: boolean;
  /** The signature the file had when it was first found empty (its objects are kept until seen so twice). */
  readonly emptied?: string;
}

function identity(object: KubeObject): string {
  return `${object.kind}/${object.metadata?.namespace ?? ""}/${object.metadata?.name ?? ""}`;
}

/**
 * Kubernetes objects from manifest files, kept current as the files change.
 * Works with in-place rewrites and write-then-rename alike: it watches the
 * directories and rescans by signature (inode, size, mtime). A file that does
 * not parse keeps its last good objects and is retried shortly.
 */
export class ManifestSource {
  readonly #options: ManifestSourceOptions;
  readonly #files = new Map<string, FileState>();
  readonly #firstSeen = new Map<string, string>();
  readonly #watchers: FSWatcher[] = [];
  #timer: NodeJS.Timeout | undefined;
  #timerDue = 0;
  #rescan: NodeJS.Timeout | undefined;
  #scanning: Promise<void> | undefined;
  #again = false;
  #closed = false;

  constructor(options: ManifestSourceOptions) {
    this.#options = options;
  }

  /** Reads every file once and starts watching. Rejects when a path does not exist. */
  async start(): Promise<void> {
    for (const path of this.#options.paths) {
      const info = await stat(path).catch(() => undefined);
      if (info === undefined) throw new Error(`manifest path ${path} does not exist`);
    }
    await this.#scan(true);
    // Watching before start() resolves: a change made once the caller is told
    // "started" must not wait for the periodic rescan.
    await Promise.all(this.#options.paths.map((path) => this.#watch(resolve(path))));
    // A change made while the first scan read the files was not watched yet.
    this.#schedule(0);
    const rescanMs = this.#options.rescanMs ?? 2000;
    this.#rescan = setInterval(() => this.#schedule(0), rescanMs);
    this.#rescan.unref();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    clearInterval(this.#rescan);
    for (const watcher of this.#watchers) watcher.close();
  }

  /** Every object currently served from the files. */
  objects(): KubeObject[] {
    const byIdentity = new Map<string, KubeObject>();
    for (const file of [...this.#files.keys()].sort()) {
      for (const object of (this.#files.get(file) as FileState).objects) byIdentity.set(identity(object), object);
    }
    return [...byIdentity.values()];
  }

  #watch(path: string): Promise<void> {
    const onEvent = () => this.#schedule(this.#options.debounceMs ?? 50);
    return stat(path)
      .then((info) => {
        if (this.#closed) return;
        const watcher = info.isDirectory()
          ? watch(path, { recursive: true }, onEvent)
          : watch(dirname(path), (_event, name) => {
              if (name === null || name === basename(path)) onEvent();
            });
        watcher.on("error", (error) =>
          this.#options.log({ level: "warn", msg: "watching manifests failed", path, error: String(error) }),
        );
        this.#watchers.push(watcher);
      })
      .catch(() => undefined);
  }

  // Never postpones a scan already due sooner: with files changing every 50 ms,
  // a sliding debounce would put the next scan off for as long as they change.
  #schedule(delay: number): void {
    if (this.#closed) return;
    const due = Date.now() + delay;
    if (this.#timer !== undefined && this.#timerDue <= due) return;
    clearTimeout(this.#timer);
    this.#timerDue = due;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#scan(false);
    }, delay);
  }

  async #scan(initial: boolean): Promise<void> {
    if (this.#scanning !== undefined) {
      this.#again = true;
      return this.#scanning;
    }
    this.#scanning = this.#scanOnce(initial).finally(() => {
      this.#scanning = undefined;
      if (this.#again) {
        this.#again = false;
        this.#schedule(0);
      }
    });
    return this.#scanning;
  }

  async #scanOnce(initial: boolean): Promise<void> {
    const present = new Set<string>();
    for (const path of this.#options.paths) for (const file of await listFiles(resolve(path))) present.add(file);
    let changed = false;
    let broken = false;
    let unsettled = 0;
    for (const file of present) {
      const info = await stat(file).catch(() => undefined);
      if (info === undefined) continue;
      const signature = `${info.ino}:${info.size}:${info.mtimeMs}`;
      const previous = this.#files.get(file);
      if (previous?.signature === signature) {
        broken ||= previous.broken;
        continue;
      }
      const settleMs = this.#options.settleMs ?? 100;
      const age = Date.now() - info.mtimeMs; // file times are wall-clock times
      if (!initial && age >= 0 && age < settleMs) {
        unsettled = Math.max(unsettled, settleMs - age);
        continue;
      }
      const text = await readFile(file, "utf8").catch(() => undefined);
      if (text === undefined) continue;
      // The file may have changed between the stat above and the read (truncated for the next
      // in-place write, say): what was read counts only if it is still the file that settled.
      const after = await stat(file).catch(() => undefined);
      if (after === undefined || `${after.ino}:${after.size}:${after.mtimeMs}` !== signature) {
        unsettled = Math.max(unsettled, settleMs);
        continue;
      }
      // Truncating a file for an in-place rewrite shows size 0 with the old mtime for a moment (the
      // size changes before the times do), so a file that had objects counts as empty only when it
      // is found so twice, unchanged, a settle period apart.
      if (info.size === 0 && previous !== undefined && previous.objects.length > 0 && previous.emptied !== signature) {
        this.#files.set(file, { ...previous, emptied: signature });
        unsettled = Math.max(unsettled, settleMs);
        continue;
      }
      const parsed = parseManifests(file, text);
      if (!parsed.ok) {
        for (const problem of parsed.problems) {
          this.#options.log({
            level: "error",
            msg: "manifest file rejected; its last good content keeps serving",
            file: problem.file,
            ...(problem.document !== undefined ? { document: problem.document } : {}),
            problem: problem.message,
          });
        }
        this.#files.set(file, { signature, objects: previous?.objects ?? [], broken: true });
        broken = true;
        continue;
      }
      for (const skipped of parsed.skipped) {
        this.#options.log({
          level: "info",
          msg: "skipping object of a kind rennet does not read",
          file,
          object: skipped,
        });
      }
      this.#files.set(file, {
        signature,
        objects: reuseUnchanged(
          previous?.objects,
          parsed.objects.map((object) => this.#stamp(object)),
        ),
        broken: false,
      });
      changed = true;
    }
    for (const file of [...this.#files.keys()]) {
      if (!present.has(file)) {
        this.#files.delete(file);
        changed = true;
      }
    }
    if (unsettled > 0) this.#schedule(Math.ceil(unsettled) + 5);
    else if (broken) this.#schedule(this.#options.retryMs ?? 250);
    if ((changed || initial) && !this.#closed) this.#options.onChange(this.objects());
  }

  // Hand-written manifests rarely carry creationTimestamp; such an object
  // counts as created when first read, which keeps conflict winners stable.
  #stamp(object: KubeObject): KubeObject {
    if (object.metadata?.creationTimestamp) return object;
    const id = identity(object);
    let seen = this.#firstSeen.get(id);
    if (seen === undefined) {
      seen = new Date((this.#options.now ?? Date.now)()).toISOString();
      this.#firstSeen.set(id, seen);
    }
    return { ...object, metadata: { ...object.metadata, creationTimestamp: seen } };
  }
}

/**
 * The new objects of a re-read file, with each one whose content did not
 * change replaced by its previous instance: downstream, identity means
 * "unchanged", so editing one Ingress in a file of hundreds re-translates one.
 */
function reuseUnchanged(previous: readonly KubeObject[] | undefined, next: KubeObject[]): KubeObject[] {
  if (previous === undefined || previous.length === 0) return next;
  const before = new Map(previous.map((object) => [identity(object), object]));
  return next.map((object) => {
    const old = before.get(identity(object));
    return old !== undefined && JSON.stringify(old) === JSON.stringify(object) ? old : object;
  });
}

async function listFiles(path: string): Promise<string[]> {
  const info = await stat(path).catch(() => undefined);
  if (info === undefined) return [];
  if (!info.isDirectory()) return [path];
  const entries = await readdir(path, { withFileTypes: true, recursive: true }).catch(() => []);
  // Symbolic links count (the scan follows them); hidden files and everything under a hidden
  // directory (.git, a ConfigMap volume's ..2024_… copies) do not.
  return entries
    .filter((entry) => (entry.isFile() || entry.isSymbolicLink()) && MANIFEST_FILE.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name))
    .filter(
      (file) =>
        !relative(path, file)
          .split(sep)
          .some((part) => part.startsWith(".")),
    );
}
