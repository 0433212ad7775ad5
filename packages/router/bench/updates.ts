/**
 * The one-Ingress updates of a table: each one takes a different existing
 * Ingress (a seeded permutation), points its first path at a new backend and,
 * every other time, adds a Prefix path. Every update comes with a probe
 * request on the changed host, asked right after it, so lazy rebuilding is
 * counted too.
 */
import { Rng } from "./rng.ts";
import type { BenchTable, Ingress } from "./tables.ts";

export interface Update {
  readonly ingress: Ingress;
  readonly probeHost: string;
  readonly probePath: string;
}

function modify(base: Ingress, n: number): Ingress {
  const rules = (base.rules ?? []).map((rule, ri) => {
    const paths = rule.http?.paths ?? [];
    if (ri !== 0 || paths.length === 0) return rule;
    const changed = paths.map((p, pi) => (pi === 0 ? { ...p, backend: `${p.backend}~u${n}` } : p));
    if (n % 2 === 0) changed.push({ path: `/upd-${n}`, pathType: "Prefix", backend: `u${n}` });
    return { ...rule, http: { paths: changed } };
  });
  return { ...base, rules };
}

export function makeUpdates(table: BenchTable, count: number): Update[] {
  const rng = new Rng(`updates/${table.id}`);
  const order = rng.shuffle(table.ingresses.map((_, i) => i));
  const out: Update[] = [];
  for (let n = 0; n < count; n++) {
    const base = table.ingresses[order[n % order.length] as number] as Ingress;
    const ingress = modify(base, n);
    const rule = ingress.rules?.[0];
    const host = rule?.host ?? "probe.example.org";
    out.push({
      ingress,
      probeHost: host.startsWith("*.") ? `probe.${host.slice(2)}` : host,
      probePath: rule?.http?.paths[0]?.path ?? "/",
    });
  }
  return out;
}
