/**
 * Certificate rotation: when a Secret's content changes, new connections get the new certificate
 * within two seconds, without restart, while connections opened before keep theirs and go on
 * completing requests (HTTP/2 sessions and HTTP/1.1 keep-alive connections alike). The same holds
 * for the --default-certificate Secret, which clients without SNI get. A deleted Secret sends its
 * host back to the default certificate.
 */
import { Agent } from "node:https";
import type { TLSSocket } from "node:tls";
import { describe, expect, it } from "vitest";
import type { Backend, Echo } from "./support/backends.js";
import { useHarness } from "./support/harness.js";
import { admin, eventually } from "./support/http.js";
import { ingressClass, type ManifestDir, serviceWithEndpoints, simpleIngress } from "./support/manifests.js";
import type { Rennet } from "./support/rennet.js";
import {
  closeH2,
  h2Request,
  h2Session,
  handshake,
  httpsRequest,
  type KeyPair,
  type Pki,
  SELF_SIGNED_CN,
  tlsSecret,
  withTls,
} from "./support/tls-harness.js";

const harness = useHarness();
const HOST = "rot.example.test";
const ROTATION_WITHIN_MS = 2000;

interface Setup {
  pki: Pki;
  a: KeyPair;
  b: KeyPair;
  backend: Backend;
  dir: ManifestDir;
  rennet: Rennet;
  httpsPort: number;
}

async function setup(args: readonly string[] = []): Promise<Setup> {
  const pki = await harness.pki();
  const [a, b] = await Promise.all([pki.leaf(HOST), pki.leaf(HOST)]);
  const backend = await harness.backend({ host: "127.0.0.61", name: "rot" });
  const dir = await harness.manifestDir();
  await dir.write("app.yaml", [
    ingressClass("rennet"),
    ...serviceWithEndpoints("rot", backend.port, ["127.0.0.61"]),
    withTls(simpleIngress("rot", HOST, "rot"), [{ hosts: [HOST], secretName: "rot-tls" }]),
  ]);
  await dir.write("secret.yaml", [tlsSecret("rot-tls", a)]);
  const rennet = await harness.rennet({ manifests: [dir.dir], args });
  return { pki, a, b, backend, dir, rennet, httpsPort: rennet.httpsPort };
}

/** Polls new connections until one shows `fingerprint`; resolves to how long that took. */
function newConnectionsShow(port: number, servername: string | undefined, fingerprint: string): Promise<number> {
  return eventually(
    async () =>
      (await handshake(port, servername === undefined ? {} : { servername, timeoutMs: 1000 })).fingerprint256 ===
      fingerprint,
    ROTATION_WITHIN_MS + 1000,
    "a new connection with the new certificate",
    25,
  );
}

