/**
 * The headers a backend and a client see through rennet: Host kept, X-Forwarded-* and X-Real-IP
 * set by rennet (X-Forwarded-For appended to), hop-by-hop headers — and every header named in
 * Connection — removed in both directions, and the backend's own response headers passed on.
 */
import { createHash } from "node:crypto";
import { Agent, request as httpRequest } from "node:http";
import { beforeAll, describe, expect, it } from "vitest";
import type { Backend, Echo } from "./support/backends.js";
import { useHarness } from "./support/harness.js";
import { parseRaw, raw, request } from "./support/http.js";
import { ingressClass, serviceWithEndpoints, simpleIngress } from "./support/manifests.js";
import type { Rennet } from "./support/rennet.js";

const harness = useHarness("all");
let rennet: Rennet;
let app: Backend;
const CLIENT = "127.0.0.9";

beforeAll(async () => {
  app = await harness.backend({ host: "127.0.0.2", name: "app" });
  const dir = await harness.manifestDir();
  await dir.write("app.yaml", [
    ingressClass("rennet"),
    ...serviceWithEndpoints("app", app.port, ["127.0.0.2"]),
    simpleIngress("app", "app.test", "app"),
  ]);
  rennet = await harness.rennet({ manifests: [dir.dir] });
});

async function echo(options: Parameters<typeof request>[1]): Promise<Echo> {
  const reply = await request(rennet.httpPort, { host: "app.test", localAddress: CLIENT, ...options });
  expect(reply.status).toBe(200);
  return reply.json<Echo>();
}

describe("request headers the backend sees", () => {
  it("keeps Host and sets X-Forwarded-Host, -Proto, -Port, X-Real-IP and X-Forwarded-For", async () => {
    const seen = await echo({ path: "/h" });
    expect(seen.headers.host).toBe("app.test");
    expect(seen.headers["x-forwarded-host"]).toBe("app.test");
    expect(seen.headers["x-forwarded-proto"]).toBe("http");
    expect(seen.headers["x-forwarded-port"]).toBe(String(rennet.httpPort));
    expect(seen.headers["x-real-ip"]).toBe(CLIENT);
    expect(seen.headers["x-forwarded-for"]).toBe(CLIENT);
  });

  it("keeps a port in Host", async () => {
    const seen = await echo({ host: "app.test:8000" });
    expect(seen.headers.host).toBe("app.test:8000");
    expect(seen.headers["x-forwarded-host"]).toBe("app.test:8000");
  });

  it("appends the client address to an existing X-Forwarded-For", async () => {
    const one = await echo({ headers: { "x-forwarded-for": "203.0.113.7" } });
    expect(one.headers["x-forwarded-for"]).toBe(`203.0.113.7, ${CLIENT}`);
    const two = await echo({ headers: { "x-forwarded-for": ["203.0.113.7", "198.51.100.2, 10.0.0.1"] } });
    expect(two.headers["x-forwarded-for"]).toBe(`203.0.113.7, 198.51.100.2, 10.0.0.1, ${CLIENT}`);
  });

  it("replaces what the client claims in X-Real-IP and X-Forwarded-Host/-Proto/-Port", async () => {
    const seen = await echo({
      headers: {
        "x-real-ip": "1.2.3.4",
        "x-forwarded-host": "evil.test",
        "x-forwarded-proto": "https",
        "x-forwarded-port": "443",
      },
    });
    expect(seen.headers["x-real-ip"]).toBe(CLIENT);
    expect(seen.headers["x-forwarded-host"]).toBe("app.test");
    expect(seen.headers["x-forwarded-proto"]).toBe("http");
    expect(seen.headers["x-forwarded-port"]).toBe(String(rennet.httpPort));
  });

  it("removes hop-by-hop headers and the headers the client names in Connection", async () => {
    const reply = await raw(
      rennet.httpPort,
      "GET /hop HTTP/1.1\r\nHost: app.test\r\nConnection: close, X-Secret\r\nX-Secret: 1\r\n" +
        "Keep-Alive: timeout=5\r\nTE: trailers\r\nUpgrade: h2c\r\nProxy-Authorization: Basic Zm9vOmJhcg==\r\n" +
        "Proxy-Connection: keep-alive\r\nX-Kept: yes\r\nAuthorization: Bearer t\r\n\r\n",
    );
    const response = parseRaw(reply.text);
    expect(response.status).toBe(200);
    const seen = JSON.parse(response.body) as Echo;
    for (const name of ["x-secret", "keep-alive", "te", "upgrade", "proxy-authorization", "proxy-connection"]) {
      expect(seen.headers, name).not.toHaveProperty(name);
    }
    // Whatever Connection the backend sees is rennet's own, not the client's.
    expect(seen.headers.connection ?? "keep-alive").toBe("keep-alive");
    expect(seen.headers["x-kept"]).toBe("yes");
    expect(seen.headers.authorization).toBe("Bearer t");
    // The client asked to close: rennet closes after answering.
    expect(reply.closed || response.headers.get("connection")?.[0] === "close").toBe(true);
  });

  it("forwards request bodies, with Content-Length and chunked", async () => {
    const body = Buffer.alloc(300_000, "q");
    const sha1 = createHash("sha1").update(body).digest("hex");
    const sized = await echo({ method: "POST", path: "/upload", body });
    expect(sized).toMatchObject({ method: "POST", bodyBytes: body.length, bodySha1: sha1 });
    expect(sized.headers["content-length"]).toBe(String(body.length));

    const chunked = await raw(
      rennet.httpPort,
      "PUT /chunked HTTP/1.1\r\nHost: app.test\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
        "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
    );
    const seen = JSON.parse(parseRaw(chunked.text).body) as Echo;
    expect(seen.bodyBytes).toBe(11);
    expect(seen.bodySha1).toBe(createHash("sha1").update("hello world").digest("hex"));
  });
});

