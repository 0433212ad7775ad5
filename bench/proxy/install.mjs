// What the bench needs on the machine: nginx, HAProxy, wrk, h2load, openssl,
// a C compiler and the OpenSSL headers (for newconn.c) from Debian's packages
// (installed with apt-get when missing), taskset, two cores, the bench-only
// npm packages (bench/package.json) and a built rennet.
import { spawnSync } from "node:child_process";
import { accessSync, constants, existsSync, readFileSync } from "node:fs";
import { cpus } from "node:os";
import { delimiter, dirname, join } from "node:path";

const SYSTEM_DIRS = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

/** The absolute path of an executable on PATH or in the system directories, or null. */
export function which(name) {
  for (const dir of [...(process.env.PATH ?? "").split(delimiter), ...SYSTEM_DIRS]) {
    if (dir === "") continue;
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return null;
}

function run(cmd, args, what) {
  process.stderr.write(`bench: ${[cmd, ...args].join(" ")}\n`);
  const result = spawnSync(cmd, args, {
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive", npm_config_update_notifier: "false" },
  });
  if (result.error || result.status !== 0) {
    throw new Error(`${what} failed (${result.error?.message ?? `exit ${result.status}`}); the bench will not run`);
  }
}

const DEBIAN = {
  nginx: "nginx",
  haproxy: "haproxy",
  wrk: "wrk",
  taskset: "util-linux",
  h2load: "nghttp2-client",
  openssl: "openssl",
  cc: "gcc",
};
/** Files that are not executables, by Debian package. */
const DEBIAN_FILES = { "/usr/include/openssl/ssl.h": "libssl-dev" };

/** Installs the missing Debian packages; returns the executables' paths. */
export function ensureTools() {
  if (process.platform !== "linux") throw new Error("the proxy bench needs Linux (/proc, taskset)");
  const absent = () => [
    ...Object.keys(DEBIAN).filter((tool) => which(tool) === null),
    ...Object.keys(DEBIAN_FILES).filter((file) => !existsSync(file)),
  ];
  const packageOf = (item) => DEBIAN[item] ?? DEBIAN_FILES[item];
  const missing = absent();
  if (missing.length > 0) {
    const root = typeof process.getuid === "function" && process.getuid() === 0;
    if ((!root && which("sudo") === null) || which("apt-get") === null) {
      throw new Error(`missing ${missing.join(", ")}; install the Debian packages ${missing.map(packageOf).join(" ")}`);
    }
    const packages = [...new Set(missing.map(packageOf))];
    const apt = (...args) => (root ? ["apt-get", args] : ["sudo", ["-n", "apt-get", ...args]]);
    run(...apt("update", "-qq"), "apt-get update");
    run(...apt("install", "-y", "-qq", "--no-install-recommends", ...packages), "apt-get install");
    const still = absent();
    if (still.length > 0) throw new Error(`still missing after apt-get install: ${still.join(", ")}`);
  }
  return Object.fromEntries(Object.keys(DEBIAN).map((tool) => [tool, which(tool)]));
}

/** Two cores at least: the proxy on CPU 0, backend and load on CPU 1. */
export function ensureCores() {
  const count = cpus().length;
  if (count < 2)
    throw new Error(`the proxy bench pins the proxy and the load to different cores; this machine has ${count}`);
  return count;
}

/** bench/node_modules matches bench/package.json, else `npm ci` (or `npm install` without a lockfile). */
export function ensureBenchPackages(benchDir) {
  const manifest = JSON.parse(readFileSync(join(benchDir, "package.json"), "utf8"));
  const wanted = Object.entries(manifest.dependencies ?? {});
  const installed = (name) => {
    try {
      return JSON.parse(readFileSync(join(benchDir, "node_modules", name, "package.json"), "utf8")).version;
    } catch {
      return undefined;
    }
  };
  if (wanted.every(([name, version]) => installed(name) === version)) return;
  const npm = join(dirname(process.execPath), "npm");
  const cmd = existsSync(npm) ? npm : "npm";
  const lock = existsSync(join(benchDir, "package-lock.json"));
  run(
    cmd,
    [lock ? "ci" : "install", "--prefix", benchDir, "--no-audit", "--no-fund"],
    "npm install of the bench packages",
  );
  const wrong = wanted.filter(([name, version]) => installed(name) !== version);
  if (wrong.length > 0) throw new Error(`bench packages not installed: ${wrong.map(([n]) => n).join(", ")}`);
}

/** rennet must be built (npm run build, or tsc -b); `npm run bench:proxy` builds it first. */
export function ensureRennetBuilt(root) {
  if (!existsSync(join(root, "packages/node-edge/dist/cli.js"))) {
    throw new Error("rennet is not built: run `node scripts/task.mjs build` (npm run bench:proxy does)");
  }
}
