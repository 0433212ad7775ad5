import { type Dirent, type FSWatcher, lstatSync, readdirSync, readlinkSync, statSync, watch } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import type { Log } from "../log.js";
import type { KubeObject } from "../objects.js";
import { ManifestFileParser } from "./parse-manifests.js";

const MANIFEST_FILE = /\.(ya?ml|json)$/i;

/** What changed since the last onChange. */
export interface ManifestChanges {
  /** Objects served anew or in place of another version (the first time: every object). */
  readonly upserts: readonly KubeObject[];
  /** Objects no longer served, as they were last handed out (kind, namespace and name say which). */
  readonly deletes: readonly KubeObject[];
}

export interface ManifestSourceOptions {
  /** Files or directories (read recursively). */
  readonly paths: readonly string[];
  /**
   * Called after the first load with every object of every file, and after
   * each change with every object again and with what changed: a consumer
   * that keeps state can apply `changes` alone, which costs what changed
   * rather than the number of objects.
   */
  readonly onChange: (objects: readonly KubeObject[], changes: ManifestChanges) => void;
  readonly log: Log;
  /** The clock that stamps objects without creationTimestamp when first read. */
  readonly now?: () => number;
  /**
   * How long a burst of file events is gathered before a rescan (5 ms, as the
   * API path coalesces watch events): long enough to take a write and its
   * rename, or an editor's save, in one scan; short enough not to show.
   */
  readonly debounceMs?: number;
  /** When a file does not parse (maybe half-written), how soon it is read again. */
  readonly retryMs?: number;
  /** A full rescan this often, in case the platform drops a watch event. */
  readonly rescanMs?: number;
  /**
   * A file rewritten in place (same inode as when last read) or not read
   * before, modified less than this long ago, is read once it has been quiet
   * that long: a file being written can parse cleanly halfway through (cut at
   * a document boundary, or still empty). A file renamed into place (another
   * inode than the one last read) is complete and is read at once.
   */
  readonly settleMs?: number;
}

interface Holder {
  readonly file: string;
  readonly object: KubeObject;
}

interface FileState {
  readonly signature: string;
  /**
   * The inode last read (or found empty): another one at the path means the
   * file was replaced, i.e. renamed over, and is complete.
   */
  readonly ino: number;
  /** The last content that parsed; kept while newer content is broken. */
  readonly objects: readonly KubeObject[];
  /** identity() of each object. */
  readonly ids: readonly string[];
  readonly broken: boolean;
  /**
   * The signature the file had when first found empty, and when (Date.now()):
   * its objects are kept until it is found so again a settle period later.
   */
  readonly emptied?: { readonly signature: string; readonly at: number };
}

function identity(object: KubeObject): string {
  return `${object.kind}/${object.metadata?.namespace ?? ""}/${object.metadata?.name ?? ""}`;
}

/**
 * Kubernetes objects from manifest files, kept current as the files change.
 * Works with in-place rewrites and write-then-rename alike: it watches the
 * directories and rescans by signature (inode, size, mtime). A file that does
 * not parse keeps its last good objects and is retried shortly.
 *
 * How soon a change applies depends on how the file was written:
 *
 * - Renamed into place (write a temp file, rename it over: kubectl-style
 *   tools, git-sync and ConfigMap volumes through their symlink swap, most
 *   editors): the path shows another inode than the one last read. A rename
 *   is atomic, so the new inode holds the whole new content: it is read after
 *   the coalescing window (5 ms), with no settle.
 * - Rewritten in place (same inode: `cat > file`, an editor that writes over
 *   the file), or a path not read before: the content may be half-written
 *   and still parse, so it is read once it has been quiet for the settle
 *   period (100 ms). A new path cannot tell a rename from a file being
 *   created and written, so it settles too. So does a file deleted and
 *   written anew at the same path if a scan saw it gone in between; if no
 *   scan did, it looks renamed, and the checks below are what is left: the
 *   emptied-twice rule (most writers create a file empty first), the stat
 *   around the read (size and mtime must not move while it is read) and the
 *   all-or-nothing parse.
 * - A file found empty that had objects counts as empty only when seen so
 *   twice, a settle period apart, whatever its inode.
 *
 * Trusting a new inode at once is what makes a change cost ~10 ms instead of
 * the settle period: write-then-rename is how tools that care about readers
 * write files, and the settle exists only for writers that do not.
 *
 * Each file keeps a parser that caches its documents (ManifestFileParser), so
 * a change to one document of a file of hundreds parses one document, and
 * unchanged objects keep their instances; onChange also says what changed,
 * so the consumer need not diff every object either.
 */
