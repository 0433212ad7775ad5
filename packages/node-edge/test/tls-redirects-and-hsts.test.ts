/**
 * HTTP → HTTPS redirects (308) and HSTS. rennet.dev/ssl-redirect per Ingress, --ssl-redirect as
 * the default for hosts that have TLS, rennet.dev/force-ssl-redirect even without a certificate;
 * HSTS (rennet.dev/hsts-*) only on TLS responses; invalid annotation values reported on stderr
 * and ignored. The same manifests are served by one rennet without --ssl-redirect and one with.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { type Backend, type Echo, refusedPort } from "./support/backends.js";
import { useHarness } from "./support/harness.js";
import { type Reply, request } from "./support/http.js";
import { ingressClass, type Manifest, serviceWithEndpoints, simpleIngress } from "./support/manifests.js";
import type { Rennet } from "./support/rennet.js";
import {
  closeH2,
  h2Request,
  h2Session,
  httpsRequest,
  type KeyPair,
  type Pki,
  SETUP_TIMEOUT_MS,
  tlsSecret,
  withTls,
} from "./support/tls-harness.js";

const harness = useHarness("all");

let pki: Pki;
let cert: KeyPair;
let backend: Backend;
/** Without --ssl-redirect. */
let plain: Rennet;
/** With --ssl-redirect. */
let global: Rennet;

function annotated(name: string, host: string, annotations: Record<string, string>, tls: boolean): Manifest {
  const base = simpleIngress(name, host, "web");
  const metadata = { ...(base.metadata as Record<string, unknown>), annotations };
  const withAnnotations = { ...base, metadata };
  return tls ? withTls(withAnnotations, [{ hosts: [host], secretName: "site-tls" }]) : withAnnotations;
}

function hstsIngress(name: string, host: string, serviceName: string): Manifest {
  const base = simpleIngress(name, host, serviceName);
  const metadata = { ...(base.metadata as Record<string, unknown>), annotations: { "rennet.dev/hsts-max-age": "600" } };
  return { ...base, metadata };
}

beforeAll(async () => {
  pki = await harness.pki();
  cert = await pki.leaf("*.example.test");
  backend = await harness.backend({ host: "127.0.0.51", name: "web" });
  const refused = await refusedPort("127.0.0.52");
  const dir = await harness.manifestDir();
  await dir.write("all.yaml", [
    ingressClass("rennet"),
    ...serviceWithEndpoints("web", backend.port, ["127.0.0.51"]),
    tlsSecret("site-tls", cert),
    annotated(
      "secure",
      "secure.example.test",
      {
        "rennet.dev/ssl-redirect": "true",
        "rennet.dev/hsts-max-age": "31536000",
        "rennet.dev/hsts-include-subdomains": "true",
        "rennet.dev/hsts-preload": "true",
      },
      true,
    ),
    // TLS, nothing said: follows --ssl-redirect.
    annotated("default", "default.example.test", {}, true),
    // TLS, but never redirected; HSTS without the options.
    annotated(
      "optout",
      "optout.example.test",
      { "rennet.dev/ssl-redirect": "false", "rennet.dev/hsts-max-age": "600" },
      true,
    ),
    // No TLS here (offloaded in front): redirected anyway.
    annotated("forced", "forced.example.org", { "rennet.dev/force-ssl-redirect": "true" }, false),
    // No TLS, nothing said: never redirected.
    annotated("open", "open.example.org", {}, false),
    // Invalid values: reported and ignored (so this one behaves like "default", without HSTS).
    annotated(
      "invalid",
      "invalid.example.test",
      {
        "rennet.dev/ssl-redirect": "yes",
        "rennet.dev/hsts-max-age": "1y",
        "rennet.dev/hsts-preload": "TRUE",
      },
      true,
    ),
    // HSTS, but nothing to serve: rennet answers itself (503 without endpoints, 502 when refused).
    ...serviceWithEndpoints("empty", backend.port, []),
    ...serviceWithEndpoints("refusing", refused, ["127.0.0.52"]),
    withTls(hstsIngress("down", "down.example.test", "empty"), [
      { hosts: ["down.example.test"], secretName: "site-tls" },
    ]),
    withTls(hstsIngress("dead", "dead.example.test", "refusing"), [
      { hosts: ["dead.example.test"], secretName: "site-tls" },
    ]),
    // A wildcard TLS host covers its one-label subdomains.
    withTls(simpleIngress("wild", "*.wild.example.test", "web"), [
      { hosts: ["*.wild.example.test"], secretName: "site-tls" },
    ]),
  ]);
  [plain, global] = await Promise.all([
    harness.rennet({ manifests: [dir.dir] }),
    harness.rennet({ manifests: [dir.dir], args: ["--ssl-redirect"] }),
  ]);
}, SETUP_TIMEOUT_MS);

