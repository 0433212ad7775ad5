/**
 * Bad TLS input never takes rennet down: a malformed PEM, a key that does not match its
 * certificate, an expired or not-yet-valid certificate, a Secret of the wrong type or a missing
 * Secret each get a clear error/warn line on stderr naming the Secret; the host is served with
 * the default certificate (and still routed); other hosts keep their certificates. No private
 * key ever appears on stderr, stdout, /metrics, /api/config or /api/certificates.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { Backend, Echo } from "./support/backends.js";
import { useHarness } from "./support/harness.js";
import { admin } from "./support/http.js";
import { ingressClass, type ManifestDir, serviceWithEndpoints, simpleIngress } from "./support/manifests.js";
import type { LogLine, Rennet } from "./support/rennet.js";
import {
  findLeaks,
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
const DAY = 86_400_000;

interface BadCase {
  readonly name: string;
  readonly host: string;
  /** Secret "default/<secret>". */
  readonly secret: string;
  /** What the log line must say about it. */
  readonly says: RegExp;
}

const CASES: readonly BadCase[] = [
  {
    name: "a malformed certificate PEM",
    host: "badcrt.example.test",
    secret: "badcrt-tls",
    says: /tls\.crt|certificate/i,
  },
  { name: "a malformed key PEM", host: "badkey.example.test", secret: "badkey-tls", says: /tls\.key|private key/i },
  { name: "a key that does not match", host: "mismatch.example.test", secret: "mismatch-tls", says: /match/i },
  { name: "an expired certificate", host: "expired.example.test", secret: "expired-tls", says: /expired/i },
  { name: "a certificate not valid yet", host: "early.example.test", secret: "early-tls", says: /not valid before/i },
  { name: "a Secret of the wrong type", host: "opaque.example.test", secret: "opaque-tls", says: /Opaque|type/ },
  { name: "a Secret without tls.key", host: "nokey.example.test", secret: "nokey-tls", says: /tls\.key/ },
  { name: "a missing Secret", host: "missing.example.test", secret: "missing-tls", says: /not found/i },
];

let pki: Pki;
let good: KeyPair;
/** Every private key rennet was given, broken ones included. */
const keys: string[] = [];
let backend: Backend;
let dir: ManifestDir;
let rennet: Rennet;
let httpsPort: number;

function truncated(pem: string): string {
  const lines = pem.trim().split("\n");
  // Header, half the body, no footer.
  return `${lines.slice(0, Math.max(2, Math.floor(lines.length / 2))).join("\n")}\n`;
}

beforeAll(async () => {
  pki = await harness.pki();
  const now = Date.now();
  const [goodPair, badcrt, badkey, mismatch, other, expired, early, opaque, nokey] = await Promise.all([
    pki.leaf("good.example.test"),
    pki.leaf("badcrt.example.test"),
    pki.leaf("badkey.example.test"),
    pki.leaf("mismatch.example.test"),
    pki.leaf("other.example.test"),
    pki.leaf("expired.example.test", { notBefore: new Date(now - 30 * DAY), notAfter: new Date(now - DAY) }),
    pki.leaf("early.example.test", { notBefore: new Date(now + 10 * DAY), notAfter: new Date(now + 20 * DAY) }),
    pki.leaf("opaque.example.test"),
    pki.leaf("nokey.example.test"),
  ]);
  good = goodPair;
  keys.push(goodPair.key, badcrt.key, truncated(badkey.key), other.key, expired.key, early.key, opaque.key);
  backend = await harness.backend({ host: "127.0.0.71", name: "web" });
  dir = await harness.manifestDir();
  const hosts = ["good.example.test", ...CASES.map((item) => item.host)];
  await dir.write("app.yaml", [
    ingressClass("rennet"),
    ...serviceWithEndpoints("web", backend.port, ["127.0.0.71"]),
    ...hosts.map((host) => {
      const secret =
        host === "good.example.test" ? "good-tls" : (CASES.find((item) => item.host === host)?.secret ?? "");
      return withTls(simpleIngress(host.split(".")[0] ?? host, host, "web"), [{ hosts: [host], secretName: secret }]);
    }),
  ]);
  await dir.write("good.yaml", [tlsSecret("good-tls", goodPair)]);
  await dir.write("secrets.yaml", [
    tlsSecret("badcrt-tls", {
      cert: "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGUgYXQgYWxs\n-----END CERTIFICATE-----\n",
      key: badcrt.key,
    }),
    tlsSecret("badkey-tls", { cert: badkey.cert, key: truncated(badkey.key) }),
    tlsSecret("mismatch-tls", { cert: mismatch.cert, key: other.key }),
    tlsSecret("expired-tls", expired),
    tlsSecret("early-tls", early, { encoding: "stringData" }),
    tlsSecret("opaque-tls", opaque, { type: "Opaque" }),
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "nokey-tls", namespace: "default" },
      type: "kubernetes.io/tls",
      data: { "tls.crt": Buffer.from(nokey.cert).toString("base64") },
    },
  ]);
  rennet = await harness.rennet({ manifests: [dir.dir] });
  httpsPort = rennet.httpsPort;
}, SETUP_TIMEOUT_MS);

