/**
 * A deliberately plain reference implementation of the routing semantics in the
 * @rennet/router specification. It is written from the specification alone and
 * shares no code with src/: every call re-validates every rule, re-orders the
 * Ingresses and scans every path. It is slow on purpose and meant to be read.
 *
 * Used by the property tests (the real table must agree with it) and by the
 * benchmark (as a correctness oracle).
 */
import type { DefaultBackendRoute, IngressInput, IngressRef, PathType, RouteMatch } from "../../src/types.js";

export type ReferenceNormalizedPath = { ok: true; path: string; query: string } | { ok: false; reason: string };

// ---------------------------------------------------------------------------
// Request path

const HEX_DIGITS = "0123456789abcdefABCDEF";
const UNRESERVED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";

function isHexDigit(ch: string | undefined): boolean {
  return ch !== undefined && ch.length === 1 && HEX_DIGITS.includes(ch);
}

/**
 * Decodes escapes of unreserved characters and upper-cases the hex of every
 * other escape. Returns null when a "%" is not followed by two hex digits or
 * when it encodes NUL.
 */
function canonicalizeEscapes(text: string): string | null {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const ch = text[i] as string;
    if (ch !== "%") {
      out += ch;
      i += 1;
      continue;
    }
    const h1 = text[i + 1];
    const h2 = text[i + 2];
    if (!isHexDigit(h1) || !isHexDigit(h2)) return null;
    const hex = `${h1}${h2}`;
    const byte = Number.parseInt(hex, 16);
    if (byte === 0) return null;
    const decoded = String.fromCharCode(byte);
    if (UNRESERVED.includes(decoded)) {
      out += decoded;
    } else {
      out += `%${hex.toUpperCase()}`;
    }
    i += 3;
  }
  return out;
}

export function referenceNormalizePath(target: string): ReferenceNormalizedPath {
  if (!target.startsWith("/")) return { ok: false, reason: "not origin-form" };
  for (let i = 0; i < target.length; i++) {
    const code = target.charCodeAt(i);
    if (code < 0x21 || code === 0x7f) return { ok: false, reason: "control character or space" };
    if (target[i] === "#") return { ok: false, reason: "fragment" };
  }

  const questionMark = target.indexOf("?");
  const rawPath = questionMark < 0 ? target : target.slice(0, questionMark);
  const query = questionMark < 0 ? "" : target.slice(questionMark);

  const decoded = canonicalizeEscapes(rawPath);
  if (decoded === null) return { ok: false, reason: "bad percent-escape" };

  // decoded starts with "/", so the first piece is always "".
  const pieces = decoded.split("/").slice(1);
  const endsWithSlash = pieces[pieces.length - 1] === "";
  const segments = pieces.filter((piece) => piece !== ""); // merges consecutive slashes

  const stack: string[] = [];
  let endsInDirectory = endsWithSlash;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i] as string;
    const isLast = i === segments.length - 1;
    if (segment === ".") {
      if (isLast) endsInDirectory = true;
    } else if (segment === "..") {
      if (stack.length === 0) return { ok: false, reason: "climbs above the root" };
      stack.pop();
      if (isLast) endsInDirectory = true;
    } else {
      stack.push(segment);
    }
  }

  let path = `/${stack.join("/")}`;
  if (endsInDirectory && stack.length > 0) path += "/";
  return { ok: true, path, query };
}

// ---------------------------------------------------------------------------
// Request host

export function referenceNormalizeHost(raw: string): string {
  let host = raw.toLowerCase();
  if (host.startsWith("[")) {
    const close = host.indexOf("]");
    if (close >= 0) host = host.slice(0, close + 1);
  } else {
    const colon = host.indexOf(":");
    if (colon >= 0) host = host.slice(0, colon);
  }
  if (host.endsWith(".")) host = host.slice(0, -1);
  return host;
}

// ---------------------------------------------------------------------------
// Rule hosts

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function isValidExactHost(host: string): boolean {
  if (host.length === 0 || host.length > 253) return false;
  const ipv4 = IPV4.exec(host);
  if (ipv4?.slice(1).every((octet) => Number(octet) <= 255)) return false;
  return host.split(".").every((label) => label.length <= 63 && LABEL.test(label));
}

type RuleHost = { kind: "exact"; host: string } | { kind: "wildcard"; host: string } | { kind: "any" } | null;

