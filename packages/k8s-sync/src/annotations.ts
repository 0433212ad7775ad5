import type { Ingress } from "./objects.js";

export const ANNOTATION_PREFIX = "rennet.dev/";

/** Per-Ingress settings from rennet.dev/ annotations, parsed strictly. */
export interface IngressPolicies {
  /** rennet.dev/ssl-redirect; undefined means the global --ssl-redirect applies. */
  readonly sslRedirect?: boolean;
  /** rennet.dev/force-ssl-redirect: redirect to HTTPS even without a certificate here (TLS offloaded in front). */
  readonly forceSslRedirect?: boolean;
  /** rennet.dev/hsts-max-age (seconds), -include-subdomains, -preload: HSTS on TLS responses. */
  readonly hsts?: { readonly maxAge: number; readonly includeSubdomains: boolean; readonly preload: boolean };
  /** Hosts this Ingress lists under spec.tls (lower case, "*.x" for wildcards). */
  readonly tlsHosts: readonly string[];
}

export interface AnnotationProblem {
  readonly annotation: string;
  readonly message: string;
}

const KNOWN = new Set([
  "ssl-redirect",
  "force-ssl-redirect",
  "hsts-max-age",
  "hsts-include-subdomains",
  "hsts-preload",
]);

function parseBoolean(name: string, value: string, problems: AnnotationProblem[]): boolean | undefined {
  if (value === "true") return true;
  if (value === "false") return false;
  problems.push({
    annotation: name,
    message: `${name} must be "true" or "false", got ${JSON.stringify(value)}; ignored`,
  });
  return undefined;
}

/**
 * Reads the rennet.dev/ annotations of an Ingress. Values are checked
 * strictly (no templating, no coercion): a bad value is reported and ignored,
 * an unknown rennet.dev/ annotation is reported, other prefixes are not ours.
 */
export function parsePolicies(ingress: Ingress): { policies: IngressPolicies; problems: AnnotationProblem[] } {
  const annotations = ingress.metadata?.annotations ?? {};
  const problems: AnnotationProblem[] = [];
  let sslRedirect: boolean | undefined;
  let forceSslRedirect: boolean | undefined;
  let maxAge: number | undefined;
  let includeSubdomains = false;
  let preload = false;
  for (const [name, raw] of Object.entries(annotations)) {
    if (!name.startsWith(ANNOTATION_PREFIX)) continue;
    const key = name.slice(ANNOTATION_PREFIX.length);
    const value = typeof raw === "string" ? raw.trim() : String(raw);
    if (!KNOWN.has(key)) {
      problems.push({ annotation: name, message: `unknown annotation ${name}; ignored` });
      continue;
    }
    if (key === "ssl-redirect") sslRedirect = parseBoolean(name, value, problems);
    else if (key === "force-ssl-redirect") forceSslRedirect = parseBoolean(name, value, problems);
    else if (key === "hsts-include-subdomains") includeSubdomains = parseBoolean(name, value, problems) ?? false;
    else if (key === "hsts-preload") preload = parseBoolean(name, value, problems) ?? false;
    else if (key === "hsts-max-age") {
      if (/^\d{1,10}$/.test(value) && Number(value) <= 2 ** 31 - 1) maxAge = Number(value);
      else
        problems.push({
          annotation: name,
          message: `${name} must be a whole number of seconds, got ${JSON.stringify(value)}; ignored`,
        });
    }
  }
  const tlsHosts = new Set<string>();
  // Input is validated only as far as the parser goes: spec.tls, hosts and rules may be anything.
  const specTls = ingress.spec?.tls;
  const rules = ingress.spec?.rules;
  for (const tls of Array.isArray(specTls) ? specTls : []) {
    const listed = tls?.hosts;
    const hosts =
      Array.isArray(listed) && listed.length > 0
        ? listed
        : (Array.isArray(rules) ? rules : []).map((rule) => rule?.host ?? "");
    for (const host of hosts) if (typeof host === "string" && host !== "") tlsHosts.add(host.toLowerCase());
  }
  const policies: IngressPolicies = {
    ...(sslRedirect !== undefined ? { sslRedirect } : {}),
    ...(forceSslRedirect !== undefined ? { forceSslRedirect } : {}),
    ...(maxAge !== undefined ? { hsts: { maxAge, includeSubdomains, preload } } : {}),
    tlsHosts: [...tlsHosts],
  };
  return { policies, problems };
}

/** Whether a request host is covered by one of an Ingress's TLS hosts (exact, or a one-label wildcard). */
export function coversHost(tlsHosts: readonly string[], host: string): boolean {
  if (tlsHosts.length === 0) return false;
  if (tlsHosts.includes(host)) return true;
  const dot = host.indexOf(".");
  return dot > 0 && tlsHosts.includes(`*${host.slice(dot)}`);
}
