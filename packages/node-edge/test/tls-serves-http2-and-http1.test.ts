/**
 * On the HTTPS listener, ALPN picks the protocol: HTTP/2 clients (node:http2) are served over
 * HTTP/2 and proxied to HTTP/1.1 backends, request and response bodies streaming through;
 * clients that ask for http/1.1 (or send no ALPN) get HTTP/1.1 over TLS. Backends see the
 * :authority as Host and X-Forwarded-Proto https either way. WebSockets work over TLS too.
 */

import { createHash } from "node:crypto";
import { constants } from "node:http2";
import { Agent, request as httpsGet } from "node:https";
import { connect as tlsConnect } from "node:tls";
import { beforeAll, describe, expect, it } from "vitest";
import { type ClientOptions, WebSocket } from "ws";
import { type Backend, misdelivered } from "./support/backends.js";
import { useHarness } from "./support/harness.js";
import { eventually, parseRaw, readSlowly, sleep } from "./support/http.js";
import { ingressClass, serviceWithEndpoints, simpleIngress } from "./support/manifests.js";
import type { Rennet } from "./support/rennet.js";
import {
  closeH2,
  downloadBody,
  h2Request,
  h2Response,
  h2Session,
  httpsRequest,
  type KeyPair,
  type Pki,
  type RecordedEcho,
  type RecordingBackend,
  SETUP_TIMEOUT_MS,
  startRecordingBackend,
  tlsSecret,
  withTls,
} from "./support/tls-harness.js";

const harness = useHarness("all");
const HOST = "app.example.test";
const STREAM_HOST = "stream.example.test";
const STREAM1_HOST = "stream1.example.test";
const WS_HOST = "ws.example.test";

let pki: Pki;
let cert: KeyPair;
let app: RecordingBackend;
let streaming: Backend;
let streaming1: Backend;
let sockets: Backend;
let httpsPort: number;
let rennet: Rennet;

beforeAll(async () => {
  pki = await harness.pki();
  cert = await pki.leaf(HOST, { sans: [HOST, STREAM_HOST, STREAM1_HOST, WS_HOST] });
  app = await startRecordingBackend("127.0.0.41");
  harness.defer(() => app.close());
  // Separate backends: release() lets every held response of a backend go, for good.
  streaming = await harness.backend({ host: "127.0.0.42", name: "streaming" });
  streaming1 = await harness.backend({ host: "127.0.0.43", name: "streaming1" });
  sockets = await harness.backend({ host: "127.0.0.44", name: "sockets", websocket: true });
  const dir = await harness.manifestDir();
  await dir.write("all.yaml", [
    ingressClass("rennet"),
    ...serviceWithEndpoints("app", app.port, ["127.0.0.41"]),
    ...serviceWithEndpoints("streaming", streaming.port, ["127.0.0.42"]),
    ...serviceWithEndpoints("streaming1", streaming1.port, ["127.0.0.43"]),
    ...serviceWithEndpoints("sockets", sockets.port, ["127.0.0.44"]),
    tlsSecret("app-tls", cert),
    withTls(simpleIngress("app", HOST, "app"), [{ hosts: [HOST], secretName: "app-tls" }]),
    withTls(simpleIngress("streaming", STREAM_HOST, "streaming"), [{ hosts: [STREAM_HOST], secretName: "app-tls" }]),
    withTls(simpleIngress("streaming1", STREAM1_HOST, "streaming1"), [{ secretName: "app-tls" }]),
    withTls(simpleIngress("sockets", WS_HOST, "sockets"), [{ secretName: "app-tls" }]),
  ]);
  rennet = await harness.rennet({ manifests: [dir.dir] });
  httpsPort = rennet.httpsPort;
}, SETUP_TIMEOUT_MS);

function sha1(data: Buffer): string {
  return createHash("sha1").update(data).digest("hex");
}