/** null = invalid host. */
function classifyRuleHost(host: unknown): RuleHost {
  if (host === undefined || host === null || host === "") return { kind: "any" };
  if (typeof host !== "string") return null;
  const lower = host.toLowerCase();
  if (lower.startsWith("*.")) {
    return isValidExactHost(lower.slice(2)) ? { kind: "wildcard", host: lower } : null;
  }
  return isValidExactHost(lower) ? { kind: "exact", host: lower } : null;
}

function hostKeyOf(ruleHost: Exclude<RuleHost, null>): string {
  // "exact:" and "wildcard:" prefixes keep the three kinds of virtual hosts apart.
  return ruleHost.kind === "any" ? "any" : `${ruleHost.kind}:${ruleHost.host}`;
}

// ---------------------------------------------------------------------------
// Rule paths

function isValidRulePath(path: string): boolean {
  if (!path.startsWith("/")) return false;
  if (path.includes("//") || path.includes("/./") || path.includes("/../")) return false;
  if (path.toLowerCase().includes("%2f")) return false;
  if (path.endsWith("/..") || path.endsWith("/.")) return false;
  for (let i = 0; i < path.length; i++) {
    const code = path.charCodeAt(i);
    if (code < 0x21 || code === 0x7f) return false;
    if (path[i] === "?" || path[i] === "#") return false;
  }
  return true;
}

function prefixCanonical(path: string): string {
  let canonical = path;
  while (canonical.length > 1 && canonical.endsWith("/")) canonical = canonical.slice(0, -1);
  return canonical;
}

// ---------------------------------------------------------------------------
// Ordering

// "T" and "Z" may be lower case (RFC 3339 section 5.6).
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

function timestampValue(timestamp: unknown): number {
  if (typeof timestamp === "number") return Number.isFinite(timestamp) ? timestamp : Number.POSITIVE_INFINITY;
  if (typeof timestamp === "string" && RFC3339.test(timestamp)) {
    const ms = Date.parse(timestamp.toUpperCase());
    return Number.isNaN(ms) ? Number.POSITIVE_INFINITY : ms;
  }
  return Number.POSITIVE_INFINITY;
}

function compareStrings(a: string, b: string): number {
  if (a < b) return -1;
  if (a > b) return 1;
  return 0;
}

/** Negative when `a` is older (wins), by timestamp, then namespace, then name. */
function compareIngresses(a: IngressInput<unknown, unknown>, b: IngressInput<unknown, unknown>): number {
  const ta = timestampValue(a.creationTimestamp);
  const tb = timestampValue(b.creationTimestamp);
  if (ta !== tb) return ta < tb ? -1 : 1;
  return compareStrings(a.namespace, b.namespace) || compareStrings(a.name, b.name);
}

// ---------------------------------------------------------------------------
// Claims: every valid path rule

interface Claim<B, P> {
  ingress: IngressInput<B, P>;
  ruleIndex: number;
  pathIndex: number;
  hostKey: string;
  host: string | null;
  /** as written, after escape canonicalisation */
  path: string;
  pathType: PathType;
  kind: "exact" | "prefix";
  /** Exact: the path; Prefix-like: trailing slashes removed */
  canonical: string;
}

function compareClaims<B, P>(a: Claim<B, P>, b: Claim<B, P>): number {
  return compareIngresses(a.ingress, b.ingress) || a.ruleIndex - b.ruleIndex || a.pathIndex - b.pathIndex;
}

function collectClaims<B, P>(ingresses: readonly IngressInput<B, P>[]): Claim<B, P>[] {
  const claims: Claim<B, P>[] = [];
  for (const ingress of ingresses) {
    const rules = Array.isArray(ingress.rules) ? ingress.rules : [];
    rules.forEach((rule, ruleIndex) => {
      if (rule === null || typeof rule !== "object") return;
      const ruleHost = classifyRuleHost(rule.host);
      if (ruleHost === null) return;
      const paths = rule.http?.paths;
      if (!Array.isArray(paths)) return;
      paths.forEach((entry: unknown, pathIndex: number) => {
        if (entry === null || typeof entry !== "object") return;
        const { path, pathType, backend } = entry as { path?: unknown; pathType?: unknown; backend?: unknown };
        if (pathType !== "Exact" && pathType !== "Prefix" && pathType !== "ImplementationSpecific") return;
        let written: string;
        if (path === undefined || path === null || path === "") {
          if (pathType !== "ImplementationSpecific") return;
          written = "/";
        } else if (typeof path === "string" && isValidRulePath(path)) {
          const canonicalEscapes = canonicalizeEscapes(path);
          // Not fixed by the specification: a path that only shows a forbidden form once
          // decoded ("/a/%2e%2e/b") is left out too, as it could never match a request.
          if (canonicalEscapes === null || !isValidRulePath(canonicalEscapes)) return;
          written = canonicalEscapes;
        } else {
          return;
        }
        if (backend === undefined || backend === null) return;
        const kind = pathType === "Exact" ? "exact" : "prefix";
        claims.push({
          ingress,
          ruleIndex,
          pathIndex,
          hostKey: hostKeyOf(ruleHost),
          host: ruleHost.kind === "any" ? null : ruleHost.host,
          path: written,
          pathType,
          kind,
          canonical: kind === "exact" ? written : prefixCanonical(written),
        });
      });
    });
  }
  return claims;
}

