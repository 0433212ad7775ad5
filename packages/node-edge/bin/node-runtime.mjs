// Finds a Node that satisfies the engines (>= 22.19) and, when the machine's
// own Node is older, installs a private Node 24 from the npm registry (package
// node-<platform>-<arch>, which carries the binary) into a folder of its own.
// Nothing global changes. Used by the root scripts and by the rennet launcher,
// so it must run on any Node >= 18 and import nothing but built-ins.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

export const MIN_NODE = [22, 19];
export const PRIVATE_NODE_RANGE = process.env.RENNET_NODE_RANGE ?? "24";

export function isRecentEnough(version) {
  const [major, minor] = version.replace(/^v/, "").split(".").map(Number);
  return major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1]);
}

/**
 * Where the private Node lives: `.rennet/node` in the nearest folder above
 * `from` that has one (a checkout of this repo), else the user's cache.
 */
export function privateNodeDir(from) {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, ".rennet", "node")) || existsSync(join(dir, "pnpm-workspace.yaml"))) {
      return join(dir, ".rennet", "node");
    }
    if (dirname(dir) === dir) break;
  }
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "rennet", "node");
}

function privateNodeBinary(dir) {
  const exe = process.platform === "win32" ? "node.exe" : join("bin", "node");
  return join(dir, "node_modules", `node-${process.platform}-${process.arch}`, exe);
}

/** Absolute path of a Node binary that satisfies the engines, installing one if needed. */
export function ensureNode(from) {
  if (isRecentEnough(process.version)) return process.execPath;
  const dir = privateNodeDir(from);
  const binary = privateNodeBinary(dir);
  if (!existsSync(binary)) {
    const pkg = `node-${process.platform}-${process.arch}@${PRIVATE_NODE_RANGE}`;
    process.stderr.write(
      `rennet: Node ${process.version} is older than ${MIN_NODE.join(".")}; installing ${pkg} into ${dir}\n`,
    );
    const npm = process.platform === "win32" ? "npm.cmd" : "npm";
    execFileSync(
      npm,
      [
        "install",
        "--prefix",
        dir,
        "--no-save",
        "--no-package-lock",
        "--no-audit",
        "--no-fund",
        "--loglevel=error",
        pkg,
      ],
      { stdio: ["ignore", "inherit", "inherit"] },
    );
    if (!existsSync(binary)) throw new Error(`rennet: ${pkg} installed but ${binary} is missing`);
  }
  return binary;
}
