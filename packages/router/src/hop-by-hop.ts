/**
 * Headers that concern one connection, not the message (RFC 9110 section 7.6.1,
 * plus the de-facto Keep-Alive and Proxy-Connection): a proxy removes them,
 * and every header the Connection header names, in both directions.
 */
export const HOP_BY_HOP_HEADERS: readonly string[] = Object.freeze([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);
