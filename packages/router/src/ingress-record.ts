import { parseRuleHost } from "./rule-host.js";
import { parseRulePath } from "./rule-path.js";
import type { DefaultBackendRoute, Diagnostic, IngressInput, IngressRef, PathType, RouteMatch } from "./types.js";

/** One valid path rule of one Ingress, in one virtual host. */
export interface Claim<B, P> {
  readonly record: IngressRecord<B, P>;
  readonly rule: number;
  readonly pathIndex: number;
  /** "" (every host), "foo.com" or "*.foo.com". */
  readonly hostKey: string;
  readonly exact: boolean;
  readonly match: string;
  readonly route: RouteMatch<B, P>;
}

/** What compile needs to know about one Ingress, derived once per version of it. */
export interface IngressRecord<B, P> {
  readonly key: string;
  readonly ref: IngressRef;
  readonly input: IngressInput<B, P>;
  /** Epoch ms of creationTimestamp; +Infinity when absent, so it loses ties to dated ones. */
  readonly createdAt: number;
  readonly claims: readonly Claim<B, P>[];
  readonly hostKeys: readonly string[];
  readonly problems: readonly Diagnostic[];
  readonly defaultBackend: DefaultBackendRoute<B, P> | null;
}

export function ingressKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

// RFC 3339 with an explicit offset only: Date.parse would read other forms in
// the process's time zone, and conflict winners must not depend on where
// (or on which runtime) the router runs.
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i;

function creationTime(value: unknown): number {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string" && RFC3339.test(value)) {
    const parsed = Date.parse(value);
    if (!Number.isNaN(parsed)) return parsed;
  }
  return Number.POSITIVE_INFINITY;
}

/** Conflict order: oldest first, then namespace, then name. */
export function compareRecords<B, P>(a: IngressRecord<B, P>, b: IngressRecord<B, P>): number {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? -1 : 1;
  if (a.ref.namespace !== b.ref.namespace) return a.ref.namespace < b.ref.namespace ? -1 : 1;
  if (a.ref.name !== b.ref.name) return a.ref.name < b.ref.name ? -1 : 1;
  return 0;
}

export function compareClaims<B, P>(a: Claim<B, P>, b: Claim<B, P>): number {
  return compareRecords(a.record, b.record) || a.rule - b.rule || a.pathIndex - b.pathIndex;
}

function asArray(value: unknown): readonly unknown[] | null {
  return Array.isArray(value) ? value : null;
}

function field(value: unknown, name: string): unknown {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>)[name] : undefined;
}

/**
 * Validates one Ingress and splits it into claims per virtual host. Never
 * throws: whatever is wrong becomes a diagnostic and is left out.
 */
export function compileIngress<B, P>(input: IngressInput<B, P>): IngressRecord<B, P> {
  const namespace = String(field(input, "namespace") ?? "");
  const name = String(field(input, "name") ?? "");
  const problems: Diagnostic[] = [];
  const claims: Claim<B, P>[] = [];
  const hostKeys: string[] = [];
  const ref: IngressRef = Object.freeze({ namespace, name });
  const record: IngressRecord<B, P> = {
    key: ingressKey(namespace, name),
    ref,
    input,
    createdAt: creationTime(field(input, "creationTimestamp")),
    claims,
    hostKeys,
    problems,
    defaultBackend: null,
  };
  if (name === "") {
    problems.push({ code: "invalid-ingress", message: "Ingress has no name; it is not served" });
    return record;
  }
  const policies = field(input, "policies") as P | undefined;
  const defaultBackend = field(input, "defaultBackend");
  if (defaultBackend !== undefined && defaultBackend !== null) {
    (record as { defaultBackend: DefaultBackendRoute<B, P> }).defaultBackend = Object.freeze({
      backend: defaultBackend as B,
      ingress: ref,
      policies,
    });
  }
  const rulesField = field(input, "rules");
  const rules = asArray(rulesField);
  if (rules === null) {
    if (rulesField !== undefined && rulesField !== null) {
      problems.push({ code: "invalid-ingress", message: "spec.rules must be a list; no rule of it is served" });
    }
    return record;
  }
  const seenHosts = new Set<string>();
  rules.forEach((rule, ruleIndex) => {
    const host = parseRuleHost(field(rule, "host"));
    if (!host.ok) {
      problems.push({ code: "invalid-host", message: `rules[${ruleIndex}]: ${host.message}`, rule: ruleIndex });
      return;
    }
    const http = field(rule, "http");
    if (http === undefined || http === null) return;
    const paths = asArray(field(http, "paths"));
    if (paths === null) {
      problems.push({
        code: "invalid-path",
        message: `rules[${ruleIndex}].http.paths must be a list`,
        rule: ruleIndex,
      });
      return;
    }
    paths.forEach((entry, pathIndex) => {
      const where = `rules[${ruleIndex}].http.paths[${pathIndex}]`;
      const parsed = parseRulePath(field(entry, "path"), field(entry, "pathType"));
      if (!parsed.ok) {
        problems.push({ code: parsed.code, message: `${where}: ${parsed.message}`, rule: ruleIndex, pathIndex });
        return;
      }
      const backend = field(entry, "backend");
      if (backend === undefined || backend === null) {
        problems.push({
          code: "missing-backend",
          message: `${where}: path "${parsed.path}" has no backend`,
          rule: ruleIndex,
          pathIndex,
        });
        return;
      }
      const route: RouteMatch<B, P> = Object.freeze({
        backend: backend as B,
        ingress: ref,
        host: host.key === "" ? null : host.key,
        path: parsed.path,
        pathType: parsed.pathType as PathType,
        policies,
      });
      claims.push({
        record,
        rule: ruleIndex,
        pathIndex,
        hostKey: host.key,
        exact: parsed.exact,
        match: parsed.match,
        route,
      });
      if (!seenHosts.has(host.key)) {
        seenHosts.add(host.key);
        hostKeys.push(host.key);
      }
    });
  });
  return record;
}
