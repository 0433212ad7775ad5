/**
 * How requests spread over a Service's endpoints: round robin takes turns; least-request
 * (--load-balancing least-request, power of two choices) avoids an endpoint that is busy.
 */
import { describe, expect, it } from "vitest";
import type { Echo, Pods } from "./support/backends.js";
import { useHarness } from "./support/harness.js";
import { eventually, request } from "./support/http.js";
import { ingressClass, serviceWithEndpoints, simpleIngress } from "./support/manifests.js";
import type { Rennet } from "./support/rennet.js";

const harness = useHarness();

async function start(args: string[]): Promise<{ rennet: Rennet; pods: Pods }> {
  const pods = await harness.pods("pod", ["127.0.0.2", "127.0.0.3"]);
  const dir = await harness.manifestDir();
  await dir.write("app.yaml", [
    ingressClass("rennet"),
    ...serviceWithEndpoints("app", pods.port, ["127.0.0.2", "127.0.0.3"]),
    simpleIngress("app", "app.test", "app"),
  ]);
  return { rennet: await harness.rennet({ manifests: [dir.dir], args }), pods };
}

async function answeredBy(rennet: Rennet, path = "/"): Promise<string> {
  return (await request(rennet.httpPort, { host: "app.test", path })).json<Echo>().me;
}

describe("load balancing", () => {
  it("takes turns with round robin (the default)", async () => {
    const { rennet } = await start([]);
    const answers: string[] = [];
    for (let i = 0; i < 10; i++) answers.push(await answeredBy(rennet));
    for (let i = 1; i < answers.length; i++) expect(answers[i]).not.toBe(answers[i - 1]);
    expect(answers.filter((me) => me === "pod-1")).toHaveLength(5);
  });

  it("sends new requests to the idle endpoint with least-request", async () => {
    const { rennet, pods } = await start(["--load-balancing", "least-request"]);
    const slow = request(rennet.httpPort, { host: "app.test", path: "/?do=slow&ms=1500", timeoutMs: 5000 });
    await eventually(() => pods.backends.some((pod) => pod.seen.length > 0), 2000, "slow request arrived");
    const busy = pods.backends.find((pod) => pod.seen.length > 0)?.name;
    const answers: string[] = [];
    for (let i = 0; i < 6; i++) answers.push(await answeredBy(rennet, `/quick/${i}`));
    expect(answers.every((me) => me !== busy)).toBe(true);
    expect((await slow).json<Echo>().me).toBe(busy);
  });
});
