import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
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

/**
 * The headers sent upstream, as a flat [name, value, …] list: the client's
 * headers (Host kept) without hop-by-hop ones and without those the client
 * named in Connection, plus X-Forwarded-* and X-Real-IP. `keepUpgrade` keeps
 * Connection/Upgrade for a WebSocket handshake.
 */
export function upstreamRequestHeaders(req: IncomingMessage, forwarded: ForwardedFor, keepUpgrade = false): string[] {
  const raw = req.rawHeaders;
  const listed = connectionListed(req.headers.connection);
  const out: string[] = [];
  let priorForwardedFor = "";
  let sawHost = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.charCodeAt(0) === 58) continue; // HTTP/2 pseudo-headers (":authority" becomes Host below)
    const lower = name.toLowerCase();
    if (lower === "host") sawHost = true;
    // Expect stays here too: Node's server has answered "100-continue" already, and undici refuses
    // to send the header (such requests, e.g. curl's uploads over 1 MiB, were answered 502).
    if (HOP_BY_HOP.has(lower) || lower === "expect" || listed?.has(lower)) continue;
    if (FORWARDED.has(lower)) {
      if (lower === "x-forwarded-for") priorForwardedFor += (priorForwardedFor === "" ? "" : ", ") + raw[i + 1];
      continue;
    }
    out.push(name, raw[i + 1] as string);
  }
  const host = requestHost(req);
  if (!sawHost && host !== "") out.push("host", host);
  out.push(
    "x-forwarded-for",
    priorForwardedFor === "" ? forwarded.clientIp : `${priorForwardedFor}, ${forwarded.clientIp}`,
    "x-forwarded-host",
    host,
    "x-forwarded-proto",
    forwarded.proto,
    "x-forwarded-port",
    String(forwarded.port),
    "x-real-ip",
    forwarded.clientIp,
  );
  if (keepUpgrade) out.push("connection", "upgrade", "upgrade", String(req.headers.upgrade ?? "websocket"));
  return out;
}

/** The backend's response headers for the client, flat, without hop-by-hop ones. */
export function clientResponseHeaders(headers: IncomingHttpHeaders): string[] {
  const listed = connectionListed(headers.connection);
  const out: string[] = [];
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || HOP_BY_HOP.has(name) || listed?.has(name)) continue;
    if (Array.isArray(value)) for (const item of value) out.push(name, item);
    else out.push(name, value);
  }
  return out;
}
