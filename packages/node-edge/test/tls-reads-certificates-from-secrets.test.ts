/**
 * What a kubernetes.io/tls Secret may hold, and which Secrets an Ingress may use: RSA keys in
 * PKCS#1, EC keys in SEC1 (as cert-manager and kubectl write them), a tls.crt with the
 * intermediate after the leaf (served as a chain, so clients that trust only the root verify it);
 * Secrets are looked up in the Ingress's own namespace only; Ingresses of another class install
 * no certificate; two Ingresses naming different Secrets for one host: the older wins, the other
 * is told.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { Backend } from "./support/backends.js";
import { useHarness } from "./support/harness.js";
import { ingress, ingressClass, type Manifest, serviceWithEndpoints } from "./support/manifests.js";
import type { Rennet } from "./support/rennet.js";
import {
  handshake,
  httpsRequest,
  type KeyPair,
  type Pki,
  SELF_SIGNED_CN,
  SETUP_TIMEOUT_MS,
  tlsSecret,
  withTls,
} from "./support/tls-harness.js";

const harness = useHarness("all");

let pki: Pki;
let backend: Backend;
let rennet: Rennet;
let httpsPort: number;
const certs = {} as Record<"rsa" | "sec1" | "chain" | "team" | "otherClass" | "conflictA" | "conflictB", KeyPair>;

/** An Ingress for `host` in `namespace`, with spec.tls naming `secretName`. */
function tlsIngress(
  name: string,
  host: string,
  secretName: string,
  options: { namespace?: string; className?: string; created?: string } = {},
): Manifest {
  const base = ingress(name, {
    namespace: options.namespace ?? "default",
    ...(options.className !== undefined ? { className: options.className } : {}),
    rules: [{ host, paths: [{ path: "/", service: "web" }] }],
  });
  const metadata = base.metadata as Record<string, unknown>;
  return withTls(
    { ...base, metadata: { ...metadata, ...(options.created ? { creationTimestamp: options.created } : {}) } },
    [{ hosts: [host], secretName }],
  );
}

beforeAll(async () => {
  pki = await harness.pki();
  [certs.rsa, certs.sec1, certs.chain, certs.team, certs.otherClass, certs.conflictA, certs.conflictB] =
    await Promise.all([
      pki.leaf("rsa.example.test", { keyType: "rsa", keyFormat: "traditional" }),
      pki.leaf("sec1.example.test", { keyFormat: "traditional" }),
      pki.leaf("chain.example.test", { intermediate: true }),
      pki.leaf("team.example.test", { sans: ["team.example.test", "borrow.example.test"] }),
      pki.leaf("otherclass.example.test"),
      pki.leaf("conflict.example.test"),
      pki.leaf("conflict.example.test"),
    ]);
  backend = await harness.backend({ host: "127.0.0.81", name: "web" });
  const dir = await harness.manifestDir();
  await dir.write("all.yaml", [
    ingressClass("rennet"),
    ingressClass("other", { controller: "example.com/other-controller" }),
    ...serviceWithEndpoints("web", backend.port, ["127.0.0.81"]),
    ...serviceWithEndpoints("web", backend.port, ["127.0.0.81"], "team"),
    tlsSecret("rsa-tls", certs.rsa),
    tlsSecret("sec1-tls", certs.sec1, { encoding: "stringData" }),
    tlsSecret("chain-tls", certs.chain),
    tlsSecret("team-tls", certs.team, { namespace: "team" }),
    tlsSecret("only-in-team", certs.team, { namespace: "team" }),
    tlsSecret("otherclass-tls", certs.otherClass),
    tlsSecret("conflict-a", certs.conflictA),
    tlsSecret("conflict-b", certs.conflictB),
    tlsIngress("rsa", "rsa.example.test", "rsa-tls"),
    tlsIngress("sec1", "sec1.example.test", "sec1-tls"),
    tlsIngress("chain", "chain.example.test", "chain-tls"),
    tlsIngress("team", "team.example.test", "team-tls", { namespace: "team" }),
    // A Secret of another namespace is not used, even though one of that name exists there.
    tlsIngress("borrow", "borrow.example.test", "only-in-team"),
    tlsIngress("otherclass", "otherclass.example.test", "otherclass-tls", { className: "other" }),
    tlsIngress("conflict-old", "conflict.example.test", "conflict-a", { created: "2020-01-01T00:00:00Z" }),
    tlsIngress("conflict-new", "conflict.example.test", "conflict-b", { created: "2021-01-01T00:00:00Z" }),
  ]);
  rennet = await harness.rennet({ manifests: [dir.dir] });
  httpsPort = rennet.httpsPort;
}, SETUP_TIMEOUT_MS);

