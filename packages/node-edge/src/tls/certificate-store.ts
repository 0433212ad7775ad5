import { createPrivateKey, randomBytes, X509Certificate } from "node:crypto";
import { createSecureContext, type SecureContext } from "node:tls";
import type { Log, TlsBinding, TlsSecret } from "@rennet/k8s-sync";
import { LRUCache } from "lru-cache";
import { selfSignedCertificate } from "./self-signed.js";

/** What the admin API shows of a certificate: never the key. */
export interface CertificateInfo {
  readonly secret: string;
  readonly subject: string;
  readonly subjectAltNames: readonly string[];
  readonly notBefore: string;
  readonly notAfter: string;
  readonly fingerprint256: string;
  readonly hosts: readonly string[];
}

type Loaded =
  | { readonly ok: true; readonly context: SecureContext; readonly info: Omit<CertificateInfo, "hosts"> }
  | { readonly ok: false; readonly reason: string };

const SECURE_DEFAULTS = { minVersion: "TLSv1.2" as const, honorCipherOrder: true };

/**
 * TLS contexts chosen per connection by SNI: exact host, then a one-label
 * wildcard, then the default certificate. Contexts are built once per
 * Secret version and kept in a bounded LRU, so rotation (a new version)
 * takes effect for new connections while open ones keep theirs.
 */
export class CertificateStore {
  readonly #log: Log;
  readonly #now: () => Date;
  readonly #ticketKeys = randomBytes(48);
  readonly #loaded: LRUCache<string, Loaded>;
  #exact = new Map<string, SecureContext>();
  #wildcard = new Map<string, SecureContext>();
  #infos: CertificateInfo[] = [];
  #default: { context: SecureContext; cert: string; key: string; info: CertificateInfo };

  constructor(log: Log, now: () => Date = () => new Date(), cacheSize = 1000) {
    this.#log = log;
    this.#now = now;
    this.#loaded = new LRUCache({ max: cacheSize });
    this.#default = this.#selfSigned();
  }

  #selfSigned() {
    const { cert, key } = selfSignedCertificate("rennet default certificate", ["rennet.invalid"], this.#now());
    const loaded = this.#load("(self-signed)", "generated", cert, key) as Extract<Loaded, { ok: true }>;
    return { context: loaded.context, cert, key, info: { ...loaded.info, hosts: ["*"] } };
  }

  /** The default certificate's PEMs, for clients that send no SNI. */
  get defaultCertificate(): { cert: string; key: string } {
    return { cert: this.#default.cert, key: this.#default.key };
  }

  readonly SNICallback = (
    servername: string,
    callback: (error: Error | null, context?: SecureContext) => void,
  ): void => {
    callback(null, this.contextFor(servername));
  };

  contextFor(servername: string): SecureContext {
    const host = servername.toLowerCase();
    const exact = this.#exact.get(host);
    if (exact !== undefined) return exact;
    const dot = host.indexOf(".");
    if (dot > 0) {
      const wildcard = this.#wildcard.get(host.slice(dot + 1));
      if (wildcard !== undefined) return wildcard;
    }
    return this.#default.context;
  }

  certificates(): CertificateInfo[] {
    return [...this.#infos, this.#default.info];
  }

  /** Returns true when the default certificate changed (the server must be told for non-SNI clients). */
  update(
    bindings: readonly TlsBinding[],
    secrets: ReadonlyMap<string, TlsSecret>,
    defaultSecret: TlsSecret | undefined,
  ): boolean {
    const exact = new Map<string, SecureContext>();
    const wildcard = new Map<string, SecureContext>();
    const hostsBySecret = new Map<string, string[]>();
    const infos = new Map<string, Omit<CertificateInfo, "hosts">>();
    for (const binding of bindings) {
      const secret = secrets.get(binding.secret);
      if (secret === undefined || !secret.ok) continue; // reported by the translation
      const loaded = this.#cached(secret);
      if (!loaded.ok) continue;
      if (binding.host.startsWith("*.")) wildcard.set(binding.host.slice(2), loaded.context);
      else exact.set(binding.host, loaded.context);
      infos.set(secret.key, loaded.info);
      hostsBySecret.set(secret.key, [...(hostsBySecret.get(secret.key) ?? []), binding.host]);
    }
    this.#exact = exact;
    this.#wildcard = wildcard;
    this.#infos = [...infos].map(([key, info]) => ({ ...info, hosts: hostsBySecret.get(key) ?? [] }));
    return this.#updateDefault(defaultSecret);
  }

  #updateDefault(secret: TlsSecret | undefined): boolean {
    if (secret === undefined) return false;
    if (!secret.ok) {
      this.#log({
        level: "warn",
        msg: "default certificate unavailable; using a self-signed one",
        problem: secret.reason,
      });
      return false;
    }
    const loaded = this.#cached(secret);
    if (!loaded.ok || this.#default.info.fingerprint256 === loaded.info.fingerprint256) return false;
    this.#default = {
      context: loaded.context,
      cert: secret.cert,
      key: secret.privateKey,
      info: { ...loaded.info, hosts: ["*"] },
    };
    return true;
  }

  #cached(secret: Extract<TlsSecret, { ok: true }>): Loaded {
    const id = `${secret.key}@${secret.version}`;
    let loaded = this.#loaded.get(id);
    if (loaded === undefined) {
      loaded = this.#load(secret.key, secret.version, secret.cert, secret.privateKey);
      this.#loaded.set(id, loaded);
      if (!loaded.ok) {
        this.#log({
          level: "error",
          msg: "TLS certificate rejected; its hosts get the default certificate",
          secret: secret.key,
          problem: loaded.reason,
        });
      }
    }
    return loaded;
  }

  // Checks what a browser would refuse, with messages that never include key material.
  #load(key: string, version: string, certPem: string, keyPem: string): Loaded {
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(certPem);
    } catch {
      return { ok: false, reason: `Secret ${key}: tls.crt is not a valid PEM certificate` };
    }
    let privateKey: ReturnType<typeof createPrivateKey>;
    try {
      privateKey = createPrivateKey(keyPem);
    } catch {
      return { ok: false, reason: `Secret ${key}: tls.key is not a valid PEM private key` };
    }
    if (!certificate.checkPrivateKey(privateKey)) {
      return { ok: false, reason: `Secret ${key}: tls.key does not match the certificate in tls.crt` };
    }
    const now = this.#now().getTime();
    if (Date.parse(certificate.validTo) < now) {
      return {
        ok: false,
        reason: `Secret ${key}: the certificate expired on ${new Date(certificate.validTo).toISOString()}`,
      };
    }
    if (Date.parse(certificate.validFrom) > now) {
      return {
        ok: false,
        reason: `Secret ${key}: the certificate is not valid before ${new Date(certificate.validFrom).toISOString()}`,
      };
    }
    let context: SecureContext;
    try {
      context = createSecureContext({ ...SECURE_DEFAULTS, cert: certPem, key: keyPem, ticketKeys: this.#ticketKeys });
    } catch {
      return { ok: false, reason: `Secret ${key}: the certificate and key could not be loaded` };
    }
    return {
      ok: true,
      context,
      info: {
        secret: key === "(self-signed)" ? "(self-signed default)" : `${key}@${version}`,
        subject: certificate.subject,
        subjectAltNames: (certificate.subjectAltName ?? "").split(", ").filter((name) => name !== ""),
        notBefore: new Date(certificate.validFrom).toISOString(),
        notAfter: new Date(certificate.validTo).toISOString(),
        fingerprint256: certificate.fingerprint256,
      },
    };
  }

  get ticketKeys(): Buffer {
    return this.#ticketKeys;
  }
}
