/**
 * On SIGTERM rennet drains: /readyz turns 503 so load balancers stop sending, new connections are
 * refused, requests in flight complete, and the process exits 0 — at the latest when the grace
 * period is over.
 */
import { Agent } from "node:http";
import { describe, expect, it } from "vitest";
import type { Backend, Echo } from "./support/backends.js";
import { useHarness } from "./support/harness.js";
import { admin, eventually, type Reply, request } from "./support/http.js";
import { ingressClass, serviceWithEndpoints, simpleIngress } from "./support/manifests.js";
import type { Rennet } from "./support/rennet.js";

const harness = useHarness();

async function start(graceArgs: string[]): Promise<{ rennet: Rennet; slow: Backend }> {
  const slow = await harness.backend({ host: "127.0.0.2", name: "slow" });
  const dir = await harness.manifestDir();
  await dir.write("app.yaml", [
    ingressClass("rennet"),
    ...serviceWithEndpoints("slow", slow.port, ["127.0.0.2"]),
    simpleIngress("slow", "slow.test", "slow"),
  ]);
  const rennet = await harness.rennet({ manifests: [dir.dir], args: graceArgs });
  return { rennet, slow };
}

function settle<T>(promise: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: Error }> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: Error) => ({ ok: false as const, error }),
  );
}

describe("graceful shutdown", () => {
  it("answers /readyz 503, refuses new connections, finishes in-flight requests and exits 0", async () => {
    const { rennet, slow } = await start(["--grace-period", "10s"]);
    expect((await admin(rennet.adminPort, "/readyz")).status).toBe(200);
    // An idle keep-alive connection must not hold the shutdown up.
    const idle = new Agent({ keepAlive: true });
    harness.defer(() => idle.destroy());
    expect((await request(rennet.httpPort, { host: "slow.test", agent: idle })).status).toBe(200);

    // In flight on keep-alive connections, as load balancers send them.
    const busy = new Agent({ keepAlive: true, maxSockets: 3 });
    harness.defer(() => busy.destroy());
    const inFlight = [1, 2, 3].map((n) =>
      settle(
        request(rennet.httpPort, { host: "slow.test", path: `/?do=slow&ms=1000&n=${n}`, agent: busy, timeoutMs: 8000 }),
      ),
    );
    await eventually(() => slow.seen.filter((seen) => seen.url.includes("do=slow")).length === 3, 2000, "in flight");

    const signalled = Date.now();
    rennet.signal("SIGTERM");
    const readyz = await eventually(
      async () => (await admin(rennet.adminPort, "/readyz", 1000)).status === 503,
      500,
      "/readyz 503 while draining",
      10,
    );
    expect(readyz).toBeLessThan(500);
    await eventually(
      async () => {
        try {
          await request(rennet.httpPort, { host: "slow.test", timeoutMs: 500 });
          return false;
        } catch (error) {
          return (error as NodeJS.ErrnoException).code === "ECONNREFUSED";
        }
      },
      500,
      "new connections refused",
      10,
    );
    // Still draining: the slow requests are not over yet.
    expect(rennet.exit).toBeUndefined();
    expect((await admin(rennet.adminPort, "/readyz")).body).toContain("draining");

    const results = await Promise.all(inFlight);
    for (const result of results) {
      expect(result.ok, result.ok ? "" : String(result.error)).toBe(true);
      const reply = (result as { value: Reply }).value;
      expect(reply.status).toBe(200);
      expect(reply.json<Echo>().me).toBe("slow");
    }
    const exit = await Promise.race([
      rennet.exited,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error("no exit within 5 s")), 5000)),
    ]);
    expect(exit).toEqual({ code: 0, signal: null });
    // Exited once the requests were done, long before the 10 s grace period.
    expect(Date.now() - signalled).toBeLessThan(3000);
    expect(rennet.logs().find((line) => line.msg === "stopped")).toMatchObject({ outcome: "drained" });
  });

  it("closes what is left when the grace period is over, and exits 0", async () => {
    const { rennet, slow } = await start(["--grace-period", "1s"]);
    const hanging = settle(request(rennet.httpPort, { host: "slow.test", path: "/?do=hang", timeoutMs: 8000 }));
    await slow.waitFor((seen) => seen.url === "/?do=hang", 2000);

    const signalled = Date.now();
    rennet.signal("SIGTERM");
    const exit = await Promise.race([
      rennet.exited,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error("no exit within 5 s")), 5000)),
    ]);
    const took = Date.now() - signalled;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(took).toBeGreaterThanOrEqual(900);
    expect(took).toBeLessThan(3000);
    const result = await hanging;
    expect(result.ok).toBe(false);
    expect(rennet.logs().find((line) => line.msg === "stopped")).toMatchObject({ outcome: "timeout" });
  });
});
