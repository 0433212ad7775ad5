/** HTTP plumbing: reading request bodies and writing JSON / Status responses. */
import type { IncomingMessage, ServerResponse } from "node:http";
import { parse as parseYaml } from "yaml";
import type { ApiError, Status } from "./status.js";

const MAX_BODY_BYTES = 3 * 1024 * 1024; // kube-apiserver's default request size limit

export interface RequestBody {
  /** Undefined when the request had no body. */
  readonly raw: string | undefined;
  /** The parsed body (JSON, or YAML for apply patches); undefined when empty or unparseable. */
  readonly parsed: unknown;
  readonly parseError: string | undefined;
}

export function mediaType(contentType: string | undefined): string {
  return (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}

export async function readBody(req: IncomingMessage): Promise<RequestBody> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_BODY_BYTES) throw new Error("request entity too large");
    chunks.push(buf);
  }
  if (size === 0) return { raw: undefined, parsed: undefined, parseError: undefined };
  const raw = Buffer.concat(chunks).toString("utf8");
  try {
    const parsed: unknown = mediaType(req.headers["content-type"]).endsWith("yaml") ? parseYaml(raw) : JSON.parse(raw);
    return { raw, parsed, parseError: undefined };
  } catch (err) {
    return { raw, parsed: undefined, parseError: err instanceof Error ? err.message : String(err) };
  }
}

export function sendJson(res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(code, {
    "Content-Type": "application/json",
    "Cache-Control": "no-cache, private",
    "Content-Length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function sendStatus(res: ServerResponse, status: Status, headers: Record<string, string> = {}): void {
  sendJson(res, status.code, status, headers);
}

export function sendError(res: ServerResponse, err: ApiError): void {
  sendStatus(res, err.status, { ...err.headers });
}
