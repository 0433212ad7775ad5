/**
 * Real HTTP backends for the end-to-end tests: node:http servers on 127.0.0.x standing in for pods.
 *
 * By default a backend echoes what it received as JSON: `{ me, method, url, headers, bodyBytes,
 * bodySha1 }` (the body is read and hashed as it streams, never buffered). The query parameter
 * `do` makes it misbehave on purpose:
 *
 * - `do=hang`: never answers (the socket is destroyed when the backend closes).
 * - `do=reset`: destroys the connection without answering.
 * - `do=die-mid-body`: announces Content-Length 1000, sends 100 bytes, then destroys the connection.
 * - `do=die-mid-chunked`: starts a chunked body, sends one chunk, then destroys the connection.
 * - `do=slow&ms=N`: echoes after N ms.
 * - `do=sse`: sends the event `data: 1`, then holds the response open until `release()` (bounded
 *   by 10 s), then sends `data: 2` and `data: 3` and ends.
 * - `do=drip`: writes a 1 KiB chunk every 20 ms, up to 10 s, until the connection goes away.
 * - `do=download&mb=N`: streams N MiB (chunks of 1 MiB, each byte the chunk's index mod 256) as
 *   fast as the connection takes them, with backpressure.
 * - `do=numbered&kib=N&seed=S`: N KiB in which every 4-byte word is S * 2^20 + its index
 *   (`numberedBody`), written in odd-sized pieces with backpressure: a byte out of place shows.
 * - `do=status&code=N`: answers status N without a body (e.g. 204, 304), with an ETag.
 * - `do=headers`: answers with Server, Date, Content-Type, two Set-Cookie, Keep-Alive and a
 *   header named in `Connection: x-internal`.
 *
 * Every request is recorded in `seen`, with `outcome` set when its response ends:
 * "finished" when it was written completely, "aborted" when the connection closed first.
 */
import { createHash } from "node:crypto";
import { once } from "node:events";
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { WebSocketServer } from "ws";

export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: readonly string[];
  /** "finished": the response was written completely; "aborted": the connection closed before. */
  outcome: "finished" | "aborted" | undefined;
  /** True for a WebSocket handshake. */
  readonly upgrade: boolean;
  /** Response body bytes handed to the connection so far (`do=download`). */
  sentBytes: number;
}

export interface Echo {
  readonly me: string;
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly bodyBytes: number;
  readonly bodySha1: string;
}

export interface Backend {
  /** The name it answers with (`me`). */
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** "host:port", as rennet's access log names an upstream. */
  readonly origin: string;
  readonly seen: SeenRequest[];
  /** Lets held responses (`do=sse`) go on. */
  release(): void;
  /** Resolves with the first recorded request that satisfies `predicate`, or rejects after `timeoutMs`. */
  waitFor(predicate: (request: SeenRequest) => boolean, timeoutMs?: number): Promise<SeenRequest>;
  close(): Promise<void>;
}

export interface BackendOptions {
  readonly host: string;
  readonly name?: string;
  /** Default 0 (ephemeral). */
  readonly port?: number;
  /** Also accept WebSocket connections and echo every message back. */
  readonly websocket?: boolean;
}

const HOLD_LIMIT_MS = 10_000;
/** Piece size of `do=numbered` writes: odd, so reads rarely line up with the words. */
const NUMBERED_PIECE = 7919;

/** The body `do=numbered` sends: `kib` KiB of 32-bit words, each `seed * 2^20 + index`. */
export function numberedBody(kib: number, seed: number): Buffer {
  const body = Buffer.allocUnsafe(kib * 1024);
  for (let word = 0; word < body.length / 4; word++) body.writeUInt32BE((seed * 2 ** 20 + word) >>> 0, word * 4);
  return body;
}

/** The numbered bodies (see backends.ts) that did not arrive exactly as sent. */
export function misdelivered(bodies: readonly { kib: number; seed: number }[], received: readonly Buffer[]) {
  return bodies.filter(({ kib, seed }, i) => !received[i]?.equals(numberedBody(kib, seed)));
}

