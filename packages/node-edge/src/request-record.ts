/** What is known about one proxied request once it is over: for the access log and metrics. */
export interface RequestRecord {
  /** When the response ended, in epoch ms (formatted only where it is printed). */
  readonly time: number;
  readonly method: string;
  readonly host: string;
  readonly path: string;
  readonly status: number;
  /** Response body bytes sent to the client. */
  readonly bytes: number;
  readonly durationMs: number;
  /** "address:port" of the endpoint, or "" when none was tried. */
  readonly upstream: string;
  /** "namespace/name" of the Ingress that routed it, or "". */
  readonly ingress: string;
  /** "namespace/service" of the backend, or "". */
  readonly service: string;
  /** Why the upstream failed, when it did. */
  readonly upstreamError?: UpstreamErrorKind;
}

export type UpstreamErrorKind =
  | "connect-refused"
  | "connect-timeout"
  | "reset"
  | "response-timeout"
  | "broken-mid-response"
  /** The upstream's response was malformed or ambiguous (refused, not guessed at). */
  | "bad-response"
  | "other";

export interface RequestObserver {
  onRequest(record: RequestRecord): void;
}
