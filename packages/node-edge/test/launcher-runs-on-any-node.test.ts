import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

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
