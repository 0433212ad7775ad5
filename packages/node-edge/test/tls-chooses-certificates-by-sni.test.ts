/**
 * The HTTPS listener picks a certificate per connection by SNI: the exact host's, else the
 * one-label wildcard's, else the default one (self-signed in memory, or the --default-certificate
 * Secret's), also when the client sends no SNI. Certificates are real openssl-made leaves of a
 * test CA, and clients verify them against it. TLS 1.2 is the minimum, sessions resume, and
 * /api/certificates describes what is configured.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { Backend, Echo } from "./support/backends.js";
import { useHarness } from "./support/harness.js";
import { admin } from "./support/http.js";
import { ingress, ingressClass, type ManifestDir, serviceWithEndpoints, simpleIngress } from "./support/manifests.js";
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
let dir: ManifestDir;
let rennet: Rennet;
let httpsPort: number;
let exactBackend: Backend;
let wildBackend: Backend;
let plainBackend: Backend;
const certs = {} as Record<"a" | "wild" | "exact" | "fallback", KeyPair>;

beforeAll(async () => {
  pki = await harness.pki();
  [certs.a, certs.wild, certs.exact, certs.fallback] = await Promise.all([
    pki.leaf("a.example.test"),
    pki.leaf("*.example.test"),
    pki.leaf("exact.example.test"),
    pki.leaf("fallback.example.test"),
  ]);
  exactBackend = await harness.backend({ host: "127.0.0.31", name: "exact-hosts" });
  wildBackend = await harness.backend({ host: "127.0.0.32", name: "wildcard" });
  plainBackend = await harness.backend({ host: "127.0.0.33", name: "plain" });
  dir = await harness.manifestDir();
  await dir.write("all.yaml", [
    ingressClass("rennet"),
    ...serviceWithEndpoints("exact-hosts", exactBackend.port, ["127.0.0.31"]),
    ...serviceWithEndpoints("wildcard", wildBackend.port, ["127.0.0.32"]),
    ...serviceWithEndpoints("plain", plainBackend.port, ["127.0.0.33"]),
    // data (base64) for one, stringData (PEM) for another.
    tlsSecret("a-tls", certs.a),
    tlsSecret("wild-tls", certs.wild, { encoding: "stringData" }),
    tlsSecret("exact-tls", certs.exact),
    tlsSecret("fallback-tls", certs.fallback),
    withTls(simpleIngress("a", "a.example.test", "exact-hosts"), [{ hosts: ["a.example.test"], secretName: "a-tls" }]),
    withTls(simpleIngress("wild", "*.example.test", "wildcard"), [
      { hosts: ["*.example.test"], secretName: "wild-tls" },
    ]),
    // No hosts under spec.tls: the rules' hosts.
    withTls(simpleIngress("exact", "exact.example.test", "exact-hosts"), [{ secretName: "exact-tls" }]),
    ingress("plain", { rules: [{ host: "plain.example.org", paths: [{ path: "/", service: "plain" }] }] }),
  ]);
  rennet = await harness.rennet({ manifests: [dir.dir] });
  httpsPort = rennet.httpsPort;
}, SETUP_TIMEOUT_MS);

describe("certificate selection by SNI", () => {
  it("shows an exact host its own certificate, which verifies against the CA for that host only", async () => {
    const shown = await handshake(httpsPort, { servername: "a.example.test", ca: pki.ca.cert });
    expect(shown.fingerprint256).toBe(certs.a.fingerprint256);
    expect(shown.authorized).toBe(true);
    expect(shown.hostVerified("a.example.test")).toBe(true);
    expect(shown.hostVerified("b.example.test")).toBe(false);

    // A client that verifies (CA + host name) gets through, and the request is routed as over HTTP.
    const reply = await httpsRequest(httpsPort, { servername: "a.example.test", ca: pki.ca.cert, path: "/hello?x=1" });
    expect(reply.status).toBe(200);
    expect(reply.fingerprint256).toBe(certs.a.fingerprint256);
    const echo = reply.json<Echo>();
    expect(echo.me).toBe("exact-hosts");
    expect(echo.url).toBe("/hello?x=1");
    expect(echo.headers.host).toBe("a.example.test");
    expect(echo.headers["x-forwarded-proto"]).toBe("https");
    expect(echo.headers["x-forwarded-port"]).toBe(String(httpsPort));
  });

  it("matches SNI without regard to case", async () => {
    const shown = await handshake(httpsPort, { servername: "A.Example.TEST", ca: pki.ca.cert });
    expect(shown.fingerprint256).toBe(certs.a.fingerprint256);
  });

  it("shows a one-label subdomain the wildcard certificate, and a deeper one the default", async () => {
    const one = await handshake(httpsPort, { servername: "shop.example.test", ca: pki.ca.cert });
    expect(one.fingerprint256).toBe(certs.wild.fingerprint256);
    expect(one.authorized).toBe(true);
    expect(one.hostVerified("shop.example.test")).toBe(true);

    const reply = await httpsRequest(httpsPort, { servername: "shop.example.test", ca: pki.ca.cert });
    expect(reply.status).toBe(200);
    expect(reply.json<Echo>().me).toBe("wildcard");
    expect(reply.json<Echo>().headers["x-forwarded-proto"]).toBe("https");

    const deeper = await handshake(httpsPort, { servername: "a.b.example.test", ca: pki.ca.cert });
    expect(deeper.commonName).toBe(SELF_SIGNED_CN);
    expect(deeper.authorized).toBe(false);
    // The apex is not covered by *.example.test either.
    const apex = await handshake(httpsPort, { servername: "example.test", ca: pki.ca.cert });
    expect(apex.commonName).toBe(SELF_SIGNED_CN);
  });

  it("prefers the exact host's certificate over a wildcard that also covers it", async () => {
    const shown = await handshake(httpsPort, { servername: "exact.example.test", ca: pki.ca.cert });
    expect(shown.fingerprint256).toBe(certs.exact.fingerprint256);
    expect(shown.authorized).toBe(true);
    expect(shown.hostVerified("exact.example.test")).toBe(true);
  });

  it("shows an unknown host the self-signed default certificate, and still routes its requests", async () => {
    const shown = await handshake(httpsPort, { servername: "plain.example.org", ca: pki.ca.cert });
    expect(shown.commonName).toBe(SELF_SIGNED_CN);
    expect(shown.authorized).toBe(false);
    expect(shown.fingerprint256).not.toBe(certs.fallback.fingerprint256);

    // A verifying client refuses it...
    await expect(httpsRequest(httpsPort, { servername: "plain.example.org", ca: pki.ca.cert })).rejects.toThrow();
    // ...one that does not verify is routed as over HTTP.
    const reply = await httpsRequest(httpsPort, { servername: "plain.example.org" });
    expect(reply.status).toBe(200);
    expect(reply.json<Echo>().me).toBe("plain");
    expect(reply.json<Echo>().headers["x-forwarded-proto"]).toBe("https");
  });

  it("shows a client that sends no SNI (connecting by IP) the default certificate", async () => {
    const shown = await handshake(httpsPort, { ca: pki.ca.cert });
    expect(shown.commonName).toBe(SELF_SIGNED_CN);
    expect(shown.authorized).toBe(false);
    // Without SNI the Host header still routes.
    const reply = await httpsRequest(httpsPort, { host: "a.example.test" });
    expect(reply.status).toBe(200);
    expect(reply.json<Echo>().me).toBe("exact-hosts");
  });

  it("shows the --default-certificate Secret's certificate for unknown and missing SNI", async () => {
    const withDefault = await harness.rennet({
      manifests: [dir.dir],
      args: ["--default-certificate", "default/fallback-tls"],
    });
    const port = withDefault.httpsPort;
    const unknown = await handshake(port, { servername: "nobody.example.org", ca: pki.ca.cert });
    expect(unknown.fingerprint256).toBe(certs.fallback.fingerprint256);
    expect(unknown.authorized).toBe(true);
    const noSni = await handshake(port, { ca: pki.ca.cert });
    expect(noSni.fingerprint256).toBe(certs.fallback.fingerprint256);
    expect(noSni.authorized).toBe(true);
    // Configured hosts keep their own.
    const known = await handshake(port, { servername: "a.example.test", ca: pki.ca.cert });
    expect(known.fingerprint256).toBe(certs.a.fingerprint256);
    const wild = await handshake(port, { servername: "x.example.test", ca: pki.ca.cert });
    expect(wild.fingerprint256).toBe(certs.wild.fingerprint256);
  });
});

describe("protocol versions and sessions", () => {
  it("refuses TLS 1.1 and accepts TLS 1.2 and 1.3", async () => {
    await expect(
      handshake(httpsPort, { servername: "a.example.test", minVersion: "TLSv1", maxVersion: "TLSv1.1" }),
    ).rejects.toThrow();
    await expect(handshake(httpsPort, { minVersion: "TLSv1", maxVersion: "TLSv1.1" })).rejects.toThrow();
    const v12 = await handshake(httpsPort, { servername: "a.example.test", maxVersion: "TLSv1.2" });
    expect(v12.protocol).toBe("TLSv1.2");
    const v13 = await handshake(httpsPort, { servername: "a.example.test" });
    expect(v13.protocol).toBe("TLSv1.3");
  });

  it.each(["TLSv1.2", "TLSv1.3"] as const)(
    "resumes a %s session on a second connection to the same host",
    async (version) => {
      const first = await handshake(httpsPort, {
        servername: "a.example.test",
        ca: pki.ca.cert,
        minVersion: version,
        maxVersion: version,
        sessionWaitMs: 2000,
      });
      expect(first.reused).toBe(false);
      expect(first.session).toBeDefined();
      const second = await handshake(httpsPort, {
        servername: "a.example.test",
        ca: pki.ca.cert,
        minVersion: version,
        maxVersion: version,
        session: first.session,
      });
      expect(second.reused).toBe(true);

      // Offered for another host, the session is not resumed: that host's own certificate is shown.
      const elsewhere = await handshake(httpsPort, {
        servername: "exact.example.test",
        minVersion: version,
        maxVersion: version,
        session: first.session,
      });
      expect(elsewhere.reused).toBe(false);
      expect(elsewhere.fingerprint256).toBe(certs.exact.fingerprint256);
    },
  );
});

describe("/api/certificates", () => {
  it("lists each configured certificate with subject, SANs, expiry and hosts, and the default one", async () => {
    const reply = await admin(rennet.adminPort, "/api/certificates");
    expect(reply.status).toBe(200);
    const listed =
      reply.json<
        Array<{ secret: string; subject: string; subjectAltNames: string[]; notAfter: string; hosts: string[] }>
      >();
    const bySecret = (name: string) => listed.find((entry) => entry.secret.startsWith(`${name}@`));
    const expectations = [
      { secret: "default/a-tls", pair: certs.a, sans: ["DNS:a.example.test"], hosts: ["a.example.test"] },
      { secret: "default/wild-tls", pair: certs.wild, sans: ["DNS:*.example.test"], hosts: ["*.example.test"] },
      {
        secret: "default/exact-tls",
        pair: certs.exact,
        sans: ["DNS:exact.example.test"],
        hosts: ["exact.example.test"],
      },
    ];
    for (const expected of expectations) {
      const entry = bySecret(expected.secret);
      expect(entry, `${expected.secret} in ${reply.body}`).toBeDefined();
      expect(entry?.subject).toBe(expected.pair.subject);
      expect(entry?.subjectAltNames).toEqual(expected.sans);
      expect(entry?.notAfter).toBe(expected.pair.notAfter.toISOString());
      expect(entry?.hosts).toEqual(expected.hosts);
    }
    // The unused fallback Secret is not listed; the self-signed default is, for every other host.
    expect(bySecret("default/fallback-tls")).toBeUndefined();
    const selfSigned = listed.filter((entry) => entry.subject.includes(SELF_SIGNED_CN));
    expect(selfSigned).toHaveLength(1);
    expect(selfSigned[0]?.hosts).toEqual(["*"]);
    expect(Date.parse(selfSigned[0]?.notAfter ?? "")).toBeGreaterThan(Date.now());
  });
});
