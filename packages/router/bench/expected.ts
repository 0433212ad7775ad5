/**
 * The reference matcher's answer (a backend or null) for every request of a
 * workload: what every peer is compared with.
 *
 * The reference scans every rule on every call, too slow for 100k rules, so
 * each request is asked of only the Ingresses that have a rule for one of the
 * host keys the request can select (its exact host, the wildcard one label up,
 * host-less). By the spec nothing else can change the answer: virtual hosts are
 * chosen by host key alone and conflicts are decided within one host key. On
 * small tables the subset answers are checked against whole-table answers.
 *
 * Answers are cached in bench/results/tmp/, keyed by a hash of the sources
 * that produce them.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { referenceMatch, referenceNormalizeHost } from "../test/support/reference-matcher.ts";
import type { Backend, BenchTable, Ingress } from "./tables.ts";
import type { Workload } from "./workload.ts";

export type Expected = (Backend | null)[];

const TMP = new URL("./results/tmp/", import.meta.url);
const SOURCES = ["../test/support/reference-matcher.ts", "./tables.ts", "./workload.ts", "./rng.ts", "./expected.ts"];

function sourceHash(): string {
  const h = createHash("sha256");
  for (const s of SOURCES) h.update(readFileSync(new URL(s, import.meta.url)));
  return h.digest("hex").slice(0, 16);
}

export function expectedFile(table: BenchTable): URL {
  return new URL(`expected-${table.id}-${sourceHash()}.json`, TMP);
}

function subsetIndex(ingresses: readonly Ingress[]): Map<string, Ingress[]> {
  const byKey = new Map<string, Ingress[]>();
  for (const ing of ingresses) {
    const keys = new Set((ing.rules ?? []).map((r) => (r.host ?? "").toLowerCase()));
    for (const key of keys) {
      const list = byKey.get(key);
      if (list === undefined) byKey.set(key, [ing]);
      else list.push(ing);
    }
  }
  return byKey;
}

function relevant(index: Map<string, Ingress[]>, rawHost: string): Ingress[] {
  const h = referenceNormalizeHost(rawHost);
  const dot = h.indexOf(".");
  const keys = [h, dot > 0 ? `*.${h.slice(dot + 1)}` : null, ""];
  const out = new Set<Ingress>();
  for (const key of keys) {
    if (key === null) continue;
    for (const ing of index.get(key) ?? []) out.add(ing);
  }
  return [...out];
}

function compute(table: BenchTable, workload: Workload): Expected {
  const index = subsetIndex(table.ingresses);
  const memo = new Map<string, Backend | null>();
  const out: Expected = [];
  for (let i = 0; i < workload.hosts.length; i++) {
    const host = workload.hosts[i] as string;
    const path = workload.paths[i] as string;
    const memoKey = `${referenceNormalizeHost(host)} ${path}`;
    let answer = memo.get(memoKey);
    if (answer === undefined) {
      answer = referenceMatch(relevant(index, host), host, path)?.backend ?? null;
      memo.set(memoKey, answer);
    }
    out.push(answer);
  }
  if (table.ruleCount <= 1_000) {
    for (let i = 0; i < Math.min(256, out.length); i++) {
      const host = workload.hosts[i] as string;
      const path = workload.paths[i] as string;
      const whole = referenceMatch(table.ingresses, host, path)?.backend ?? null;
      if (whole !== out[i]) {
        throw new Error(`expected answers: subset and whole table differ on ${host}${path} (${out[i]} vs ${whole})`);
      }
    }
  }
  return out;
}

/** Reads the cached answers or computes and caches them; returns the file they are in. */
export function ensureExpected(table: BenchTable, workload: Workload): URL {
  const file = expectedFile(table);
  try {
    const cached = JSON.parse(readFileSync(file, "utf8")) as Expected;
    if (cached.length === workload.hosts.length) return file;
  } catch {
    // not cached yet
  }
  mkdirSync(TMP, { recursive: true });
  for (const name of readdirSync(TMP)) {
    // Answers cached for older sources.
    if (name.startsWith(`expected-${table.id}-`)) rmSync(new URL(name, TMP));
  }
  writeFileSync(file, JSON.stringify(compute(table, workload)));
  return file;
}

export function readExpected(file: string): Expected {
  return JSON.parse(readFileSync(file, "utf8")) as Expected;
}
