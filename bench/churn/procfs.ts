/** What /proc says about a process and the machine (Linux only). */
import { readFileSync } from "node:fs";

/** USER_HZ: the unit of utime/stime in /proc/<pid>/stat (100 on every mainstream Linux build). */
const CLOCK_TICKS = 100;

/** Resident set size in bytes, or undefined when the process is gone. */
export function rssBytes(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** The process's command line (after the launcher re-executed itself with its V8 flags), or undefined. */
export function commandLine(pid: number): string[] | undefined {
  return nulSeparated(pid, "cmdline");
}

/** The process's environment variables whose names start with `prefix`, as NAME=value, or undefined. */
export function environment(pid: number, prefix: string): string[] | undefined {
  return nulSeparated(pid, "environ")?.filter((entry) => entry.startsWith(prefix));
}

/** A NUL-separated list from /proc/<pid>/ (cmdline, environ), or undefined when the process is gone. */
function nulSeparated(pid: number, file: "cmdline" | "environ"): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/${file}`, "utf8")
      .split("\0")
      .filter((entry) => entry !== "");
  } catch {
    return undefined;
  }
}

/** CPU time (user + system) the process has used, in ms (10 ms resolution). */
export function cpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after "(comm)": state is field 3, utime field 14, stime field 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** Machine-wide CPU counters (all cores), for the busy share between two readings. */
export function machineTicks(): { busy: number; total: number } {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
    const values = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = (values[3] ?? 0) + (values[4] ?? 0);
    const total = values.slice(0, 8).reduce((sum, v) => sum + v, 0);
    return { busy: total - idle, total };
  } catch {
    return { busy: 0, total: 0 };
  }
}

/** Busy share of the whole machine (0–1) between two readings. */
export function busyShare(before: { busy: number; total: number }, after: { busy: number; total: number }): number {
  const total = after.total - before.total;
  return total > 0 ? (after.busy - before.busy) / total : 0;
}
