/**
 * Public model of @rennet/router. Inputs are plain objects shaped like
 * networking.k8s.io/v1 Ingress specs; backends are opaque values that the
 * router hands back untouched.
 */

export type PathType = "Exact" | "Prefix" | "ImplementationSpecific";

export interface IngressPath<B> {
  /** Must start with "/". May be omitted only for ImplementationSpecific, which then means "/". */
  readonly path?: string;
  /** Anything but the three Kubernetes values is reported and left out. */
  readonly pathType: PathType | (string & {});
  readonly backend: B;
}

export interface IngressRule<B> {
  /** "foo.com", "*.foo.com", or absent for every host. */
  readonly host?: string;
  readonly http?: { readonly paths: readonly IngressPath<B>[] };
}

export interface IngressInput<B = unknown, P = unknown> {
  readonly namespace: string;
  readonly name: string;
  /**
   * RFC 3339 string (as in metadata.creationTimestamp) or epoch milliseconds.
   * Older wins a conflict; an Ingress without one counts as the newest.
   */
  readonly creationTimestamp?: string | number;
  readonly rules?: readonly IngressRule<B>[];
  readonly defaultBackend?: B;
  /** Opaque per-Ingress policies (annotations, translated); handed back with every match. */
  readonly policies?: P;
}

export interface IngressRef {
  readonly namespace: string;
  readonly name: string;
}

/** What `match` returns. The same object is returned for every request it wins. */
export interface RouteMatch<B = unknown, P = unknown> {
  readonly backend: B;
  readonly ingress: IngressRef;
  /** The rule's host as written (lower-cased), "*.foo.com" for a wildcard, null for a rule without host. */
  readonly host: string | null;
  /** The rule's path as written. */
  readonly path: string;
  readonly pathType: PathType;
  readonly policies: P | undefined;
}

export interface DefaultBackendRoute<B = unknown, P = unknown> {
  readonly backend: B;
  readonly ingress: IngressRef;
  readonly policies: P | undefined;
}

export type DiagnosticCode =
  | "invalid-ingress"
  | "invalid-host"
  | "invalid-path"
  | "invalid-path-type"
  | "missing-backend"
  | "path-conflict"
  | "default-backend-conflict";

export interface Diagnostic {
  readonly code: DiagnosticCode;
  /** A sentence a person can act on. */
  readonly message: string;
  /** Index into spec.rules, when the problem is in a rule. */
  readonly rule?: number;
  /** Index into rules[rule].http.paths, when the problem is in a path. */
  readonly pathIndex?: number;
  /** For conflicts: the Ingress that won. */
  readonly winner?: IngressRef;
}

export interface TableChanges<B = unknown, P = unknown> {
  /** Ingresses to add or replace (matched by namespace/name). */
  readonly upsert?: readonly IngressInput<B, P>[];
  readonly remove?: readonly IngressRef[];
}

/** An immutable compiled routing table. */
export interface RouteTable<B = unknown, P = unknown> {
  /**
   * The winning rule for a request, or null (then the default backend, if any, applies).
   * `host` is the raw Host header (case, ":port" and a trailing dot are ignored);
   * `path` must already be normalised by `normalizePath` and carry no query.
   */
  match(host: string, path: string): RouteMatch<B, P> | null;
  /** The cluster-wide default backend: the oldest Ingress's spec.defaultBackend. */
  readonly defaultBackend: DefaultBackendRoute<B, P> | null;
  /** Number of Ingresses in the table (valid or not). */
  readonly ingressCount: number;
  /** Number of path rules that serve traffic (conflict losers and invalid rules excluded). */
  readonly routeCount: number;
  get(namespace: string, name: string): IngressInput<B, P> | undefined;
  /** Whether the Ingress serves traffic: it wins at least one path, or provides the default backend. */
  isServing(namespace: string, name: string): boolean;
  ingresses(): IterableIterator<IngressInput<B, P>>;
  /** Problems found in one Ingress: invalid rules and lost conflicts. Empty when it is fine. */
  diagnostics(namespace: string, name: string): readonly Diagnostic[];
  /** Every Ingress that has at least one diagnostic. */
  allDiagnostics(): Array<{ ingress: IngressRef; diagnostics: readonly Diagnostic[] }>;
  /** Every route that serves traffic, hosts sorted, most specific path first. */
  routes(): RouteMatch<B, P>[];
  /** A new table with the changes applied; only the hosts they touch are recompiled. */
  update(changes: TableChanges<B, P>): RouteTable<B, P>;
}