function get(rennet: Rennet, host: string, path = "/"): Promise<Reply> {
  return request(rennet.httpPort, { host, path });
}

function expectRedirect(reply: Reply, location: string): void {
  expect(reply.status, reply.body).toBe(308);
  expect(reply.headers.location).toBe(location);
  expect(reply.headers["strict-transport-security"]).toBeUndefined();
}

function expectProxied(reply: Reply): void {
  expect(reply.status, reply.body).toBe(200);
  expect(reply.json<Echo>().me).toBe("web");
  expect(reply.headers["strict-transport-security"]).toBeUndefined();
}

describe("HTTP → HTTPS redirects", () => {
  it('redirects a host whose Ingress says ssl-redirect "true" with 308 to the HTTPS port, path and query kept', async () => {
    for (const rennet of [plain, global]) {
      const port = rennet.httpsPort;
      expectRedirect(
        await get(rennet, "secure.example.test", "/cart/items?id=7&q=a%20b"),
        `https://secure.example.test:${port}/cart/items?id=7&q=a%20b`,
      );
      // A port in the Host header is replaced by the HTTPS port.
      expectRedirect(
        await get(rennet, `secure.example.test:${rennet.httpPort}`, "/x"),
        `https://secure.example.test:${port}/x`,
      );
      // Any method: 308 keeps it.
      const post = await request(rennet.httpPort, { host: "secure.example.test", method: "POST", body: "a=1" });
      expect(post.status).toBe(308);
    }
    // The redirect is answered by rennet, not the backend.
    expect(backend.seen.some((seen) => seen.headers.host?.startsWith("secure.example.test") === true)).toBe(false);
  });

  it("leaves hosts with TLS on HTTP by default (no --ssl-redirect)", async () => {
    expectProxied(await get(plain, "default.example.test"));
    expectProxied(await get(plain, "x.wild.example.test"));
  });

  it("with --ssl-redirect, redirects the hosts that have TLS, and only those", async () => {
    const port = global.httpsPort;
    expectRedirect(await get(global, "default.example.test", "/a?b=c"), `https://default.example.test:${port}/a?b=c`);
    expectRedirect(await get(global, "x.wild.example.test", "/"), `https://x.wild.example.test:${port}/`);
    expectProxied(await get(global, "open.example.org"));
  });

  it('does not redirect a host whose Ingress says ssl-redirect "false", even with --ssl-redirect', async () => {
    expectProxied(await get(plain, "optout.example.test"));
    expectProxied(await get(global, "optout.example.test"));
  });

  it("force-ssl-redirect redirects a host that has no certificate here", async () => {
    for (const rennet of [plain, global]) {
      expectRedirect(
        await get(rennet, "forced.example.org", "/p?q=1"),
        `https://forced.example.org:${rennet.httpsPort}/p?q=1`,
      );
    }
  });

  it("answers redirected hosts over HTTPS without redirecting again", async () => {
    for (const rennet of [plain, global]) {
      const reply = await httpsRequest(rennet.httpsPort, {
        servername: "secure.example.test",
        ca: pki.ca.cert,
        path: "/cart",
      });
      expect(reply.status).toBe(200);
      expect(reply.json<Echo>().headers["x-forwarded-proto"]).toBe("https");
    }
  });
});