/** The claims that win their (virtual host, kind, canonical path) slot. */
function winningClaims<B, P>(ingresses: readonly IngressInput<B, P>[]): Claim<B, P>[] {
  const bySlot = new Map<string, Claim<B, P>>();
  for (const claim of collectClaims(ingresses)) {
    const slot = JSON.stringify([claim.hostKey, claim.kind, claim.canonical]);
    const current = bySlot.get(slot);
    if (current === undefined || compareClaims(claim, current) < 0) bySlot.set(slot, claim);
  }
  return [...bySlot.values()];
}

function toRouteMatch<B, P>(claim: Claim<B, P>): RouteMatch<B, P> {
  const entry = claim.ingress.rules?.[claim.ruleIndex]?.http?.paths[claim.pathIndex] as { backend: B };
  return {
    backend: entry.backend,
    ingress: { namespace: claim.ingress.namespace, name: claim.ingress.name },
    host: claim.host,
    path: claim.path,
    pathType: claim.pathType,
    policies: claim.ingress.policies,
  };
}

function claimMatches<B, P>(claim: Claim<B, P>, path: string): boolean {
  if (claim.kind === "exact") return path === claim.canonical;
  return claim.canonical === "/" || path === claim.canonical || path.startsWith(`${claim.canonical}/`);
}

// ---------------------------------------------------------------------------
// Public reference API

/** Every route that serves traffic (the winners), in no particular order. */
export function referenceRoutes<B, P>(ingresses: readonly IngressInput<B, P>[]): RouteMatch<B, P>[] {
  return winningClaims(ingresses).map(toRouteMatch);
}

/**
 * What `compile(ingresses).match(host, path)` must return. `host` is the raw
 * Host header, `path` an already normalised path.
 */
export function referenceMatch<B, P>(
  ingresses: readonly IngressInput<B, P>[],
  host: string,
  path: string,
): RouteMatch<B, P> | null {
  const winners = winningClaims(ingresses);
  const h = referenceNormalizeHost(host);

  // 1. exact host, 2. wildcard for exactly one extra label, 3. host-less rules.
  let hostKey: string | null = null;
  if (winners.some((claim) => claim.hostKey === `exact:${h}`)) {
    hostKey = `exact:${h}`;
  } else {
    const dot = h.indexOf(".");
    const wildcardKey = dot > 0 ? `wildcard:*.${h.slice(dot + 1)}` : null;
    if (wildcardKey !== null && winners.some((claim) => claim.hostKey === wildcardKey)) {
      hostKey = wildcardKey;
    } else if (winners.some((claim) => claim.hostKey === "any")) {
      hostKey = "any";
    }
  }
  if (hostKey === null) return null;

  let best: Claim<B, P> | null = null;
  for (const claim of winners) {
    if (claim.hostKey !== hostKey || !claimMatches(claim, path)) continue;
    if (
      best === null ||
      claim.canonical.length > best.canonical.length ||
      (claim.canonical.length === best.canonical.length && claim.kind === "exact" && best.kind === "prefix")
    ) {
      best = claim;
    }
  }
  return best === null ? null : toRouteMatch(best);
}

/** What `compile(ingresses).defaultBackend` must be. */
export function referenceDefaultBackend<B, P>(
  ingresses: readonly IngressInput<B, P>[],
): DefaultBackendRoute<B, P> | null {
  let best: IngressInput<B, P> | null = null;
  for (const ingress of ingresses) {
    if (ingress.defaultBackend === undefined || ingress.defaultBackend === null) continue;
    if (best === null || compareIngresses(ingress, best) < 0) best = ingress;
  }
  if (best === null) return null;
  const ingress: IngressRef = { namespace: best.namespace, name: best.name };
  return { backend: best.defaultBackend as B, ingress, policies: best.policies };
}