describe("HTTP/2 clients", () => {
  it("are served over h2 and proxied to the backend as HTTP/1.1 with Host = :authority", async () => {
    const session = await h2Session(httpsPort, { servername: HOST, ca: pki.ca.cert });
    try {
      expect(session.alpnProtocol).toBe("h2");
      const reply = await h2Request(session, HOST, "/h2?q=1", { headers: { "x-custom": "yes" } });
      expect(reply.status).toBe(200);
      const echo = reply.json<RecordedEcho>();
      expect(echo.httpVersion).toBe("1.1");
      expect(echo.method).toBe("GET");
      expect(echo.url).toBe("/h2?q=1");
      expect(echo.headers.host).toBe(HOST);
      expect(echo.headers["x-forwarded-proto"]).toBe("https");
      expect(echo.headers["x-forwarded-host"]).toBe(HOST);
      expect(echo.headers["x-forwarded-port"]).toBe(String(httpsPort));
      expect(echo.headers["x-custom"]).toBe("yes");
      expect(Object.keys(echo.headers).filter((name) => name.startsWith(":"))).toEqual([]);

      // An :authority with the port routes the same, and is the Host the backend sees.
      const withPort = await h2Request(session, `${HOST}:${httpsPort}`, "/port");
      expect(withPort.status).toBe(200);
      expect(withPort.json<RecordedEcho>().headers.host).toBe(`${HOST}:${httpsPort}`);
    } finally {
      await closeH2(session);
    }
  });

  it("multiplexes concurrent requests for different hosts on one session", async () => {
    const session = await h2Session(httpsPort, { servername: HOST, ca: pki.ca.cert });
    try {
      const replies = await Promise.all(
        Array.from({ length: 12 }, (_, index) =>
          h2Request(session, index % 2 === 0 ? HOST : STREAM_HOST, `/many/${index}`),
        ),
      );
      for (const [index, reply] of replies.entries()) {
        expect(reply.status).toBe(200);
        const echo = reply.json<{ url: string; me?: string }>();
        expect(echo.url).toBe(`/many/${index}`);
        if (index % 2 === 1) expect(echo.me).toBe("streaming");
      }
    } finally {
      await closeH2(session);
    }
  });

  it("stream a POST body to the backend as it is sent", async () => {
    const session = await h2Session(httpsPort, { servername: HOST, ca: pki.ca.cert });
    try {
      const first = Buffer.alloc(64 * 1024, "a");
      const second = Buffer.alloc(100 * 1024, "b");
      // No content-length: the length is only known when the stream ends.
      const stream = session.request(
        { ":method": "POST", ":path": "/upload", ":authority": HOST, "content-type": "application/octet-stream" },
        { endStream: false },
      );
      const reply = h2Response(stream, 8000);
      stream.write(first);
      // The backend receives the first part while the client still holds the rest back.
      await app.until(
        () => app.seen.some((request) => request.url === "/upload" && request.bytes >= first.length),
        5000,
        "the first part of the body",
      );
      const record = app.seen.find((request) => request.url === "/upload");
      expect(record?.ended).toBe(false);
      stream.end(second);
      const response = await reply;
      expect(response.status).toBe(200);
      const echo = response.json<RecordedEcho>();
      expect(echo.httpVersion).toBe("1.1");
      expect(echo.method).toBe("POST");
      expect(echo.bodyBytes).toBe(first.length + second.length);
      expect(echo.bodySha1).toBe(sha1(Buffer.concat([first, second])));
      expect(echo.headers["x-forwarded-proto"]).toBe("https");
    } finally {
      await closeH2(session);
    }
  });

  it("carry a POST body with a content-length", async () => {
    const session = await h2Session(httpsPort, { servername: HOST, ca: pki.ca.cert });
    try {
      const body = Buffer.from("cheese=gouda&age=12");
      const reply = await h2Request(session, HOST, "/form", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", "content-length": String(body.length) },
        body,
      });
      expect(reply.status).toBe(200);
      const echo = reply.json<RecordedEcho>();
      expect(echo.bodyBytes).toBe(body.length);
      expect(echo.bodySha1).toBe(sha1(body));
      expect(echo.headers["content-length"]).toBe(String(body.length));
    } finally {
      await closeH2(session);
    }
  });

  it("receive a streamed (SSE-like) response event by event", async () => {
    const session = await h2Session(httpsPort, { servername: STREAM_HOST, ca: pki.ca.cert });
    try {
      const stream = session.request({ ":method": "GET", ":path": "/events?do=sse", ":authority": STREAM_HOST });
      let received = "";
      const headers = new Promise<Record<string, unknown>>((resolve) => stream.once("response", resolve));
      stream.setEncoding("utf8");
      const ended = new Promise<void>((resolve, reject) => {
        stream.on("data", (chunk: string) => {
          received += chunk;
        });
        stream.on("end", resolve);
        stream.on("error", reject);
      });
      const started = Date.now();
      while (!received.includes("data: 1") && Date.now() - started < 5000) await sleep(10);
      expect(received).toBe("data: 1\n\n");
      expect((await headers)["content-type"]).toBe("text/event-stream");
      // The backend holds the rest until released: the first event came through on its own.
      await sleep(100);
      expect(received).toBe("data: 1\n\n");
      streaming.release();
      await Promise.race([ended, sleep(5000).then(() => Promise.reject(new Error("the stream did not end")))]);
      expect(received).toBe("data: 1\n\ndata: 2\n\ndata: 3\n\n");
    } finally {
      await closeH2(session);
    }
  });

  it("get rennet's own answers (404) and a backend's headers without connection-specific ones", async () => {
    const session = await h2Session(httpsPort, { servername: HOST, ca: pki.ca.cert });
    try {
      const missing = await h2Request(session, "nowhere.example.org", "/");
      expect(missing.status).toBe(404);
      // The backend sends Connection, Keep-Alive and a header named in Connection: none may reach
      // an HTTP/2 client (they are illegal there), the rest must.
      const reply = await h2Request(session, STREAM_HOST, "/h?do=headers");
      expect(reply.status).toBe(200);
      expect(reply.body).toBe("hello");
      expect(reply.headers["x-visible"]).toBe("yes");
      expect(reply.headers["set-cookie"]).toEqual(["a=1; Path=/", "b=2; Path=/; HttpOnly"]);
      expect(reply.headers.connection).toBeUndefined();
      expect(reply.headers["keep-alive"]).toBeUndefined();
      expect(reply.headers["x-internal"]).toBeUndefined();
      // The session is still usable.
      expect((await h2Request(session, HOST, "/after")).status).toBe(200);
    } finally {
      await closeH2(session);
    }
  });

  it("read slowly on several streams at once and get every byte in place", async () => {
    const session = await h2Session(httpsPort, { servername: HOST, ca: pki.ca.cert });
    try {
      const bodies = [0, 1, 2, 3].map((n) => ({ kib: 2048, seed: 200 + n }));
      const received = await Promise.all(
        bodies.map(({ kib, seed }) =>
          readSlowly(
            session.request({
              ":method": "GET",
              ":path": `/?do=numbered&kib=${kib}&seed=${seed}`,
              ":authority": STREAM_HOST,
            }),
            128 * 1024,
            10,
          ),
        ),
      );
      expect(misdelivered(bodies, received)).toEqual([]);
    } finally {
      await closeH2(session);
    }
  });

  it("download a large response at their own pace (flow control and backpressure)", async () => {
    const size = 6 * 1024 * 1024;
    const session = await h2Session(httpsPort, { servername: HOST, ca: pki.ca.cert });
    try {
      const stream = session.request({ ":method": "GET", ":path": `/big?bytes=${size}`, ":authority": HOST });
      const chunks: Buffer[] = [];
      let received = 0;
      const done = new Promise<void>((resolve, reject) => {
        stream.on("data", (chunk: Buffer) => {
          chunks.push(chunk);
          received += chunk.length;
        });
        stream.on("end", resolve);
        stream.on("error", reject);
      });
      // Read a little, stop reading for a while (the windows fill up), then read the rest.
      const started = Date.now();
      while (received === 0 && Date.now() - started < 5000) await sleep(5);
      stream.pause();
      await sleep(300);
      expect(received).toBeLessThan(size);
      stream.resume();
      await Promise.race([done, sleep(15_000).then(() => Promise.reject(new Error(`stuck at ${received} bytes`)))]);
      const body = Buffer.concat(chunks);
      expect(body.length).toBe(size);
      expect(sha1(body)).toBe(sha1(downloadBody(size)));
    } finally {
      await closeH2(session);
    }
  });
});