describe("HSTS", () => {
  it("sends Strict-Transport-Security with the configured max-age, includeSubDomains and preload over HTTPS", async () => {
    const reply = await httpsRequest(plain.httpsPort, { servername: "secure.example.test", ca: pki.ca.cert });
    expect(reply.status).toBe(200);
    expect(reply.headers["strict-transport-security"]).toBe("max-age=31536000; includeSubDomains; preload");

    const short = await httpsRequest(plain.httpsPort, { servername: "optout.example.test", ca: pki.ca.cert });
    expect(short.status).toBe(200);
    expect(short.headers["strict-transport-security"]).toBe("max-age=600");
  });

  it("sends it over HTTP/2 as well", async () => {
    const session = await h2Session(plain.httpsPort, { servername: "secure.example.test", ca: pki.ca.cert });
    try {
      expect(session.alpnProtocol).toBe("h2");
      const reply = await h2Request(session, "secure.example.test", "/h2");
      expect(reply.status).toBe(200);
      expect(reply.headers["strict-transport-security"]).toBe("max-age=31536000; includeSubDomains; preload");
    } finally {
      await closeH2(session);
    }
  });

  it("never sends it on plain HTTP", async () => {
    const reply = await get(plain, "optout.example.test");
    expect(reply.status).toBe(200);
    expect(reply.headers["strict-transport-security"]).toBeUndefined();
    // Nor on the redirect itself (checked in expectRedirect).
    expectRedirect(await get(plain, "secure.example.test"), `https://secure.example.test:${plain.httpsPort}/`);
  });

  it("is sent on rennet's own answers for such hosts too (503 without endpoints, 502 from a dead upstream)", async () => {
    for (const [host, status] of [
      ["down.example.test", 503],
      ["dead.example.test", 502],
    ] as const) {
      const reply = await httpsRequest(plain.httpsPort, { servername: host, ca: pki.ca.cert });
      expect(reply.status, reply.body).toBe(status);
      expect(reply.headers["strict-transport-security"]).toBe("max-age=600");
      const overHttp = await get(plain, host);
      expect(overHttp.status).toBe(status);
      expect(overHttp.headers["strict-transport-security"]).toBeUndefined();
    }
  });

  it("is not sent for hosts whose Ingress does not ask for it", async () => {
    const reply = await httpsRequest(plain.httpsPort, { servername: "default.example.test", ca: pki.ca.cert });
    expect(reply.status).toBe(200);
    expect(reply.headers["strict-transport-security"]).toBeUndefined();
  });
});

describe("invalid annotation values", () => {
  it("are reported on stderr, naming the Ingress, the annotation and the value, and ignored", async () => {
    for (const rennet of [plain, global]) {
      for (const [annotation, value] of [
        ["rennet.dev/ssl-redirect", '"yes"'],
        ["rennet.dev/hsts-max-age", '"1y"'],
        ["rennet.dev/hsts-preload", '"TRUE"'],
      ] as const) {
        const line = await rennet.waitForLog(
          (entry) =>
            entry.ingress === "default/invalid" &&
            String(entry.problem ?? "").includes(annotation) &&
            String(entry.problem ?? "").includes(value),
          3000,
        );
        expect(["warn", "error"]).toContain(line.level);
      }
    }
    // Ignored: without --ssl-redirect no redirect, with it the global default applies; no HSTS.
    expectProxied(await get(plain, "invalid.example.test"));
    expectRedirect(
      await get(global, "invalid.example.test", "/i"),
      `https://invalid.example.test:${global.httpsPort}/i`,
    );
    const reply = await httpsRequest(plain.httpsPort, { servername: "invalid.example.test", ca: pki.ca.cert });
    expect(reply.status).toBe(200);
    expect(reply.headers["strict-transport-security"]).toBeUndefined();
    // Still running.
    expect(plain.exit).toBeUndefined();
    expect(global.exit).toBeUndefined();
  });
});
