/**
 * TLS helpers for the end-to-end tests, on top of the shared harness (backends, manifest
 * directories, rennet processes):
 *
 * - `Pki`: a test CA and leaf certificates made with the real openssl CLI in a temp directory
 *   (removed by `dispose()`, or by the harness for one made with `harness.pki()`); leaves are
 *   EC P-256, signed by the CA, with the SANs asked for and optionally explicit validity dates
 *   (through `openssl ca -startdate/-enddate`, which OpenSSL 3.0 supports where
 *   `x509 -not_before` does not exist yet).
 * - Manifest builders: kubernetes.io/tls Secrets (data or stringData) and spec.tls on an Ingress.
 * - Clients: a bare TLS handshake that reports the certificate shown, an HTTPS request over
 *   node:https (HTTP/1.1, ALPN "http/1.1"), and node:http2 sessions. Every wait is bounded.
 * - `leakProbes`/`findLeaks`: the strings a private key would show up as, and where they did.
 * - `startRecordingBackend`: a node:http backend that records the HTTP version it was spoken to
 *   in and how much of a request body has arrived so far (for streaming checks).
 */
import { execFile } from "node:child_process";
import { createHash, X509Certificate } from "node:crypto";
import { once } from "node:events";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type IncomingHttpHeaders as Http2IncomingHeaders,
  connect as http2Connect,
  type OutgoingHttpHeaders,
} from "node:http2";
import { type Agent, request as nodeHttpsRequest, type RequestOptions } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  checkServerIdentity,
  type PeerCertificate,
  type SecureVersion,
  type TLSSocket,
  connect as tlsConnect,
} from "node:tls";
import { type Reply, readReply } from "./http.js";
import type { Manifest } from "./manifests.js";

/** Bound on a test file's setup (certificates, backends, rennet): above vitest's 10 s hook default for busy machines. */
export const SETUP_TIMEOUT_MS = 30_000;

/** The subject CN of the certificate rennet makes for itself, shown to hosts without a usable one of their own. */
export const SELF_SIGNED_CN = "rennet default certificate";

const OPENSSL = "/usr/bin/openssl";
const OPENSSL_TIMEOUT_MS = 10_000;