export class ManifestSource {
  readonly #options: ManifestSourceOptions;
  readonly #files = new Map<string, FileState>();
  readonly #parsers = new Map<string, ManifestFileParser>();
  /** Files waiting to settle: the signature they had when first seen, and when. */
  readonly #seen = new Map<string, { readonly signature: string; readonly at: number }>();
  /**
   * Each identity's object, or when it occurs more than once (in two files, or twice in one)
   * every occurrence with its file, a file's in its order; and how many identities have several.
   */
  readonly #holders = new Map<string, KubeObject | Holder[]>();
  #duplicated = 0;
  /** Identities whose served object may change in this scan, with the object served before it. */
  readonly #before = new Map<string, KubeObject | undefined>();
  /** Whether #set() notes changes (not in the first scan, whose onChange has every object anyway). */
  #tracking = false;
  readonly #firstSeen = new Map<string, string>();
  /**
   * One per directory, by "dir\0<dir>\0<its inode>\0<what it reports>": "/" (every name in it: a
   * directory path or one under it) or the names it reports, "/"-separated (a path given as a file, a
   * symbolic link's final target).
   */
  readonly #watchers = new Map<string, FSWatcher>();
  readonly #watchFailed = new Set<string>();
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
    // The first scan also starts the watching, before start() resolves: a change made once
    // the caller is told "started" must not wait for the periodic rescan.
    await this.#scan(true);
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
    for (const watcher of this.#watchers.values()) watcher.close();
    this.#watchers.clear();
  }