describe("responses without a body", () => {
  it("passes HEAD, 204 and 304 answers intact and keeps the connection usable", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const head = await request(rennet.httpPort, { host: "app.test", method: "HEAD", path: "/head", agent });
      expect(head.status).toBe(200);
      expect(head.body).toBe("");
      // The backend's headers, Content-Length included, as a GET would have them.
      expect(head.headers["content-type"]).toBe("application/json");
      expect(Number(head.headers["content-length"])).toBeGreaterThan(0);
      expect(head.headers).not.toHaveProperty("x-hono-already-sent");
      expect(app.seen.find((seen) => seen.url === "/head")?.method).toBe("HEAD");
      expect((await rennet.waitForAccessLog((line) => line.path === "/head")).status).toBe(200);
      const noContent = await request(rennet.httpPort, { host: "app.test", path: "/?do=status&code=204", agent });
      expect(noContent.status).toBe(204);
      expect(noContent.body).toBe("");
      const notModified = await request(rennet.httpPort, {
        host: "app.test",
        path: "/?do=status&code=304",
        headers: { "if-none-match": '"v1"' },
        agent,
      });
      expect(notModified.status).toBe(304);
      expect(notModified.headers.etag).toBe('"v1"');
      // The same connection still carries a normal exchange afterwards.
      const after = await request(rennet.httpPort, { host: "app.test", path: "/after", agent });
      expect(after.json<Echo>().url).toBe("/after");
    } finally {
      agent.destroy();
    }
  });
});

describe("Expect: 100-continue", () => {
  it("answers 100 Continue, then forwards the body and the backend's answer (as curl uploads do)", async () => {
    const body = Buffer.alloc(2 * 1024 * 1024, "e");
    const result = await new Promise<{ continued: boolean; status: number; echo: Echo }>((resolve, reject) => {
      const req = httpRequest({
        host: "127.0.0.1",
        port: rennet.httpPort,
        method: "PUT",
        path: "/expect",
        headers: { host: "app.test", expect: "100-continue", "content-length": String(body.length) },
      });
      const timer = setTimeout(() => req.destroy(new Error("no answer within 5 s")), 5000);
      let continued = false;
      req.on("continue", () => {
        continued = true;
        req.end(body);
      });
      req.on("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
      req.on("response", (res) => {
        const parts: Buffer[] = [];
        res.on("data", (part: Buffer) => parts.push(part));
        res.on("end", () => {
          clearTimeout(timer);
          const text = Buffer.concat(parts).toString("utf8");
          try {
            resolve({ continued, status: res.statusCode ?? 0, echo: JSON.parse(text) as Echo });
          } catch {
            reject(new Error(`${res.statusCode} ${text}`));
          }
        });
      });
      req.flushHeaders();
    });
    expect(result.continued).toBe(true);
    expect(result.status).toBe(200);
    expect(result.echo.bodyBytes).toBe(body.length);
    // rennet met the expectation itself.
    expect(result.echo.headers).not.toHaveProperty("expect");
  });
});

describe("response headers the client sees", () => {
  it("passes Server, Date, Content-Type and both Set-Cookie headers through", async () => {
    const reply = await request(rennet.httpPort, { host: "app.test", path: "/?do=headers" });
    expect(reply.status).toBe(200);
    expect(reply.body).toBe("hello");
    expect(reply.headers.server).toBe("echo-backend/1.0");
    expect(reply.headers.date).toBe("Wed, 21 Oct 2015 07:28:00 GMT");
    expect(reply.headers["content-type"]).toBe("application/x-cheese; charset=utf-8");
    expect(reply.headers["set-cookie"]).toEqual(["a=1; Path=/", "b=2; Path=/; HttpOnly"]);
    expect(reply.headers["x-visible"]).toBe("yes");
  });

  it("removes the backend's hop-by-hop headers and those it names in Connection", async () => {
    const reply = await request(rennet.httpPort, { host: "app.test", path: "/?do=headers" });
    expect(reply.headers).not.toHaveProperty("x-internal");
    expect(reply.headers.connection ?? "").not.toMatch(/x-internal/i);
    // rennet's own keep-alive parameters, if any, not the backend's.
    expect(reply.headers["keep-alive"]).not.toBe("timeout=5");
  });
});