const MIB = 1024 * 1024;

export async function startBackend(options: BackendOptions): Promise<Backend> {
  const name = options.name ?? options.host;
  const seen: SeenRequest[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let releaseWaiters: Array<() => void> = [];
  let released = false;

  const later = (ms: number, action: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      action();
    }, ms);
    timers.add(timer);
  };
  const whenReleased = (action: () => void) => {
    if (released) {
      action();
      return;
    }
    let done = false;
    const once_ = () => {
      if (done) return;
      done = true;
      action();
    };
    releaseWaiters.push(once_);
    later(HOLD_LIMIT_MS, once_);
  };

  const server: Server = createServer((req, res) => handle(req, res));
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const record: SeenRequest = {
      method: req.method ?? "",
      url: req.url ?? "",
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      outcome: undefined,
      upgrade: false,
      sentBytes: 0,
    };
    seen.push(record);
    res.on("close", () => {
      record.outcome = res.writableFinished ? "finished" : "aborted";
    });
    req.on("error", () => undefined);
    res.on("error", () => undefined);
    const query = new URL(req.url ?? "/", "http://backend").searchParams;
    const behaviour = query.get("do") ?? "echo";

    switch (behaviour) {
      case "hang":
        req.resume();
        return;
      case "reset":
        req.socket.destroy();
        return;
      case "die-mid-body":
        req.resume();
        res.writeHead(200, { "content-type": "text/plain", "content-length": "1000" });
        res.write("x".repeat(100));
        later(50, () => req.socket.destroy());
        return;
      case "die-mid-chunked":
        req.resume();
        res.writeHead(200, { "content-type": "text/plain" });
        res.write("y".repeat(100));
        later(50, () => req.socket.destroy());
        return;
      case "sse":
        req.resume();
        res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
        res.write("data: 1\n\n");
        whenReleased(() => {
          if (res.destroyed) return;
          res.write("data: 2\n\n");
          res.end("data: 3\n\n");
        });
        return;
      case "drip": {
        req.resume();
        res.writeHead(200, { "content-type": "application/octet-stream" });
        const chunk = Buffer.alloc(1024, "z");
        const started = Date.now();
        const tick = () => {
          if (res.destroyed) return;
          if (Date.now() - started > HOLD_LIMIT_MS) {
            res.end();
            return;
          }
          res.write(chunk);
          later(20, tick);
        };
        tick();
        return;
      }
      case "download": {
        req.resume();
        const total = Number(query.get("mb") ?? "1");
        res.writeHead(200, {
          "content-type": "application/octet-stream",
          "content-length": String(total * MIB),
        });
        let index = 0;
        const pump = () => {
          while (index < total && !res.destroyed) {
            const more = res.write(Buffer.alloc(MIB, index % 256));
            index++;
            record.sentBytes += MIB;
            if (!more) {
              res.once("drain", pump);
              return;
            }
          }
          if (!res.destroyed) res.end();
        };
        pump();
        return;
      }
      case "numbered": {
        req.resume();
        const body = numberedBody(Number(query.get("kib") ?? "1"), Number(query.get("seed") ?? "0"));
        res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(body.length) });
        let offset = 0;
        const pump = () => {
          while (offset < body.length && !res.destroyed) {
            const piece = body.subarray(offset, offset + NUMBERED_PIECE);
            offset += piece.length;
            record.sentBytes += piece.length;
            if (!res.write(piece)) {
              res.once("drain", pump);
              return;
            }
          }
          if (!res.destroyed) res.end();
        };
        pump();
        return;
      }
      case "status":
        req.resume();
        res.writeHead(Number(query.get("code") ?? "204"), { etag: '"v1"' });
        res.end();
        return;
      case "headers":
        req.resume();
        res.writeHead(200, [
          ["Server", "echo-backend/1.0"],
          ["Date", "Wed, 21 Oct 2015 07:28:00 GMT"],
          ["Content-Type", "application/x-cheese; charset=utf-8"],
          ["Set-Cookie", "a=1; Path=/"],
          ["Set-Cookie", "b=2; Path=/; HttpOnly"],
          ["Connection", "x-internal"],
          ["X-Internal", "1"],
          ["Keep-Alive", "timeout=5"],
          ["X-Visible", "yes"],
          ["Content-Length", "5"],
        ]);
        res.end("hello");
        return;
      case "slow":
        echo(req, res, Number(query.get("ms") ?? "1000"));
        return;
      default:
        echo(req, res, 0);
    }
  }

  function echo(req: IncomingMessage, res: ServerResponse, delayMs: number): void {
    const hash = createHash("sha1");
    let bodyBytes = 0;
    req.on("data", (chunk: Buffer) => {
      bodyBytes += chunk.length;
      hash.update(chunk);
    });
    req.on("end", () => {
      const reply = () => {
        if (res.destroyed) return;
        const body: Echo = {
          me: name,
          method: req.method ?? "",
          url: req.url ?? "",
          headers: req.headers,
          bodyBytes,
          bodySha1: hash.digest("hex"),
        };
        const payload = JSON.stringify(body);
        res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(payload) });
        res.end(payload);
      };
      if (delayMs > 0) later(delayMs, reply);
      else reply();
    });
  }

  let wss: WebSocketServer | undefined;
  if (options.websocket === true) {
    wss = new WebSocketServer({ server });
    wss.on("connection", (socket, req) => {
      seen.push({
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        outcome: undefined,
        upgrade: true,
        sentBytes: 0,
      });
      socket.on("message", (data, isBinary) => socket.send(data, { binary: isBinary }));
      socket.on("error", () => undefined);
    });
  }

  server.listen(options.port ?? 0, options.host);
  await Promise.race([
    once(server, "listening"),
    once(server, "error").then(([error]) => {
      throw error;
    }),
  ]);
  const port = (server.address() as AddressInfo).port;

  return {
    name,
    host: options.host,
    port,
    origin: `${options.host}:${port}`,
    seen,
    release() {
      released = true;
      const waiters = releaseWaiters;
      releaseWaiters = [];
      for (const waiter of waiters) waiter();
    },
    async waitFor(predicate, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = seen.find(predicate);
        if (found !== undefined) return found;
        if (Date.now() > deadline) throw new Error(`backend ${name}: no matching request within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const client of wss?.clients ?? []) client.terminate();
      wss?.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

/** Pods of one Service: backends on several 127.0.0.x addresses, all listening on the same port. */
export interface Pods {
  readonly port: number;
  readonly backends: readonly Backend[];
  close(): Promise<void>;
}

/**
 * Starts one backend per address on a common port (as the pods of a Deployment share their
 * container port). The port is picked by the first backend; when another address has it taken,
 * everything is retried on a new port, a bounded number of times.
 */
export async function startPods(name: string, hosts: readonly string[], websocket = false): Promise<Pods> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 8; attempt++) {
    const started: Backend[] = [];
    try {
      let port = 0;
      for (const [index, host] of hosts.entries()) {
        const backend = await startBackend({ host, port, name: `${name}-${index + 1}`, websocket });
        started.push(backend);
        port = backend.port;
      }
      return {
        port,
        backends: started,
        close: async () => {
          await Promise.all(started.map((backend) => backend.close()));
        },
      };
    } catch (error) {
      lastError = error;
      await Promise.all(started.map((backend) => backend.close()));
    }
  }
  throw new Error(`could not start pods ${name} on a common port: ${String(lastError)}`);
}

/** A port on `host` where nothing listens (connections are refused). */
export async function refusedPort(host: string, port = 0): Promise<number> {
  const server = createServer();
  server.listen(port, host);
  await Promise.race([
    once(server, "listening"),
    once(server, "error").then(([error]) => {
      throw error;
    }),
  ]);
  const found = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return found;
}
