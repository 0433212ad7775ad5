/**
 * metav1.Status objects, worded like kube-apiserver's (k8s.io/apimachinery/pkg/api/errors), and the error that
 * carries one through the double's handlers to the response.
 */
import type { ResourceDef } from "./resources.js";
import { qualifiedKind, qualifiedName } from "./resources.js";

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, never>;
  status: "Success" | "Failure";
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

export class ApiError extends Error {
  constructor(
    readonly status: Status,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(status.message ?? status.reason ?? `HTTP ${status.code}`);
  }
}

export function failure(code: number, reason: string, message: string, details?: StatusDetails): Status {
  const s: Status = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code };
  if (details) s.details = details;
  return s;
}

export function success(details: StatusDetails): Status {
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", details, code: 200 };
}

function detailsFor(d: ResourceDef, name?: string, subresource?: string): StatusDetails {
  const details: StatusDetails = {};
  if (name) details.name = name;
  if (d.group) details.group = d.group;
  details.kind = subresource ? `${d.resource}/${subresource}` : d.resource;
  return details;
}

export function notFound(d: ResourceDef, name: string): ApiError {
  return new ApiError(failure(404, "NotFound", `${qualifiedName(d)} "${name}" not found`, detailsFor(d, name)));
}

/** What the API server says for a path it does not serve. */
export function pathNotFound(): ApiError {
  return new ApiError(failure(404, "NotFound", "the server could not find the requested resource", {}));
}

export function alreadyExists(d: ResourceDef, name: string): ApiError {
  return new ApiError(
    failure(409, "AlreadyExists", `${qualifiedName(d)} "${name}" already exists`, detailsFor(d, name)),
  );
}

export function conflict(d: ResourceDef, name: string, why: string): ApiError {
  return new ApiError(
    failure(
      409,
      "Conflict",
      `Operation cannot be fulfilled on ${qualifiedName(d)} "${name}": ${why}`,
      detailsFor(d, name),
    ),
  );
}

export const MODIFIED_CONFLICT =
  "the object has been modified; please apply your changes to the latest version and try again";

export interface ForbiddenRequest {
  verb: string;
  user: string;
  namespace?: string | undefined;
  name?: string | undefined;
  subresource?: string | undefined;
}

/** The RBAC denial, e.g. `ingresses.networking.k8s.io is forbidden: User "…" cannot list resource "ingresses" in API group "networking.k8s.io" at the cluster scope`. */
export function forbidden(d: ResourceDef, r: ForbiddenRequest): ApiError {
  const subject = r.name ? `${qualifiedName(d)} "${r.name}"` : qualifiedName(d);
  const resource = r.subresource ? `${d.resource}/${r.subresource}` : d.resource;
  const scope = r.namespace ? `in the namespace "${r.namespace}"` : "at the cluster scope";
  const message = `${subject} is forbidden: User "${r.user}" cannot ${r.verb} resource "${resource}" in API group "${d.group}" ${scope}`;
  return new ApiError(failure(403, "Forbidden", message, detailsFor(d, r.name)));
}

export function unauthorized(): ApiError {
  return new ApiError(failure(401, "Unauthorized", "Unauthorized"));
}

export function badRequest(message: string): ApiError {
  return new ApiError(failure(400, "BadRequest", message));
}

export function invalid(d: ResourceDef, name: string, causes: StatusCause[]): ApiError {
  const list = causes.map((c) => `${c.field}: ${c.message}`).join(", ");
  const message = `${qualifiedKind(d)} "${name}" is invalid: ${causes.length > 1 ? `[${list}]` : list}`;
  return new ApiError(failure(422, "Invalid", message, { ...detailsFor(d, name), kind: d.kind, causes }));
}

export function methodNotAllowed(): ApiError {
  return new ApiError(
    failure(405, "MethodNotAllowed", "the server does not allow this method on the requested resource"),
  );
}

export function unsupportedMediaType(accepted: readonly string[]): ApiError {
  return new ApiError(
    failure(
      415,
      "UnsupportedMediaType",
      `the body of the request was in an unknown format - accepted media types include: ${accepted.join(", ")}`,
    ),
  );
}

/** A watch or list from a resourceVersion older than the retained history: reason Expired, code 410. */
export function expired(requested: string, oldest: number): Status {
  return failure(410, "Expired", `too old resource version: ${requested} (${oldest})`);
}

export function tooLargeResourceVersion(requested: string, current: number): Status {
  return failure(504, "Timeout", `Too large resource version: ${requested}, current: ${current}`, {
    causes: [{ reason: "ResourceVersionTooLarge", message: "Too large resource version" }],
    retryAfterSeconds: 1,
  });
}

const REASONS: Readonly<Record<number, [string, string]>> = {
  400: ["BadRequest", "the server rejected our request for an unknown reason"],
  401: ["Unauthorized", "Unauthorized"],
  403: ["Forbidden", "forbidden"],
  404: ["NotFound", "the server could not find the requested resource"],
  409: ["Conflict", "the server reported a conflict"],
  410: ["Expired", "the resource version is too old"],
  422: ["Invalid", "the server rejected our request due to an error in our request"],
  429: ["TooManyRequests", "Too many requests, please try again later."],
  500: ["InternalError", "Internal error occurred: injected failure"],
  502: ["", "Bad Gateway"],
  503: ["ServiceUnavailable", "the server is currently unable to handle the request"],
  504: [
    "Timeout",
    "the server was unable to return a response in the time allotted, but may still be processing the request",
  ],
};

/** A Status for an injected failure with only an HTTP status code given. */
export function injected(code: number, message?: string): ApiError {
  const [reason, defaultMessage] = REASONS[code] ?? ["", `injected failure ${code}`];
  const status = failure(code, reason, message ?? defaultMessage);
  if (code === 429 || code === 503) {
    status.details = { retryAfterSeconds: 1 };
    return new ApiError(status, { "retry-after": "1" });
  }
  return new ApiError(status);
}

/** A Status for an unexpected exception inside the double. */
export function internalError(err: unknown): ApiError {
  const message = err instanceof Error ? err.message : String(err);
  return new ApiError(failure(500, "InternalError", `Internal error occurred: ${message}`, { causes: [{ message }] }));
}
