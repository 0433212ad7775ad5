/**
 * Requests that smuggling, path traversal and slow-client attacks rely on are answered by rennet
 * itself (400, 431, 408) and never reach a backend. Raw sockets send exactly the bytes under
 * test, without a client library normalising them.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { Backend, Echo } from "./support/backends.js";
import { useHarness } from "./support/harness.js";
import { eventually, parseRaw, raw, request } from "./support/http.js";
import { ingress, ingressClass, type Manifest, serviceWithEndpoints } from "./support/manifests.js";
import type { Rennet } from "./support/rennet.js";

const harness = useHarness("all");
let rennet: Rennet;
let pub: Backend;
let secret: Backend;

beforeAll(async () => {
  pub = await harness.backend({ host: "127.0.0.2", name: "public" });
  secret = await harness.backend({ host: "127.0.0.3", name: "secret" });
  const dir = await harness.manifestDir();
  const objects: Manifest[] = [
    ingressClass("rennet"),
    ...serviceWithEndpoints("public", pub.port, ["127.0.0.2"]),
    ...serviceWithEndpoints("secret", secret.port, ["127.0.0.3"]),
    ingress("app", {
      rules: [
        {
          host: "app.test",
          paths: [
            { path: "/", service: "public" },
            { path: "/secret", service: "secret" },
          ],
        },
      ],
    }),
  ];
  await dir.write("app.yaml", objects);
  rennet = await harness.rennet({
    manifests: [dir.dir],
    args: ["--max-header-size", "8192", "--client-header-timeout", "1s", "--client-request-timeout", "2s"],
  });
});

const backendsSaw = () => [...pub.seen, ...secret.seen].map((seen) => seen.url);

async function rawStatus(text: string): Promise<number> {
  const reply = await raw(rennet.httpPort, text);
  return reply.status;
}

describe("request smuggling", () => {
  it("answers 400 to a request with both Content-Length and Transfer-Encoding", async () => {
    const before = backendsSaw().length;
    const status = await rawStatus(
      "POST /cl-te HTTP/1.1\r\nHost: app.test\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    );
    expect(status).toBe(400);
    expect(backendsSaw().slice(before)).toEqual([]);
  });

  it("answers 400 to differing duplicate Content-Length headers", async () => {
    const status = await rawStatus(
      "POST /cl-cl HTTP/1.1\r\nHost: app.test\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
    );
    expect(status).toBe(400);
    expect(backendsSaw()).not.toContain("/cl-cl");
  });

  it("answers 400 to a request with more than one Host header", async () => {
    for (const [first, second] of [
      ["app.test", "other.test"],
      ["app.test", "app.test"],
    ]) {
      const reply = await raw(
        rennet.httpPort,
        `GET /two-hosts HTTP/1.1\r\nHost: ${first}\r\nHost: ${second}\r\nConnection: close\r\n\r\n`,
      );
      expect(reply.status, `${first} + ${second}`).toBe(400);
      expect(parseRaw(reply.text).body).toContain("more than one Host header");
    }
    expect(backendsSaw()).not.toContain("/two-hosts");
  });

  it("answers 400 to a malformed request line", async () => {
    expect(await rawStatus("GET /bad HTTP/1.1 extra\r\nHost: app.test\r\n\r\n")).toBe(400);
    expect(await rawStatus("HELLO\r\n\r\n")).toBe(400);
    expect(await rawStatus("GET /sp ace HTTP/1.1\r\nHost: app.test\r\n\r\n")).toBe(400);
    expect(backendsSaw().filter((url) => url.includes("bad") || url.includes("sp"))).toEqual([]);
  });
});

describe("path traversal", () => {
  it("answers 400 to a path climbing above the root, which the backend never sees", async () => {
    for (const target of [
      "/../etc/passwd",
      "/a/../../etc/passwd",
      "/%2e%2e/etc/passwd",
      "/a/%2E%2e/%2e%2E/etc/passwd",
    ]) {
      const reply = await raw(rennet.httpPort, `GET ${target} HTTP/1.1\r\nHost: app.test\r\n\r\n`);
      expect(reply.status, target).toBe(400);
    }
    expect(backendsSaw().filter((url) => url.includes("passwd"))).toEqual([]);
  });

  it("routes and forwards the normalised path, so %2e%2e cannot reach around a route", async () => {
    const reply = parseRaw(
      (
        await raw(
          rennet.httpPort,
          "GET /public/%2e%2e/secret/key HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n",
        )
      ).text,
    );
    expect(reply.status).toBe(200);
    const seen = JSON.parse(reply.body) as Echo;
    expect(seen.me).toBe("secret");
    expect(seen.url).toBe("/secret/key");

    const dotted = parseRaw(
      (await raw(rennet.httpPort, "GET /a/./b/../c?x=/../y HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n"))
        .text,
    );
    expect((JSON.parse(dotted.body) as Echo).url).toBe("/a/c?x=/../y");
    expect(backendsSaw().filter((url) => /%2e|\/\.\.?\//i.test(url.split("?")[0] ?? ""))).toEqual([]);
  });
});

describe("oversized and slow clients", () => {
  it("answers 431 to a request head larger than --max-header-size", async () => {
    const reply = await raw(
      rennet.httpPort,
      `GET /big HTTP/1.1\r\nHost: app.test\r\nX-Big: ${"a".repeat(10_000)}\r\n\r\n`,
    );
    expect(reply.status).toBe(431);
    expect(backendsSaw()).not.toContain("/big");
    // Just under the limit is fine.
    const fine = await request(rennet.httpPort, {
      host: "app.test",
      path: "/fine",
      headers: { "x-big": "a".repeat(6000) },
    });
    expect(fine.status).toBe(200);
  });

  it("cuts off a client that sends its headers too slowly (--client-header-timeout 1s)", async () => {
    const trickle = ["GET /slow HTTP/1.1\r\nHost: app.test\r\n"];
    for (let i = 0; i < 40; i++) trickle.push(`X-Drip-${i}: 1\r\n`);
    const reply = await raw(rennet.httpPort, trickle, { intervalMs: 150, timeoutMs: 6000 });
    expect(reply.status === 408 || reply.closed, reply.text).toBe(true);
    expect(reply.elapsedMs).toBeGreaterThanOrEqual(900);
    expect(reply.elapsedMs).toBeLessThan(3000);
    expect(backendsSaw()).not.toContain("/slow");
  });

  it("cuts off a client that sends its body too slowly (--client-request-timeout 2s)", async () => {
    const drip = ["POST /slow-body HTTP/1.1\r\nHost: app.test\r\nContent-Length: 1000\r\n\r\n"];
    for (let i = 0; i < 40; i++) drip.push("0123456789");
    const reply = await raw(rennet.httpPort, drip, { intervalMs: 150, timeoutMs: 6000 });
    expect(reply.status === 408 || reply.closed, reply.text).toBe(true);
    expect(reply.elapsedMs).toBeGreaterThanOrEqual(1800);
    expect(reply.elapsedMs).toBeLessThan(4000);
    // Whatever reached the backend was cut short too, never completed.
    const seen = [...pub.seen, ...secret.seen].find((request) => request.url === "/slow-body");
    if (seen !== undefined) await eventually(() => seen.outcome === "aborted", 2000, "backend request aborted");
  });
});
