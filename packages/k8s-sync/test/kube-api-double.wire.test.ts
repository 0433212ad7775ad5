/**
 * The double's wire protocol checked directly with fetch: response shapes (lists, Status errors, watch event
 * lines), resourceVersion semantics, selectors, pagination, write rules. What client-node hides, pinned here.
 */
import { afterEach, describe, expect, test } from "vitest";
import { type KubeApiDouble, type KubeApiDoubleOptions, startKubeApiDouble } from "./support/kube-api-double/index.js";

let double: KubeApiDouble;
const aborts: AbortController[] = [];

async function start(options?: KubeApiDoubleOptions): Promise<void> {
  double = await startKubeApiDouble(options);
}

afterEach(async () => {
  for (const a of aborts.splice(0)) a.abort();
  await double?.stop();
});

interface Reply {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are inspected loosely
  body: any;
}

async function call(method: string, path: string, body?: unknown, contentType = "application/json"): Promise<Reply> {
  const headers: Record<string, string> = { authorization: `Bearer ${double.token}` };
  let payload: string | undefined;
  if (body !== undefined) {
    headers["content-type"] = contentType;
    payload = typeof body === "string" ? body : JSON.stringify(body);
  }
  const res = await fetch(`${double.url}${path}`, { method, headers, body: payload });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

interface WatchEvent {
  type: string;
  // biome-ignore lint/suspicious/noExplicitAny: event objects are inspected loosely
  object: any;
}

/**
 * Reads watch event lines until `done` holds, the stream ends, or `timeoutMs` passes (then `timedOut` is set).
 * A stream cut by the server rejects.
 */
async function watch(
  path: string,
  done: (events: WatchEvent[]) => boolean = () => false,
  timeoutMs = 3000,
): Promise<{ status: number; events: WatchEvent[]; ended: boolean; timedOut: boolean }> {
  const controller = new AbortController();
  aborts.push(controller);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  const events: WatchEvent[] = [];
  try {
    const res = await fetch(`${double.url}${path}`, {
      headers: { authorization: `Bearer ${double.token}` },
      signal: controller.signal,
    });
    if (res.status !== 200 || !res.body) {
      return { status: res.status, events: [(await res.json()) as WatchEvent], ended: true, timedOut };
    }
    const decoder = new TextDecoder();
    let buffered = "";
    const reader = res.body.getReader();
    for (;;) {
      const { value, done: ended } = await reader.read();
      if (ended) return { status: res.status, events, ended: true, timedOut };
      buffered += decoder.decode(value, { stream: true });
      let nl = buffered.indexOf("\n");
      while (nl >= 0) {
        events.push(JSON.parse(buffered.slice(0, nl)));
        buffered = buffered.slice(nl + 1);
        nl = buffered.indexOf("\n");
      }
      if (done(events)) {
        controller.abort();
        return { status: res.status, events, ended: false, timedOut };
      }
    }
  } catch (err) {
    if (timedOut) return { status: 200, events, ended: false, timedOut };
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

const INGRESSES = "/apis/networking.k8s.io/v1/ingresses";
const nsIngresses = (ns: string) => `/apis/networking.k8s.io/v1/namespaces/${ns}/ingresses`;

function ingress(name: string, namespace = "default", labels?: Record<string, string>) {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: { name, namespace, ...(labels ? { labels } : {}) },
    spec: { rules: [{ host: `${name}.example.test` }] },
  };
}

describe("reads", () => {
  test("lists: kind, apiVersion and resourceVersion; items sorted and without type meta; cluster-wide and namespaced", async () => {
    await start();
    double.apply(ingress("b", "two"));
    double.apply(ingress("a", "two"));
    double.apply(ingress("z", "one"));
    const all = await call("GET", INGRESSES);
    expect(all.status).toBe(200);
    expect(all.body).toMatchObject({
      kind: "IngressList",
      apiVersion: "networking.k8s.io/v1",
      metadata: { resourceVersion: double.resourceVersion },
    });
    expect(all.body.items.map((i: { metadata: { namespace: string; name: string } }) => i.metadata.name)).toEqual([
      "z",
      "a",
      "b",
    ]);
    expect(all.body.items[0].kind).toBeUndefined();
    expect(all.body.items[0].apiVersion).toBeUndefined();
    const two = await call("GET", nsIngresses("two"));
    expect(two.body.items).toHaveLength(2);
  });

  test("objects carry uid, RFC 3339 creationTimestamp, generation and resourceVersion; 404s are Status objects", async () => {
    await start();
    double.apply(ingress("web"));
    const got = await call("GET", `${nsIngresses("default")}/web`);
    expect(got.body).toMatchObject({ kind: "Ingress", apiVersion: "networking.k8s.io/v1" });
    expect(got.body.metadata).toMatchObject({ name: "web", namespace: "default", generation: 1 });
    expect(got.body.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(got.body.metadata.creationTimestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(got.body.metadata.resourceVersion).toBe(double.resourceVersion);

    expect(await call("GET", `${nsIngresses("default")}/missing`)).toEqual({
      status: 404,
      body: {
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        message: 'ingresses.networking.k8s.io "missing" not found',
        reason: "NotFound",
        details: { name: "missing", group: "networking.k8s.io", kind: "ingresses" },
        code: 404,
      },
    });
    expect((await call("GET", "/api/v1/namespaces/default/services/missing")).body.details).toEqual({
      name: "missing",
      kind: "services",
    });
    expect((await call("GET", "/apis/apps/v1/deployments")).body).toMatchObject({
      reason: "NotFound",
      message: "the server could not find the requested resource",
    });
  });

  test("label selectors (=, !=, in, notin, exists, !key) and field selectors; unsupported fields are 400", async () => {
    await start();
    double.apply(ingress("a", "default", { app: "shop", tier: "edge" }));
    double.apply(ingress("b", "default", { app: "shop" }));
    double.apply(ingress("c", "other", { app: "blog", tier: "internal" }));
    const select = async (q: string) =>
      (await call("GET", `${INGRESSES}?${q}`)).body.items.map((i: { metadata: { name: string } }) => i.metadata.name);
    expect(await select("labelSelector=app%3Dshop")).toEqual(["a", "b"]);
    expect(await select("labelSelector=app%3D%3Dshop,tier")).toEqual(["a"]);
    expect(await select("labelSelector=tier!%3Dedge")).toEqual(["b", "c"]);
    expect(await select(`labelSelector=${encodeURIComponent("tier in (edge, internal)")}`)).toEqual(["a", "c"]);
    expect(await select(`labelSelector=${encodeURIComponent("app notin (blog)")}`)).toEqual(["a", "b"]);
    expect(await select("labelSelector=!tier")).toEqual(["b"]);
    expect(await select("fieldSelector=metadata.name%3Da")).toEqual(["a"]);
    expect(await select("fieldSelector=metadata.namespace!%3Ddefault")).toEqual(["c"]);
    const bad = await call("GET", `${INGRESSES}?fieldSelector=spec.ingressClassName%3Dx`);
    expect(bad.status).toBe(400);
    expect(bad.body.message).toBe("field label not supported: spec.ingressClassName");
  });

  test("limit and continue page through a list", async () => {
    await start();
    for (const n of ["a", "b", "c", "d", "e"]) double.apply(ingress(n));
    const first = await call("GET", `${INGRESSES}?limit=2`);
    expect(first.body.items).toHaveLength(2);
    expect(first.body.metadata.remainingItemCount).toBe(3);
    const second = await call("GET", `${INGRESSES}?limit=2&continue=${first.body.metadata.continue}`);
    const third = await call("GET", `${INGRESSES}?limit=2&continue=${second.body.metadata.continue}`);
    expect(third.body.metadata.continue).toBeUndefined();
    const pages = [first, second, third].flatMap((p) =>
      p.body.items.map((i: { metadata: { name: string } }) => i.metadata.name),
    );
    expect(pages).toEqual(["a", "b", "c", "d", "e"]);
    double.compact();
    const expired = await call("GET", `${INGRESSES}?limit=2&continue=${first.body.metadata.continue}`);
    expect(expired.body).toMatchObject({ code: 410, reason: "Expired" });
  });

  test("discovery: /api, /apis and /apis/<group>", async () => {
    await start();
    expect((await call("GET", "/api")).body).toMatchObject({ kind: "APIVersions", versions: ["v1"] });
    const groups = (await call("GET", "/apis")).body;
    expect(groups.kind).toBe("APIGroupList");
    expect(groups.groups.map((g: { name: string }) => g.name).sort()).toEqual([
      "coordination.k8s.io",
      "discovery.k8s.io",
      "events.k8s.io",
      "networking.k8s.io",
    ]);
    expect((await call("GET", "/apis/networking.k8s.io")).body).toMatchObject({
      kind: "APIGroup",
      preferredVersion: { groupVersion: "networking.k8s.io/v1", version: "v1" },
    });
  });
});

describe("watches", () => {
  test("from resourceVersion 0: ADDED for what exists, then changes; DELETED carries the deletion's resourceVersion", async () => {
    await start();
    double.apply(ingress("a"));
    const pending = watch(`${INGRESSES}?watch=true&resourceVersion=0`, (e) => e.length === 3);
    await waitForWatches(1);
    double.apply({ ...ingress("a"), spec: { rules: [] } });
    double.delete("Ingress", "default", "a");
    const { status, events } = await pending;
    expect(status).toBe(200);
    expect(events.map((e) => e.type)).toEqual(["ADDED", "MODIFIED", "DELETED"]);
    expect(events[2]?.object).toMatchObject({ kind: "Ingress", metadata: { resourceVersion: double.resourceVersion } });
    expect(events[2]?.object.spec).toEqual({ rules: [] });
  });

  test("from resourceVersion N: only changes after N, filtered by namespace; timeoutSeconds ends the stream", async () => {
    await start();
    double.apply(ingress("a"));
    const rv = double.resourceVersion;
    double.apply(ingress("b"));
    double.apply(ingress("c", "other"));
    const { events, ended } = await watch(`${nsIngresses("default")}?watch=1&resourceVersion=${rv}&timeoutSeconds=1`);
    expect(ended).toBe(true);
    expect(events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(["ADDED b"]);
  });

  test("a compacted resourceVersion gets 200 + an ERROR event with a 410 Expired Status, or an HTTP 410 with the switch", async () => {
    await start({ historySize: 2 });
    double.apply(ingress("a"));
    const old = double.resourceVersion;
    double.apply(ingress("b"));
    double.apply(ingress("c"));
    double.apply(ingress("d"));
    const { status, events, ended } = await watch(`${INGRESSES}?watch=true&resourceVersion=${old}`);
    expect(status).toBe(200);
    expect(ended).toBe(true);
    expect(events).toEqual([
      {
        type: "ERROR",
        object: {
          kind: "Status",
          apiVersion: "v1",
          metadata: {},
          status: "Failure",
          message: `too old resource version: ${old} (${Number(old) + 1})`,
          reason: "Expired",
          code: 410,
        },
      },
    ]);
    // The oldest retained change's predecessor is still a valid start.
    const edge = await watch(`${INGRESSES}?watch=true&resourceVersion=${Number(old) + 1}`, (e) => e.length === 2);
    expect(edge.events.map((e) => e.object.metadata.name)).toEqual(["c", "d"]);

    double.gone410AsHttpStatus(true);
    const http = await watch(`${INGRESSES}?watch=true&resourceVersion=${old}`);
    expect(http.status).toBe(410);
    expect(http.events[0]).toMatchObject({ kind: "Status", reason: "Expired", code: 410 });
  });

  test("a future resourceVersion gets an ERROR event with a 504 ResourceVersionTooLarge Status; a malformed one 400", async () => {
    await start({ tooLargeResourceVersionWaitMs: 50 });
    const { events } = await watch(`${INGRESSES}?watch=true&resourceVersion=999`);
    expect(events[0]).toMatchObject({
      type: "ERROR",
      object: { code: 504, reason: "Timeout", details: { causes: [{ reason: "ResourceVersionTooLarge" }] } },
    });
    expect((await call("GET", `${INGRESSES}?watch=true&resourceVersion=abc`)).status).toBe(400);
  });

  test("an unmatched change sends nothing; bookmarks only when asked; dropWatches() cuts or ends streams", async () => {
    await start({ bookmarkIntervalMs: 30 });
    const plain = watch(
      `${INGRESSES}?watch=true&resourceVersion=${double.resourceVersion}&labelSelector=app%3Dx`,
      () => false,
      400,
    );
    const withBookmarks = watch(`${INGRESSES}?watch=true&allowWatchBookmarks=true`, (e) => e.length >= 2);
    await waitForWatches(2);
    double.apply(ingress("a"));
    const bookmarked = await withBookmarks;
    expect(bookmarked.events.map((e) => e.type)).toEqual(["ADDED", "BOOKMARK"]);
    expect(await plain).toMatchObject({ events: [], timedOut: true });

    const cut = watch(`${INGRESSES}?watch=true`);
    const ended = watch(`${INGRESSES}?watch=true`);
    await waitForWatches(2);
    expect(double.dropWatches({ mode: "graceful" })).toBe(2);
    expect((await cut).ended).toBe(true);
    expect((await ended).ended).toBe(true);
    const abrupt = watch(`${INGRESSES}?watch=true`);
    await waitForWatches(1);
    double.dropWatches();
    await expect(abrupt).rejects.toThrow(/terminated/);
  });
});

async function waitForWatches(n: number): Promise<void> {
  const deadline = Date.now() + 3000;
  while (double.openWatches < n) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${n} open watches`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe("writes", () => {
  test("create: 201, server-set metadata, status dropped; AlreadyExists; resourceVersion set is refused; namespace mismatch 400", async () => {
    await start();
    const body = { ...ingress("web"), metadata: { name: "web", uid: "x" }, status: { loadBalancer: {} } };
    const created = await call("POST", nsIngresses("default"), body);
    expect(created.status).toBe(201);
    expect(created.body.metadata.namespace).toBe("default");
    expect(created.body.metadata.uid).not.toBe("x");
    expect(created.body.status).toBeUndefined();
    expect((await call("POST", nsIngresses("default"), body)).body).toMatchObject({
      code: 409,
      reason: "AlreadyExists",
      message: 'ingresses.networking.k8s.io "web" already exists',
    });
    const withRv = await call("POST", nsIngresses("default"), {
      ...ingress("other"),
      metadata: { name: "other", resourceVersion: "5" },
    });
    expect(withRv.body).toMatchObject({
      code: 500,
      message: "resourceVersion should not be set on objects to be created",
    });
    expect((await call("POST", nsIngresses("elsewhere"), ingress("x", "default"))).status).toBe(400);
    expect((await call("POST", nsIngresses("default"), { ...ingress("x"), metadata: {} })).body).toMatchObject({
      code: 422,
      reason: "Invalid",
    });
  });

  test("update: unconditional without resourceVersion, 409 with a stale one, no-op writes keep the resourceVersion", async () => {
    await start();
    const stored = double.apply(ingress("web"));
    const path = `${nsIngresses("default")}/web`;
    const same = await call("PUT", path, stored);
    expect(same.body.metadata.resourceVersion).toBe(stored.metadata.resourceVersion);
    const { resourceVersion: _rv, ...metadata } = stored.metadata;
    const unconditional = await call("PUT", path, { ...stored, metadata, spec: { rules: [] } });
    expect(unconditional.status).toBe(200);
    expect(unconditional.body.metadata.generation).toBe(2);
    expect((await call("PUT", path, stored)).body).toMatchObject({ code: 409, reason: "Conflict" });
    expect((await call("PUT", path, { ...stored, metadata: { name: "other" } })).body.message).toBe(
      "the name of the object (other) does not match the name on the URL (web)",
    );
    expect((await call("PUT", `${nsIngresses("default")}/missing`, ingress("missing"))).status).toBe(404);
  });

  test("status subresource: PUT /status changes only status and not generation", async () => {
    await start();
    const stored = double.apply(ingress("web"));
    const res = await call("PUT", `${nsIngresses("default")}/web/status`, {
      ...stored,
      spec: { rules: [] },
      status: { loadBalancer: { ingress: [{ hostname: "lb.example.test" }] } },
    });
    expect(res.status).toBe(200);
    expect(res.body.spec).toEqual(stored.spec);
    expect(res.body.status.loadBalancer.ingress[0].hostname).toBe("lb.example.test");
    expect(res.body.metadata.generation).toBe(1);
    expect((await call("DELETE", `${nsIngresses("default")}/web/status`)).status).toBe(405);
  });

  test("patch: JSON patch, merge patch preconditions, apply patches, unsupported types", async () => {
    await start();
    double.apply({ ...ingress("web"), metadata: { name: "web", namespace: "default", labels: { a: "1" } } });
    const path = `${nsIngresses("default")}/web`;
    const jsonPatch = await call(
      "PATCH",
      path,
      [
        { op: "test", path: "/metadata/labels/a", value: "1" },
        { op: "add", path: "/metadata/labels/b", value: "2" },
        { op: "remove", path: "/metadata/labels/a" },
        { op: "add", path: "/spec/rules/-", value: { host: "second.example.test" } },
      ],
      "application/json-patch+json",
    );
    expect(jsonPatch.body.metadata.labels).toEqual({ b: "2" });
    expect(jsonPatch.body.spec.rules).toHaveLength(2);
    const failedTest = await call(
      "PATCH",
      path,
      [{ op: "test", path: "/metadata/labels/b", value: "nope" }],
      "application/json-patch+json",
    );
    expect(failedTest.body).toMatchObject({ code: 422, reason: "Invalid" });

    const stale = await call(
      "PATCH",
      path,
      { metadata: { resourceVersion: "1", labels: { c: "3" } } },
      "application/merge-patch+json",
    );
    expect(stale.body).toMatchObject({ code: 409, reason: "Conflict" });
    const merged = await call(
      "PATCH",
      path,
      { metadata: { labels: { b: null, c: "3" } } },
      "application/merge-patch+json",
    );
    expect(merged.body.metadata.labels).toEqual({ c: "3" });

    const applyBody =
      "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: applied\nspec:\n  rules: []\n";
    const noManager = await call(
      "PATCH",
      `${nsIngresses("default")}/applied`,
      applyBody,
      "application/apply-patch+yaml",
    );
    expect(noManager.status).toBe(400);
    const applied = await call(
      "PATCH",
      `${nsIngresses("default")}/applied?fieldManager=test`,
      applyBody,
      "application/apply-patch+yaml",
    );
    expect(applied.status).toBe(201);
    expect(applied.body.metadata.namespace).toBe("default");

    expect((await call("PATCH", path, { a: 1 }, "text/plain")).body).toMatchObject({
      code: 415,
      reason: "UnsupportedMediaType",
    });
    expect((await call("PATCH", `${nsIngresses("default")}/missing`, {}, "application/merge-patch+json")).status).toBe(
      404,
    );
  });

  test("delete: a Success Status with details; preconditions; every write is recorded", async () => {
    await start();
    const stored = double.apply(ingress("web"));
    const path = `${nsIngresses("default")}/web`;
    const wrongRv = await call("DELETE", path, { preconditions: { resourceVersion: "1" } });
    expect(wrongRv.body).toMatchObject({ code: 409, reason: "Conflict" });
    expect(wrongRv.body.message).toContain("Precondition failed: ResourceVersion in precondition: 1");
    const deleted = await call("DELETE", path);
    expect(deleted.body).toEqual({
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Success",
      details: { name: "web", group: "networking.k8s.io", kind: "ingresses", uid: stored.metadata.uid },
      code: 200,
    });
    expect((await call("DELETE", path)).status).toBe(404);
    expect(double.writes.map((w) => `${w.method} ${w.status}`)).toEqual(["DELETE 409", "DELETE 200", "DELETE 404"]);
    expect(double.writes[0]?.body).toEqual({ preconditions: { resourceVersion: "1" } });
  });

  test("failRequests with a match function and 429 carries Retry-After; clearFailures() lifts it", async () => {
    await start();
    double.failRequests({ status: 429, match: (r) => r.method === "GET" && r.path.startsWith("/apis/") });
    const res = await fetch(`${double.url}${INGRESSES}`, { headers: { authorization: `Bearer ${double.token}` } });
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("1");
    expect(await res.json()).toMatchObject({ reason: "TooManyRequests", details: { retryAfterSeconds: 1 } });
    expect((await call("GET", INGRESSES)).status).toBe(429);
    double.clearFailures();
    expect((await call("GET", INGRESSES)).status).toBe(200);
  });
});
