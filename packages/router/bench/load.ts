/**
 * How busy the rest of the machine is, from /proc/stat (Linux only; elsewhere
 * every answer is null and nothing waits). Other work on a 2-core machine can
 * make a lookup loop several times slower, so the runner waits for a quiet
 * moment before each measurement and measures again when one was disturbed.
 */
import { readFileSync } from "node:fs";

/** /proc/stat counts in USER_HZ, 100 a second on Linux. */
const TICK_MS = 10;

export interface CpuSnapshot {
  readonly at: number;
  /** Busy CPU time of the whole machine, ms. */
  readonly busyMs: number;
}

export function snapshot(): CpuSnapshot | null {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
    const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
    const busy = [user, nice, system, irq, softirq, steal].reduce<number>((a, b) => a + (b ?? 0), 0);
    return { at: performance.now(), busyMs: busy * TICK_MS };
  } catch {
    return null;
  }
}

/** CPU cores' worth of work done between two snapshots by anything but `ownMs` of our own. */
export function otherLoad(from: CpuSnapshot | null, to: CpuSnapshot | null, ownMs: number): number | null {
  if (from === null || to === null || to.at <= from.at) return null;
  return Math.max(0, (to.busyMs - from.busyMs - ownMs) / (to.at - from.at));
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits until the rest of the machine uses less than `maxCores` over a quarter
 * of a second, or `timeoutMs` has passed. Returns the last reading.
 */
export async function waitForQuiet(maxCores: number, timeoutMs: number): Promise<number | null> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const a = snapshot();
    await sleep(250);
    const load = otherLoad(a, snapshot(), 0);
    if (load === null || load < maxCores || performance.now() >= deadline) return load;
  }
}
