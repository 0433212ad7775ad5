// Finds a Node that satisfies the project's engines (>= 22.19) and, when the
// machine's own Node is older, installs a private Node 24 from the npm registry
// (package node-<platform>-<arch>, which carries the binary) into an ignored
// folder. Nothing global changes. Runs on any Node >= 18 on purpose.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const MIN_NODE = [22, 19];
export const PRIVATE_NODE_RANGE = process.env.RENNET_NODE_RANGE ?? "24";

export function isRecentEnough(version) {
  const [major, minor] = version.replace(/^v/, "").split(".").map(Number);
  return major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1]);
}

export function repoRoot() {
  return join(dirname(fileURLToPath(import.meta.url)), "..");
}

export function privateNodeDir(root = repoRoot()) {
  return join(root, ".rennet", "node");
}

export function privateNodeBinary(root = repoRoot()) {
  const exe = process.platform === "win32" ? "node.exe" : join("bin", "node");
  return join(privateNodeDir(root), "node_modules", `node-${process.platform}-${process.arch}`, exe);
}

/** Absolute path of a Node binary that satisfies the engines, installing one if needed. */
export function ensureNode(root = repoRoot()) {
  if (isRecentEnough(process.version)) return process.execPath;
  const binary = privateNodeBinary(root);
  if (!existsSync(binary)) {
    const pkg = `node-${process.platform}-${process.arch}@${PRIVATE_NODE_RANGE}`;
    process.stderr.write(
      `rennet: Node ${process.version} is older than ${MIN_NODE.join(".")}; installing ${pkg} into ${privateNodeDir(root)}\n`,
    );
    const npm = process.platform === "win32" ? "npm.cmd" : "npm";
    execFileSync(
      npm,
      [
        "install",
        "--prefix",
        privateNodeDir(root),
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
