/**
 * rennet's upstream connections against a backend scripted byte by byte (a raw TCP server):
 * kept-alive connections are reused, a connection the backend closed just as a request went out
 * is retried on a new one, an ambiguous response is refused rather than guessed at, an early
 * answer to an upload reaches the client, and a chunked upload arrives intact.
 */
import { createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useHarness } from "./support/harness.js";
import { request } from "./support/http.js";
import { ingressClass, serviceWithEndpoints, simpleIngress } from "./support/manifests.js";
import type { Rennet } from "./support/rennet.js";

const HOST = "scripted.test";
const harness = useHarness("all");
let rennet: Rennet;

interface Received {
  readonly connection: number;
  readonly head: string;
  readonly body: Buffer;
}

/** A backend that reads each request head (and a body by Content-Length or chunked) and answers by path. */
class ScriptedBackend {
  readonly server: Server;
  readonly received: Received[] = [];
  readonly #sockets = new Set<Socket>();
  connections = 0;

  constructor() {
    this.server = createServer((socket) => {
      this.#sockets.add(socket);
      socket.on("close", () => this.#sockets.delete(socket));
      this.#serve(socket, ++this.connections);
    });
  }

  /** Stops listening and drops rennet's kept-alive connections. */
  close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  #serve(socket: Socket, connection: number): void {
    let buffer = Buffer.alloc(0);
    let served = 0;
    let answeredEarly = false;
    socket.on("error", () => undefined);
    socket.on("data", (data: Buffer) => {
      // After an early answer the rest of the upload is read and dropped (a lingering close, as
      // nginx does): closing with unread bytes would reset the connection and could destroy the
      // answer before rennet reads it.
      if (answeredEarly) return;
      buffer = Buffer.concat([buffer, data]);
      for (;;) {
        const end = buffer.indexOf("\r\n\r\n");
        if (end === -1) return;
        const head = buffer.toString("latin1", 0, end);
        const path = head.split(" ")[1] ?? "";
        if (path === "/early") {
          // Answer before reading the upload, and close.
          socket.end("HTTP/1.1 413 Payload Too Large\r\nContent-Length: 9\r\nConnection: close\r\n\r\ntoo large");
          answeredEarly = true;
          return;
        }
        const body = readBody(head, buffer.subarray(end + 4));
        if (body === null) return; // wait for more
        buffer = buffer.subarray(end + 4 + body.consumed);
        this.received.push({ connection, head, body: body.data });
        served++;
        if (path === "/race" && served > 1) {
          // The server-side end of a kept-alive connection closing as the next request arrives.
          socket.destroy();
          return;
        }
        if (path === "/ambiguous") {
          socket.write(
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
          );
          continue;
        }
        const text = `connection ${connection}: ${body.data.length} bytes, ${body.data.toString("latin1")}`;
        socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
      }
    });
  }
}

/** The request body after the head: null while incomplete. */
function readBody(head: string, rest: Buffer): { data: Buffer; consumed: number } | null {
  const length = /\r\ncontent-length: *(\d+)/i.exec(head);
  if (length !== null) {
    const n = Number(length[1]);
    return rest.length < n ? null : { data: rest.subarray(0, n), consumed: n };
  }
  if (!/\r\ntransfer-encoding: *chunked/i.test(head)) return { data: Buffer.alloc(0), consumed: 0 };
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = rest.indexOf("\r\n", at);
    if (lineEnd === -1) return null;
    const size = Number.parseInt(rest.toString("latin1", at, lineEnd), 16);
    if (size === 0) return rest.length < lineEnd + 4 ? null : { data: Buffer.concat(parts), consumed: lineEnd + 4 };
    if (rest.length < lineEnd + 2 + size + 2) return null;
    parts.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}

const backend = new ScriptedBackend();

beforeAll(async () => {
  await new Promise<void>((resolve) => backend.server.listen(0, "127.0.0.6", resolve));
  const port = (backend.server.address() as { port: number }).port;
  const dir = await harness.manifestDir();
  await dir.write("scripted.yaml", [
    ingressClass("rennet"),
    ...serviceWithEndpoints("scripted", port, ["127.0.0.6"]),
    simpleIngress("scripted", HOST, "scripted"),
  ]);
  rennet = await harness.rennet({ manifests: [dir.dir] });
});

afterAll(() => backend.close());

describe("upstream connections", () => {
  it("carry one request after another on a kept-alive connection", async () => {
    const before = backend.connections;
    for (let i = 0; i < 10; i++) {
      const reply = await request(rennet.httpPort, { host: HOST, path: `/seq-${i}` });
      expect(reply.status).toBe(200);
    }
    expect(backend.connections - before).toBe(1);
  });

  it("send a request again on a new connection when the backend closed the reused one as it went out", async () => {
    // The first /race request leaves the connection idle in rennet's pool; the backend closes it
    // when the second arrives, without a byte of response: the client must not see a 502.
    expect((await request(rennet.httpPort, { host: HOST, path: "/race" })).status).toBe(200);
    const before = backend.connections;
    const reply = await request(rennet.httpPort, { host: HOST, path: "/race" });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatch(/^connection \d+: 0 bytes/);
    expect(backend.connections - before).toBe(1);
  });

  it("refuse a response framed two ways with 502, and serve the next request on a fresh connection", async () => {
    const reply = await request(rennet.httpPort, { host: HOST, path: "/ambiguous" });
    expect(reply.status).toBe(502);
    const line = await rennet.waitForAccessLog((entry) => entry.path === "/ambiguous");
    expect(line).toMatchObject({ status: 502, upstreamError: "bad-response" });
    const next = await request(rennet.httpPort, { host: HOST, path: "/after-ambiguous" });
    expect(next.status).toBe(200);
  });

  it("pass on an answer the backend gives before the upload ends", async () => {
    const reply = await request(rennet.httpPort, {
      host: HOST,
      path: "/early",
      method: "POST",
      body: Buffer.alloc(2 * 1024 * 1024, "x"),
    });
    expect(reply.status).toBe(413);
    expect(reply.body).toBe("too large");
    expect((await request(rennet.httpPort, { host: HOST, path: "/after-early" })).status).toBe(200);
  });

  it("deliver a chunked upload intact, re-chunked", async () => {
    const body = Buffer.from("a chunked upload ".repeat(1000));
    const reply = await request(rennet.httpPort, {
      host: HOST,
      path: "/chunked-upload",
      method: "POST",
      headers: { "transfer-encoding": "chunked" },
      body,
    });
    expect(reply.status).toBe(200);
    const seen = backend.received.find((r) => r.head.startsWith("POST /chunked-upload "));
    expect(seen?.head).toMatch(/\r\ntransfer-encoding: chunked/i);
    expect(seen?.body.equals(body)).toBe(true);
  });
});