describe("HTTP/2 clients that go away", () => {
  it("mid-upload (connection lost): the backend sees the request aborted, not a complete body", async () => {
    const session = await h2Session(httpsPort, { servername: HOST, ca: pki.ca.cert });
    const stream = session.request(
      { ":method": "POST", ":path": "/gone-upload", ":authority": HOST },
      { endStream: false },
    );
    stream.on("error", () => undefined);
    stream.write(Buffer.alloc(32 * 1024, "u"));
    await app.until(() => app.seen.some((seen) => seen.url === "/gone-upload" && seen.bytes > 0), 5000, "the upload");
    session.destroy();
    const record = app.seen.find((seen) => seen.url === "/gone-upload");
    await app.until(() => record?.outcome !== undefined, 3000, "the upload's end");
    expect(record?.ended).toBe(false);
    expect(record?.outcome).toBe("aborted");
    const line = await rennet.waitForAccessLog((entry) => entry.path === "/gone-upload", 3000);
    expect(line.status).toBe(499);
  });

  it("mid-response (stream reset): the upstream request is aborted, the session serves on", async () => {
    const session = await h2Session(httpsPort, { servername: STREAM_HOST, ca: pki.ca.cert });
    try {
      const stream = session.request({ ":method": "GET", ":path": "/reset?do=drip", ":authority": STREAM_HOST });
      stream.on("error", () => undefined);
      await new Promise((resolve) => stream.once("data", resolve));
      stream.close(constants.NGHTTP2_CANCEL);
      const seen = await streaming.waitFor((request) => request.url === "/reset?do=drip");
      await eventually(() => seen.outcome === "aborted", 3000, "the upstream response aborted");
      expect((await h2Request(session, STREAM_HOST, "/next")).status).toBe(200);
    } finally {
      await closeH2(session);
    }
  });

  it("mid-response (connection lost): the upstream request is aborted", async () => {
    const session = await h2Session(httpsPort, { servername: STREAM_HOST, ca: pki.ca.cert });
    const stream = session.request({ ":method": "GET", ":path": "/lost?do=drip", ":authority": STREAM_HOST });
    stream.on("error", () => undefined);
    await new Promise((resolve) => stream.once("data", resolve));
    session.destroy();
    const seen = await streaming.waitFor((request) => request.url === "/lost?do=drip");
    await eventually(() => seen.outcome === "aborted", 3000, "the upstream response aborted");
  });
});

