import { normalizePercentEncoding } from "./percent-encoding.js";

export type NormalizedPath =
  | { readonly ok: true; readonly path: string; readonly query: string }
  | { readonly ok: false; readonly reason: string };

const SLASH = 47;
const DOT = 46;
const PERCENT = 37;
const HASH = 35;

function reject(reason: string): NormalizedPath {
  return { ok: false, reason };
}

function hasForbiddenCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code <= 0x20 || code === 0x7f || code === HASH) return true;
  }
  return false;
}

/**
 * Turns an HTTP request-target into the path that is matched and forwarded.
 * Only origin-form is accepted; the query is split off untouched. Escapes of
 * unreserved characters are decoded, slashes merged and dot segments resolved,
 * so that "/public/%2e%2e/admin" cannot reach a route the rules keep apart.
 * A rejection means the server should answer 400.
 */
export function normalizePath(target: string): NormalizedPath {
  if (target.charCodeAt(0) !== SLASH) return reject("request target is not in origin form (must start with '/')");
  const queryStart = target.indexOf("?");
  const path = queryStart === -1 ? target : target.slice(0, queryStart);
  const query = queryStart === -1 ? "" : target.slice(queryStart);
  if (query !== "" && hasForbiddenCharacter(query)) return reject("request target holds a control character or '#'");

  let needsRewrite = false;
  let previous = 0;
  for (let i = 0; i < path.length; i++) {
    const code = path.charCodeAt(i);
    if (code <= 0x20 || code === 0x7f || code === HASH) {
      return reject(code === 0 ? "request path holds a NUL byte" : "request path holds a control character or '#'");
    }
    if (code === PERCENT || (previous === SLASH && (code === SLASH || code === DOT))) needsRewrite = true;
    previous = code;
  }
  if (!needsRewrite) return { ok: true, path, query };

  const decoded = normalizePercentEncoding(path);
  if (decoded === null) return reject("request path holds a malformed percent-escape or an encoded NUL");
  const resolved = resolveSegments(decoded);
  if (resolved === null) return reject("request path climbs above the root with '..'");
  return { ok: true, path: resolved, query };
}

/** Merges empty segments and resolves "." and ".."; null when ".." leaves the root. */
function resolveSegments(path: string): string | null {
  const parts = path.split("/");
  const kept: string[] = [];
  let trailingSlash = false;
  for (let i = 1; i < parts.length; i++) {
    const segment = parts[i] as string;
    const last = i === parts.length - 1;
    if (segment === "" || segment === ".") {
      if (last) trailingSlash = true;
      continue;
    }
    if (segment === "..") {
      if (kept.length === 0) return null;
      kept.pop();
      if (last) trailingSlash = true;
      continue;
    }
    kept.push(segment);
    trailingSlash = false;
  }
  if (kept.length === 0) return "/";
  return `/${kept.join("/")}${trailingSlash ? "/" : ""}`;
}
