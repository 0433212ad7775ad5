import { appendFile, mkdir, rename, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { compile } from "@rennet/router";
import { afterEach, describe, expect, test } from "vitest";
import type { KubeObject, ManifestSourceOptions } from "../src/index.js";
import { snapshotOf, translate } from "../src/index.js";
import {
  describeObject,
  type Recorder,
  recorder,
  serviceYaml,
  sleep,
  tempDir,
  waitFor,
} from "./support/manifest-files.js";

/** A change must be applied within 1 s; every wait is bounded at 3 s so a failure is reported, not hung. */
const WITHIN_MS = 1000;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function dir(): Promise<string> {
  const temp = await tempDir();
  cleanups.push(temp.cleanup);
  return temp.dir;
}

async function started(
  options: Partial<ManifestSourceOptions> & Pick<ManifestSourceOptions, "paths">,
): Promise<Recorder> {
  const r = recorder(options);
  cleanups.push(() => r.source.close());
  await r.source.start();
  return r;
}

/** Waits until the last onChange lists exactly `expected`, and checks it happened within 1 s. */
async function applied(r: Recorder, expected: string[], what = `objects ${expected.join(", ")}`): Promise<void> {
  const sorted = [...expected].sort();
  const ms = await waitFor(what, () => JSON.stringify(r.latest()) === JSON.stringify(sorted)).catch((error: Error) => {
    throw new Error(`${error.message}; last onChange: ${JSON.stringify(r.latest())}`);
  });
  expect(ms, `${what} applied after ${Math.round(ms)} ms`).toBeLessThan(WITHIN_MS);
}

describe("loading", () => {
  test("start() reads every file once and reports all objects", async () => {
    const root = await dir();
    await writeFile(join(root, "web.yaml"), `${serviceYaml("web")}---\n${serviceYaml("api", 8000, "shop")}`);
    const single = join(root, "single.json");
    await writeFile(single, JSON.stringify({ apiVersion: "v1", kind: "Service", metadata: { name: "json" } }));
    const r = await started({ paths: [join(root, "web.yaml"), single] });
    expect(r.changes).toHaveLength(1);
    expect(r.latest()).toEqual(["Service default/json", "Service default/web:80", "Service shop/api:8000"]);
    expect(r.source.objects()).toHaveLength(3);
  });

  test("start() reports once even when there are no objects", async () => {
    const r = await started({ paths: [await dir()] });
    expect(r.changes).toEqual([[]]);
  });

  test("a directory is read recursively: only .yaml, .yml and .json files, no hidden files", async () => {
    const root = await dir();
    await mkdir(join(root, "sub", "deeper"), { recursive: true });
    await mkdir(join(root, ".git"), { recursive: true });
    await writeFile(join(root, "a.yaml"), serviceYaml("a"));
    await writeFile(join(root, "sub", "b.yml"), serviceYaml("b"));
    await writeFile(
      join(root, "sub", "deeper", "c.json"),
      JSON.stringify({ apiVersion: "v1", kind: "Service", metadata: { name: "c" } }),
    );
    await writeFile(join(root, "sub", "D.YAML"), serviceYaml("d"));
    await writeFile(join(root, "notes.txt"), serviceYaml("txt"));
    await writeFile(join(root, "README.md"), serviceYaml("md"));
    await writeFile(join(root, "a.yaml.bak"), serviceYaml("bak"));
    await writeFile(join(root, ".hidden.yaml"), serviceYaml("hidden"));
    await writeFile(join(root, "sub", ".also-hidden.yml"), serviceYaml("also-hidden"));
    await writeFile(join(root, ".git", "in-hidden-dir.yaml"), serviceYaml("in-hidden-dir"));
    const r = await started({ paths: [root] });
    expect(r.latest()).toEqual([
      "Service default/a:80",
      "Service default/b:80",
      "Service default/c",
      "Service default/d:80",
    ]);
  });

  test("a symlinked manifest file in a directory is read", async () => {
    const root = await dir();
    const elsewhere = await dir();
    await writeFile(join(elsewhere, "web.yaml"), serviceYaml("web"));
    await symlink(join(elsewhere, "web.yaml"), join(root, "web.yaml"));
    const r = await started({ paths: [root] });
    expect(r.latest()).toEqual(["Service default/web:80"]);
  });

  test("a Kubernetes ConfigMap volume is read once, through its symlinks", async () => {
    // kubelet's layout: the files live in a hidden timestamped directory, "..data" points at it,
    // and each key is a symlink through "..data". An update swaps "..data" atomically.
    const root = await dir();
    await mkdir(join(root, "..2024_01_01_00_00_00.000000001"));
    await writeFile(join(root, "..2024_01_01_00_00_00.000000001", "web.yaml"), serviceYaml("web", 80));
    await symlink("..2024_01_01_00_00_00.000000001", join(root, "..data"));
    await symlink(join("..data", "web.yaml"), join(root, "web.yaml"));
    const r = await started({ paths: [root] });
    expect(r.changes.at(-1)).toHaveLength(1);
    expect(r.latest()).toEqual(["Service default/web:80"]);

    await mkdir(join(root, "..2024_01_01_00_01_00.000000002"));
    await writeFile(join(root, "..2024_01_01_00_01_00.000000002", "web.yaml"), serviceYaml("web", 81));
    await symlink("..2024_01_01_00_01_00.000000002", join(root, "..data_tmp"));
    await rename(join(root, "..data_tmp"), join(root, "..data"));
    await rm(join(root, "..2024_01_01_00_00_00.000000001"), { recursive: true });
    await applied(r, ["Service default/web:81"]);
  });

  test("an object in two files is served once, from the file that sorts last", async () => {
    const root = await dir();
    await writeFile(join(root, "a.yaml"), serviceYaml("web", 80));
    await writeFile(join(root, "b.yaml"), serviceYaml("web", 81));
    const r = await started({ paths: [root] });
    expect(r.latest()).toEqual(["Service default/web:81"]);
  });

  test("a nonexistent path rejects start() with a clear message", async () => {
    const root = await dir();
    const missing = join(root, "nope", "ingress.yaml");
    const r = recorder({ paths: [root, missing] });
    await expect(r.source.start()).rejects.toThrow(`manifest path ${missing} does not exist`);
    expect(r.changes).toEqual([]);
  });

  test("other kinds are skipped with one log line each", async () => {
    const root = await dir();
    const file = join(root, "app.yaml");
    await writeFile(
      file,
      `apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: web, namespace: shop }\n---\n${serviceYaml("web")}`,
    );
    const r = await started({ paths: [root] });
    expect(r.latest()).toEqual(["Service default/web:80"]);
    const skipped = r.logs.filter((entry) => entry.msg.startsWith("skipping"));
    expect(skipped).toEqual([expect.objectContaining({ level: "info", file, object: "Deployment shop/web" })]);
  });
});

describe("watching", () => {
  test("an in-place rewrite is applied within 1 s", async () => {
    const root = await dir();
    const file = join(root, "web.yaml");
    await writeFile(file, serviceYaml("web", 80));
    const r = await started({ paths: [root] });
    await writeFile(file, serviceYaml("web", 81));
    await applied(r, ["Service default/web:81"]);
    await writeFile(file, serviceYaml("web", 82));
    await applied(r, ["Service default/web:82"]);
  });

  test("write-then-rename is applied within 1 s", async () => {
    const root = await dir();
    const file = join(root, "web.yaml");
    await writeFile(file, serviceYaml("web", 80));
    const r = await started({ paths: [root] });
    await writeFile(join(root, ".web.yaml.tmp"), serviceYaml("web", 81));
    await rename(join(root, ".web.yaml.tmp"), file);
    await applied(r, ["Service default/web:81"]);
    await writeFile(join(root, "web.yaml.new"), serviceYaml("web", 82));
    await rename(join(root, "web.yaml.new"), file);
    await applied(r, ["Service default/web:82"]);
  });

  test.each(["in-place", "rename"])("a single watched file: %s changes are applied within 1 s", async (how) => {
    const root = await dir();
    const file = join(root, "web.yaml");
    await writeFile(file, serviceYaml("web", 80));
    await writeFile(join(root, "other.yaml"), serviceYaml("other"));
    const r = await started({ paths: [file] });
    expect(r.latest()).toEqual(["Service default/web:80"]);
    for (const port of [81, 82]) {
      if (how === "in-place") await writeFile(file, serviceYaml("web", port));
      else {
        await writeFile(`${file}.tmp`, serviceYaml("web", port));
        await rename(`${file}.tmp`, file);
      }
      await applied(r, [`Service default/web:${port}`]);
    }
  });

  test("a change right after start() resolves is applied within 1 s", async () => {
    const root = await dir();
    const file = join(root, "web.yaml");
    await writeFile(file, serviceYaml("web", 80));
    const r = await started({ paths: [root], rescanMs: 60_000 });
    await writeFile(file, serviceYaml("web", 81));
    await applied(r, ["Service default/web:81"]);
  });

  test("a new file, also in a new subdirectory, is applied within 1 s", async () => {
    const root = await dir();
    await writeFile(join(root, "web.yaml"), serviceYaml("web"));
    const r = await started({ paths: [root] });
    await writeFile(join(root, "api.yaml"), serviceYaml("api"));
    await applied(r, ["Service default/api:80", "Service default/web:80"]);
    await mkdir(join(root, "team", "shop"), { recursive: true });
    await writeFile(join(root, "team", "shop", "cart.yaml"), serviceYaml("cart", 80, "shop"));
    await applied(r, ["Service default/api:80", "Service default/web:80", "Service shop/cart:80"]);
  });

  test("a deleted file's objects are gone", async () => {
    const root = await dir();
    await writeFile(join(root, "web.yaml"), serviceYaml("web"));
    await writeFile(join(root, "api.yaml"), serviceYaml("api"));
    const r = await started({ paths: [root] });
    await rm(join(root, "api.yaml"));
    await applied(r, ["Service default/web:80"]);
    expect(r.source.objects().map((o) => o.metadata?.name)).toEqual(["web"]);
  });

  test("a deleted directory's objects are gone", async () => {
    const root = await dir();
    await mkdir(join(root, "sub"));
    await writeFile(join(root, "web.yaml"), serviceYaml("web"));
    await writeFile(join(root, "sub", "api.yaml"), serviceYaml("api"));
    const r = await started({ paths: [root] });
    await rm(join(root, "sub"), { recursive: true });
    await applied(r, ["Service default/web:80"]);
  });

  test("a burst of writes is applied as its last state", async () => {
    const root = await dir();
    const file = join(root, "web.yaml");
    await writeFile(file, serviceYaml("web", 80));
    const r = await started({ paths: [root] });
    for (let port = 81; port <= 90; port++) await writeFile(file, serviceYaml("web", port));
    await applied(r, ["Service default/web:90"]);
    await sleep(300);
    expect(r.latest()).toEqual(["Service default/web:90"]);
  });
});

describe("how soon a change applies", () => {
  // A settle period far longer than any wait below: whatever applies was not settled.
  const LONG_SETTLE_MS = 60_000;

  test("a file renamed into place is applied without waiting for the settle period", async () => {
    const root = await dir();
    const file = join(root, "web.yaml");
    await writeFile(file, serviceYaml("web", 80));
    const r = await started({ paths: [root], settleMs: LONG_SETTLE_MS, rescanMs: 60_000 });
    for (const port of [81, 82, 83]) {
      await writeFile(join(root, `.web.yaml.${port}.tmp`), serviceYaml("web", port));
      await rename(join(root, `.web.yaml.${port}.tmp`), file);
      await applied(r, [`Service default/web:${port}`]);
    }
  });

  test("a file renamed over again and again is seen each time, with no other event to wake the scan", async () => {
    // Node's recursive watch loses these on Linux: the event lands on the replaced inode's watch.
    const root = await dir();
    await mkdir(join(root, "sub"));
    const file = join(root, "sub", "web.yaml");
    await writeFile(file, serviceYaml("web", 80));
    const r = await started({ paths: [root], settleMs: LONG_SETTLE_MS, rescanMs: 60_000 });
    for (let port = 81; port <= 85; port++) {
      await writeFile(join(root, "sub", ".next.tmp"), serviceYaml("web", port));
      await sleep(30); // the temp file's own events are long handled
      await rename(join(root, "sub", ".next.tmp"), file);
      await applied(r, [`Service default/web:${port}`]);
    }
  });

  test("an in-place rewrite still waits for the settle period", async () => {
    const root = await dir();
    const file = join(root, "web.yaml");
    await writeFile(file, serviceYaml("web", 80));
    const r = await started({ paths: [root], settleMs: 700 });
    await sleep(50);
    const written = performance.now();
    await writeFile(file, serviceYaml("web", 81));
    await sleep(300);
    // Not trusted yet: quiet for less than the settle period.
    if (performance.now() - written < 650) expect(r.latest()).toEqual(["Service default/web:80"]);
    await waitFor("the settled rewrite", () => r.latest()[0] === "Service default/web:81");
    expect(performance.now() - written).toBeGreaterThanOrEqual(650);
  });

  test("a new file settles: it may be a file being written", async () => {
    const root = await dir();
    const r = await started({ paths: [root], settleMs: 700 });
    const written = performance.now();
    await writeFile(join(root, "web.yaml"), serviceYaml("web", 80));
    await waitFor("the new file", () => r.latest().length === 1);
    expect(performance.now() - written).toBeGreaterThanOrEqual(650);
  });

  test("a file emptied by a rename is still applied empty only once found so twice, a settle period apart", async () => {
    const root = await dir();
    const file = join(root, "web.yaml");
    await writeFile(file, serviceYaml("web", 80));
    await writeFile(join(root, "other.yaml"), serviceYaml("other"));
    const r = await started({ paths: [root], settleMs: 500, rescanMs: 60_000 });
    const emptied = performance.now();
    await writeFile(join(root, ".empty.tmp"), "");
    await rename(join(root, ".empty.tmp"), file);
    // Other files' events make scans meanwhile: they must not count as the second look.
    for (let port = 81; port <= 83; port++) {
      await sleep(60);
      await writeFile(join(root, ".other.tmp"), serviceYaml("other", port));
      await rename(join(root, ".other.tmp"), join(root, "other.yaml"));
    }
    await applied(r, ["Service default/other:83"]);
    await waitFor("the emptied file", () => r.latest().length === 1);
    expect(performance.now() - emptied).toBeGreaterThanOrEqual(450);
    expect(r.changes.every((objects) => objects.length > 0)).toBe(true);
  });

  test("a broken document in a renamed-in file keeps all of the file's last good objects", async () => {
    const root = await dir();
    const file = join(root, "web.yaml");
    const documents = [serviceYaml("a", 80), serviceYaml("b", 80), serviceYaml("c", 80)];
    await writeFile(file, documents.join("---\n"));
    const r = await started({ paths: [root], settleMs: LONG_SETTLE_MS, rescanMs: 60_000 });
    const replace = async (text: string) => {
      await writeFile(join(root, ".web.tmp"), text);
      await rename(join(root, ".web.tmp"), file);
    };
    // The first document changes, the second breaks: neither applies.
    await replace([serviceYaml("a", 81), "metadata: [oops\n", documents[2]].join("---\n"));
    await waitFor("the error log entry", () => r.logs.some((entry) => entry.level === "error"));
    expect(r.logs.filter((entry) => entry.level === "error")).toEqual([
      expect.objectContaining({ file, document: 1, problem: expect.stringMatching(/^invalid YAML/) }),
    ]);
    expect(r.latest()).toEqual(["Service default/a:80", "Service default/b:80", "Service default/c:80"]);
    // Fixed: everything applies, and the unchanged document is still the same object.
    const before = r.source.objects().find((object) => object.metadata?.name === "c");
    await replace([serviceYaml("a", 81), serviceYaml("b", 82), documents[2]].join("---\n"));
    await applied(r, ["Service default/a:81", "Service default/b:82", "Service default/c:80"]);
    expect(r.source.objects().find((object) => object.metadata?.name === "c")).toBe(before);
  });

  test("an edit through a symbolic link is seen without the periodic rescan", async () => {
    const root = await dir();
    const elsewhere = await dir();
    await writeFile(join(elsewhere, "web.yaml"), serviceYaml("web", 80));
    await symlink(join(elsewhere, "web.yaml"), join(root, "web.yaml"));
    const r = await started({ paths: [root], settleMs: 100, rescanMs: 60_000 });
    await writeFile(join(elsewhere, "web.yaml"), serviceYaml("web", 81));
    await applied(r, ["Service default/web:81"]);
  });

  test("a link target deleted and written anew is watched again, whether or not a scan found it missing", async () => {
    const root = await dir();
    const elsewhere = await dir();
    const target = join(elsewhere, "web.yaml");
    await writeFile(target, serviceYaml("web", 80));
    await symlink(target, join(root, "web.yaml"));
    const r = await started({ paths: [root], settleMs: 100, rescanMs: 60_000 });
    // At once: no scan runs in between, and the new file may get the freed inode number back.
    await rm(target);
    await writeFile(target, serviceYaml("web", 81));
    await applied(r, ["Service default/web:81"]);
    // With a pause: a scan finds the target missing (its last objects keep serving meanwhile).
    await rm(target);
    await sleep(150);
    expect(r.latest()).toEqual(["Service default/web:81"]);
    await writeFile(target, serviceYaml("web", 82));
    await applied(r, ["Service default/web:82"]);
    // Rewritten in place: only a live watch sees this before the rescan.
    await writeFile(target, serviceYaml("web", 83));
    await applied(r, ["Service default/web:83"]);
  });

  test("a directory removed and made again is watched again, whether or not a scan saw it gone", async () => {
    const root = await dir();
    const sub = join(root, "sub");
    await mkdir(sub);
    await writeFile(join(sub, "web.yaml"), serviceYaml("web", 80));
    const r = await started({ paths: [root], settleMs: 100, rescanMs: 60_000 });
    /** Writes the Service in place, then renames the next version over it: each must apply. */
    const writeAndReplace = async (port: number) => {
      await writeFile(join(sub, "web.yaml"), serviceYaml("web", port));
      await applied(r, [`Service default/web:${port}`]);
      await writeFile(join(sub, ".next.tmp"), serviceYaml("web", port + 1));
      await rename(join(sub, ".next.tmp"), join(sub, "web.yaml"));
      await applied(r, [`Service default/web:${port + 1}`]);
    };
    // A scan sees it gone.
    await rm(sub, { recursive: true });
    await applied(r, []);
    await mkdir(sub);
    await writeAndReplace(81);
    // At once: no scan runs between the removal and the mkdir, so the new directory can only be told
    // from the old one by the removal itself: filesystems hand a freed inode number straight out again.
    await rm(sub, { recursive: true });
    await mkdir(sub);
    await sleep(50);
    await writeAndReplace(83);
  });

  test("a file in a directory created after start() is seen without the periodic rescan", async () => {
    const root = await dir();
    const r = await started({ paths: [root], settleMs: 100, rescanMs: 60_000 });
    await mkdir(join(root, "a", "b"), { recursive: true });
    await writeFile(join(root, "a", "b", "web.yaml"), serviceYaml("web", 80));
    await applied(r, ["Service default/web:80"]);
    await writeFile(join(root, "a", "b", "web.yaml"), serviceYaml("web", 81));
    await applied(r, ["Service default/web:81"]);
  });
});

describe("the changes handed to onChange", () => {
  test("add up, call after call, to the objects handed over (duplicates, moves, broken and deleted files)", async () => {
    const root = await dir();
    await mkdir(join(root, "sub"));
    const identity = (object: KubeObject) => `${object.kind}/${object.metadata?.namespace}/${object.metadata?.name}`;
    const model = new Map<string, KubeObject>();
    const problems: string[] = [];
    let calls = 0;
    const r = await started({
      paths: [root],
      settleMs: 50,
      rescanMs: 60_000,
      onChange: (objects, changes) => {
        calls++;
        for (const object of changes.deletes) {
          if (!model.delete(identity(object))) problems.push(`call ${calls}: deleted ${identity(object)}, not served`);
        }
        for (const object of changes.upserts) {
          if (model.get(identity(object)) === object)
            problems.push(`call ${calls}: upserted ${identity(object)} again`);
          model.set(identity(object), object);
        }
        const served = new Map(objects.map((object) => [identity(object), object]));
        if (served.size !== model.size || [...served].some(([id, object]) => model.get(id) !== object)) {
          problems.push(`call ${calls}: changes add up to ${[...model.keys()]}, objects are ${[...served.keys()]}`);
        }
      },
    });
    const put = async (name: string, ...documents: string[]) => {
      await writeFile(join(root, ".next.tmp"), documents.join("---\n"));
      await rename(join(root, ".next.tmp"), join(root, name));
    };
    const step = async (expected: string[]) =>
      waitFor(`objects ${expected}`, () => {
        const now = r.source.objects().map(describeObject).sort();
        return JSON.stringify(now) === JSON.stringify([...expected].sort());
      });
    await put("a.yaml", serviceYaml("web", 80), serviceYaml("api", 80));
    await put("b.yaml", serviceYaml("db", 80));
    await step(["Service default/api:80", "Service default/db:80", "Service default/web:80"]);
    // The same object in a later file wins; a change in the earlier one changes nothing served.
    await put("b.yaml", serviceYaml("db", 80), serviceYaml("web", 81));
    await step(["Service default/api:80", "Service default/db:80", "Service default/web:81"]);
    const callsBefore = calls;
    await put("a.yaml", serviceYaml("web", 82), serviceYaml("api", 80));
    await sleep(150);
    expect(calls).toBe(callsBefore);
    // Gone from the later file: the earlier file's version is served again.
    await put("b.yaml", serviceYaml("db", 80));
    await step(["Service default/api:80", "Service default/db:80", "Service default/web:82"]);
    // Twice in one file: the last one.
    await put("a.yaml", serviceYaml("web", 83), serviceYaml("api", 80), serviceYaml("web", 84));
    await step(["Service default/api:80", "Service default/db:80", "Service default/web:84"]);
    // A broken file changes nothing; a new file in a subdirectory; a deleted file.
    await put("b.yaml", serviceYaml("db", 81), "metadata: [oops\n");
    await waitFor("the error", () => r.logs.some((entry) => entry.level === "error"));
    await writeFile(join(root, "sub", "c.yaml"), serviceYaml("api", 85));
    await step(["Service default/api:85", "Service default/db:80", "Service default/web:84"]);
    await rm(join(root, "a.yaml"));
    await step(["Service default/api:85", "Service default/db:80"]);
    await put("b.yaml", serviceYaml("db", 81));
    await step(["Service default/api:85", "Service default/db:81"]);
    // In three files at once, then leaving them one by one.
    await put("a.yaml", serviceYaml("web", 1));
    await put("b.yaml", serviceYaml("db", 81), serviceYaml("web", 2));
    await step(["Service default/api:85", "Service default/db:81", "Service default/web:2"]);
    await writeFile(join(root, "sub", "c.yaml"), `${serviceYaml("api", 85)}---\n${serviceYaml("web", 3)}`);
    await step(["Service default/api:85", "Service default/db:81", "Service default/web:3"]);
    await put("b.yaml", serviceYaml("db", 81), serviceYaml("web", 4));
    await writeFile(join(root, "sub", "c.yaml"), serviceYaml("api", 85));
    await step(["Service default/api:85", "Service default/db:81", "Service default/web:4"]);
    await rm(join(root, "b.yaml"));
    await step(["Service default/api:85", "Service default/web:1"]);
    await put("a.yaml", serviceYaml("web", 5));
    await step(["Service default/api:85", "Service default/web:5"]);
    expect(problems).toEqual([]);
  });
});

describe("broken files", () => {
  test("keep their last good objects, log the file and document, and apply once fixed", async () => {
    const root = await dir();
    const file = join(root, "web.yaml");
    await writeFile(file, `${serviceYaml("web", 80)}---\n${serviceYaml("api", 8000)}`);
    await writeFile(join(root, "other.yaml"), serviceYaml("other"));
    const r = await started({ paths: [root] });
    const good = ["Service default/api:8000", "Service default/other:80", "Service default/web:80"];
    expect(r.latest()).toEqual(good);

    await writeFile(file, `${serviceYaml("web", 81)}---\nmetadata: [oops\n`);
    await waitFor("the error log entry", () => r.logs.some((entry) => entry.level === "error"));
    expect(r.logs.filter((entry) => entry.level === "error")).toEqual([
      expect.objectContaining({ level: "error", file, document: 1, problem: expect.stringMatching(/^invalid YAML/) }),
    ]);
    // Other files still apply while this one is broken, and the last good content keeps serving.
    await writeFile(join(root, "other.yaml"), serviceYaml("other", 81));
    await applied(r, ["Service default/api:8000", "Service default/other:81", "Service default/web:80"]);
    expect(r.changes.every((objects) => objects.length === 3)).toBe(true);

    await writeFile(file, serviceYaml("web", 82));
    await applied(r, ["Service default/other:81", "Service default/web:82"]);
  });

  test("an invalid object is logged with file and document, and its file keeps serving", async () => {
    const root = await dir();
    const file = join(root, "web.yaml");
    await writeFile(file, serviceYaml("web", 80));
    const r = await started({ paths: [root] });
    await writeFile(file, `${serviceYaml("web", 81)}---\napiVersion: v1\nkind: Service\nmetadata: { namespace: x }\n`);
    await waitFor("the error log entry", () => r.logs.some((entry) => entry.level === "error"));
    expect(r.logs.find((entry) => entry.level === "error")).toMatchObject({
      file,
      document: 1,
      problem: "object Service has no metadata.name",
    });
    await sleep(400);
    expect(r.latest()).toEqual(["Service default/web:80"]);
  });

  test("a file broken at start is reported and the others are served", async () => {
    const root = await dir();
    const file = join(root, "broken.json");
    await writeFile(file, "{ not json");
    await writeFile(join(root, "web.yaml"), serviceYaml("web"));
    const r = await started({ paths: [root] });
    expect(r.latest()).toEqual(["Service default/web:80"]);
    expect(r.logs.filter((entry) => entry.level === "error")).toEqual([
      expect.objectContaining({ file, problem: expect.stringMatching(/^invalid JSON/) }),
    ]);
    await writeFile(file, JSON.stringify({ apiVersion: "v1", kind: "Service", metadata: { name: "api" } }));
    await applied(r, ["Service default/api", "Service default/web:80"]);
  });

  test("a broken file is logged once, not on every retry", async () => {
    const root = await dir();
    await writeFile(join(root, "broken.yaml"), "a: [");
    const r = await started({ paths: [root], retryMs: 20, rescanMs: 50 });
    await sleep(500);
    expect(r.logs.filter((entry) => entry.level === "error")).toHaveLength(1);
  });

  test("a half-written file is not applied; the full content is, once written", async () => {
    const root = await dir();
    const file = join(root, "web.yaml");
    await writeFile(file, serviceYaml("web", 80));
    const r = await started({ paths: [root] });
    const full = `${serviceYaml("api", 8000)}---\napiVersion: v1\nkind: Service\nmetadata: { name: web, labels: { app: web } }\nspec: { ports: [ { name: http, port: 81 } ] }\n`;
    const cut = full.indexOf("app: web") + 3; // inside an open flow mapping: does not parse
    await writeFile(file, full.slice(0, cut));
    await waitFor("the half-written file to be seen", () => r.logs.some((entry) => entry.level === "error"));
    await sleep(100);
    await appendFile(file, full.slice(cut));
    await applied(r, ["Service default/api:8000", "Service default/web:81"]);
    // Nothing in between: only the first content and the full one were ever applied.
    expect(r.changes.map((objects) => objects.length)).toEqual(r.changes.map((_, i) => (i === 0 ? 1 : 2)));
  });

  test("a file emptied and rewritten in place is never applied empty", async () => {
    const root = await dir();
    const file = join(root, "web.yaml");
    await writeFile(file, `${serviceYaml("web", 80)}---\n${serviceYaml("api", 8000)}`);
    const r = await started({ paths: [root] });
    // What an editor or `cat > file` does: truncate, then write; here the second part comes a little later.
    await writeFile(file, "");
    await sleep(20);
    await writeFile(file, serviceYaml("web", 81));
    await sleep(20);
    await appendFile(file, `---\n${serviceYaml("api", 8001)}`);
    await applied(r, ["Service default/api:8001", "Service default/web:81"]);
    expect(r.changes.map((objects) => objects.length)).not.toContain(0);
    expect(r.changes.map((objects) => objects.length)).not.toContain(1);
  });

  test("a file that is broken and then removed takes its last good objects with it", async () => {
    const root = await dir();
    const file = join(root, "api.yaml");
    await writeFile(file, serviceYaml("api"));
    await writeFile(join(root, "web.yaml"), serviceYaml("web"));
    const r = await started({ paths: [root] });
    await writeFile(file, "kind: [");
    await waitFor("the error log entry", () => r.logs.some((entry) => entry.level === "error"));
    await rm(file);
    await applied(r, ["Service default/web:80"]);
  });
});

describe("creationTimestamp", () => {
  test("objects without one are stamped from the clock when first read, stable across reloads", async () => {
    const root = await dir();
    const file = join(root, "ingresses.yaml");
    const ingressYaml = (name: string, host: string, timestamp?: string) =>
      `apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: ${name}\n${
        timestamp === undefined ? "" : `  creationTimestamp: "${timestamp}"\n`
      }spec:\n  rules:\n    - host: ${host}\n`;
    let clock = Date.parse("2026-03-01T10:00:00Z");
    await writeFile(
      file,
      `${ingressYaml("first", "a.example.com")}---\n${ingressYaml("old", "o.example.com", "2020-01-01T00:00:00Z")}`,
    );
    const r = await started({ paths: [root], now: () => clock });
    const stamps = () =>
      Object.fromEntries(r.source.objects().map((o) => [o.metadata?.name, o.metadata?.creationTimestamp]));
    expect(stamps()).toEqual({ first: "2026-03-01T10:00:00.000Z", old: "2020-01-01T00:00:00Z" });

    clock = Date.parse("2026-03-01T11:00:00Z");
    await writeFile(
      file,
      `${ingressYaml("first", "b.example.com")}---\n${ingressYaml("old", "o.example.com", "2020-01-01T00:00:00Z")}---\n${ingressYaml("second", "c.example.com")}`,
    );
    await waitFor("the rewrite", () => r.source.objects().length === 3);
    expect(stamps()).toEqual({
      first: "2026-03-01T10:00:00.000Z",
      old: "2020-01-01T00:00:00Z",
      second: "2026-03-01T11:00:00.000Z",
    });
    const first = r.source.objects().find((o) => o.metadata?.name === "first") as { spec?: { rules?: unknown } };
    expect(first.spec?.rules).toEqual([{ host: "b.example.com" }]);

    // Moving an object to another file keeps its stamp too.
    clock = Date.parse("2026-03-01T12:00:00Z");
    await writeFile(join(root, "moved.yaml"), ingressYaml("second", "c.example.com"));
    await writeFile(file, ingressYaml("first", "b.example.com"));
    await waitFor("the move", () => r.source.objects().length === 2 && r.changes.at(-1)?.length === 2);
    expect(stamps()).toEqual({ first: "2026-03-01T10:00:00.000Z", second: "2026-03-01T11:00:00.000Z" });
  });

  test("a hand-written Ingress read first keeps winning a conflict across reloads", async () => {
    const root = await dir();
    const claim = (name: string, backendName: string) =>
      `apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: ${name}\nspec:\n  ingressClassName: rennet\n  rules:\n    - host: cheese.example.com\n      http:\n        paths:\n          - path: /\n            pathType: Prefix\n            backend: { service: { name: ${backendName}, port: { number: 80 } } }\n`;
    const ingressClassYaml =
      "apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: { name: rennet }\nspec: { controller: rennet.dev/ingress-controller }\n";
    let clock = Date.parse("2026-03-01T10:00:00Z");
    await writeFile(join(root, "class.yaml"), ingressClassYaml);
    await writeFile(join(root, "zzz.yaml"), claim("zzz-first", "first"));
    const r = await started({ paths: [root], now: () => clock });
    const winner = () => {
      const table = compile(translate(snapshotOf(r.changes.at(-1) ?? []), { className: "rennet" }).ingresses);
      return table.match("cheese.example.com", "/")?.backend;
    };
    expect(winner()).toBe("default/first:80");

    // A newer Ingress whose name sorts first does not take over...
    clock += 60_000;
    await writeFile(join(root, "aaa.yaml"), claim("aaa-second", "second"));
    await waitFor("the second Ingress", () => (r.changes.at(-1) ?? []).length === 3);
    expect(winner()).toBe("default/first:80");

    // ...nor when the first one's file is rewritten later.
    clock += 60_000;
    await writeFile(join(root, "zzz.yaml"), claim("zzz-first", "first-v2"));
    await waitFor("the rewrite", () => winner() === "default/first-v2:80");
  });

  test("the same name in another namespace or of another kind is stamped on its own", async () => {
    const root = await dir();
    let clock = Date.parse("2026-03-01T10:00:00Z");
    await writeFile(join(root, "a.yaml"), serviceYaml("web"));
    const r = await started({ paths: [root], now: () => clock });
    clock = Date.parse("2026-03-01T10:00:05Z");
    await writeFile(
      join(root, "b.yaml"),
      `${serviceYaml("web", 80, "shop")}---\n${serviceYaml("web").replace("kind: Service", "kind: Secret")}`,
    );
    await waitFor("the new file", () => r.source.objects().length === 3);
    expect(
      r.source
        .objects()
        .map((o) => `${o.kind} ${o.metadata?.namespace}/${o.metadata?.name} ${o.metadata?.creationTimestamp}`)
        .sort(),
    ).toEqual([
      "Secret default/web 2026-03-01T10:00:05.000Z",
      "Service default/web 2026-03-01T10:00:00.000Z",
      "Service shop/web 2026-03-01T10:00:05.000Z",
    ]);
  });
});

describe("close()", () => {
  test("stops the watching: no more onChange", async () => {
    const root = await dir();
    const file = join(root, "web.yaml");
    await writeFile(file, serviceYaml("web", 80));
    const r = await started({ paths: [root], rescanMs: 50, retryMs: 20 });
    await writeFile(file, serviceYaml("web", 81));
    await applied(r, ["Service default/web:81"]);
    r.source.close();
    const count = r.changes.length;
    await writeFile(file, serviceYaml("web", 82));
    await writeFile(join(root, "api.yaml"), serviceYaml("api"));
    await sleep(500);
    expect(r.changes).toHaveLength(count);
  });

  test("a scan in progress when close() is called does not report", async () => {
    const root = await dir();
    const file = join(root, "app.yaml");
    await writeFile(file, serviceYaml("web", 80));
    let source: Recorder["source"] | undefined;
    // The log callback runs in the middle of a scan: closing there is closing while a scan is under way.
    const r = await started({
      paths: [root],
      log: (entry) => {
        if (entry.msg.startsWith("skipping")) source?.close();
      },
    });
    source = r.source;
    const count = r.changes.length;
    await writeFile(
      file,
      `${serviceYaml("web", 81)}---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
`,
    );
    await sleep(800);
    expect(r.changes).toHaveLength(count);
  });

  test("close() right after start() leaves nothing running", async () => {
    const root = await dir();
    const file = join(root, "web.yaml");
    await writeFile(file, serviceYaml("web", 80));
    const r = recorder({ paths: [root] });
    await r.source.start();
    r.source.close();
    await writeFile(file, serviceYaml("web", 81));
    await sleep(400);
    expect(r.changes).toHaveLength(1);
  });
});