  /** Every object currently served from the files. */
  objects(): KubeObject[] {
    const files = [...this.#files.keys()].sort();
    const objects: KubeObject[] = [];
    // The common case, and the cheap one (it runs on every change): no object is in two places,
    // so the files' lists one after the other are the answer.
    if (this.#duplicated === 0) {
      for (const file of files) for (const object of (this.#files.get(file) as FileState).objects) objects.push(object);
      return objects;
    }
    const byIdentity = new Map<string, KubeObject>();
    for (const file of files) {
      const { objects: list, ids } = this.#files.get(file) as FileState;
      for (let i = 0; i < list.length; i++) byIdentity.set(ids[i] as string, list[i] as KubeObject);
    }
    for (const object of byIdentity.values()) objects.push(object);
    return objects;
  }

  /**
   * Sets a file's state. Keeps track of where each identity is (to tell
   * which object is served, as objects() does) and notes, before anything
   * moves, what was served for each identity whose object in this file may
   * change. The common change (same identities in the same order, a few
   * objects replaced, nothing duplicated) touches only the replaced objects.
   */
  #set(file: string, state: FileState | undefined): void {
    const before = this.#files.get(file);
    if (before?.objects !== state?.objects) {
      if (before !== undefined && state !== undefined && sameIds(before.ids, state.ids)) {
        const replaced: number[] = [];
        for (let i = 0; i < state.objects.length; i++) if (state.objects[i] !== before.objects[i]) replaced.push(i);
        if (replaced.every((i) => !Array.isArray(this.#holders.get(state.ids[i] as string)))) {
          for (const i of replaced) {
            const id = state.ids[i] as string;
            if (this.#tracking) this.#note(id);
            this.#holders.set(id, state.objects[i] as KubeObject);
          }
          this.#files.set(file, state);
          return;
        }
      }
      if (this.#tracking) {
        for (const id of before?.ids ?? []) this.#note(id);
        for (const id of state?.ids ?? []) this.#note(id);
      }
      for (const id of new Set(before?.ids)) {
        const holders = this.#holders.get(id);
        if (!Array.isArray(holders)) {
          this.#holders.delete(id); // its one occurrence was in this file
          continue;
        }
        const kept = holders.filter((holder) => holder.file !== file);
        if (kept.length > 1) this.#holders.set(id, kept);
        else {
          this.#duplicated--;
          if (kept.length === 1) this.#holders.set(id, (kept[0] as Holder).object);
          else this.#holders.delete(id);
        }
      }
      state?.ids.forEach((id, i) => {
        const object = state.objects[i] as KubeObject;
        const holders = this.#holders.get(id);
        if (holders === undefined) this.#holders.set(id, object);
        else if (Array.isArray(holders)) holders.push({ file, object });
        else {
          this.#duplicated++;
          this.#holders.set(id, [this.#holderOf(holders, file, state, i), { file, object }]);
        }
      });
    }
    if (state === undefined) this.#files.delete(file);
    else this.#files.set(file, state);
  }

  /** Which file an object already kept for an identity is in: earlier in the file being set, or another file. */
  #holderOf(object: KubeObject, file: string, state: FileState, upTo: number): Holder {
    for (let j = 0; j < upTo; j++) if (state.objects[j] === object) return { file, object };
    for (const [other, { objects }] of this.#files)
      if (other !== file && objects.includes(object)) return { file: other, object };
    return { file, object }; // not reached: every kept object is in a file
  }

  #note(id: string): void {
    if (!this.#before.has(id)) this.#before.set(id, this.#served(id));
  }

  /** The object served for an identity: the last one in the file that sorts last (as in objects()). */
  #served(id: string): KubeObject | undefined {
    const holders = this.#holders.get(id);
    if (!Array.isArray(holders)) return holders;
    let served = holders[0] as Holder;
    for (const holder of holders) if (holder.file >= served.file) served = holder;
    return served.object;
  }

  /** What the changes noted by #set() amount to, once the scan has made them. */
  #changes(): ManifestChanges {
    const upserts: KubeObject[] = [];
    const deletes: KubeObject[] = [];
    for (const [id, before] of this.#before) {
      const after = this.#served(id);
      if (after === before) continue;
      if (after !== undefined) upserts.push(after);
      else deletes.push(before as KubeObject);
    }
    this.#before.clear();
    return { upserts, deletes };
  }

  /**
   * Watches what the scan found, one non-recursive watch per directory: every
   * directory under a directory path, and the directory of a path given as a
   * file and of every symbolic link's final target, for those names. A target is watched
   * through its directory, not itself: a watch on a file ends when the file is
   * deleted, and one written anew at the path would go unseen, most of all
   * when a scan finds it missing in between. Node's recursive watch is
   * not used: on Linux it watches every file and re-lists a directory on each
   * event, and it misses a file renamed over a file it already knew (the event
   * lands on the old inode's watch, which is gone after the first time), so
   * such a change would wait for the next unrelated event. A directory watch
   * reports the name of whatever is created, renamed in, written or removed.
   * Returns whether a watch was added: what it watches may have changed
   * between this scan's stat and the watch's start (a directory that just
   * appeared may have received files).
   */
  #watch(wanted: ReadonlyMap<string, () => FSWatcher>): boolean {
    for (const [key, watcher] of this.#watchers) {
      if (wanted.has(key)) continue;
      watcher.close();
      this.#watchers.delete(key);
    }
    let added = false;
    for (const [key, start] of wanted) {
      if (this.#watchers.has(key)) continue;
      try {
        const watcher = start();
        watcher.on("error", (error) => {
          this.#options.log({
            level: "warn",
            msg: "watching manifests failed",
            path: key.split("\0")[1],
            error: String(error),
          });
          watcher.close();
          if (this.#watchers.get(key) === watcher) this.#watchers.delete(key);
        });
        this.#watchers.set(key, watcher);
        this.#watchFailed.delete(key);
        added = true;
      } catch (error) {
        // Gone since the listing (the next scan sees that), or out of inotify watches: the
        // periodic rescan still finds changes. Logged once per path.
        if (!this.#watchFailed.has(key)) {
          this.#watchFailed.add(key);
          this.#options.log({
            level: "warn",
            msg: "watching manifests failed",
            path: key.split("\0")[1],
            error: String(error),
          });
        }
      }
    }
    return added;
  }

