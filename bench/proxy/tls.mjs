// The HTTPS rows of the bench: the certificate both TLS proxies terminate, the
// correctness check over TLS, and the two load tools besides wrk:
//
// - newconn (newconn.c, compiled here at bench time): every request on a new
//   TCP connection with a FULL TLS handshake (no resumption, verified: the
//   run is refused if a single handshake resumed).
// - h2load (nghttp2-client): HTTP/2 over TLS on keep-alive connections.
//
// wrk is the keep-alive HTTPS/1.1 tool, as for the plain rows. Neither wrk
// nor h2load can measure full handshakes: both resume TLS sessions when they
// reconnect (wrk keeps the session on the SSL object it reuses; h2load
// reconnects with its client's session), so "wrk -H 'Connection: close'"
// would measure resumed handshakes.
import { spawnSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect as http2Connect } from "node:http2";
import { request as httpsRequest } from "node:https";
import { dirname, join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { fileURLToPath } from "node:url";
import { runPinned } from "./wrk.mjs";

const here = dirname(fileURLToPath(import.meta.url));

/** TLS 1.3 cipher suites offered by h2load, in the order of OpenSSL's own default (what wrk and newconn offer). */
const TLS13_CIPHERS = "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256";

function openssl(bin, args, cwd) {
  const out = spawnSync(bin, args, { cwd, encoding: "utf8", timeout: 30_000 });
  if (out.status !== 0) throw new Error(`openssl ${args.join(" ")} failed:\n${out.stderr ?? out.error}`);
  return out.stdout;
}

/**
 * A bench CA and a leaf certificate for `host` signed by it, both RSA 2048
 * (cert-manager's default key), the leaf's key in PKCS#1 as cert-manager
 * writes it, valid two days from now; in `dir` (inside the bench's temp dir).
 */
export function makeCertificate(dir, host, bin = "openssl") {
  mkdirSync(dir, { recursive: true });
  // A config of our own, so that neither the system openssl.cnf nor $OPENSSL_CONF adds extensions.
  writeFileSync(join(dir, "req.cnf"), "[req]\ndistinguished_name = dn\n[dn]\n");
  const common = ["req", "-config", "req.cnf", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"];
  openssl(
    bin,
    [
      ...common,
      "-keyout",
      "ca.key",
      "-out",
      "ca.crt",
      "-subj",
      "/CN=rennet bench CA",
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    ],
    dir,
  );
  openssl(
    bin,
    [
      ...common,
      "-keyout",
      "leaf.pkcs8.key",
      "-out",
      "tls.crt",
      "-CA",
      "ca.crt",
      "-CAkey",
      "ca.key",
      "-subj",
      `/CN=${host}`,
      "-addext",
      `subjectAltName=DNS:${host}`,
      "-addext",
      "basicConstraints=critical,CA:FALSE",
      "-addext",
      "keyUsage=critical,digitalSignature,keyEncipherment",
      "-addext",
      "extendedKeyUsage=serverAuth",
    ],
    dir,
  );
  openssl(bin, ["pkey", "-in", "leaf.pkcs8.key", "-traditional", "-out", "tls.key"], dir);
  const cert = readFileSync(join(dir, "tls.crt"), "utf8");
  const x509 = new X509Certificate(cert);
  return {
    dir,
    host,
    ca: readFileSync(join(dir, "ca.crt"), "utf8"),
    cert,
    key: readFileSync(join(dir, "tls.key"), "utf8"),
    certFile: join(dir, "tls.crt"),
    keyFile: join(dir, "tls.key"),
    fingerprint256: x509.fingerprint256,
    description: `RSA ${x509.publicKey.asymmetricKeyDetails?.modulusLength ?? "?"}, ${x509.subject.replace(/\n/g, ", ")}, SAN ${x509.subjectAltName}, signed by a bench CA (sha256WithRSAEncryption)`,
  };
}

/** Compiles newconn.c into `dir` with the system C compiler and OpenSSL; returns the executable. */
export function buildNewconn(dir, cc = "cc") {
  const out = join(dir, "newconn");
  const result = spawnSync(cc, ["-O2", "-Wall", "-o", out, join(here, "newconn.c"), "-lssl", "-lcrypto"], {
    encoding: "utf8",
  });
  if (result.status !== 0) {
    throw new Error(
      `cannot compile newconn.c (needs gcc and libssl-dev): ${result.stderr?.trim() ?? result.error?.message}`,
    );
  }
  return out;
}

/**
 * One newconn window: `connections` slots, each a new TLS connection with a
 * full handshake and one GET per request. Resolves to the wrk-like shape the
 * report reads (requestsPerSecond is new connections per second).
 */
export async function runNewconn({ bin, port, path, host, seconds, connections, cpu, onSpawn }) {
  const out = await runPinned({
    cmd: bin,
    args: ["-p", String(port), "-c", String(connections), "-d", String(seconds), "-H", host, "-P", path],
    cpu,
    seconds,
    onSpawn,
    name: "newconn",
  });
  let r;
  try {
    r = JSON.parse(out);
  } catch {
    throw new Error(`newconn: unreadable report:\n${out}`);
  }
  if (r.resumed !== 0) {
    throw new Error(`newconn: ${r.resumed} of ${r.handshakes} handshakes resumed a session; expected full handshakes`);
  }
  const socketErrors = { connect: r.errors.connect, read: r.errors.read, write: r.errors.write, timeout: 0 };
  const errors = r.non2xx + r.errors.connect + r.errors.handshake + r.errors.read + r.errors.write;
  return {
    requestsPerSecond: r.connectionsPerSecond,
    requests: r.completed,
    elapsedMs: r.seconds * 1000,
    latencyMs: { p50: r.latencyMs.p50, p75: r.latencyMs.p75, p90: r.latencyMs.p90, p99: r.latencyMs.p99 },
    non2xx: r.non2xx,
    socketErrors: { ...socketErrors, handshake: r.errors.handshake },
    errors,
    handshakes: r.handshakes,
    resumed: r.resumed,
    negotiated: { protocol: r.protocol, cipher: r.cipher, group: r.group, alpn: r.alpn },
  };
}

/** Percentiles (ms) of the third column (µs) of an h2load --log-file. */
function logPercentiles(file) {
  const durations = [];
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return {};
  }
  for (const line of text.split("\n")) {
    const us = Number(line.split("\t")[2]);
    if (line !== "" && Number.isFinite(us)) durations.push(us);
  }
  durations.sort((a, b) => a - b);
  const at = (p) =>
    durations.length === 0
      ? null
      : durations[Math.min(durations.length - 1, Math.ceil(p * durations.length) - 1)] / 1000;
  return { p50: at(0.5), p75: at(0.75), p90: at(0.9), p99: at(0.99) };
}

/** The numbers of one h2load report. */
export function parseH2load(output) {
  const finished = /finished in ([\d.]+)(m?s), ([\d.]+) req\/s/.exec(output);
  const reqs =
    /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(
      output,
    );
  const codes = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(output);
  if (!finished || !reqs || !codes) throw new Error(`h2load: unreadable report:\n${output}`);
  const negotiated = {
    protocol: /TLS Protocol: (\S+)/.exec(output)?.[1] ?? /Protocol: (\S+)/.exec(output)?.[1] ?? "",
    cipher: /Cipher: (\S+)/.exec(output)?.[1] ?? "",
    group: /Server Temp Key: (\S+)/.exec(output)?.[1] ?? "",
    alpn: /Application protocol: (\S+)/.exec(output)?.[1] ?? "",
  };
  const non2xx = Number(codes[3]) + Number(codes[4]);
  const failed = Number(reqs[5]);
  const errored = Number(reqs[6]);
  const timeout = Number(reqs[7]);
  return {
    requestsPerSecond: Number(finished[3]),
    requests: Number(reqs[4]),
    elapsedMs: Number(finished[1]) * (finished[2] === "s" ? 1000 : 1),
    non2xx,
    socketErrors: { connect: 0, read: 0, write: 0, timeout },
    // failed counts non-2xx/3xx too; errored are the requests a broken connection lost.
    errors: Math.max(failed, non2xx) + timeout,
    failed,
    errored,
    negotiated,
  };
}

/**
 * One h2load window: HTTP/2 over TLS (ALPN h2), `connections` connections,
 * `streams` concurrent streams each, SNI and :authority the bench host (via
 * --connect-to). Latency percentiles from its per-request log.
 */
export async function runH2load({
  h2load = "h2load",
  port,
  path,
  host,
  seconds,
  connections,
  streams = 1,
  cpu,
  onSpawn,
  logFile,
}) {
  const args = [
    "-t1",
    `-c${connections}`,
    `-m${streams}`,
    "-D",
    String(seconds),
    `--tls13-ciphers=${TLS13_CIPHERS}`,
    `--connect-to=127.0.0.1:${port}`,
    ...(logFile ? [`--log-file=${logFile}`] : []),
    `https://${host}${path}`,
  ];
  const out = await runPinned({ cmd: h2load, args, cpu, seconds, onSpawn, name: "h2load" });
  const parsed = parseH2load(out);
  const latencyMs = logFile ? logPercentiles(logFile) : {};
  if (logFile) rmSync(logFile, { force: true });
  if (parsed.negotiated.alpn !== "h2") throw new Error(`h2load: negotiated "${parsed.negotiated.alpn}", not h2`);
  return { ...parsed, latencyMs };
}

// --- the correctness check over TLS ---------------------------------------------------------------

/** A bare TLS handshake; resolves to what the server showed and negotiated. */
function handshake(port, { servername, ca, alpn = ["http/1.1"] }) {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({
      host: "127.0.0.1",
      port,
      ...(servername ? { servername } : {}),
      ca,
      rejectUnauthorized: false,
      checkServerIdentity: () => undefined,
      ALPNProtocols: alpn,
    });
    socket.setTimeout(5000, () => socket.destroy(new Error("no TLS handshake within 5 s")));
    socket.once("error", reject);
    socket.once("secureConnect", () => {
      const cert = socket.getPeerCertificate();
      resolve({
        fingerprint256: cert.fingerprint256,
        authorized: socket.authorized,
        protocol: socket.getProtocol(),
        cipher: socket.getCipher()?.standardName ?? socket.getCipher()?.name,
        alpn: socket.alpnProtocol,
      });
      socket.end();
    });
  });
}

