/**
 * Manifest files are watched: a change applies within a second, without restart, whether the
 * file is rewritten in place or replaced by a rename; a broken file keeps its last good content
 * serving until it is fixed; and requests running while the files change never fail.
 */
import { Agent } from "node:http";
import { describe, expect, it } from "vitest";
import type { Backend, Echo, Pods } from "./support/backends.js";
import { useHarness } from "./support/harness.js";
import { eventually, request, sleep } from "./support/http.js";
import {
  ingressClass,
  type Manifest,
  type ManifestDir,
  serviceWithEndpoints,
  simpleIngress,
  toYaml,
} from "./support/manifests.js";
import type { Rennet } from "./support/rennet.js";

const harness = useHarness();
const APPLY_WITHIN_MS = 1000;

interface Setup {
  pods: Pods;
  a: Backend;
  b: Backend;
  dir: ManifestDir;
  rennet: Rennet;
}

/** Service "app" (pods a = 127.0.0.2, b = 127.0.0.3) behind host app.test, at first on `a` only. */
function appObjects(pods: Pods, endpoints: readonly string[]): Manifest[] {
  return [...serviceWithEndpoints("app", pods.port, endpoints), simpleIngress("app", "app.test", "app")];
}

async function setup(): Promise<Setup> {
  const pods = await harness.pods("pod", ["127.0.0.2", "127.0.0.3"]);
  const [a, b] = pods.backends as [Backend, Backend];
  const dir = await harness.manifestDir();
  await dir.write("class.yaml", [ingressClass("rennet")]);
  await dir.write("app.yaml", appObjects(pods, ["127.0.0.2"]));
  const rennet = await harness.rennet({ manifests: [dir.dir] });
  expect(await answeredBy(rennet, "app.test")).toBe("pod-1");
  return { pods, a, b, dir, rennet };
}

/** Who answers a request for `host`: a backend name, or the status when it is not 200. */
async function answeredBy(rennet: Rennet, host: string): Promise<string> {
  const reply = await request(rennet.httpPort, { host, timeoutMs: 2000 });
  return reply.status === 200 ? reply.json<Echo>().me : String(reply.status);
}

/** Polls until `host` is answered by `expected`; resolves to how long that took (with rennet's log when slow). */
async function appliedWithin(rennet: Rennet, host: string, expected: string): Promise<number> {
  const elapsed = await eventually(
    async () => (await answeredBy(rennet, host)) === expected,
    3000,
    `${host} → ${expected}`,
    10,
  ).catch((error: Error) => {
    throw new Error(`${error.message}\n${rennet.output()}`);
  });
  if (elapsed >= APPLY_WITHIN_MS) console.error(`${host} → ${expected} took ${elapsed} ms\n${rennet.output()}`);
  return elapsed;
}

