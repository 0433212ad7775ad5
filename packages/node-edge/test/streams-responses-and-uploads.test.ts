/**
 * Bodies stream through rennet: server-sent events reach the client one by one while the backend
 * still holds the response open, and a 200 MB upload (and download) passes complete without the
 * proxy holding it in memory.
 */
import { createHash } from "node:crypto";
import { request as httpRequest } from "node:http";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { beforeAll, describe, expect, it } from "vitest";
import { type Backend, type Echo, misdelivered } from "./support/backends.js";
import { useHarness } from "./support/harness.js";
import { readSlowly } from "./support/http.js";
import { ingressClass, serviceWithEndpoints, simpleIngress } from "./support/manifests.js";
import type { Rennet } from "./support/rennet.js";

const harness = useHarness("all");
let rennet: Rennet;
let app: Backend;
let manifests: string;
const MIB = 1024 * 1024;
const RSS_GROWTH_LIMIT = 64 * MIB;

beforeAll(async () => {
  app = await harness.backend({ host: "127.0.0.2", name: "app" });
  const dir = await harness.manifestDir();
  await dir.write("app.yaml", [
    ingressClass("rennet"),
    ...serviceWithEndpoints("app", app.port, ["127.0.0.2"]),
    simpleIngress("app", "app.test", "app"),
  ]);
  manifests = dir.dir;
  rennet = await harness.rennet({ manifests: [dir.dir] });
});

/** Samples the rennet's RSS every 25 ms until stopped; resolves to the highest value seen. */
function sampleRss(): { stop: () => number } {
  let peak = rennet.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, rennet.rss());
  }, 25);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(peak, rennet.rss());
    },
  };
}

describe("streaming responses", () => {
  it("delivers server-sent events one by one while the backend holds the response open", async () => {
    const events: string[] = [];
    const result = await new Promise<{ first: string; firstWhileOpen: boolean; contentType: string }>(
      (resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("no event within 3 s")), 3000);
        const req = httpRequest({
          host: "127.0.0.1",
          port: rennet.httpPort,
          path: "/events?do=sse",
          headers: { host: "app.test", accept: "text/event-stream" },
        });
        req.on("error", reject);
        req.on("response", (res) => {
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => {
            events.push(chunk);
            if (events.length > 1) return;
            clearTimeout(timer);
            const held = app.seen.find((seen) => seen.url === "/events?do=sse");
            resolve({
              first: chunk,
              firstWhileOpen: held !== undefined && held.outcome === undefined && !res.complete,
              contentType: String(res.headers["content-type"]),
            });
          });
        });
        req.end();
      },
    );
    expect(result.first).toBe("data: 1\n\n");
    expect(result.firstWhileOpen).toBe(true);
    expect(result.contentType).toBe("text/event-stream");

    // The rest arrives once the backend goes on.
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("stream not over within 3 s")), 3000);
      const check = setInterval(() => {
        if (events.join("") === "data: 1\n\ndata: 2\n\ndata: 3\n\n") {
          clearInterval(check);
          clearTimeout(timer);
          resolve();
        }
      }, 10);
    });
    app.release();
    await done;
  });

  it("streams a 100 MB download at the reader's pace: a paused reader pauses the backend", async () => {
    const PAUSE_MS = 800;
    const path = "/?do=download&mb=100";
    const { bytes, sha1, sentWhilePaused, rssGrowthWhilePaused } = await new Promise<{
      bytes: number;
      sha1: string;
      sentWhilePaused: number;
      rssGrowthWhilePaused: number;
    }>((resolve, reject) => {
      const timer = setTimeout(() => req.destroy(new Error("download not over within 20 s")), 20_000);
      const req = httpRequest({ host: "127.0.0.1", port: rennet.httpPort, path, headers: { host: "app.test" } });
      req.on("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
      req.on("response", (res) => {
        // Read nothing for a while: the backend must be held back rather than rennet buffer the body.
        res.pause();
        const before = rennet.rss();
        let sentWhilePaused = 0;
        let rssGrowthWhilePaused = 0;
        setTimeout(() => {
          sentWhilePaused = app.seen.find((seen) => seen.url === path)?.sentBytes ?? -1;
          rssGrowthWhilePaused = rennet.rss() - before;
          res.resume();
        }, PAUSE_MS);
        const hash = createHash("sha1");
        let count = 0;
        res.on("data", (chunk: Buffer) => {
          count += chunk.length;
          hash.update(chunk);
        });
        res.on("end", () => {
          clearTimeout(timer);
          resolve({ bytes: count, sha1: hash.digest("hex"), sentWhilePaused, rssGrowthWhilePaused });
        });
        res.on("error", reject);
      });
      req.end();
    });
    const expected = createHash("sha1");
    for (let i = 0; i < 100; i++) expected.update(Buffer.alloc(MIB, i % 256));
    expect(bytes).toBe(100 * MIB);
    expect(sha1).toBe(expected.digest("hex"));
    // Socket buffers on the way hold a few MiB at most; the rest waited in the backend.
    expect(sentWhilePaused).toBeGreaterThan(0);
    expect(sentWhilePaused).toBeLessThan(32 * MIB);
    expect(rssGrowthWhilePaused).toBeLessThan(32 * MIB);
  });
});