describe("WebSockets over TLS", () => {
  it("are tunnelled to the backend (wss://, HTTP/1.1 upgrade)", async () => {
    // servername goes through to tls.connect; ws's types leave it out.
    const options: ClientOptions & { servername: string } = {
      servername: WS_HOST,
      ca: pki.ca.cert,
      headers: { host: WS_HOST },
      handshakeTimeout: 5000,
    };
    const socket = new WebSocket(`wss://127.0.0.1:${httpsPort}/chat`, options);
    harness.defer(() => socket.terminate());
    await new Promise<void>((resolve, reject) => {
      socket.once("open", resolve);
      socket.once("error", reject);
      socket.once("unexpected-response", (_req, res) => reject(new Error(`HTTP ${res.statusCode} instead of 101`)));
    });
    const echoed = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no echo within 5 s")), 5000);
      socket.once("message", (data) => {
        clearTimeout(timer);
        resolve(String(data));
      });
    });
    socket.send("hello over tls");
    expect(await echoed).toBe("hello over tls");
    const handshakeSeen = sockets.seen.find((request) => request.upgrade);
    expect(handshakeSeen?.headers.host).toBe(WS_HOST);
    expect(handshakeSeen?.headers["x-forwarded-proto"]).toBe("https");
    socket.close();
  });
});

