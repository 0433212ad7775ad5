import type { IncomingMessage } from "node:http";
import { HOP_BY_HOP_HEADERS } from "@rennet/router";

const HOP_BY_HOP: ReadonlySet<string> = new Set(HOP_BY_HOP_HEADERS);

const FORWARDED = new Set([
  "x-forwarded-for",
  "x-forwarded-host",
  "x-forwarded-proto",
  "x-forwarded-port",
  "x-real-ip",
]);

function connectionListed(value: string | string[] | undefined): Set<string> | null {
  if (value === undefined) return null;
  const names = new Set<string>();
  for (const part of (Array.isArray(value) ? value.join(",") : value).split(",")) {
    const name = part.trim().toLowerCase();
    if (name !== "") names.add(name);
  }
  return names.size === 0 ? null : names;
}

/** The Host of an HTTP/1 request, or the :authority of an HTTP/2 one. */
export function requestHost(req: IncomingMessage): string {
  return req.headers.host ?? (req.headers[":authority"] as string | undefined) ?? "";
}

/** More than one Host header line: RFC 9112 §3.2 requires a 400 (and undici refuses to forward it). */
export function hasDuplicateHost(req: IncomingMessage): boolean {
  const raw = req.rawHeaders;
  let hosts = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length === 4 && name.toLowerCase() === "host") hosts++;
  }
  return hosts > 1;
}

export interface ForwardedFor {
  readonly clientIp: string;
  readonly proto: "http" | "https";
  readonly port: number;
}

/** What the upstream is told about the body that follows the head. */
export type BodyFraming = "none" | "content-length" | "chunked";

/** Characters a request-target may hold on the wire (visible ASCII): anything else could split the request line. */
const REQUEST_TARGET = /^[\x21-\x7e]+$/;

/**
 * The request head sent upstream, ready to write: the client's headers (Host
 * kept) without hop-by-hop ones and without those the client named in
 * Connection, plus X-Forwarded-* and X-Real-IP. `framing` "chunked" announces
 * a re-chunked body (the client's Transfer-Encoding is hop-by-hop, and an
 * HTTP/2 body may come without a length); `keepUpgrade` keeps
 * Connection/Upgrade for a WebSocket handshake. Throws on a target that is
 * not visible ASCII.
 */
export function upstreamRequestHead(
  req: IncomingMessage,
  method: string,
  target: string,
  forwarded: ForwardedFor,
  framing: BodyFraming,
  keepUpgrade = false,
): string {
  if (!REQUEST_TARGET.test(target)) throw new Error("request target holds characters that cannot be forwarded");
  const raw = req.rawHeaders;
  const listed = connectionListed(req.headers.connection);
  let head = `${method} ${target} HTTP/1.1\r\n`;
  let priorForwardedFor = "";
  let sawHost = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.charCodeAt(0) === 58) continue; // HTTP/2 pseudo-headers (":authority" becomes Host below)
    const lower = name.toLowerCase();
    if (lower === "host") sawHost = true;
    // Expect stays here too: Node's server has answered "100-continue" already.
    if (HOP_BY_HOP.has(lower) || lower === "expect" || listed?.has(lower)) continue;
    if (FORWARDED.has(lower)) {
      if (lower === "x-forwarded-for") priorForwardedFor += (priorForwardedFor === "" ? "" : ", ") + raw[i + 1];
      continue;
    }
    head += `${name}: ${raw[i + 1]}\r\n`;
  }
  const host = requestHost(req);
  if (!sawHost && host !== "") head += `host: ${host}\r\n`;
  const clientIp = forwarded.clientIp;
  head +=
    `x-forwarded-for: ${priorForwardedFor === "" ? clientIp : `${priorForwardedFor}, ${clientIp}`}\r\n` +
    `x-forwarded-host: ${host}\r\nx-forwarded-proto: ${forwarded.proto}\r\n` +
    `x-forwarded-port: ${forwarded.port}\r\nx-real-ip: ${clientIp}\r\n`;
  if (framing === "chunked") head += "transfer-encoding: chunked\r\n";
  if (keepUpgrade) head += `connection: upgrade\r\nupgrade: ${req.headers.upgrade ?? "websocket"}\r\n`;
  return `${head}\r\n`;
}
