import { afterEach, describe, expect, it } from "vitest";
import { type KubeApiDouble, startKubeApiDouble } from "../../k8s-sync/test/support/kube-api-double/index.js";
import { type Backend, startBackend } from "./support/backends.js";
import { eventually, request } from "./support/http.js";
import { ingressClass, type Manifest, serviceWithEndpoints, simpleIngress } from "./support/manifests.js";
import { type Rennet, startRennet } from "./support/rennet.js";

let double: KubeApiDouble | undefined;
let rennet: Rennet | undefined;
const backends: Backend[] = [];

afterEach(async () => {
  await rennet?.stop();
  rennet = undefined;
  await double?.stop();
  double = undefined;
  await Promise.all(backends.splice(0).map((backend) => backend.close()));
});

function seed(api: KubeApiDouble, objects: readonly Manifest[]): void {
  for (const object of objects) api.apply(object as Parameters<KubeApiDouble["apply"]>[0]);
}

async function statusOf(api: KubeApiDouble, name: string): Promise<unknown> {
  const ingress = api.get("Ingress", "default", name) as { status?: { loadBalancer?: { ingress?: unknown } } };
  return ingress?.status?.loadBalancer?.ingress;
}

describe("cluster mode against a Kubernetes API", () => {
  it("serves what the API holds, follows changes, and writes Ingress status as the leader", async () => {
    const cheddar = await startBackend({ host: "127.0.0.2", name: "cheddar" });
    const stilton = await startBackend({ host: "127.0.0.3", name: "stilton" });
    backends.push(cheddar, stilton);
    double = await startKubeApiDouble();
    seed(double, [
      ingressClass("rennet", { isDefault: true }),
      ...serviceWithEndpoints("cheddar", cheddar.port, [cheddar.host]),
      ...serviceWithEndpoints("stilton", stilton.port, [stilton.host]),
      simpleIngress("cheddar", "cheddar.example.com", "cheddar"),
    ]);
    rennet = await startRennet({
      manifests: [],
      args: [
        "--kubeconfig",
        double.kubeconfigPath,
        "--publish-address",
        "203.0.113.7",
        "--election-namespace",
        "rennet",
      ],
    });
    const api = double;
    const port = rennet.httpPort;
    await eventually(
      async () => (await request(port, { host: "cheddar.example.com" })).status === 200,
      5000,
      "initial sync serves cheddar",
    );
    expect(JSON.parse((await request(port, { host: "cheddar.example.com" })).body).me).toBe("cheddar");
    await eventually(
      async () => JSON.stringify(await statusOf(api, "cheddar")) === JSON.stringify([{ ip: "203.0.113.7" }]),
      5000,
      "status written",
    );

    seed(api, [simpleIngress("stilton", "stilton.example.com", "stilton")]);
    await eventually(
      async () => (await request(port, { host: "stilton.example.com" })).status === 200,
      2000,
      "an added Ingress reaches traffic",
    );

    api.delete("Ingress", "default", "cheddar");
    await eventually(
      async () => (await request(port, { host: "cheddar.example.com" })).status === 404,
      2000,
      "a deleted Ingress stops serving",
    );
  });
});