describe("HTTP/1.1 over TLS", () => {
  it("is served when the client asks for http/1.1 by ALPN, on a kept-alive connection", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: pki.ca.cert });
    try {
      const first = await httpsRequest(httpsPort, { servername: HOST, ca: pki.ca.cert, agent, path: "/one" });
      expect(first.alpnProtocol).toBe("http/1.1");
      expect(first.status).toBe(200);
      const echo = first.json<RecordedEcho>();
      expect(echo.httpVersion).toBe("1.1");
      expect(echo.headers.host).toBe(HOST);
      expect(echo.headers["x-forwarded-proto"]).toBe("https");

      const body = Buffer.alloc(200 * 1024, "c");
      const second = await httpsRequest(httpsPort, {
        servername: HOST,
        ca: pki.ca.cert,
        agent,
        path: "/two",
        method: "POST",
        headers: { "transfer-encoding": "chunked" },
        body,
      });
      expect(second.status).toBe(200);
      expect(second.reusedSocket).toBe(true);
      expect(second.json<RecordedEcho>().bodyBytes).toBe(body.length);
      expect(second.json<RecordedEcho>().bodySha1).toBe(sha1(body));
    } finally {
      agent.destroy();
    }
  });

  it("reaches slow readers byte for byte over kept-alive connections", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 2, ca: pki.ca.cert });
    try {
      const bodies = [0, 1, 2, 3, 4, 5].map((n) => ({ kib: n % 2 === 0 ? 2048 : 3, seed: 300 + n }));
      const received = await Promise.all(
        bodies.map(
          ({ kib, seed }) =>
            new Promise<Buffer>((resolve, reject) => {
              const req = httpsGet({
                host: "127.0.0.1",
                port: httpsPort,
                servername: STREAM_HOST,
                path: `/?do=numbered&kib=${kib}&seed=${seed}`,
                headers: { host: STREAM_HOST },
                agent,
              });
              req.on("error", reject);
              req.on("response", (res) => readSlowly(res, 128 * 1024, 10).then(resolve, reject));
              req.end();
            }),
        ),
      );
      expect(misdelivered(bodies, received)).toEqual([]);
    } finally {
      agent.destroy();
    }
  });

  it("is served to a client that offers no ALPN at all", async () => {
    const text = await new Promise<string>((resolve, reject) => {
      const socket = tlsConnect({ host: "127.0.0.1", port: httpsPort, servername: HOST, ca: pki.ca.cert });
      let data = "";
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no response within 5 s: ${data}`));
      }, 5000);
      socket.setEncoding("utf8");
      socket.on("secureConnect", () => {
        expect(socket.alpnProtocol).toBe(false);
        socket.write(`GET /no-alpn HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close\r\n\r\n`);
      });
      socket.on("data", (chunk: string) => {
        data += chunk;
      });
      socket.on("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
      socket.on("close", () => {
        clearTimeout(timer);
        resolve(data);
      });
    });
    const reply = parseRaw(text);
    expect(reply.status).toBe(200);
    const echo = JSON.parse(reply.body) as RecordedEcho;
    expect(echo.url).toBe("/no-alpn");
    expect(echo.headers["x-forwarded-proto"]).toBe("https");
  });

  it("streams a chunked response as it comes", async () => {
    let beforeRelease = "";
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = tlsConnect({ host: "127.0.0.1", port: httpsPort, servername: STREAM1_HOST, ca: pki.ca.cert });
      let data = "";
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no complete stream within 5 s: ${data}`));
      }, 5000);
      socket.setEncoding("utf8");
      socket.on("secureConnect", () => {
        socket.write(`GET /events?do=sse HTTP/1.1\r\nHost: ${STREAM1_HOST}\r\nConnection: close\r\n\r\n`);
      });
      socket.on("data", (chunk: string) => {
        data += chunk;
        // Release the rest only once the first event has arrived on its own.
        if (beforeRelease === "" && data.includes("data: 1")) {
          beforeRelease = data;
          streaming1.release();
        }
      });
      socket.on("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
      socket.on("close", () => {
        clearTimeout(timer);
        resolve(data);
      });
    });
    expect(beforeRelease).not.toContain("data: 2");
    const parsed = parseRaw(reply);
    expect(parsed.status).toBe(200);
    expect(parsed.headers.get("transfer-encoding")).toEqual(["chunked"]);
    expect(parsed.body).toBe("data: 1\n\ndata: 2\n\ndata: 3\n\n");
  });
});
