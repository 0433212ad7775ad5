/** Statistics, the goals, and the markdown report of a churn run. */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

export interface Spread {
  readonly n: number;
  readonly median: number | null;
  readonly p99: number | null;
  readonly max: number | null;
}

/** Nearest-rank percentiles. */
export function spread(values: readonly number[]): Spread {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return { n: 0, median: null, p99: null, max: null };
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
  return { n: sorted.length, median: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] as number };
}

export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly os: string;
  readonly node: string;
  readonly commit: string;
  readonly loadAverageAtStart: readonly number[];
}

export interface Goal {
  readonly source: string;
  readonly goal: string;
  readonly value: number | null;
  readonly limit: number;
  readonly unit: string;
  readonly met: boolean | null;
}

export function goal(source: string, text: string, value: number | null, limit: number, unit: string): Goal {
  return { source, goal: text, value, limit, unit, met: value === null ? null : value < limit };
}

export const fmt = (value: number | null | undefined, digits = 1): string =>
  value === null || value === undefined || !Number.isFinite(value) ? "–" : value.toFixed(digits);

export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

export function writeText(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}