/** GETs `path` through the rennet on `port`, reading slowly: a pause of `pauseMs` after every `every` bytes. */
function slowDownload(port: number, path: string, every: number, pauseMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, path, headers: { host: "app.test" } });
    // readSlowly bounds the body; this bounds the wait for the response head.
    const timer = setTimeout(() => req.destroy(new Error(`no response to ${path} within 20 s`)), 20_000);
    req.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.on("response", (res) => {
      clearTimeout(timer);
      readSlowly(res, every, pauseMs).then(resolve, reject);
    });
    req.end();
  });
}

/** POSTs `mib` MiB, generated chunk by chunk (never held whole), and resolves to the backend's echo and the SHA-1 sent. */
function upload(mib: number): Promise<{ echo: Echo; sha1: string }> {
  const sent = createHash("sha1");
  function* chunks(): Generator<Buffer> {
    for (let i = 0; i < mib; i++) {
      const chunk = Buffer.alloc(MIB, (i * 7) % 256);
      chunk.writeUInt32BE(i, 0);
      sent.update(chunk);
      yield chunk;
    }
  }
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: "127.0.0.1",
      port: rennet.httpPort,
      path: "/upload",
      method: "POST",
      headers: { host: "app.test", "content-type": "application/octet-stream", "content-length": String(mib * MIB) },
    });
    const timer = setTimeout(() => req.destroy(new Error("upload not answered within 25 s")), 25_000);
    req.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.on("response", (res) => {
      const parts: Buffer[] = [];
      res.on("data", (part: Buffer) => parts.push(part));
      res.on("end", () => {
        clearTimeout(timer);
        try {
          resolve({ echo: JSON.parse(Buffer.concat(parts).toString("utf8")) as Echo, sha1: sent.digest("hex") });
        } catch (error) {
          reject(error);
        }
      });
    });
    pipeline(Readable.from(chunks()), req).catch(reject);
  });
}

describe("responses through reused upstream connections", () => {
  it.each([
    { connections: "each with read memory of its own", own: undefined },
    { connections: "two with read memory of their own, the others sharing one buffer", own: "2" },
    { connections: "all sharing one read buffer", own: "0" },
  ])(
    "reach slow readers byte for byte, while other responses go through the same connections ($connections)",
    async ({ own }) => {
      const proxy =
        own === undefined
          ? rennet
          : await harness.rennet({ manifests: [manifests], env: { RENNET_UPSTREAM_OWN_READ_BUFFERS: own } });
      // Slow readers leave chunks queued on their sockets while the upstream connection reads on:
      // the bytes a client is still owed must never be overwritten by what comes next.
      for (let round = 0; round < 2; round++) {
        const large = [0, 1, 2, 3].map((n) => ({ kib: 4096, seed: round * 100 + n }));
        const small = Array.from({ length: 60 }, (_, n) => ({ kib: 1 + (n % 24), seed: round * 100 + 10 + n }));
        const received = await Promise.all(
          [...large, ...small].map(({ kib, seed }) =>
            slowDownload(proxy.httpPort, `/?do=numbered&kib=${kib}&seed=${seed}`, 128 * 1024, 10),
          ),
        );
        expect(misdelivered([...large, ...small], received)).toEqual([]);
      }
    },
  );
});

describe("streaming uploads", () => {
  it("passes a 200 MB upload to the backend complete, and the proxy's memory grows by less than 64 MB", async () => {
    // A first upload warms up the route, the upstream connection and the allocator.
    const warm = await upload(32);
    expect(warm.echo.bodySha1).toBe(warm.sha1);
    const before = rennet.rss();
    const sampler = sampleRss();
    const { echo, sha1 } = await upload(200);
    const peak = sampler.stop();
    expect(echo.bodyBytes).toBe(200 * MIB);
    expect(echo.bodySha1).toBe(sha1);
    expect(peak - before, `RSS grew by ${((peak - before) / MIB).toFixed(1)} MiB`).toBeLessThan(RSS_GROWTH_LIMIT);
  });
});
