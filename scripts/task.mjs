// Entry point of the root npm scripts: build, test, bench, bench:proxy, bench:churn, start, lint.
// Runs under whatever Node the machine has and moves every real step onto a
// Node that meets the engines (see node-runtime.mjs).
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureNode } from "../packages/node-edge/bin/node-runtime.mjs";

const PNPM = "pnpm@12.21.0";
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const node = ensureNode(root);
const env = {
  ...process.env,
  PATH: `${dirname(node)}${process.platform === "win32" ? ";" : ":"}${process.env.PATH}`,
  npm_config_update_notifier: "false",
};

function run(cmd, args, opts = {}) {
  const result = spawnSync(cmd, args, { cwd: root, env, stdio: "inherit", ...opts });
  if (result.error) throw result.error;
  if (result.status !== 0) process.exit(result.status ?? 1);
}
const pnpm = (...args) => run("npx", ["--yes", PNPM, ...args]);
const nodeRun = (...args) => run(node, args);

const tasks = {
  install: () => pnpm("install", "--frozen-lockfile", "--prefer-offline", "--reporter=append-only"),
  build: () => {
    tasks.install();
    pnpm("-r", "--workspace-concurrency=1", "run", "build");
  },
  lint: () => {
    nodeRun(join(root, "node_modules/@biomejs/biome/bin/biome"), "check", ".");
    // The build type-checks src only; vitest strips types without checking them.
    for (const pkg of ["router", "k8s-sync", "node-edge"]) {
      nodeRun(join(root, "node_modules/typescript/bin/tsc"), "-p", join(root, "packages", pkg, "test"));
    }
  },
  test: () => {
    tasks.build();
    tasks.lint();
    // Vitest's own summary is coloured and in its own words; CI also reads a plain closing line.
    const results = join(root, ".rennet", "vitest-results.json");
    rmSync(results, { force: true });
    const outcome = spawnSync(
      node,
      [
        join(root, "node_modules/vitest/vitest.mjs"),
        "run",
        "--reporter=default",
        "--reporter=json",
        `--outputFile.json=${results}`,
        ...process.argv.slice(3),
      ],
      { cwd: root, env, stdio: "inherit" },
    );
    try {
      const summary = JSON.parse(readFileSync(results, "utf8"));
      console.log(`${summary.numPassedTests} passed, ${summary.numFailedTests} failed`);
    } catch {
      console.log("0 passed, 1 failed");
    }
    if (outcome.status !== 0) process.exit(outcome.status ?? 1);
  },
  bench: () => {
    tasks.build();
    pnpm("--filter", "@rennet/router", "run", "bench", ...process.argv.slice(3));
  },
  // The proxy benchmark (bench/proxy): installs its own tools and bench-only packages.
  "bench:proxy": () => {
    tasks.build();
    nodeRun(join(root, "bench/proxy/run.mjs"), ...process.argv.slice(3));
  },
  // Change→traffic under churn (bench/churn): the real CLI fed by manifest files and by the API double.
  "bench:churn": () => {
    tasks.build();
    nodeRun(join(root, "bench/churn/run.ts"), ...process.argv.slice(3));
  },
  start: () => {
    tasks.build();
    nodeRun(join(root, "examples/cheese/demo.mjs"), ...process.argv.slice(3));
  },
};

const name = process.argv[2];
if (!tasks[name]) {
  console.error(`usage: node scripts/task.mjs <${Object.keys(tasks).join("|")}>`);
  process.exit(2);
}
tasks[name]();
