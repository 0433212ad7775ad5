import { STATUS_CODES } from "node:http";

/**
 * A whole plain-text HTTP/1.1 response that closes the connection, for the
 * places that answer on the raw socket (a refused WebSocket upgrade, a
 * request Node's parser rejected) rather than through a ServerResponse.
 */
export function closingResponse(status: number, body: string): string {
  const payload = `${body}\n`;
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
    `Content-Length: ${Buffer.byteLength(payload)}\r\nConnection: close\r\n\r\n${payload}`
  );
}