describe("hot reload", () => {
  it("applies a file rewritten in place within a second, without restarting", async () => {
    const { pods, dir, rennet } = await setup();
    await dir.write("app.yaml", appObjects(pods, ["127.0.0.3"]));
    expect(await appliedWithin(rennet, "app.test", "pod-2")).toBeLessThan(APPLY_WITHIN_MS);
    expect(rennet.exit).toBeUndefined();
    expect(rennet.logs().filter((line) => line.msg === "rennet is serving")).toHaveLength(1);
  });

  it("applies a file replaced by write-then-rename within a second", async () => {
    const { pods, dir, rennet } = await setup();
    await dir.replace("app.yaml", appObjects(pods, ["127.0.0.3"]));
    expect(await appliedWithin(rennet, "app.test", "pod-2")).toBeLessThan(APPLY_WITHIN_MS);
    await dir.replace("app.yaml", appObjects(pods, ["127.0.0.2"]));
    expect(await appliedWithin(rennet, "app.test", "pod-1")).toBeLessThan(APPLY_WITHIN_MS);
  });

  it("serves a new file's Ingress within a second and drops it when the file is deleted", async () => {
    const { pods, dir, rennet } = await setup();
    expect(await answeredBy(rennet, "new.test")).toBe("404");
    await dir.write("new.yaml", [
      ...serviceWithEndpoints("new", pods.port, ["127.0.0.3"]),
      simpleIngress("new", "new.test", "new"),
    ]);
    expect(await appliedWithin(rennet, "new.test", "pod-2")).toBeLessThan(APPLY_WITHIN_MS);
    await dir.remove("new.yaml");
    expect(await appliedWithin(rennet, "new.test", "404")).toBeLessThan(APPLY_WITHIN_MS);
    expect(await answeredBy(rennet, "app.test")).toBe("pod-1");
  });

  it("applies a file emptied on purpose: its Ingress goes away within a second", async () => {
    const { dir, rennet } = await setup();
    await dir.writeText("app.yaml", "");
    expect(await appliedWithin(rennet, "app.test", "404")).toBeLessThan(APPLY_WITHIN_MS);
  });

  it("keeps serving the last good content of a half-written file, and applies the fix", async () => {
    const { pods, dir, rennet } = await setup();
    const next = toYaml(appObjects(pods, ["127.0.0.3"]));
    // Cut inside a quoted string: not YAML any more.
    const half = next.slice(0, next.indexOf('"127.0.0.3"') + 6);
    await dir.writeText("app.yaml", half);
    await rennet.waitForLog((line) => line.msg === "manifest file rejected; its last good content keeps serving", 3000);
    const until = Date.now() + 600;
    while (Date.now() < until) expect(await answeredBy(rennet, "app.test")).toBe("pod-1");

    await dir.writeText("app.yaml", next);
    expect(await appliedWithin(rennet, "app.test", "pod-2")).toBeLessThan(APPLY_WITHIN_MS);
  });

  it("keeps the last good content when a file becomes invalid JSON or an invalid object", async () => {
    const { pods, dir, rennet } = await setup();
    const json = JSON.stringify(appObjects(pods, ["127.0.0.3"]));
    await dir.remove("app.yaml");
    await dir.writeText("app.json", JSON.stringify(appObjects(pods, ["127.0.0.2"])));
    await sleep(300);
    expect(await answeredBy(rennet, "app.test")).toBe("pod-1");

    await dir.writeText("app.json", json.slice(0, json.length / 2));
    await sleep(500);
    expect(await answeredBy(rennet, "app.test")).toBe("pod-1");

    // Valid YAML, but an Ingress without apiVersion: the whole file is rejected.
    const noApiVersion = appObjects(pods, ["127.0.0.3"]).map((object) =>
      object.kind === "Ingress" ? { ...object, apiVersion: undefined } : object,
    );
    await dir.writeText("app.json", JSON.stringify(noApiVersion));
    await sleep(500);
    expect(await answeredBy(rennet, "app.test")).toBe("pod-1");

    await dir.writeText("app.json", json);
    expect(await appliedWithin(rennet, "app.test", "pod-2")).toBeLessThan(APPLY_WITHIN_MS);
  });

  it("fails no request while Ingresses come and go and the route's endpoints change", async () => {
    const pods = await harness.pods("pod", ["127.0.0.2", "127.0.0.3", "127.0.0.4"]);
    const dir = await harness.manifestDir();
    const stable = (endpoints: Parameters<typeof serviceWithEndpoints>[2]) => [
      ...serviceWithEndpoints("stable", pods.port, endpoints),
      simpleIngress("stable", "stable.test", "stable"),
    ];
    await dir.write("class.yaml", [ingressClass("rennet")]);
    await dir.write("stable.yaml", stable(["127.0.0.2", "127.0.0.3"]));
    const rennet = await harness.rennet({ manifests: [dir.dir] });

    const CLIENTS = 3;
    const LOAD_MS = 3300;
    const MAX_REQUESTS = 30_000;
    const failures: string[] = [];
    let requests = 0;
    let running = true;
    const client = async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      try {
        while (running && requests < MAX_REQUESTS) {
          requests++;
          try {
            const reply = await request(rennet.httpPort, { host: "stable.test", agent, timeoutMs: 2000 });
            if (reply.status !== 200) failures.push(`${reply.status} ${reply.body}`);
          } catch (error) {
            failures.push(String(error));
          }
        }
      } finally {
        agent.destroy();
      }
    };

    // Each step keeps 127.0.0.2 ready; the others come, go, and turn unready.
    const endpointSets: Parameters<typeof serviceWithEndpoints>[2][] = [
      ["127.0.0.2"],
      ["127.0.0.2", "127.0.0.3", "127.0.0.4"],
      ["127.0.0.2", { address: "127.0.0.3", ready: false }],
      ["127.0.0.2", "127.0.0.4"],
      [{ address: "127.0.0.2" }, { address: "127.0.0.4", ready: false, serving: true, terminating: true }],
    ];
    const appliedBefore = rennet.appliedCount();
    const writer = async () => {
      let step = 0;
      const deadline = Date.now() + LOAD_MS - 300;
      while (Date.now() < deadline && step < 25) {
        const endpoints = endpointSets[step % endpointSets.length] as Parameters<typeof serviceWithEndpoints>[2];
        // Replaced by a rename, or rewritten in place as an editor saves (truncate, then write).
        if (step % 4 === 0) await dir.replace("stable.yaml", stable(endpoints));
        else dir.writeSync("stable.yaml", stable(endpoints));
        const other = `other-${step % 3}.yaml`;
        if (step % 4 < 2) {
          await dir.write(other, [
            ...serviceWithEndpoints(`other-${step}`, pods.port, ["127.0.0.3"]),
            simpleIngress(`other-${step}`, `other-${step}.test`, `other-${step}`),
          ]);
        } else {
          await dir.remove(other).catch(() => undefined);
        }
        step++;
        await sleep(120);
      }
      return step;
    };

    const load = Promise.all(Array.from({ length: CLIENTS }, client));
    const steps = await writer();
    const requestsWhileWriting = requests;
    await sleep(300);
    running = false;
    await load;

    expect(failures.slice(0, 5)).toEqual([]);
    expect(steps).toBeGreaterThanOrEqual(8);
    expect(requestsWhileWriting).toBeGreaterThan(100);
    // The load lasted as long as the writes (it was not cut short by the request cap).
    expect(requests).toBeGreaterThan(requestsWhileWriting);
    // The changes were applied while the load ran, not only afterwards.
    expect(rennet.appliedCount() - appliedBefore).toBeGreaterThanOrEqual(5);
    const [a, b, c] = pods.backends as [Backend, Backend, Backend];
    expect(a.seen.length).toBeGreaterThan(0);
    expect(b.seen.length + c.seen.length).toBeGreaterThan(0);
    expect(rennet.exit).toBeUndefined();
  });
});
