/**
 * Which endpoints of a Service receive traffic: ready ones (a missing `ready` condition counts as
 * ready); when none is ready, those still serving while terminating; when there are none of
 * either, the route answers 503.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { Echo, Pods } from "./support/backends.js";
import { useHarness } from "./support/harness.js";
import { request } from "./support/http.js";
import {
  endpointSlice,
  ingressClass,
  type Manifest,
  service,
  serviceWithEndpoints,
  simpleIngress,
} from "./support/manifests.js";
import type { Rennet } from "./support/rennet.js";

const harness = useHarness("all");
let pods: Pods;
let rennet: Rennet;

// pod-1 … pod-4 listen on 127.0.0.2 … 127.0.0.5.
const A = "127.0.0.2";
const B = "127.0.0.3";
const C = "127.0.0.4";

function serviceCase(name: string, endpoints: Parameters<typeof serviceWithEndpoints>[2]): Manifest[] {
  return [...serviceWithEndpoints(name, pods.port, endpoints), simpleIngress(name, `${name}.test`, name)];
}

/** Who answered `count` requests to `host`, or the status when it is not 200. */
async function served(host: string, count = 8): Promise<string[]> {
  const answered = new Set<string>();
  for (let i = 0; i < count; i++) {
    const reply = await request(rennet.httpPort, { host });
    answered.add(reply.status === 200 ? reply.json<Echo>().me : String(reply.status));
  }
  return [...answered].sort();
}

beforeAll(async () => {
  pods = await harness.pods("pod", [A, B, C, "127.0.0.5"]);
  const dir = await harness.manifestDir();
  await dir.write("endpoints.yaml", [
    ingressClass("rennet"),
    ...serviceCase("mixed", [
      { address: A, ready: true },
      { address: B, ready: false },
    ]),
    ...serviceCase("absent", [{ address: A }, { address: B, ready: true }]),
    ...serviceCase("terminating", [
      { address: A, ready: false, serving: true, terminating: true },
      { address: B, ready: false, serving: false, terminating: true },
      { address: C, ready: false },
    ]),
    ...serviceCase("prefer-ready", [
      { address: A, ready: false, serving: true, terminating: true },
      { address: B, ready: true },
    ]),
    ...serviceCase("none-ready", [
      { address: A, ready: false },
      { address: B, ready: false, serving: false, terminating: true },
    ]),
    ...serviceCase("empty", []),
    service("no-slices"),
    simpleIngress("no-slices", "no-slices.test", "no-slices"),
    // A slice whose port name the Service does not use contributes nothing.
    service("wrong-port"),
    endpointSlice("wrong-port", { ports: [{ name: "metrics", port: pods.port }], endpoints: [A] }),
    simpleIngress("wrong-port", "wrong-port.test", "wrong-port"),
  ]);
  rennet = await harness.rennet({ manifests: [dir.dir] });
});

describe("endpoint readiness", () => {
  it("leaves out endpoints that are not ready", async () => {
    expect(await served("mixed.test")).toEqual(["pod-1"]);
  });

  it("counts an endpoint without a ready condition as ready", async () => {
    expect(await served("absent.test")).toEqual(["pod-1", "pod-2"]);
  });

  it("falls back to serving-and-terminating endpoints when none is ready", async () => {
    expect(await served("terminating.test")).toEqual(["pod-1"]);
  });

  it("prefers ready endpoints to terminating ones", async () => {
    expect(await served("prefer-ready.test")).toEqual(["pod-2"]);
  });

  it("answers 503 when no endpoint is ready or serving", async () => {
    const reply = await request(rennet.httpPort, { host: "none-ready.test" });
    expect(reply.status).toBe(503);
    expect(reply.body).toContain("no ready endpoints for default/none-ready:http");
    expect(await served("empty.test", 2)).toEqual(["503"]);
    expect(await served("no-slices.test", 2)).toEqual(["503"]);
    expect(await served("wrong-port.test", 2)).toEqual(["503"]);
    // No request reached a pod that was not ready.
    for (const pod of pods.backends)
      expect(pod.seen.every((seen) => seen.headers.host !== "none-ready.test")).toBe(true);
  });
});
