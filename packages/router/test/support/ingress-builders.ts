/** Small helpers to write Ingress fixtures tersely in tests. Backends are plain strings. */
import type { IngressInput, IngressPath, IngressRule, RouteTable } from "../../src/types.js";

/** [path, pathType, backend]; path undefined = omitted. */
export type PathSpec = readonly [path: string | undefined, pathType: string, backend: string];

export function paths(...specs: PathSpec[]): IngressPath<string>[] {
  return specs.map(([path, pathType, backend]) =>
    path === undefined ? { pathType, backend } : { path, pathType, backend },
  );
}

/** A rule; host undefined = a rule without host. */
export function rule(host: string | undefined, ...specs: PathSpec[]): IngressRule<string> {
  const http = { paths: paths(...specs) };
  return host === undefined ? { http } : { host, http };
}

export interface IngressOptions<P> {
  namespace?: string;
  creationTimestamp?: string | number;
  defaultBackend?: string;
  policies?: P;
}

export function ingress<P = unknown>(
  name: string,
  rules: IngressRule<string>[],
  options: IngressOptions<P> = {},
): IngressInput<string, P> {
  const { namespace = "default", ...rest } = options;
  return { namespace, name, rules, ...rest };
}

/** What a proxy would forward to: the matched backend, else the default backend, else null (404). */
export function served<P>(table: RouteTable<string, P>, host: string, path: string): string | null {
  return table.match(host, path)?.backend ?? table.defaultBackend?.backend ?? null;
}

/** The backend of the matched rule, or null. */
export function matched<P>(table: RouteTable<string, P>, host: string, path: string): string | null {
  return table.match(host, path)?.backend ?? null;
}

export function codes<P>(table: RouteTable<string, P>, namespace: string, name: string): string[] {
  return table.diagnostics(namespace, name).map((diagnostic) => diagnostic.code);
}

export const T0 = "2024-01-01T00:00:00Z";
export const T1 = "2024-01-02T00:00:00Z";
export const T2 = "2024-01-03T00:00:00Z";