/** One HTTPS/1.1 GET on its own connection, SNI `host`, verified against `ca` (chain and host name). */
function httpsGet(port, path, { host, ca, headers = {} }) {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: "127.0.0.1",
        port,
        path,
        method: "GET",
        servername: host,
        ca,
        rejectUnauthorized: true,
        headers: { host, ...headers },
        agent: false,
        ALPNProtocols: ["http/1.1"],
      },
      (res) => {
        const chunks = [];
        res.on("data", (chunk) => chunks.push(chunk));
        res.on("end", () =>
          resolve({
            status: res.statusCode,
            headers: res.headers,
            body: Buffer.concat(chunks),
            protocol: res.socket?.getProtocol?.() ?? null,
          }),
        );
        res.on("error", reject);
      },
    );
    req.setTimeout(5000, () => req.destroy(new Error("no answer within 5000 ms")));
    req.on("error", reject);
    req.end();
  });
}

/** GETs over one HTTP/2 connection (ALPN h2, SNI `host`, verified against `ca`). */
async function http2Gets(port, paths, { host, ca, headers = {} }) {
  const session = http2Connect(`https://127.0.0.1:${port}`, { servername: host, ca, rejectUnauthorized: true });
  try {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no HTTP/2 connection within 5 s")), 5000);
      session.once("connect", () => {
        clearTimeout(timer);
        resolve();
      });
      session.once("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
    const alpn = session.alpnProtocol;
    const results = [];
    for (const path of paths) {
      results.push(
        await new Promise((resolve, reject) => {
          const stream = session.request({ ":method": "GET", ":path": path, ":authority": host, ...headers });
          stream.setTimeout(5000, () => stream.close());
          let head;
          const chunks = [];
          stream.on("response", (h) => {
            head = h;
          });
          stream.on("data", (chunk) => chunks.push(chunk));
          stream.on("end", () =>
            head
              ? resolve({ status: head[":status"], headers: head, body: Buffer.concat(chunks) })
              : reject(new Error(`${path}: no response`)),
          );
          stream.on("error", reject);
          // Closed before its end (e.g. by the timeout): a no-op once resolved.
          stream.on("close", () => reject(new Error(`HTTP/2 ${path}: stream closed without a complete response`)));
          stream.end();
        }),
      );
    }
    return { alpn, results };
  } finally {
    session.close();
  }
}

/**
 * The TLS correctness check: the certificate for the bench host (SNI) is the
 * bench certificate and verifies against the bench CA; a client without SNI
 * (and wrk, which sends 127.0.0.1) gets the same certificate; TLS 1.3 is
 * negotiated; over HTTPS/1.1 and over HTTP/2 the backend sees the Host, an
 * X-Forwarded-For with the client appended and X-Forwarded-Proto "https", and
 * both bodies come back byte for byte. Throws with every problem found;
 * returns what was negotiated.
 */
export async function checkTls(name, port, { host, bodies, tls }) {
  const problems = [];
  const bySni = await handshake(port, { servername: host, ca: tls.ca });
  if (bySni.fingerprint256 !== tls.fingerprint256) problems.push(`SNI ${host}: not the bench certificate`);
  if (!bySni.authorized) problems.push(`SNI ${host}: the certificate does not verify against the bench CA`);
  if (bySni.protocol !== "TLSv1.3") problems.push(`negotiated ${bySni.protocol}, expected TLSv1.3`);
  const noSni = await handshake(port, { ca: tls.ca });
  if (noSni.fingerprint256 !== tls.fingerprint256) problems.push("without SNI: not the bench certificate");

  const echo = await httpsGet(port, "/echo", { host, ca: tls.ca, headers: { "x-forwarded-for": "203.0.113.7" } });
  const checkEcho = (via, res) => {
    if (Number(res.status) !== 200) problems.push(`${via} /echo answered ${res.status}`);
    if (res.headers["x-echo-host"] !== host)
      problems.push(`${via}: the backend saw Host "${res.headers["x-echo-host"]}", expected "${host}"`);
    const xff = res.headers["x-echo-xff"] ?? "";
    if (!/^203\.0\.113\.7\s*,\s*127\.0\.0\.1$/.test(xff))
      problems.push(`${via}: the backend saw X-Forwarded-For "${xff}", expected "203.0.113.7, 127.0.0.1"`);
    if (res.headers["x-echo-proto"] !== "https")
      problems.push(
        `${via}: the backend saw X-Forwarded-Proto "${res.headers["x-echo-proto"] ?? ""}", expected "https"`,
      );
  };
  checkEcho("HTTPS/1.1", echo);
  for (const [path, expected] of Object.entries(bodies)) {
    const res = await httpsGet(port, path, { host, ca: tls.ca });
    if (res.status !== 200) problems.push(`HTTPS/1.1 ${path} answered ${res.status}`);
    else if (!res.body.equals(expected))
      problems.push(
        `HTTPS/1.1 ${path} returned ${res.body.length} bytes that differ from the backend's ${expected.length}`,
      );
  }

  const h2 = await http2Gets(port, ["/echo", ...Object.keys(bodies)], {
    host,
    ca: tls.ca,
    headers: { "x-forwarded-for": "203.0.113.7" },
  });
  if (h2.alpn !== "h2") problems.push(`ALPN h2 offered, "${h2.alpn}" negotiated`);
  checkEcho("HTTP/2", h2.results[0]);
  for (const [i, [path, expected]] of Object.entries(bodies).entries()) {
    const res = h2.results[i + 1];
    if (Number(res.status) !== 200) problems.push(`HTTP/2 ${path} answered ${res.status}`);
    else if (!res.body.equals(expected))
      problems.push(
        `HTTP/2 ${path} returned ${res.body.length} bytes that differ from the backend's ${expected.length}`,
      );
  }
  if (problems.length > 0)
    throw new Error(`${name} (HTTPS) failed its correctness check:\n  - ${problems.join("\n  - ")}`);
  return { protocol: bySni.protocol, cipher: bySni.cipher };
}
