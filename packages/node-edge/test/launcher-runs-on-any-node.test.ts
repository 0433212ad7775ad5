import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { startRennet } from "./support/rennet.js";

const launcher = fileURLToPath(new URL("../bin/rennet.mjs", import.meta.url));

// The machine's own Node, found on PATH without the private one the scripts prepend.
function machinePath(): string {
  return (process.env.PATH ?? "")
    .split(delimiter)
    .filter((dir) => !dir.includes(`${join(".rennet", "node")}`))
    .join(delimiter);
}

function machineNode(): string {
  for (const dir of machinePath().split(delimiter)) {
    const candidate = join(dir, "node");
    if (dir !== "" && existsSync(candidate)) return candidate;
  }
  throw new Error("no node on the machine's PATH");
}

function rennet(...args: string[]) {
  return spawnSync(machineNode(), [launcher, ...args], {
    encoding: "utf8",
    env: { ...process.env, PATH: machinePath() },
    timeout: 120_000,
  });
}

describe("the rennet launcher", () => {
  it("runs rennet on a Node that meets the engines, whatever Node started it", () => {
    const result = rennet("--version");
    expect(result.status).toBe(0);
    const match = /^rennet \d+\.\d+\.\d+ \(node v(\d+)\.(\d+)\.\d+\)$/m.exec(result.stdout);
    expect(match, result.stdout + result.stderr).not.toBeNull();
    const [major, minor] = [Number(match?.[1]), Number(match?.[2])];
    expect(major > 22 || (major === 22 && minor >= 19)).toBe(true);
  });

  it("serves with malloc's mmap threshold fixed (memory freed after configuration changes goes back), unless the environment sets it", async () => {
    const empty = mkdtempSync(join(tmpdir(), "rennet-launcher-"));
    const environmentOf = async (env?: Record<string, string>) => {
      const rennet = await startRennet({ manifests: [empty], ...(env === undefined ? {} : { env }) });
      try {
        const serving = await rennet.waitForLog((line) => line.msg === "rennet is serving");
        return readFileSync(`/proc/${Number(serving.pid)}/environ`, "utf8").split("\0");
      } finally {
        await rennet.stop();
      }
    };
    try {
      expect(await environmentOf()).toContain("MALLOC_MMAP_THRESHOLD_=131072");
      expect(await environmentOf({ MALLOC_MMAP_THRESHOLD_: "262144" })).toContain("MALLOC_MMAP_THRESHOLD_=262144");
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it("describes its commands in --help", () => {
    const result = rennet("--help");
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("Usage:");
    expect(result.stdout).toContain("--version");
  });

  it("exits non-zero with a clear message on an unknown command", () => {
    const result = rennet("frobnicate");
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('unknown command "frobnicate"');
  });
});