function openssl(args: readonly string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(OPENSSL, args, { cwd, timeout: OPENSSL_TIMEOUT_MS, encoding: "utf8" }, (error, stdout, stderr) => {
      if (error !== null) reject(new Error(`openssl ${args.join(" ")} failed: ${error.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

// A config of our own, so that neither the system openssl.cnf nor $OPENSSL_CONF adds extensions.
const REQ_CONFIG = "[req]\ndistinguished_name = dn\n[dn]\n";

function caConfig(dir: string): string {
  return [
    "[ca]",
    "default_ca = test",
    "[test]",
    `database = ${join(dir, "index.txt")}`,
    `new_certs_dir = ${dir}`,
    `serial = ${join(dir, "serial")}`,
    "default_md = sha256",
    "policy = anything",
    "unique_subject = no",
    "copy_extensions = copy",
    "[anything]",
    "commonName = supplied",
    "",
  ].join("\n");
}

/** A certificate and its key, as PEM, with what the tests compare. */
export interface KeyPair {
  readonly cert: string;
  readonly key: string;
  readonly fingerprint256: string;
  /** "CN=…", as X509Certificate.subject writes it. */
  readonly subject: string;
  readonly notAfter: Date;
}

export interface LeafOptions {
  /** DNS SANs; default [commonName]. */
  readonly sans?: readonly string[];
  /** Validity start and end; default: from now for two days. */
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  /** Default "ec" (P-256). */
  readonly keyType?: "ec" | "rsa";
  /** "pkcs8" (BEGIN PRIVATE KEY, the default) or "traditional" (BEGIN RSA/EC PRIVATE KEY). */
  readonly keyFormat?: "pkcs8" | "traditional";
  /** Signed by an intermediate CA (itself signed by the root); `cert` is then leaf + intermediate. */
  readonly intermediate?: boolean;
}

function pairOf(cert: string, key: string): KeyPair {
  const x509 = new X509Certificate(cert);
  return { cert, key, fingerprint256: x509.fingerprint256, subject: x509.subject, notAfter: new Date(x509.validTo) };
}

// openssl ca wants YYYYMMDDHHMMSSZ.
function asn1Time(date: Date): string {
  return `${date.toISOString().replace(/[-:T]/g, "").slice(0, 14)}Z`;
}

function newKey(type: "ec" | "rsa"): string[] {
  return type === "rsa" ? ["-newkey", "rsa:2048"] : ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"];
}

/**
 * A CA certificate for `commonName` with a fresh key, as `<name>.crt` and `<name>.key` in `dir`:
 * self-signed, or signed by the CA whose files are `<issuer>.crt` and `<issuer>.key`.
 */
async function makeCa(dir: string, name: string, commonName: string, issuer?: string): Promise<KeyPair> {
  const signing = issuer === undefined ? [] : ["-CA", `${issuer}.crt`, "-CAkey", `${issuer}.key`];
  await openssl(
    [
      "req",
      "-config",
      "req.cnf",
      "-x509",
      ...newKey("ec"),
      "-nodes",
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.crt`,
      ...signing,
      "-days",
      "3",
      "-subj",
      `/CN=${commonName}`,
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    ],
    dir,
  );
  return pairOf(await readFile(join(dir, `${name}.crt`), "utf8"), await readFile(join(dir, `${name}.key`), "utf8"));
}

/** A test CA in a temp directory, and leaf certificates it signs. */
export class Pki {
  readonly dir: string;
  readonly ca: KeyPair;
  #count = 0;
  #intermediate: Promise<KeyPair> | undefined;

  private constructor(dir: string, ca: KeyPair) {
    this.dir = dir;
    this.ca = ca;
  }

  static async create(): Promise<Pki> {
    const dir = await mkdtemp(join(tmpdir(), "rennet-tls-"));
    try {
      await writeFile(join(dir, "req.cnf"), REQ_CONFIG);
      return new Pki(dir, await makeCa(dir, "ca", "rennet test CA"));
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** The intermediate CA (int.crt/int.key), made on first use. */
  intermediate(): Promise<KeyPair> {
    this.#intermediate ??= makeCa(this.dir, "int", "rennet test intermediate CA", "ca");
    return this.#intermediate;
  }

  /** A leaf certificate for `commonName` signed by the CA, with a fresh key. */
  async leaf(commonName: string, options: LeafOptions = {}): Promise<KeyPair> {
    const id = `leaf-${this.#count++}`;
    const sans = (options.sans ?? [commonName]).map((name) => `DNS:${name}`).join(",");
    const [issuerCert, issuerKey] = options.intermediate === true ? ["int.crt", "int.key"] : ["ca.crt", "ca.key"];
    const intermediate = options.intermediate === true ? await this.intermediate() : undefined;
    const common = [
      "-config",
      "req.cnf",
      ...newKey(options.keyType ?? "ec"),
      "-nodes",
      "-keyout",
      `${id}.key`,
      "-subj",
      `/CN=${commonName}`,
      "-addext",
      `subjectAltName=${sans}`,
      "-addext",
      "basicConstraints=critical,CA:FALSE",
      "-addext",
      "extendedKeyUsage=serverAuth",
    ];
    if (options.notBefore === undefined && options.notAfter === undefined) {
      await openssl(
        ["req", ...common, "-x509", "-CA", issuerCert, "-CAkey", issuerKey, "-days", "2", "-out", `${id}.crt`],
        this.dir,
      );
    } else {
      // Explicit dates (e.g. an expired certificate) go through `openssl ca`, in a directory of its own.
      const caDir = join(this.dir, id);
      await mkdir(caDir);
      await writeFile(join(caDir, "index.txt"), "");
      await writeFile(join(caDir, "serial"), `${(Date.now() * 1000 + this.#count).toString(16).padStart(16, "0")}\n`);
      await writeFile(join(caDir, "ca.cnf"), caConfig(caDir));
      await openssl(["req", ...common, "-new", "-out", `${id}.csr`], this.dir);
      const notBefore = options.notBefore ?? new Date(Date.now() - 3_600_000);
      const notAfter = options.notAfter ?? new Date(Date.now() + 2 * 86_400_000);
      await openssl(
        [
          "ca",
          "-batch",
          "-notext",
          "-config",
          join(caDir, "ca.cnf"),
          "-cert",
          issuerCert,
          "-keyfile",
          issuerKey,
          "-in",
          `${id}.csr`,
          "-out",
          `${id}.crt`,
          "-startdate",
          asn1Time(notBefore),
          "-enddate",
          asn1Time(notAfter),
        ],
        this.dir,
      );
    }
    if (options.keyFormat === "traditional") {
      await openssl(["pkey", "-in", `${id}.key`, "-traditional", "-out", `${id}.trad.key`], this.dir);
    }
    const cert = await readFile(join(this.dir, `${id}.crt`), "utf8");
    const key = await readFile(
      join(this.dir, options.keyFormat === "traditional" ? `${id}.trad.key` : `${id}.key`),
      "utf8",
    );
    const pair = pairOf(cert, key);
    return intermediate === undefined ? pair : { ...pair, cert: `${cert.trimEnd()}\n${intermediate.cert}` };
  }

  async dispose(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

// --- manifests ---------------------------------------------------------------------------------

export const TLS_SECRET_TYPE = "kubernetes.io/tls";

/** A Secret holding `pair` as tls.crt/tls.key: base64 under data (default), or PEM under stringData. */
export function tlsSecret(
  name: string,
  pair: { readonly cert: string; readonly key: string },
  options: { namespace?: string; type?: string; encoding?: "data" | "stringData" } = {},
): Manifest {
  const fields =
    options.encoding === "stringData"
      ? { stringData: { "tls.crt": pair.cert, "tls.key": pair.key } }
      : {
          data: {
            "tls.crt": Buffer.from(pair.cert).toString("base64"),
            "tls.key": Buffer.from(pair.key).toString("base64"),
          },
        };
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name, namespace: options.namespace ?? "default" },
    type: options.type ?? TLS_SECRET_TYPE,
    ...fields,
  };
}

export interface TlsSpec {
  /** Omitted: the hosts of the Ingress's rules. */
  readonly hosts?: readonly string[];
  readonly secretName: string;
}

/** `ingress` with spec.tls set to `tls`. */
export function withTls(ingress: Manifest, tls: readonly TlsSpec[]): Manifest {
  const spec = (ingress.spec ?? {}) as Record<string, unknown>;
  return {
    ...ingress,
    spec: {
      ...spec,
      tls: tls.map((entry) => ({
        ...(entry.hosts !== undefined ? { hosts: [...entry.hosts] } : {}),
        secretName: entry.secretName,
      })),
    },
  };
}

// --- clients -----------------------------------------------------------------------------------

export interface Handshake {
  /** The certificate the server showed. */
  readonly cert: PeerCertificate;
  readonly fingerprint256: string;
  readonly commonName: string;
  /** The chain verified against the CA given (host names are not part of this; see `hostVerified`). */
  readonly authorized: boolean;
  readonly authorizationError: string | undefined;
  /** The certificate is valid for this host name (checkServerIdentity). */
  hostVerified(host: string): boolean;
  readonly alpnProtocol: string | false | null;
  readonly protocol: string | null;
  readonly reused: boolean;
  /** The session for resumption, when the server sent one within the wait. */
  readonly session: Buffer | undefined;
}

export interface HandshakeOptions {
  /** SNI; undefined (connecting to an IP) sends none. */
  readonly servername?: string;
  readonly ca?: string;
  readonly minVersion?: SecureVersion;
  readonly maxVersion?: SecureVersion;
  readonly session?: Buffer;
  readonly alpn?: readonly string[];
  /** Wait this long for a session ticket after the handshake (for resumption). Default 0. */
  readonly sessionWaitMs?: number;
  readonly timeoutMs?: number;
}

/** Completes one TLS handshake with 127.0.0.1:`port`, reports it, and closes the connection. */
export function handshake(port: number, options: HandshakeOptions = {}): Promise<Handshake> {
  const timeoutMs = options.timeoutMs ?? 5000;
  return new Promise((resolve, reject) => {
    let session: Buffer | undefined;
    let settled = false;
    const socket: TLSSocket = tlsConnect({
      host: "127.0.0.1",
      port,
      ...(options.servername !== undefined ? { servername: options.servername } : {}),
      ...(options.ca !== undefined ? { ca: options.ca } : {}),
      rejectUnauthorized: false,
      // `authorized` then reports the chain alone; `hostVerified()` checks names.
      checkServerIdentity: () => undefined,
      ...(options.minVersion !== undefined ? { minVersion: options.minVersion } : {}),
      ...(options.maxVersion !== undefined ? { maxVersion: options.maxVersion } : {}),
      ...(options.session !== undefined ? { session: options.session } : {}),
      ALPNProtocols: [...(options.alpn ?? ["http/1.1"])],
    });
    const timer = setTimeout(() => fail(new Error(`no TLS handshake within ${timeoutMs} ms`)), timeoutMs);
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    socket.on("session", (data: Buffer) => {
      session = data;
    });
    socket.on("error", fail);
    socket.on("secureConnect", () => {
      const cert = socket.getPeerCertificate();
      const report = (): Handshake => ({
        cert,
        fingerprint256: cert.fingerprint256,
        commonName: String(cert.subject?.CN ?? ""),
        authorized: socket.authorized,
        authorizationError: socket.authorizationError === null ? undefined : String(socket.authorizationError),
        hostVerified: (host) => checkServerIdentity(host, cert) === undefined,
        alpnProtocol: socket.alpnProtocol,
        protocol: socket.getProtocol(),
        reused: socket.isSessionReused(),
        session,
      });
      const finish = () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const result = report();
        socket.end();
        socket.destroy();
        resolve(result);
      };
      const waitMs = options.sessionWaitMs ?? 0;
      if (waitMs === 0 || session !== undefined) {
        finish();
        return;
      }
      // TLS 1.3 tickets arrive after the handshake: read until one came, boundedly.
      const wait = setTimeout(finish, waitMs);
      socket.once("session", () => {
        clearTimeout(wait);
        finish();
      });
      socket.resume();
    });
  });
}

export interface HttpsReply extends Reply {
  readonly alpnProtocol: string | false | null;
  readonly fingerprint256: string;
  /** The request went out on a connection used before (keep-alive). */
  readonly reusedSocket: boolean;
}

export interface HttpsRequestOptions {
  /** SNI and the name the certificate is checked against; also the Host header unless `host` is set. */
  readonly servername?: string;
  /** The Host header; default `servername`. */
  readonly host?: string;
  readonly path?: string;
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string | Buffer;
  /** Verify the certificate against this CA (and the name against `servername`); default: no verification. */
  readonly ca?: string;
  readonly agent?: Agent;
  readonly timeoutMs?: number;
}

/** One HTTP/1.1 request over TLS (ALPN "http/1.1") to 127.0.0.1:`port`. */
export function httpsRequest(port: number, options: HttpsRequestOptions = {}): Promise<HttpsReply> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const host = options.host ?? options.servername;
  return new Promise((resolve, reject) => {
    // ALPNProtocols goes through to tls.connect (and an Agent's createConnection); @types/node omits it.
    const requestOptions: RequestOptions & { ALPNProtocols: string[] } = {
      host: "127.0.0.1",
      port,
      path: options.path ?? "/",
      method: options.method ?? "GET",
      headers: { ...(host !== undefined ? { host } : {}), ...options.headers },
      ...(options.servername !== undefined ? { servername: options.servername } : {}),
      ...(options.ca !== undefined ? { ca: options.ca } : { rejectUnauthorized: false }),
      ALPNProtocols: ["http/1.1"],
      agent: options.agent ?? false,
    };
    const req = nodeHttpsRequest(requestOptions);
    const timer = setTimeout(() => req.destroy(new Error(`no complete response within ${timeoutMs} ms`)), timeoutMs);
    req.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.on("response", (res) => {
      const socket = res.socket as TLSSocket;
      const alpnProtocol = socket.alpnProtocol;
      const fingerprint256 = socket.getPeerCertificate().fingerprint256;
      readReply(res).then(
        (reply) => {
          clearTimeout(timer);
          resolve({ ...reply, alpnProtocol, fingerprint256, reusedSocket: req.reusedSocket });
        },
        (error: Error) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
    req.end(options.body);
  });
}

/** Opens an HTTP/2 session to 127.0.0.1:`port` with SNI `servername`, verifying against `ca`. */
export function h2Session(
  port: number,
  options: { servername?: string; ca?: string; timeoutMs?: number } = {},
): Promise<ClientHttp2Session> {
  const timeoutMs = options.timeoutMs ?? 5000;
  return new Promise((resolve, reject) => {
    const session = http2Connect(`https://127.0.0.1:${port}`, {
      ...(options.servername !== undefined ? { servername: options.servername } : {}),
      ...(options.ca !== undefined ? { ca: options.ca } : { rejectUnauthorized: false }),
    });
    const timer = setTimeout(() => {
      session.destroy();
      reject(new Error(`no HTTP/2 session within ${timeoutMs} ms`));
    }, timeoutMs);
    session.once("error", (error) => {
      clearTimeout(timer);
      session.destroy();
      reject(error);
    });
    session.once("connect", () => {
      clearTimeout(timer);
      session.removeAllListeners("error");
      session.on("error", () => undefined);
      resolve(session);
    });
  });
}

export interface H2Reply {
  readonly status: number;
  readonly headers: Http2IncomingHeaders;
  readonly body: string;
  json<T = unknown>(): T;
}

/** Reads a whole HTTP/2 response from `stream`, boundedly. */
export function h2Response(stream: ClientHttp2Stream, timeoutMs = 5000): Promise<H2Reply> {
  return new Promise((resolve, reject) => {
    let headers: Http2IncomingHeaders = {};
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      stream.close();
      reject(new Error(`no complete HTTP/2 response within ${timeoutMs} ms`));
    }, timeoutMs);
    stream.on("response", (received) => {
      headers = received;
    });
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    stream.on("end", () => {
      clearTimeout(timer);
      const body = Buffer.concat(chunks).toString("utf8");
      resolve({
        status: Number(headers[":status"] ?? 0),
        headers,
        body,
        json: <T>() => JSON.parse(body) as T,
      });
    });
  });
}

/** One HTTP/2 request on `session` for `authority`. */
export function h2Request(
  session: ClientHttp2Session,
  authority: string,
  path = "/",
  options: { method?: string; headers?: OutgoingHttpHeaders; body?: string | Buffer; timeoutMs?: number } = {},
): Promise<H2Reply> {
  const stream = session.request(
    { ":method": options.method ?? "GET", ":path": path, ":authority": authority, ...options.headers },
    { endStream: options.body === undefined },
  );
  const reply = h2Response(stream, options.timeoutMs);
  if (options.body !== undefined) stream.end(options.body);
  return reply;
}

/** Closes an HTTP/2 session, destroying it when it does not close within `timeoutMs`. */
export function closeH2(session: ClientHttp2Session, timeoutMs = 2000): Promise<void> {
  if (session.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      session.destroy();
      resolve();
    }, timeoutMs);
    session.close(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

// --- key leaks ---------------------------------------------------------------------------------

/**
 * What a private key would look like in a log or an API: each base64 line of its PEM body, the
 * body in one piece, and the base64 of the whole PEM (as a Secret's data holds it) in pieces.
 */
export function leakProbes(keyPem: string): string[] {
  const lines = keyPem
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("-----"));
  const body = lines.join("");
  const data = Buffer.from(keyPem).toString("base64");
  const probes = [...lines.filter((line) => line.length >= 16), body];
  for (let at = 0; at + 32 <= data.length; at += 32) probes.push(data.slice(at, at + 32));
  return probes;
}

/** Names of the `sources` that contain a probe of `keyPem` or a PEM private key marker. */
export function findLeaks(keyPem: string, sources: Record<string, string>): string[] {
  const probes = leakProbes(keyPem);
  const leaks: string[] = [];
  for (const [name, text] of Object.entries(sources)) {
    const unescaped = text.replace(/\\n/g, "\n").replace(/\\\//g, "/");
    if (/PRIVATE KEY-----/.test(unescaped)) leaks.push(`${name}: a PEM private key marker`);
    for (const probe of probes) {
      if (text.includes(probe) || unescaped.includes(probe)) {
        leaks.push(`${name}: ${probe.slice(0, 12)}…`);
        break;
      }
    }
  }
  return leaks;
}

// --- a backend that tells what protocol it was spoken to in ----------------------------------

export interface Recorded {
  readonly httpVersion: string;
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** Request body bytes received so far (grows while the body streams in). */
  bytes: number;
  /** The whole body arrived (for chunked bodies: the terminating chunk too). */
  ended: boolean;
  /** "aborted": the connection closed before the response was written completely. */
  outcome: "finished" | "aborted" | undefined;
}

export interface RecordedEcho {
  readonly httpVersion: string;
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly bodyBytes: number;
  readonly bodySha1: string;
}

export interface RecordingBackend {
  readonly host: string;
  readonly port: number;
  readonly seen: Recorded[];
  /** Resolves once `probe` holds, polling every 5 ms; rejects after `timeoutMs`. */
  until(probe: () => boolean, timeoutMs: number, what: string): Promise<void>;
  close(): Promise<void>;
}

/** The body `?bytes=N` answers with: a repeating pattern, the same for every request. */
export function downloadBody(size: number): Buffer {
  const pattern = Buffer.from("0123456789abcdefghijklmnopqrstuvwxyz\n");
  const body = Buffer.alloc(size);
  for (let at = 0; at < size; at += pattern.length) pattern.copy(body, at);
  return body;
}

// Writes downloadBody(size) in 64 KiB chunks, waiting for "drain" whenever the socket is full.
function download(res: ServerResponse, size: number): void {
  const body = downloadBody(size);
  res.writeHead(200, { "content-type": "application/octet-stream", "content-length": size });
  let at = 0;
  const pump = () => {
    while (at < size && !res.destroyed) {
      const chunk = body.subarray(at, Math.min(size, at + 65_536));
      at += chunk.length;
      if (!res.write(chunk)) {
        res.once("drain", pump);
        return;
      }
    }
    if (!res.destroyed) res.end();
  };
  pump();
}

/**
 * A node:http backend (so HTTP/1.x only) that records each request's HTTP version, headers and
 * body progress as it streams in, and answers at the end of the body with a JSON echo of them;
 * or, for `?bytes=N`, with `downloadBody(N)`, written with backpressure.
 */
export async function startRecordingBackend(host: string): Promise<RecordingBackend> {
  const seen: Recorded[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const record: Recorded = {
      httpVersion: req.httpVersion,
      method: req.method ?? "",
      url: req.url ?? "",
      headers: req.headers,
      bytes: 0,
      ended: false,
      outcome: undefined,
    };
    seen.push(record);
    res.on("close", () => {
      record.outcome = res.writableFinished ? "finished" : "aborted";
    });
    const hash = createHash("sha1");
    req.on("data", (chunk: Buffer) => {
      record.bytes += chunk.length;
      hash.update(chunk);
    });
    req.on("error", () => undefined);
    res.on("error", () => undefined);
    req.on("end", () => {
      record.ended = true;
      const size = Number(new URL(record.url, "http://backend").searchParams.get("bytes") ?? "");
      if (Number.isInteger(size) && size > 0) {
        download(res, size);
        return;
      }
      const echo: RecordedEcho = {
        httpVersion: record.httpVersion,
        method: record.method,
        url: record.url,
        headers: record.headers,
        bodyBytes: record.bytes,
        bodySha1: hash.digest("hex"),
      };
      const payload = JSON.stringify(echo);
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(payload) });
      res.end(payload);
    });
  });
  server.listen(0, host);
  await Promise.race([
    once(server, "listening"),
    once(server, "error").then(([error]) => {
      throw error;
    }),
  ]);
  return {
    host,
    port: (server.address() as AddressInfo).port,
    seen,
    async until(probe, timeoutMs, what) {
      const deadline = Date.now() + timeoutMs;
      while (!probe()) {
        if (Date.now() > deadline) throw new Error(`backend ${host}: ${what} not within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
