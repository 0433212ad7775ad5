/**
 * The Kubernetes API double, driven by the real @kubernetes/client-node: informers (list + watch, selectors,
 * bookmarks, reconnects, 410 relists), typed API calls (status patches, leases, events), and the failure switches.
 */
import {
  ApiException,
  CoordinationV1Api,
  CoreV1Api,
  DiscoveryV1Api,
  EventsV1Api,
  KubeConfig,
  ListWatch,
  makeInformer,
  NetworkingV1Api,
  PatchStrategy,
  setHeaderOptions,
  type V1Ingress,
  type V1Lease,
  V1MicroTime,
  type V1Secret,
  VersionApi,
  Watch,
} from "@kubernetes/client-node";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { type KubeApiDouble, type KubeApiDoubleOptions, startKubeApiDouble } from "./support/kube-api-double/index.js";
import { recordInformer, restartOnError, waitFor } from "./support/kube-api-double/testing.js";

const INGRESSES = "/apis/networking.k8s.io/v1/ingresses";

function ingress(name: string, opts: { namespace?: string; labels?: Record<string, string>; host?: string } = {}) {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: { name, namespace: opts.namespace ?? "default", ...(opts.labels ? { labels: opts.labels } : {}) },
    spec: {
      ingressClassName: "rennet",
      rules: [{ host: opts.host ?? `${name}.example.test` }],
    },
  };
}

function secret(name: string, type: string) {
  return { apiVersion: "v1", kind: "Secret", metadata: { name, namespace: "default" }, type, data: {} };
}

/** The Status an ApiException carries (client-node keeps the body as the raw JSON text). */
function statusOf(err: unknown): { code?: number; reason?: string; message?: string } {
  expect(err).toBeInstanceOf(ApiException);
  const body = (err as ApiException<unknown>).body;
  return typeof body === "string" ? JSON.parse(body) : (body as object);
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error("expected the call to fail");
}

let double: KubeApiDouble;
let kc: KubeConfig;
const cleanups: (() => unknown)[] = [];

async function start(options?: KubeApiDoubleOptions): Promise<void> {
  double = await startKubeApiDouble(options);
  kc = new KubeConfig();
  kc.loadFromFile(double.kubeconfigPath);
}

/** An Ingress informer over all namespaces, stopped after the test. */
function ingressInformer(labelSelector?: string) {
  const api = kc.makeApiClient(NetworkingV1Api);
  // makeInformer returns a ListWatch; its declared type just leaves out latestResourceVersion().
  const informer = makeInformer<V1Ingress>(
    kc,
    INGRESSES,
    () => api.listIngressForAllNamespaces(labelSelector ? { labelSelector } : {}),
    labelSelector,
  ) as ListWatch<V1Ingress>;
  cleanups.push(() => informer.stop());
  return informer;
}

function names(objs: readonly { metadata?: { name?: string } }[]): string[] {
  return objs.map((o) => o.metadata?.name ?? "").sort();
}

const listRequests = () => double.requestsMatching({ verb: "list", resource: "ingresses" }).length;
const watchRequests = () => double.requestsMatching({ verb: "watch", resource: "ingresses" });

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await double?.stop();
});

describe("discovery and authentication", () => {
  beforeEach(() => start());

  test("client-node reads /version and the APIResourceLists; requests without the token get 401", async () => {
    const version = await kc.makeApiClient(VersionApi).getCode();
    expect(version.major).toBe("1");
    const networking = await kc.makeApiClient(NetworkingV1Api).getAPIResources();
    expect(networking.groupVersion).toBe("networking.k8s.io/v1");
    const ing = networking.resources.find((r) => r.name === "ingresses");
    expect(ing).toMatchObject({ kind: "Ingress", namespaced: true });
    expect(ing?.verbs).toEqual(expect.arrayContaining(["list", "watch", "patch"]));
    expect(networking.resources.find((r) => r.name === "ingresses/status")?.verbs).toEqual(["get", "patch", "update"]);
    expect(networking.resources.find((r) => r.name === "ingressclasses")?.namespaced).toBe(false);
    const core = await kc.makeApiClient(CoreV1Api).getAPIResources();
    expect(core.resources.map((r) => r.name)).toEqual(expect.arrayContaining(["services", "secrets", "events"]));

    const anonymous = await fetch(`${double.url}${INGRESSES}`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ kind: "Status", reason: "Unauthorized", code: 401 });
  });
});

