import type { Ingress, Secret } from "./objects.js";
import { objectKey } from "./snapshot.js";

export const TLS_SECRET_TYPE = "kubernetes.io/tls";

/** One host that terminates TLS with one Secret's certificate. */
export interface TlsBinding {
  /** Lower case; "*.example.com" for a wildcard. */
  readonly host: string;
  /** "namespace/name" of the Secret. */
  readonly secret: string;
  readonly ingress: string;
}

export type TlsSecret =
  | {
      readonly ok: true;
      readonly key: string;
      /** Changes whenever the Secret's content changes: resourceVersion, else a digest of the data. */
      readonly version: string;
      readonly cert: string;
      readonly privateKey: string;
    }
  | { readonly ok: false; readonly key: string; readonly reason: string };

function decode(
  data: Readonly<Record<string, string>> | undefined,
  stringData: unknown,
  field: string,
): string | undefined {
  const plain = (stringData as Record<string, unknown> | undefined)?.[field];
  if (typeof plain === "string") return plain;
  const encoded = data?.[field];
  if (typeof encoded !== "string") return undefined;
  return Buffer.from(encoded, "base64").toString("utf8");
}

// Cheap, stable content version for manifests, which have no resourceVersion.
function digest(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return `sha-${(hash >>> 0).toString(16)}-${text.length}`;
}

/** Reads a TLS Secret's certificate and key (PEM validity is checked where it is loaded). */
export function readTlsSecret(key: string, secret: Secret | undefined): TlsSecret {
  if (secret === undefined) return { ok: false, key, reason: `Secret ${key} not found` };
  if (secret.type !== TLS_SECRET_TYPE) {
    return { ok: false, key, reason: `Secret ${key} has type ${secret.type ?? "Opaque"}, not ${TLS_SECRET_TYPE}` };
  }
  const stringData = (secret as { stringData?: unknown }).stringData;
  const cert = decode(secret.data, stringData, "tls.crt");
  const privateKey = decode(secret.data, stringData, "tls.key");
  if (cert === undefined || cert.trim() === "") return { ok: false, key, reason: `Secret ${key} has no tls.crt` };
  if (privateKey === undefined || privateKey.trim() === "")
    return { ok: false, key, reason: `Secret ${key} has no tls.key` };
  const version = secret.metadata?.resourceVersion ?? digest(cert + privateKey);
  return { ok: true, key, version, cert, privateKey };
}

/** The TLS hosts of an Ingress with the Secret that serves each (same namespace). */
export function tlsBindings(ingress: Ingress): TlsBinding[] {
  const namespace = ingress.metadata?.namespace ?? "default";
  const owner = objectKey(namespace, ingress.metadata?.name);
  const bindings: TlsBinding[] = [];
  // Input is validated only as far as the parser goes: spec.tls, hosts and rules may be anything.
  const specTls = ingress.spec?.tls;
  const rules = ingress.spec?.rules;
  for (const tls of Array.isArray(specTls) ? specTls : []) {
    if (typeof tls?.secretName !== "string" || tls.secretName === "") continue;
    const listed = tls.hosts;
    const hosts =
      Array.isArray(listed) && listed.length > 0
        ? listed
        : (Array.isArray(rules) ? rules : []).map((rule) => rule?.host ?? "");
    for (const host of hosts) {
      if (typeof host === "string" && host !== "") {
        bindings.push({ host: host.toLowerCase(), secret: objectKey(namespace, tls.secretName), ingress: owner });
      }
    }
  }
  return bindings;
}