describe("certificate rotation", () => {
  it("gives new connections the new certificate within 2 s while open ones keep the old and keep working", async () => {
    const { pki, a, b, dir, rennet, httpsPort } = await setup();

    // Open connections with certificate A: an HTTP/2 session and an HTTP/1.1 keep-alive connection.
    const session = await h2Session(httpsPort, { servername: HOST, ca: pki.ca.cert });
    harness.defer(() => closeH2(session));
    const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: pki.ca.cert });
    harness.defer(() => agent.destroy());
    const before = await h2Request(session, HOST, "/before");
    expect(before.status).toBe(200);
    expect((session.socket as TLSSocket).getPeerCertificate().fingerprint256).toBe(a.fingerprint256);
    const kept = await httpsRequest(httpsPort, { servername: HOST, ca: pki.ca.cert, agent, path: "/before" });
    expect(kept.status).toBe(200);
    expect(kept.fingerprint256).toBe(a.fingerprint256);

    // Rotate: the Secret now holds certificate B (written as kubectl-like tools do, by rename).
    await dir.replace("secret.yaml", [tlsSecret("rot-tls", b)]);
    const tookMs = await newConnectionsShow(httpsPort, HOST, b.fingerprint256);
    expect(tookMs).toBeLessThanOrEqual(ROTATION_WITHIN_MS);
    const fresh = await handshake(httpsPort, { servername: HOST, ca: pki.ca.cert });
    expect(fresh.authorized).toBe(true);
    expect(fresh.hostVerified(HOST)).toBe(true);

    // The open connections were not dropped: they complete requests, still with A.
    for (let i = 0; i < 3; i++) {
      const after = await h2Request(session, HOST, `/after/${i}`);
      expect(after.status).toBe(200);
      expect(after.json<Echo>().url).toBe(`/after/${i}`);
    }
    expect(session.closed || session.destroyed).toBe(false);
    expect((session.socket as TLSSocket).getPeerCertificate().fingerprint256).toBe(a.fingerprint256);
    const keptAfter = await httpsRequest(httpsPort, { servername: HOST, ca: pki.ca.cert, agent, path: "/after" });
    expect(keptAfter.status).toBe(200);
    expect(keptAfter.reusedSocket).toBe(true);
    expect(keptAfter.fingerprint256).toBe(a.fingerprint256);

    // A new HTTPS client gets B end to end, and the admin API describes B.
    const newClient = await httpsRequest(httpsPort, { servername: HOST, ca: pki.ca.cert, path: "/new" });
    expect(newClient.status).toBe(200);
    expect(newClient.fingerprint256).toBe(b.fingerprint256);
    const listed = (await admin(rennet.adminPort, "/api/certificates")).json<
      Array<{ secret: string; fingerprint256?: string; notAfter: string; hosts: string[] }>
    >();
    const entries = listed.filter((item) => item.secret.startsWith("default/rot-tls@"));
    expect(entries).toHaveLength(1);
    const entry = entries[0];
    expect(entry?.hosts).toEqual([HOST]);
    expect(entry?.notAfter).toBe(b.notAfter.toISOString());
    if (entry?.fingerprint256 !== undefined) expect(entry.fingerprint256).toBe(b.fingerprint256);

    // Same process all along, never restarted.
    expect(rennet.exit).toBeUndefined();
    expect(rennet.logs().filter((line) => line.msg === "rennet is serving")).toHaveLength(1);
  });

  it("rotates back and forth, and with stringData as well as data", async () => {
    const { a, b, dir, httpsPort } = await setup();
    await dir.replace("secret.yaml", [tlsSecret("rot-tls", b, { encoding: "stringData" })]);
    expect(await newConnectionsShow(httpsPort, HOST, b.fingerprint256)).toBeLessThanOrEqual(ROTATION_WITHIN_MS);
    await dir.replace("secret.yaml", [tlsSecret("rot-tls", a)]);
    expect(await newConnectionsShow(httpsPort, HOST, a.fingerprint256)).toBeLessThanOrEqual(ROTATION_WITHIN_MS);
  });

  it("falls back to the default certificate when the Secret is deleted, and says so", async () => {
    const { pki, a, dir, rennet, httpsPort } = await setup();
    const session = await h2Session(httpsPort, { servername: HOST, ca: pki.ca.cert });
    harness.defer(() => closeH2(session));
    const from = rennet.stderr.length;
    await dir.remove("secret.yaml");
    await eventually(
      async () => (await handshake(httpsPort, { servername: HOST })).commonName === SELF_SIGNED_CN,
      ROTATION_WITHIN_MS + 1000,
      "the default certificate for a host whose Secret is gone",
      25,
    );
    const line = await rennet.waitForLog(
      (entry) => entry.level === "warn" && String(entry.problem ?? "").includes("default/rot-tls"),
      3000,
      from,
    );
    expect(String(line.problem)).toMatch(/not found/);
    // The open session keeps its certificate and keeps working.
    expect((await h2Request(session, HOST, "/after-delete")).status).toBe(200);
    expect((session.socket as TLSSocket).getPeerCertificate().fingerprint256).toBe(a.fingerprint256);
    const listed = (await admin(rennet.adminPort, "/api/certificates")).json<Array<{ secret: string }>>();
    expect(listed.some((item) => item.secret.startsWith("default/rot-tls@"))).toBe(false);
  });

  it("rotates the --default-certificate Secret for clients without SNI, keeping their open connections", async () => {
    const { pki, a, b, dir, rennet, httpsPort } = await setup(["--default-certificate", "default/fallback-tls"]);
    // At first the Secret is missing: self-signed. Then it appears with A, then rotates to B.
    const selfSigned = await handshake(httpsPort);
    expect(selfSigned.commonName).toBe(SELF_SIGNED_CN);
    await dir.write("fallback.yaml", [tlsSecret("fallback-tls", a)]);
    expect(await newConnectionsShow(httpsPort, undefined, a.fingerprint256)).toBeLessThanOrEqual(ROTATION_WITHIN_MS);

    const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: pki.ca.cert });
    harness.defer(() => agent.destroy());
    // No SNI: servername "" is not sent; the Host header still routes, the certificate is checked by chain.
    const open = await httpsRequest(httpsPort, { host: HOST, agent, path: "/open" });
    expect(open.status).toBe(200);
    expect(open.fingerprint256).toBe(a.fingerprint256);

    await dir.replace("fallback.yaml", [tlsSecret("fallback-tls", b)]);
    expect(await newConnectionsShow(httpsPort, undefined, b.fingerprint256)).toBeLessThanOrEqual(ROTATION_WITHIN_MS);
    // Unknown SNI follows too.
    expect((await handshake(httpsPort, { servername: "unknown.example.org" })).fingerprint256).toBe(b.fingerprint256);

    const still = await httpsRequest(httpsPort, { host: HOST, agent, path: "/still" });
    expect(still.status).toBe(200);
    expect(still.reusedSocket).toBe(true);
    expect(still.fingerprint256).toBe(a.fingerprint256);

    // The listener's other settings survived the swap of its default context.
    await expect(handshake(httpsPort, { minVersion: "TLSv1", maxVersion: "TLSv1.1" })).rejects.toThrow();
    const first = await handshake(httpsPort, { ca: pki.ca.cert, sessionWaitMs: 2000 });
    expect(first.authorized).toBe(true);
    const resumed = await handshake(httpsPort, { session: first.session });
    expect(resumed.reused).toBe(true);
    expect(rennet.exit).toBeUndefined();
  });
});