/** The first error/warn line on stderr that names `default/<secret>`. */
function lineNaming(secret: string): Promise<LogLine> {
  return rennet.waitForLog(
    (line) => (line.level === "error" || line.level === "warn") && JSON.stringify(line).includes(`default/${secret}`),
    3000,
  );
}

async function everythingRennetShows(target: Rennet): Promise<Record<string, string>> {
  const [metrics, config, certificates] = await Promise.all([
    admin(target.adminPort, "/metrics"),
    admin(target.adminPort, "/api/config"),
    admin(target.adminPort, "/api/certificates"),
  ]);
  return {
    stderr: target.stderr.join("\n"),
    stdout: target.stdout.join("\n"),
    "/metrics": metrics.body,
    "/api/config": config.body,
    "/api/certificates": certificates.body,
  };
}

describe("bad certificates and Secrets", () => {
  it.each(CASES)("$name: reported on stderr, host served with the default certificate", async (item) => {
    const line = await lineNaming(item.secret);
    expect(JSON.stringify(line)).toMatch(item.says);

    const shown = await handshake(httpsPort, { servername: item.host, ca: pki.ca.cert });
    expect(shown.commonName).toBe(SELF_SIGNED_CN);
    expect(shown.authorized).toBe(false);
    // Routing goes on as for any host.
    const reply = await httpsRequest(httpsPort, { servername: item.host, path: "/still-routed" });
    expect(reply.status).toBe(200);
    expect(reply.json<Echo>().headers.host).toBe(item.host);
  });

  it("keeps serving the other hosts with their own certificates", async () => {
    const shown = await handshake(httpsPort, { servername: "good.example.test", ca: pki.ca.cert });
    expect(shown.fingerprint256).toBe(good.fingerprint256);
    expect(shown.authorized).toBe(true);
    const reply = await httpsRequest(httpsPort, { servername: "good.example.test", ca: pki.ca.cert });
    expect(reply.status).toBe(200);
    expect(rennet.exit).toBeUndefined();
    expect((await admin(rennet.adminPort, "/healthz")).status).toBe(200);
    // Only the good certificate (and the self-signed default) is listed.
    const listed = (await admin(rennet.adminPort, "/api/certificates")).json<Array<{ secret: string }>>();
    const secrets = listed.map((entry) => entry.secret.split("@")[0]);
    expect(secrets).toContain("default/good-tls");
    for (const item of CASES) expect(secrets).not.toContain(`default/${item.secret}`);
  });

  it("reports a Secret that breaks later, falls back to the default certificate for it, and recovers when fixed", async () => {
    const other = await pki.leaf("unrelated.example.test");
    keys.push(other.key);
    const from = rennet.stderr.length;
    await dir.replace("good.yaml", [tlsSecret("good-tls", { cert: good.cert, key: other.key })]);
    const line = await rennet.waitForLog(
      (entry) =>
        (entry.level === "error" || entry.level === "warn") && JSON.stringify(entry).includes("default/good-tls"),
      3000,
      from,
    );
    expect(JSON.stringify(line)).toMatch(/match/i);
    const broken = await handshake(httpsPort, { servername: "good.example.test" });
    expect(broken.commonName).toBe(SELF_SIGNED_CN);

    await dir.replace("good.yaml", [tlsSecret("good-tls", good)]);
    const started = Date.now();
    while ((await handshake(httpsPort, { servername: "good.example.test" })).fingerprint256 !== good.fingerprint256) {
      if (Date.now() - started > 3000) throw new Error("the fixed Secret was not picked up within 3 s");
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(rennet.exit).toBeUndefined();
  });

  it("falls back to the self-signed certificate when the --default-certificate Secret is unusable", async () => {
    for (const secret of ["expired-tls", "opaque-tls", "missing-tls"]) {
      const withBadDefault = await harness.rennet({
        manifests: [dir.dir],
        args: ["--default-certificate", `default/${secret}`],
      });
      const line = await withBadDefault.waitForLog(
        (entry) =>
          (entry.level === "error" || entry.level === "warn") && JSON.stringify(entry).includes(`default/${secret}`),
        3000,
      );
      expect(line.msg).toBeDefined();
      const port = withBadDefault.httpsPort;
      expect((await handshake(port)).commonName).toBe(SELF_SIGNED_CN);
      expect((await handshake(port, { servername: "unknown.example.org" })).commonName).toBe(SELF_SIGNED_CN);
      expect((await handshake(port, { servername: "good.example.test" })).fingerprint256).toBe(good.fingerprint256);
      expect(findLeaks(keys.join("\n"), await everythingRennetShows(withBadDefault))).toEqual([]);
      await withBadDefault.stop(3000);
    }
  });

  it("never shows a private key on stderr, stdout, /metrics, /api/config or /api/certificates", async () => {
    // Some traffic first, so the access log and the metrics have something to say.
    await httpsRequest(httpsPort, { servername: "good.example.test", path: "/traffic" });
    await httpsRequest(httpsPort, { servername: "expired.example.test", path: "/traffic" });
    const shown = await everythingRennetShows(rennet);
    expect(shown.stderr).not.toBe("");
    expect(shown.stdout).not.toBe("");
    for (const key of keys) expect(findLeaks(key, shown)).toEqual([]);
  });
});
