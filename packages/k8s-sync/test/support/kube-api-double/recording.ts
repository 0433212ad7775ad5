/** What the double remembers of each request, and how tests pick requests out (for counting or failure injection). */

/** The Kubernetes verb of a request, as RBAC names it. */
export type Verb = "get" | "list" | "watch" | "create" | "update" | "patch" | "delete";

export interface RecordedRequest {
  /** Milliseconds since the epoch when the request arrived. */
  readonly time: number;
  readonly method: string;
  /** The URL path, without the query. */
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly contentType: string | undefined;
  readonly userAgent: string | undefined;
  /** The body: parsed JSON (or YAML for apply patches) when it parses, else the raw text; undefined when empty. */
  readonly body: unknown;
  /** Set when the path addresses a resource. */
  readonly verb: Verb | undefined;
  readonly group: string | undefined;
  readonly resource: string | undefined;
  readonly subresource: string | undefined;
  readonly namespace: string | undefined;
  readonly name: string | undefined;
  /** The HTTP status sent (200 for a watch that streamed); 0 until the response started, or if it never did. */
  status: number;
}

/** Picks requests: every given property must match. */
export interface RequestFilter {
  readonly method?: string;
  readonly verb?: Verb | readonly Verb[];
  readonly group?: string;
  readonly resource?: string;
  /** "" matches requests without a subresource. */
  readonly subresource?: string;
  readonly namespace?: string;
  readonly name?: string;
  readonly path?: string | RegExp;
}

export type RequestMatch = RequestFilter | ((request: RecordedRequest) => boolean);

export function requestMatches(match: RequestMatch | undefined, r: RecordedRequest): boolean {
  if (match === undefined) return true;
  if (typeof match === "function") return match(r);
  if (match.method !== undefined && match.method.toUpperCase() !== r.method) return false;
  if (match.verb !== undefined) {
    const verbs: readonly Verb[] = typeof match.verb === "string" ? [match.verb] : match.verb;
    if (r.verb === undefined || !verbs.includes(r.verb)) return false;
  }
  if (match.group !== undefined && match.group !== r.group) return false;
  if (match.resource !== undefined && match.resource !== r.resource) return false;
  if (match.subresource !== undefined && match.subresource !== (r.subresource ?? "")) return false;
  if (match.namespace !== undefined && match.namespace !== r.namespace) return false;
  if (match.name !== undefined && match.name !== r.name) return false;
  if (match.path !== undefined) {
    if (typeof match.path === "string" ? match.path !== r.path : !match.path.test(r.path)) return false;
  }
  return true;
}

export const WRITE_VERBS: readonly Verb[] = ["create", "update", "patch", "delete"];