  /**
   * The watches for `watched` (directory → the names it reports, or null for
   * all), by key (see #watchers). Keyed by inode too: a directory removed and
   * made again needs a new watch (#retire covers the inode number coming back).
   */
  #wanted(watched: ReadonlyMap<string, ReadonlySet<string> | null>): Map<string, () => FSWatcher> {
    const onEvent = () => this.#schedule(this.#options.debounceMs ?? 5);
    const wanted = new Map<string, () => FSWatcher>();
    for (const [dir, names] of watched) {
      const ino = statSync(dir, { throwIfNoEntry: false })?.ino;
      if (ino === undefined) continue;
      // "/" is in no file name: every name ("/") cannot be mistaken for some ("a.yaml/b.yaml").
      const key = `dir\0${dir}\0${ino}\0${names === null ? "/" : [...names].sort().join("/")}`;
      const self = basename(dir);
      wanted.set(key, () => {
        const watcher = watch(dir, (_event, changed) => {
          if (changed === null || changed === self) this.#retire(key, watcher);
          if (names === null || changed === null || changed === self || names.has(changed)) onEvent();
        });
        return watcher;
      });
    }
    return wanted;
  }

  /**
   * Drops a watch whose directory was removed or moved: an
   * inotify watch ends with its inode. The inode number alone cannot tell:
   * a directory removed and made again before a scan looks often gets the
   * freed number back, and its key would keep the dead watch forever. A
   * child named like the directory itself looks the same here and costs
   * one needless new watch. The next scan (the caller schedules it) watches
   * whatever is at the path now.
   */
  #retire(key: string, watcher: FSWatcher): void {
    if (this.#watchers.get(key) !== watcher) return;
    watcher.close();
    this.#watchers.delete(key);
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

  // A scan lists and stats the files synchronously: for a hundred files that is about 0.4 ms of
  // CPU, against 2.5 ms for the same calls through promises, and it runs on every change. Only
  // changed files are read, asynchronously.
  async #scanOnce(initial: boolean): Promise<void> {
    this.#tracking = !initial;
    const present = new Set<string>();
    const links = new Set<string>();
    /** The directories to watch, each for every name in it (null) or for some. */
    const watched = new Map<string, Set<string> | null>();
    const watchName = (dir: string, name: string) => {
      const names = watched.get(dir);
      if (names === undefined) watched.set(dir, new Set([name]));
      else names?.add(name);
    };
    for (const path of this.#options.paths.map((path) => resolve(path))) {
      const info = statSync(path, { throwIfNoEntry: false });
      if (info === undefined) continue;
      if (info.isDirectory()) {
        const dirs: string[] = [];
        walk(path, present, links, dirs);
        for (const dir of dirs) watched.set(dir, null);
      } else {
        present.add(path);
        if (lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink()) links.add(path);
        watchName(dirname(path), basename(path));
      }
    }
    // Before the stat below: a target missing now (deleted, about to be written anew) is watched too.
    for (const link of links) {
      const target = finalTarget(link);
      if (target !== undefined) watchName(dirname(target), basename(target));
    }
    const wanted = this.#wanted(watched);
    let broken = false;
    let unsettled = 0;
    let again = false;
    for (const file of present) {
      const info = statSync(file, { throwIfNoEntry: false });
      if (info === undefined) continue;
      const signature = `${info.ino}:${info.size}:${info.mtimeMs}`;
      const previous = this.#files.get(file);
      if (previous?.signature === signature) {
        broken ||= previous.broken;
        continue;
      }
      const settleMs = this.#options.settleMs ?? 100;
      // Another inode than the one last read: renamed into place, so complete (see the class comment).
      const replaced = previous !== undefined && previous.ino !== info.ino;
      if (!initial && !replaced) {
        // Quiet for how long: by its mtime (a wall-clock time), or since this scan first saw it so.
        // The latter bounds the wait when the mtime is ahead of Date.now(): always a little (file
        // times have sub-millisecond precision, Date.now() is truncated), a lot with clock skew.
        const now = Date.now();
        let seen = this.#seen.get(file);
        if (seen?.signature !== signature) {
          seen = { signature, at: now };
          this.#seen.set(file, seen);
        }
        const quiet = Math.max(now - info.mtimeMs, now - seen.at);
        if (quiet < settleMs) {
          unsettled = Math.max(unsettled, settleMs - quiet);
          continue;
        }
      }
      this.#seen.delete(file);
      // Read asynchronously: a read can block for long (a FIFO, slow storage) and the proxy must go on.
      const text = await readFile(file, "utf8").catch(() => undefined);
      if (text === undefined) continue; // gone since the stat: the next scan sees that
      // The file may have changed between the stat above and the read (truncated for the next
      // in-place write, or replaced again): what was read counts only if it is still the file
      // that was stat'ed. The next scan looks at it afresh (and settles it if written in place).
      const after = statSync(file, { throwIfNoEntry: false });
      if (after === undefined || `${after.ino}:${after.size}:${after.mtimeMs}` !== signature) {
        again = true;
        continue;
      }
      // Truncating a file for an in-place rewrite shows size 0 with the old mtime for a moment (the
      // size changes before the times do), and a file created anew at the path is empty until its
      // first write, so a file that had objects counts as empty only when it is found so twice,
      // unchanged, a settle period apart (whatever its inode: emptying a file is rare, waiting is cheap).
      if (info.size === 0 && previous !== undefined && previous.objects.length > 0) {
        const emptied = previous.emptied?.signature === signature ? previous.emptied : { signature, at: Date.now() };
        const waited = Date.now() - emptied.at;
        if (waited < settleMs) {
          this.#set(file, { ...previous, ino: info.ino, emptied });
          unsettled = Math.max(unsettled, settleMs - waited);
          continue;
        }
      }
      let parser = this.#parsers.get(file);
      if (parser === undefined) {
        parser = new ManifestFileParser(file, (object) => this.#stamp(object));
        this.#parsers.set(file, parser);
      }
      const parsed = parser.parse(text);
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
        this.#set(file, {
          signature,
          ino: info.ino,
          objects: previous?.objects ?? [],
          ids: previous?.ids ?? [],
          broken: true,
        });
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
      const { objects, ids } = reuseUnchanged(previous, parsed.objects);
      this.#set(file, { signature, ino: info.ino, objects, ids, broken: false });
    }
    for (const file of [...this.#files.keys()]) {
      if (!present.has(file)) {
        this.#set(file, undefined);
        this.#parsers.delete(file);
      }
    }
    for (const file of this.#seen.keys()) if (!present.has(file)) this.#seen.delete(file);
    if (this.#closed) return;
    // What a new watch covers may have changed before it began.
    if (this.#watch(wanted) && !initial) again = true;
    if (again) this.#schedule(this.#options.debounceMs ?? 5);
    if (unsettled > 0) this.#schedule(Math.ceil(unsettled) + 5);
    else if (broken) this.#schedule(this.#options.retryMs ?? 250);
    const changes = this.#changes();
    if (initial) {
      const objects = this.objects();
      this.#options.onChange(objects, { upserts: objects, deletes: [] });
    } else if (changes.upserts.length > 0 || changes.deletes.length > 0) {
      this.#options.onChange(this.objects(), changes);
    }
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

function sameIds(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The new objects of a re-read file and their identities, with each object
 * whose content did not change replaced by its previous instance: downstream,
 * identity means "unchanged", so editing one Ingress in a file of hundreds
 * re-translates one. Documents the parser had cached already come back as the
 * same instances; the rest are compared by content.
 */
function reuseUnchanged(
  previous: FileState | undefined,
  next: readonly KubeObject[],
): { objects: KubeObject[]; ids: string[] } {
  const objects: KubeObject[] = [];
  const ids: string[] = [];
  let byId: Map<string, KubeObject> | undefined;
  next.forEach((object, i) => {
    if (previous !== undefined && previous.objects[i] === object) {
      objects.push(object);
      ids.push(previous.ids[i] as string);
      return;
    }
    const id = identity(object);
    ids.push(id);
    let old: KubeObject | undefined;
    if (previous !== undefined) {
      if (previous.ids[i] === id) old = previous.objects[i];
      else {
        byId ??= new Map(previous.ids.map((known, j) => [known, previous.objects[j] as KubeObject]));
        old = byId.get(id);
      }
    }
    objects.push(old !== undefined && old !== object && JSON.stringify(old) === JSON.stringify(object) ? old : object);
  });
  return { objects, ids };
}

/**
 * Where a chain of symbolic links ends, whether or not that path exists
 * (undefined for a loop). Directories on the way are not resolved: a
 * ConfigMap volume's "..data/x.yaml" is watched through "..data", whose swap
 * the volume's own directory watch reports.
 */
function finalTarget(link: string): string | undefined {
  let path = link;
  for (let hops = 0; hops < 40; hops++) {
    let next: string;
    try {
      next = readlinkSync(path);
    } catch {
      return path; // not a link (the end of the chain), or missing: the target to watch for
    }
    path = resolve(dirname(path), next);
  }
  return undefined;
}

// Symbolic links to files count (the scan follows them), symbolic links to directories are not
// entered; hidden files and hidden directories (.git, a ConfigMap volume's ..2024_… copies) are
// skipped, the latter without being read.
function walk(dir: string, files: Set<string>, links: Set<string>, dirs: string[]): void {
  dirs.push(dir);
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return; // removed while listing
  }
  for (const entry of entries) {
    if (entry.name.startsWith(".")) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path, files, links, dirs);
    else if ((entry.isFile() || entry.isSymbolicLink()) && MANIFEST_FILE.test(entry.name)) {
      files.add(path);
      if (entry.isSymbolicLink()) links.add(path);
    }
  }
}
