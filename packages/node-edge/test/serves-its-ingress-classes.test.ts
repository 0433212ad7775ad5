/**
 * rennet serves the Ingresses of its class, as Kubernetes defines classes: ingressClassName naming
 * an IngressClass whose controller is rennet's, the legacy kubernetes.io/ingress.class annotation
 * naming --ingress-class (it takes precedence), and Ingresses without class only while one of
 * rennet's IngressClasses is the default. Everything else is left to other controllers (404).
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { Backend } from "./support/backends.js";
import { useHarness } from "./support/harness.js";
import { eventually, request } from "./support/http.js";
import { ingress, ingressClass, type Manifest, type ManifestDir, serviceWithEndpoints } from "./support/manifests.js";
import type { Rennet } from "./support/rennet.js";

const harness = useHarness("all");
let app: Backend;
let dir: ManifestDir;
let rennet: Rennet;

const route = (name: string, host: string, options: Parameters<typeof ingress>[1] = {}): Manifest =>
  ingress(name, { ...options, rules: [{ host, paths: [{ path: "/", service: "app" }] }] });

function classes(rennetIsDefault: boolean): Manifest[] {
  return [
    ingressClass("rennet", { isDefault: rennetIsDefault }),
    // Another controller's class, marked default: that must not make rennet serve class-less Ingresses.
    ingressClass("nginx", { controller: "k8s.io/ingress-nginx", isDefault: true }),
  ];
}

async function status(host: string, port = rennet.httpPort): Promise<number> {
  return (await request(port, { host })).status;
}

beforeAll(async () => {
  app = await harness.backend({ host: "127.0.0.2", name: "app" });
  dir = await harness.manifestDir();
  await dir.write("classes.yaml", classes(false));
  await dir.write("ingresses.yaml", [
    ...serviceWithEndpoints("app", app.port, ["127.0.0.2"]),
    route("ours", "ours.test", { className: "rennet" }),
    route("theirs", "theirs.test", { className: "nginx" }),
    route("unknown-class", "unknown-class.test", { className: "no-such-class" }),
    route("annotated", "annotated.test", { className: null, annotations: { "kubernetes.io/ingress.class": "rennet" } }),
    route("annotated-other", "annotated-other.test", {
      className: "rennet",
      annotations: { "kubernetes.io/ingress.class": "nginx" },
    }),
    route("classless", "classless.test", { className: null }),
  ]);
  rennet = await harness.rennet({ manifests: [dir.dir] });
});

describe("ingress classes", () => {
  it("serves an Ingress whose ingressClassName is an IngressClass of rennet's controller", async () => {
    expect(await status("ours.test")).toBe(200);
  });

  it("ignores an Ingress of another controller's class, and of a class that does not exist", async () => {
    expect(await status("theirs.test")).toBe(404);
    expect(await status("unknown-class.test")).toBe(404);
  });

  it("serves an Ingress with the legacy annotation kubernetes.io/ingress.class: rennet", async () => {
    expect(await status("annotated.test")).toBe(200);
  });

  it("lets the legacy annotation take precedence over ingressClassName", async () => {
    expect(await status("annotated-other.test")).toBe(404);
  });

  it("serves an Ingress without class only while rennet's IngressClass is the default", async () => {
    expect(await status("classless.test")).toBe(404);
    await dir.replace("classes.yaml", classes(true));
    await eventually(async () => (await status("classless.test")) === 200, 3000, "class-less Ingress served");
    expect(await status("ours.test")).toBe(200);
    expect(await status("theirs.test")).toBe(404);

    await dir.replace("classes.yaml", classes(false));
    await eventually(async () => (await status("classless.test")) === 404, 3000, "class-less Ingress dropped");
  });

  it("answers to the class name given with --ingress-class in the annotation", async () => {
    const custom = await harness.rennet({ manifests: [dir.dir], args: ["--ingress-class", "cheese"] });
    await dir.write("custom.yaml", [
      route("cheese", "cheese.test", { className: null, annotations: { "kubernetes.io/ingress.class": "cheese" } }),
    ]);
    await eventually(async () => (await status("cheese.test", custom.httpPort)) === 200, 3000, "cheese served");
    // The default-named annotation now belongs to someone else.
    expect(await status("annotated.test", custom.httpPort)).toBe(404);
    // ingressClassName still works through the IngressClass's controller.
    expect(await status("ours.test", custom.httpPort)).toBe(200);
    // The first rennet does not serve the cheese class.
    expect(await status("cheese.test")).toBe(404);
  });
});
