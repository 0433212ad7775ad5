/**
 * Errors of the upstream client, with codes (after undici's coded errors) so
 * the proxy can decide between 502, 504 and a retry without reading messages.
 */
export type UpstreamErrorCode =
  | "RENNET_UPSTREAM_CONNECT_TIMEOUT"
  | "RENNET_UPSTREAM_RESPONSE_TIMEOUT"
  /** The connection ended before the response did. */
  | "RENNET_UPSTREAM_CLOSED"
  | "RENNET_UPSTREAM_BAD_RESPONSE"
  /** The request was aborted (the client went away). */
  | "RENNET_UPSTREAM_ABORTED"
  /** The pool was closed (its endpoint was removed) before the request got a connection. */
  | "RENNET_UPSTREAM_POOL_CLOSED";

export class UpstreamError extends Error {
  readonly code: UpstreamErrorCode;

  constructor(code: UpstreamErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