describe("Secret contents", () => {
  it("serves an RSA key in PKCS#1 (BEGIN RSA PRIVATE KEY)", async () => {
    expect(certs.rsa.key).toContain("BEGIN RSA PRIVATE KEY");
    const shown = await handshake(httpsPort, { servername: "rsa.example.test", ca: pki.ca.cert });
    expect(shown.fingerprint256).toBe(certs.rsa.fingerprint256);
    expect(shown.authorized).toBe(true);
    expect((await httpsRequest(httpsPort, { servername: "rsa.example.test", ca: pki.ca.cert })).status).toBe(200);
  });

  it("serves an EC key in SEC1 (BEGIN EC PRIVATE KEY)", async () => {
    expect(certs.sec1.key).toContain("BEGIN EC PRIVATE KEY");
    const shown = await handshake(httpsPort, { servername: "sec1.example.test", ca: pki.ca.cert });
    expect(shown.fingerprint256).toBe(certs.sec1.fingerprint256);
    expect(shown.authorized).toBe(true);
  });

  it("serves the intermediate after the leaf, so a client that trusts only the root verifies it", async () => {
    const shown = await handshake(httpsPort, { servername: "chain.example.test", ca: pki.ca.cert });
    expect(shown.fingerprint256).toBe(certs.chain.fingerprint256);
    expect(shown.authorizationError).toBeUndefined();
    expect(shown.authorized).toBe(true);
    expect(shown.cert.issuer.CN).toBe("rennet test intermediate CA");
    const reply = await httpsRequest(httpsPort, { servername: "chain.example.test", ca: pki.ca.cert });
    expect(reply.status).toBe(200);
  });
});

describe("which Secrets an Ingress may use", () => {
  it("uses a Secret of the Ingress's own namespace", async () => {
    const shown = await handshake(httpsPort, { servername: "team.example.test", ca: pki.ca.cert });
    expect(shown.fingerprint256).toBe(certs.team.fingerprint256);
  });

  it("does not use a Secret of another namespace, and says so", async () => {
    const shown = await handshake(httpsPort, { servername: "borrow.example.test", ca: pki.ca.cert });
    expect(shown.commonName).toBe(SELF_SIGNED_CN);
    const line = await rennet.waitForLog(
      (entry) => entry.ingress === "default/borrow" && String(entry.problem ?? "").includes("default/only-in-team"),
      3000,
    );
    expect(line.level).toBe("warn");
  });

  it("installs no certificate for an Ingress of another class", async () => {
    const shown = await handshake(httpsPort, { servername: "otherclass.example.test", ca: pki.ca.cert });
    expect(shown.commonName).toBe(SELF_SIGNED_CN);
  });

  it("gives a host claimed by two Ingresses the older one's Secret, and tells the newer", async () => {
    const shown = await handshake(httpsPort, { servername: "conflict.example.test", ca: pki.ca.cert });
    expect(shown.fingerprint256).toBe(certs.conflictA.fingerprint256);
    const line = await rennet.waitForLog(
      (entry) => entry.ingress === "default/conflict-new" && entry.code === "tls-host-conflict",
      3000,
    );
    expect(String(line.problem)).toContain("default/conflict-a");
  });
});
