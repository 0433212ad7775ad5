/**
 * Clients for the end-to-end tests: node:http requests with any Host header and a bounded wait,
 * and raw TCP exchanges for what an HTTP client library would refuse to send or would normalise.
 */
import { type Agent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from "node:http";
import { connect } from "node:net";
import type { Readable } from "node:stream";

export interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: readonly string[];
  readonly body: string;
  json<T = unknown>(): T;
}

export interface RequestOptions {
  /** The Host header. Default: the address requested. */
  readonly host?: string;
  readonly path?: string;
  readonly method?: string;
  readonly headers?: Record<string, string | string[]>;
  readonly body?: string | Buffer;
  readonly agent?: Agent | false;
  /** Source address of the connection, e.g. "127.0.0.9". */
  readonly localAddress?: string;
  /** Bound on the whole exchange. Default 5 s. */
  readonly timeoutMs?: number;
}

/** A whole response read into a Reply; rejects when it breaks off or ends incomplete. */
export function readReply(res: IncomingMessage): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on("data", (chunk: Buffer) => chunks.push(chunk));
    res.on("error", reject);
    res.on("end", () => {
      if (!res.complete) {
        reject(new Error("response ended before it was complete"));
        return;
      }
      const body = Buffer.concat(chunks).toString("utf8");
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        rawHeaders: res.rawHeaders,
        body,
        json: <T>() => JSON.parse(body) as T,
      });
    });
  });
}

/** One HTTP request to 127.0.0.1:`port`; rejects on connection errors, aborted responses and timeouts. */
export function request(port: number, options: RequestOptions = {}): Promise<Reply> {
  const timeoutMs = options.timeoutMs ?? 5000;
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: "127.0.0.1",
      port,
      path: options.path ?? "/",
      method: options.method ?? "GET",
      headers: { ...(options.host !== undefined ? { host: options.host } : {}), ...options.headers },
      agent: options.agent ?? false,
      localAddress: options.localAddress,
    });
    const timer = setTimeout(() => {
      req.destroy(new Error(`no complete response within ${timeoutMs} ms`));
    }, timeoutMs);
    req.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.on("response", (res) => {
      readReply(res).then(
        (reply) => {
          clearTimeout(timer);
          resolve(reply);
        },
        (error: Error) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
    req.end(options.body);
  });
}

/** GET of the admin port. */
export function admin(port: number, path: string, timeoutMs = 5000): Promise<Reply> {
  return request(port, { path, timeoutMs });
}

export interface RawReply {
  /** Everything the server sent. */
  readonly text: string;
  /** The status code of the first response, or 0 when none came. */
  readonly status: number;
  /** The server closed the connection (rather than the wait running out). */
  readonly closed: boolean;
  readonly elapsedMs: number;
}

/**
 * Sends bytes over a raw TCP connection and collects what comes back until the server closes
 * the connection, a complete Content-Length response has arrived, or `timeoutMs` passes.
 * `chunks` are sent `intervalMs` apart (for slow clients).
 */
export function raw(
  port: number,
  chunks: string | readonly string[],
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<RawReply> {
  const timeoutMs = options.timeoutMs ?? 3000;
  const list = typeof chunks === "string" ? [chunks] : chunks;
  const started = Date.now();
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    let text = "";
    let done = false;
    const timers: NodeJS.Timeout[] = [];
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      for (const timer of timers) clearTimeout(timer);
      socket.destroy();
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ text, status: match ? Number(match[1]) : 0, closed, elapsedMs: Date.now() - started });
    };
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      text += chunk;
      const end = text.indexOf("\r\n\r\n");
      if (end === -1) return;
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(text.slice(0, end));
      if (length !== null && text.length >= end + 4 + Number(length[1])) finish(false);
    });
    socket.on("error", () => finish(true));
    socket.on("close", () => finish(true));
    timers.push(setTimeout(() => finish(false), timeoutMs));
    socket.on("connect", () => {
      list.forEach((chunk, index) => {
        timers.push(
          setTimeout(
            () => {
              if (!done && socket.writable) socket.write(chunk, "latin1");
            },
            index * (options.intervalMs ?? 0),
          ),
        );
      });
    });
  });
}

/** Headers and body of a raw response (Content-Length or chunked). */
export function parseRaw(text: string): { status: number; headers: Map<string, string[]>; body: string } {
  const end = text.indexOf("\r\n\r\n");
  const head = text.slice(0, end === -1 ? text.length : end).split("\r\n");
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head[0] ?? "")?.[1] ?? 0);
  const headers = new Map<string, string[]>();
  for (const line of head.slice(1)) {
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).trim().toLowerCase();
    headers.set(name, [...(headers.get(name) ?? []), line.slice(colon + 1).trim()]);
  }
  let body = end === -1 ? "" : text.slice(end + 4);
  if (headers.get("transfer-encoding")?.some((value) => value.toLowerCase().includes("chunked"))) {
    let decoded = "";
    let rest = body;
    for (;;) {
      const lineEnd = rest.indexOf("\r\n");
      if (lineEnd === -1) break;
      const size = Number.parseInt(rest.slice(0, lineEnd), 16);
      if (!(size > 0)) break;
      decoded += rest.slice(lineEnd + 2, lineEnd + 2 + size);
      rest = rest.slice(lineEnd + 2 + size + 2);
    }
    body = decoded;
  }
  return { status, headers, body };
}

/** Polls `probe` every `intervalMs` until it returns true; rejects after `timeoutMs`. */
export async function eventually(
  probe: () => Promise<boolean> | boolean,
  timeoutMs: number,
  what: string,
  intervalMs = 20,
): Promise<number> {
  const started = Date.now();
  let lastError: unknown;
  for (;;) {
    try {
      if (await probe()) return Date.now() - started;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() - started > timeoutMs) {
      throw new Error(`${what}: not within ${timeoutMs} ms${lastError !== undefined ? ` (${String(lastError)})` : ""}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The value of the Prometheus sample `name` whose labels include `labels`, or undefined. */
export function metricValue(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`)) continue;
    const labelText = line.slice(name.length + 1, line.indexOf("}"));
    const found = Object.fromEntries(
      [...labelText.matchAll(/(\w+)="([^"]*)"/g)].map((match) => [match[1] as string, match[2] as string]),
    );
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) {
      return Number(line.slice(line.lastIndexOf(" ") + 1));
    }
  }
  return undefined;
}

/** Reads `body` to its end, pausing `pauseMs` after every `every` bytes; bounded by 20 s. */
export function readSlowly(body: Readable, every: number, pauseMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let sinceLastPause = 0;
    const timer = setTimeout(() => body.destroy(new Error("body not over within 20 s")), 20_000);
    body.on("data", (chunk: Buffer) => {
      parts.push(chunk);
      sinceLastPause += chunk.length;
      if (sinceLastPause < every) return;
      sinceLastPause = 0;
      body.pause();
      setTimeout(() => body.resume(), pauseMs);
    });
    body.on("end", () => {
      clearTimeout(timer);
      resolve(Buffer.concat(parts));
    });
    body.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}