describe("informers", () => {
  test("an Ingress informer lists, then gets ADDED, MODIFIED and DELETED from the store", async () => {
    await start();
    double.apply(ingress("web"));
    const informer = ingressInformer();
    const log = recordInformer(informer);
    await informer.start();
    expect(log.events).toEqual(["add default/web"]);
    expect(names(informer.list())).toEqual(["web"]);

    double.apply(ingress("api", { namespace: "shop" }));
    await waitFor("ADDED", () => log.events.length === 2);
    double.apply(ingress("web", { host: "www.example.test" }));
    await waitFor("MODIFIED", () => log.events.length === 3);
    double.delete("Ingress", "shop", "api");
    await waitFor("DELETED", () => log.events.length === 4);

    expect(log.events).toEqual(["add default/web", "add shop/api", "update default/web", "delete shop/api"]);
    expect(informer.get("web", "default")?.spec?.rules?.[0]?.host).toBe("www.example.test");
    expect(informer.latestResourceVersion()).toBe(double.resourceVersion);
    expect(double.get("Ingress", "default", "web")?.metadata.generation).toBe(2);
    expect(log.errors).toEqual([]);
  });

  test("a Secret ListWatch with fieldSelector type=kubernetes.io/tls sees only TLS secrets", async () => {
    await start();
    double.apply(secret("tls-a", "kubernetes.io/tls"));
    double.apply(secret("opaque", "Opaque"));
    const core = kc.makeApiClient(CoreV1Api);
    const fieldSelector = "type=kubernetes.io/tls";
    // makeInformer takes no field selector: ListWatch's sixth argument does, and the list function must match it.
    const informer = new ListWatch<V1Secret>(
      "/api/v1/secrets",
      new Watch(kc),
      () => core.listSecretForAllNamespaces({ fieldSelector }),
      false,
      undefined,
      fieldSelector,
    );
    cleanups.push(() => informer.stop());
    const log = recordInformer(informer);
    await informer.start();
    expect(names(informer.list())).toEqual(["tls-a"]);

    double.apply(secret("opaque-2", "Opaque"));
    double.apply(secret("tls-b", "kubernetes.io/tls"));
    await waitFor("the TLS secret", () => log.events.includes("add default/tls-b"));
    expect(log.events).toEqual(["add default/tls-a", "add default/tls-b"]);
    expect(watchRequestsFor("secrets")[0]?.query.fieldSelector).toBe(fieldSelector);
  });

  test("with a label selector, an object that stops matching comes as DELETED and one that starts matching as ADDED", async () => {
    await start();
    double.apply(ingress("a", { labels: { tier: "edge" } }));
    double.apply(ingress("b", { labels: { tier: "internal" } }));
    const informer = ingressInformer("tier in (edge,public)");
    const log = recordInformer(informer);
    await informer.start();
    expect(log.events).toEqual(["add default/a"]);

    double.apply(ingress("a", { labels: { tier: "internal" } }));
    double.apply(ingress("b", { labels: { tier: "public" } }));
    await waitFor("both transitions", () => log.events.length === 3);
    expect(log.events).toEqual(["add default/a", "delete default/a", "add default/b"]);
    expect(informer.latestResourceVersion()).toBe(double.resourceVersion);
  });

  test("BOOKMARK events move the informer's resourceVersion on without callbacks; raw watches get them on request", async () => {
    await start({ bookmarks: "always", bookmarkIntervalMs: 50 });
    double.apply(ingress("web"));
    const informer = ingressInformer();
    const log = recordInformer(informer);
    await informer.start();
    // A write to another resource moves the global resourceVersion; only a bookmark tells the Ingress watch.
    double.apply(secret("unrelated", "Opaque"));
    await waitFor("a bookmark", () => informer.latestResourceVersion() === double.resourceVersion);
    expect(log.events).toEqual(["add default/web"]);
    expect(log.errors).toEqual([]);

    // client-node's Watch passes query parameters through: allowWatchBookmarks and sendInitialEvents work.
    await double.stop();
    await start({ bookmarkIntervalMs: 50 });
    double.apply(ingress("web"));
    const seen: { type: string; obj: { metadata?: { resourceVersion?: string; annotations?: object } } }[] = [];
    const controller = await new Watch(kc).watch(
      INGRESSES,
      { allowWatchBookmarks: true, sendInitialEvents: true, resourceVersionMatch: "NotOlderThan" },
      (type, obj) => seen.push({ type, obj }),
      () => {},
    );
    cleanups.push(() => controller.abort());
    await waitFor("two bookmarks", () => seen.filter((e) => e.type === "BOOKMARK").length >= 2);
    expect(seen[0]?.type).toBe("ADDED");
    expect(seen[1]).toEqual({
      type: "BOOKMARK",
      obj: {
        kind: "Ingress",
        apiVersion: "networking.k8s.io/v1",
        metadata: { resourceVersion: double.resourceVersion, annotations: { "k8s.io/initial-events-end": "true" } },
      },
    });
    expect(seen[2]?.obj.metadata).toEqual({ resourceVersion: double.resourceVersion });
  });

  test("after dropWatches() the informer resumes from its last resourceVersion without relisting", async () => {
    await start();
    double.apply(ingress("web"));
    const informer = ingressInformer();
    const log = recordInformer(informer);
    cleanups.push(restartOnError(informer));
    await informer.start();
    double.apply(ingress("api"));
    await waitFor("ADDED", () => log.events.length === 2);

    // A clean end of the stream: ListWatch reconnects by itself.
    const rv = informer.latestResourceVersion();
    expect(double.dropWatches({ mode: "graceful" })).toBe(1);
    await waitFor("the reconnect", () => watchRequests().length === 2 && double.openWatches === 1);
    expect(watchRequests()[1]?.query.resourceVersion).toBe(rv);
    expect(log.errors).toEqual([]);

    // A cut connection: ListWatch reports an error and stops; restarting keeps the resourceVersion.
    double.dropWatches();
    await waitFor("the error", () => log.errors.length === 1);
    expect(log.errors[0]).toMatchObject({ name: "TypeError", message: "terminated" });
    await waitFor("the restart", () => watchRequests().length === 3 && double.openWatches === 1);
    expect(watchRequests()[2]?.query.resourceVersion).toBe(rv);

    double.delete("Ingress", "default", "api");
    await waitFor("DELETED", () => log.events.length === 3);
    expect(log.events).toEqual(["add default/web", "add default/api", "delete default/api"]);
    expect(listRequests()).toBe(1);
  });

  test.each([
    { form: "200 + ERROR event", httpStatus: false },
    { form: "HTTP 410", httpStatus: true },
  ])("after compact() the informer relists on 410 ($form) and ends with the right objects", async ({ httpStatus }) => {
    await start();
    double.gone410AsHttpStatus(httpStatus);
    double.apply(ingress("a"));
    double.apply(ingress("b"));
    const informer = ingressInformer();
    const log = recordInformer(informer);
    await informer.start();

    // compact() + dropWatches(): the reconnect from the old resourceVersion is refused, ListWatch lists again.
    double.compact();
    double.dropWatches({ mode: "graceful" });
    await waitFor("the relist", () => listRequests() === 2 && double.openWatches === 1);
    expect(watchRequests()[1]?.status).toBe(httpStatus ? 410 : 200);
    expect(watchRequests()[2]?.query.resourceVersion).toBe(double.resourceVersion);
    expect(log.events).toEqual(["add default/a", "add default/b"]);
    expect(log.errors).toEqual([]);

    // Changes missed while stopped, then history compacted: start() tries the old resourceVersion, gets 410,
    // relists, and reconciles: deletes what is gone, adds what is new, updates what changed. start() resolves
    // once the watch request is answered, before the 410 is handled: the relist comes after.
    await informer.stop();
    // stop() aborts the open watch request; ListWatch may report that abort through its error
    // callbacks too, depending on timing (under load it often does not). Only aborts are allowed.
    await sleep(100);
    for (const error of log.errors) expect(error).toMatchObject({ name: "AbortError" });
    double.delete("Ingress", "default", "a");
    double.apply(ingress("b", { host: "b2.example.test" }));
    double.apply(ingress("c"));
    double.compact();
    log.clear();
    await informer.start();
    await waitFor("the reconciling relist", () => listRequests() === 3 && log.events.length === 3);
    expect(log.events.sort()).toEqual(["add default/c", "delete default/a", "update default/b"]);
    expect(names(informer.list())).toEqual(["b", "c"]);
    // The 410 on restart is handled by a relist, not reported as an error: the only errors are
    // the abort of the stopped watch, which client-node may report late or not at all.
    expect(log.errors.filter((error) => (error as { name?: string }).name !== "AbortError")).toEqual([]);
  });
});

