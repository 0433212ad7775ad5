import { describe, expect, it } from "vitest";
import type { StoredObject } from "../../k8s-sync/test/support/kube-api-double/index.js";
import { apply, useCluster } from "./support/cluster-harness.js";
import { eventually } from "./support/http.js";
import { ingressClass, serviceWithEndpoints, simpleIngress } from "./support/manifests.js";
import { handshake, httpsRequest, tlsSecret, withTls } from "./support/tls-harness.js";

const cluster = useCluster();

describe("cluster mode serves TLS Secrets from the API", () => {
  it("serves a kubernetes.io/tls Secret by SNI, follows its rotation, and never reads other Secrets", async () => {
    const pki = await cluster.pki();
    const [secure, rotated, hidden] = await Promise.all([
      pki.leaf("secure.example.com"),
      pki.leaf("secure.example.com"),
      pki.leaf("hidden.example.com"),
    ]);
    const cheddar = await cluster.backend({ host: "127.0.0.2", name: "cheddar" });
    const api = await cluster.api([
      ingressClass("rennet", { isDefault: true }),
      ...serviceWithEndpoints("cheddar", cheddar.port, [cheddar.host]),
      tlsSecret("secure-tls", secure),
      // The same shape, but Opaque: the field selector keeps it from rennet altogether.
      tlsSecret("hidden-tls", hidden, { type: "Opaque" }),
      withTls(simpleIngress("secure", "secure.example.com", "cheddar"), [{ secretName: "secure-tls" }]),
      withTls(simpleIngress("hidden", "hidden.example.com", "cheddar"), [{ secretName: "hidden-tls" }]),
    ]);
    const rennet = await cluster.rennet(api);
    const port = rennet.httpsPort;

    await eventually(
      async () =>
        (await handshake(port, { servername: "secure.example.com" })).fingerprint256 === secure.fingerprint256,
      5000,
      "the Secret's certificate is served for its host",
    );
    const shown = await handshake(port, { servername: "secure.example.com", ca: pki.ca.cert });
    expect(shown.authorized).toBe(true);
    expect(shown.hostVerified("secure.example.com")).toBe(true);
    const reply = await httpsRequest(port, { servername: "secure.example.com", ca: pki.ca.cert });
    expect(reply.status).toBe(200);
    expect(reply.json<{ me: string }>().me).toBe("cheddar");

    // The Opaque Secret was never seen: its host gets the default certificate, and rennet says the Secret is missing.
    const fallback = await handshake(port, { servername: "hidden.example.com" });
    expect(fallback.fingerprint256).not.toBe(hidden.fingerprint256);
    expect(fallback.fingerprint256).not.toBe(secure.fingerprint256);
    const problem = await rennet.waitForLog(
      (line) => line.msg === "ingress problem" && line.ingress === "default/hidden" && line.code === "tls-secret",
      3000,
    );
    expect(String(problem.problem)).toContain("default/hidden-tls");

    // Every Secret read was a list or watch with the type field selector: no get of a single Secret, no unfiltered list.
    const secretReads = api.requestsMatching({ resource: "secrets" });
    expect(secretReads.length).toBeGreaterThanOrEqual(2);
    for (const read of secretReads) {
      expect(read.verb === "list" || read.verb === "watch", `${read.verb} ${read.path}`).toBe(true);
      expect(read.query.fieldSelector).toBe("type=kubernetes.io/tls");
    }

    // Rotation through the API: the new certificate is served within a second or so.
    apply(api, [tlsSecret("secure-tls", rotated)]);
    await eventually(
      async () =>
        (await handshake(port, { servername: "secure.example.com" })).fingerprint256 === rotated.fingerprint256,
      2000,
      "the rotated certificate is served",
    );

    // Turning the Opaque Secret into a TLS one makes it visible (the watch's field selector now matches).
    const stored = api.get("Secret", "default", "hidden-tls") as StoredObject;
    apply(api, [{ ...stored, type: "kubernetes.io/tls" }]);
    await eventually(
      async () =>
        (await handshake(port, { servername: "hidden.example.com" })).fingerprint256 === hidden.fingerprint256,
      2000,
      "a Secret that becomes kubernetes.io/tls is served",
    );
  });
});
