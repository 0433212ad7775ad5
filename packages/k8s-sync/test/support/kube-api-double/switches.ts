/** Failure injection that tests flip on and off: injected HTTP errors, RBAC denials, the form of 410 on watches. */
import type { RecordedRequest, RequestMatch, Verb } from "./recording.js";
import { requestMatches } from "./recording.js";
import type { ResourceDef } from "./resources.js";
import type { ApiError } from "./status.js";
import { injected } from "./status.js";

export interface FailRequestsOptions {
  /** HTTP status to answer with, e.g. 500, 503, 429, 504. The body is a Status with the matching reason. */
  readonly status: number;
  /** How many matching requests fail; every matching one until clearFailures() when omitted. */
  readonly count?: number;
  /** Which requests; all (discovery and watches included) when omitted. */
  readonly match?: RequestMatch;
  readonly message?: string;
}

export interface ForbidRule {
  /** Plural resource, with "/status" for the subresource: "ingresses", "ingresses/status", "leases". */
  readonly resource: string;
  /** RBAC verb(s), or "*". */
  readonly verb: Verb | "*" | readonly Verb[];
  /** Deny only in this namespace; everywhere (cluster-wide requests included) when omitted. */
  readonly namespace?: string;
  /** API group; any group serving `resource` when omitted. */
  readonly group?: string;
}

interface ActiveFailure {
  readonly options: FailRequestsOptions;
  remaining: number;
}

export class Switches {
  private failures: ActiveFailure[] = [];
  private forbids: ForbidRule[] = [];
  /** When true, a watch from a compacted resourceVersion gets an HTTP 410 instead of 200 + an ERROR event. */
  gone410AsHttpStatus = false;

  failRequests(options: FailRequestsOptions): void {
    this.failures.push({ options, remaining: options.count ?? Number.POSITIVE_INFINITY });
  }

  clearFailures(): void {
    this.failures = [];
  }

  /** The injected error for this request, consuming one from its rule, or undefined. */
  takeFailure(r: RecordedRequest): ApiError | undefined {
    const f = this.failures.find((x) => x.remaining > 0 && requestMatches(x.options.match, r));
    if (!f) return undefined;
    f.remaining--;
    this.failures = this.failures.filter((x) => x.remaining > 0);
    return injected(f.options.status, f.options.message);
  }

  forbid(rule: ForbidRule): () => void {
    this.forbids.push(rule);
    return () => {
      this.forbids = this.forbids.filter((r) => r !== rule);
    };
  }

  clearForbids(): void {
    this.forbids = [];
  }

  isForbidden(def: ResourceDef, verb: Verb, namespace: string | undefined, subresource: string | undefined): boolean {
    const resource = subresource ? `${def.resource}/${subresource}` : def.resource;
    return this.forbids.some((rule) => {
      if (rule.resource !== resource) return false;
      if (rule.group !== undefined && rule.group !== def.group) return false;
      if (rule.namespace !== undefined && rule.namespace !== namespace) return false;
      if (rule.verb === "*") return true;
      return typeof rule.verb === "string" ? rule.verb === verb : rule.verb.includes(verb);
    });
  }
}