function watchRequestsFor(resource: string) {
  return double.requestsMatching({ verb: "watch", resource });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe("writes through the typed APIs", () => {
  beforeEach(() => start());

  test("patchNamespacedIngressStatus with a merge patch changes only .status; a plain update ignores .status", async () => {
    double.apply(ingress("web"));
    const api = kc.makeApiClient(NetworkingV1Api);
    const lb = { loadBalancer: { ingress: [{ ip: "192.0.2.10" }] } };
    const patched = await api.patchNamespacedIngressStatus(
      { name: "web", namespace: "default", body: { status: lb, spec: { ingressClassName: "other" } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    expect(patched.status?.loadBalancer?.ingress?.[0]?.ip).toBe("192.0.2.10");
    expect(patched.spec?.ingressClassName).toBe("rennet");
    expect(patched.metadata?.generation).toBe(1);

    const writes = double.writes.filter((w) => w.resource === "ingresses" && w.subresource === "status");
    expect(writes).toHaveLength(1);
    expect(writes[0]).toMatchObject({
      method: "PATCH",
      contentType: PatchStrategy.MergePatch,
      userAgent: "kubernetes-client-javascript/2.0.1",
      body: { status: lb },
    });

    // Without the header option client-node sends its first patch type, application/json-patch+json, and the
    // server rejects an object body.
    const err = await rejection(
      api.patchNamespacedIngressStatus({ name: "web", namespace: "default", body: { status: {} } }),
    );
    expect(statusOf(err)).toMatchObject({ code: 400, reason: "BadRequest" });
    expect(double.writes.at(-1)?.contentType).toBe(PatchStrategy.JsonPatch);

    const current = await api.readNamespacedIngress({ name: "web", namespace: "default" });
    const replaced = await api.replaceNamespacedIngress({
      name: "web",
      namespace: "default",
      body: { ...current, spec: { ...current.spec, ingressClassName: "rennet-2" }, status: {} },
    });
    expect(replaced.status?.loadBalancer?.ingress?.[0]?.ip).toBe("192.0.2.10");
    expect(replaced.spec?.ingressClassName).toBe("rennet-2");
    expect(replaced.metadata?.generation).toBe(2);
  });

  test("leases: create, replace with optimistic concurrency, 409 on a stale resourceVersion", async () => {
    const api = kc.makeApiClient(CoordinationV1Api);
    const namespace = "kube-system";
    const lease = (holder: string, rv?: string): V1Lease => ({
      metadata: { name: "rennet-leader", namespace, ...(rv ? { resourceVersion: rv } : {}) },
      spec: {
        holderIdentity: holder,
        leaseDurationSeconds: 15,
        acquireTime: new V1MicroTime(),
        renewTime: new V1MicroTime(),
      },
    });
    const created = await api.createNamespacedLease({ namespace, body: lease("pod-a") });
    const rv1 = created.metadata?.resourceVersion ?? "";
    expect(rv1).toMatch(/^\d+$/);
    expect(double.get("Lease", namespace, "rennet-leader")?.spec).toMatchObject({ holderIdentity: "pod-a" });
    const storedSpec = double.get("Lease", namespace, "rennet-leader")?.spec as { renewTime?: string } | undefined;
    expect(storedSpec?.renewTime).toMatch(/\.\d{6}Z$/);

    const again = await rejection(api.createNamespacedLease({ namespace, body: lease("pod-b") }));
    expect(statusOf(again)).toMatchObject({ code: 409, reason: "AlreadyExists" });

    const renewed = await api.replaceNamespacedLease({
      name: "rennet-leader",
      namespace,
      body: lease("pod-a", rv1),
    });
    expect(Number(renewed.metadata?.resourceVersion)).toBeGreaterThan(Number(rv1));

    const stale = await rejection(
      api.replaceNamespacedLease({ name: "rennet-leader", namespace, body: lease("pod-b", rv1) }),
    );
    expect(statusOf(stale)).toEqual({
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message:
        'Operation cannot be fulfilled on leases.coordination.k8s.io "rennet-leader": the object has been modified; please apply your changes to the latest version and try again',
      reason: "Conflict",
      details: { name: "rennet-leader", group: "coordination.k8s.io", kind: "leases" },
      code: 409,
    });
    expect(double.get("Lease", namespace, "rennet-leader")?.spec).toMatchObject({ holderIdentity: "pod-a" });

    // A plain Date serialises with milliseconds, which metav1.MicroTime does not parse.
    const body = lease("pod-b");
    if (body.spec) body.spec.renewTime = new Date() as V1MicroTime;
    const millis = await rejection(api.createNamespacedLease({ namespace: "other", body }));
    expect(statusOf(millis)).toMatchObject({ code: 400, reason: "BadRequest" });
  });

  test("events: core v1 and events.k8s.io/v1 creates and a patch are recorded", async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const events = kc.makeApiClient(EventsV1Api);
    const involvedObject = { kind: "Ingress", namespace: "default", name: "web", apiVersion: "networking.k8s.io/v1" };
    await core.createNamespacedEvent({
      namespace: "default",
      body: {
        metadata: { name: "web.1", namespace: "default" },
        involvedObject,
        reason: "Sync",
        message: "synced",
        type: "Normal",
        count: 1,
      },
    });
    await core.patchNamespacedEvent(
      { name: "web.1", namespace: "default", body: { count: 2 } },
      setHeaderOptions("Content-Type", PatchStrategy.StrategicMergePatch),
    );
    await events.createNamespacedEvent({
      namespace: "default",
      body: {
        metadata: { generateName: "web." },
        eventTime: new V1MicroTime(),
        regarding: involvedObject,
        reason: "Sync",
        action: "Reconcile",
        reportingController: "rennet.dev/ingress-controller",
        reportingInstance: "pod-a",
        type: "Normal",
      },
    });
    const stored = double.events();
    expect(stored.map((e) => [e.apiVersion, e.reason])).toEqual([
      ["v1", "Sync"],
      ["events.k8s.io/v1", "Sync"],
    ]);
    expect(stored[0]?.count).toBe(2);
    expect(stored[1]?.metadata.name).toMatch(/^web\.[a-z0-9]{5}$/);
    expect(double.writes.map((w) => `${w.verb} ${w.group || "core"}/${w.resource}`)).toEqual([
      "create core/events",
      "patch core/events",
      "create events.k8s.io/events",
    ]);
  });

  test("cluster-scoped IngressClasses and EndpointSlices selected by service name", async () => {
    double.apply({
      apiVersion: "networking.k8s.io/v1",
      kind: "IngressClass",
      metadata: { name: "rennet" },
      spec: { controller: "rennet.dev/ingress-controller" },
    });
    double.apply({
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: { name: "web-abc", namespace: "default", labels: { "kubernetes.io/service-name": "web" } },
      addressType: "IPv4",
      endpoints: [{ addresses: ["10.1.0.1"], conditions: { ready: true } }],
      ports: [{ port: 8080, protocol: "TCP" }],
    });
    double.apply({
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: { name: "api-xyz", namespace: "default", labels: { "kubernetes.io/service-name": "api" } },
      addressType: "IPv4",
      endpoints: [],
    });
    const networking = kc.makeApiClient(NetworkingV1Api);
    const classes = await networking.listIngressClass();
    expect(classes.items.map((c) => c.spec?.controller)).toEqual(["rennet.dev/ingress-controller"]);
    expect((await networking.readIngressClass({ name: "rennet" })).metadata?.namespace).toBeUndefined();
    const slices = await kc.makeApiClient(DiscoveryV1Api).listNamespacedEndpointSlice({
      namespace: "default",
      labelSelector: "kubernetes.io/service-name=web",
    });
    expect(slices.items.map((s) => s.metadata?.name)).toEqual(["web-abc"]);
    expect(slices.items[0]?.endpoints?.[0]?.addresses).toEqual(["10.1.0.1"]);
    expect(slices.metadata?.resourceVersion).toBe(double.resourceVersion);
  });
});

describe("failure switches", () => {
  beforeEach(() => start({ user: "system:serviceaccount:rennet:rennet" }));

  test("forbid() answers 403 with the API server's message, for typed calls and for watches", async () => {
    const networking = kc.makeApiClient(NetworkingV1Api);
    const undo = double.forbid({ resource: "ingresses", verb: "list" });
    const err = await rejection(networking.listIngressForAllNamespaces());
    expect((err as ApiException<unknown>).code).toBe(403);
    expect(statusOf(err)).toMatchObject({
      reason: "Forbidden",
      code: 403,
      message:
        'ingresses.networking.k8s.io is forbidden: User "system:serviceaccount:rennet:rennet" cannot list resource "ingresses" in API group "networking.k8s.io" at the cluster scope',
    });
    undo();
    await networking.listIngressForAllNamespaces();

    double.forbid({ resource: "leases", verb: ["get", "update"], namespace: "kube-system" });
    const leaseErr = await rejection(
      kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ name: "rennet-leader", namespace: "kube-system" }),
    );
    expect(statusOf(leaseErr).message).toBe(
      'leases.coordination.k8s.io "rennet-leader" is forbidden: User "system:serviceaccount:rennet:rennet" cannot get resource "leases" in API group "coordination.k8s.io" in the namespace "kube-system"',
    );

    // A refused watch reaches the informer's error callback with only the HTTP status (client-node drops the body).
    double.forbid({ resource: "ingresses", verb: "watch" });
    const informer = ingressInformer();
    const log = recordInformer(informer);
    await informer.start();
    expect(log.errors).toHaveLength(1);
    expect(log.errors[0]).toMatchObject({ statusCode: 403, message: "Forbidden" });
  });

  test("failRequests(503) fails the next matching requests, then they succeed again", async () => {
    const networking = kc.makeApiClient(NetworkingV1Api);
    double.failRequests({ status: 503, count: 2, match: { verb: "list", resource: "ingresses" } });
    for (let i = 0; i < 2; i++) {
      const err = await rejection(networking.listIngressForAllNamespaces());
      expect(statusOf(err)).toMatchObject({ code: 503, reason: "ServiceUnavailable" });
    }
    await networking.listIngressForAllNamespaces();

    // An informer whose list fails reports the error; start() resolves anyway, with nothing listed.
    double.failRequests({ status: 500, count: 1, match: { verb: "list" } });
    const informer = ingressInformer();
    const log = recordInformer(informer);
    cleanups.push(restartOnError(informer));
    double.apply(ingress("web"));
    await informer.start();
    expect(log.errors[0]).toBeInstanceOf(ApiException);
    expect(informer.list()).toEqual([]);
    await waitFor("the retried list", () => log.events.length === 1);
    expect(log.events).toEqual(["add default/web"]);
  });

  test("setDown() refuses connections, then serves again on the same port with the store intact", async () => {
    double.apply(ingress("web"));
    const informer = ingressInformer();
    const log = recordInformer(informer);
    cleanups.push(restartOnError(informer, 50));
    await informer.start();
    const { url } = double;

    await double.setDown(true);
    const down = await rejection(kc.makeApiClient(NetworkingV1Api).listIngressForAllNamespaces());
    expect(down).toMatchObject({ name: "TypeError", cause: { code: "ECONNREFUSED" } });
    await waitFor("the informer's errors", () => log.errors.length >= 2);
    double.apply(ingress("api"));

    await double.setDown(false);
    expect(double.url).toBe(url);
    await waitFor("the informer to catch up", () => log.events.includes("add default/api"), 5000);
    expect(names(informer.list())).toEqual(["api", "web"]);
    expect(listRequests()).toBe(1);
  });
});
