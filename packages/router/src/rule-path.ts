import { normalizePercentEncoding } from "./percent-encoding.js";
import type { PathType } from "./types.js";

export type RulePath =
  | {
      readonly ok: true;
      readonly pathType: PathType;
      readonly exact: boolean;
      /** The path as it is reported: percent-escapes normalised, trailing slash as written. */
      readonly path: string;
      /** What requests are compared with: the path for Exact, without trailing slashes for Prefix. */
      readonly match: string;
    }
  | { readonly ok: false; readonly code: "invalid-path" | "invalid-path-type"; readonly message: string };

const PATH_TYPES: ReadonlySet<string> = new Set(["Exact", "Prefix", "ImplementationSpecific"]);

// The forms the Kubernetes API server refuses for Exact and Prefix paths, plus
// what a normalised request path can never hold, so such a rule could never match.
function forbiddenForm(path: string): string | null {
  if (path.includes("//")) return "must not contain '//'";
  if (path.includes("/./") || path.endsWith("/.")) return "must not contain a '.' segment";
  if (path.includes("/../") || path.endsWith("/..")) return "must not contain a '..' segment";
  if (/%2f/i.test(path)) return "must not contain an encoded '/' (%2F)";
  for (let i = 0; i < path.length; i++) {
    const code = path.charCodeAt(i);
    if (code <= 0x20 || code === 0x7f || code === 0x3f || code === 0x23) {
      return "must not contain spaces, control characters, '?' or '#'";
    }
  }
  return null;
}

function invalid(message: string): RulePath {
  return { ok: false, code: "invalid-path", message };
}

/** Validates one Ingress path and derives the form the matcher compares with. */
export function parseRulePath(path: unknown, pathType: unknown): RulePath {
  if (typeof pathType !== "string" || !PATH_TYPES.has(pathType)) {
    return {
      ok: false,
      code: "invalid-path-type",
      message: `pathType ${JSON.stringify(pathType)} is not one of Exact, Prefix, ImplementationSpecific`,
    };
  }
  const type = pathType as PathType;
  let raw = path;
  if (raw === undefined || raw === null || raw === "") {
    if (type !== "ImplementationSpecific") return invalid(`path is required for pathType ${type}`);
    raw = "/";
  }
  if (typeof raw !== "string") return invalid(`path must be a string, got ${typeof raw}`);
  if (!raw.startsWith("/")) return invalid(`path "${raw}" must start with '/'`);
  const problem = forbiddenForm(raw);
  if (problem !== null) return invalid(`path "${raw}" ${problem}`);
  const normalised = normalizePercentEncoding(raw);
  if (normalised === null) return invalid(`path "${raw}" has a malformed percent-escape or an encoded NUL`);
  const decodedProblem = forbiddenForm(normalised);
  if (decodedProblem !== null) return invalid(`path "${raw}" once decoded ${decodedProblem}`);
  if (type === "Exact") return { ok: true, pathType: type, exact: true, path: normalised, match: normalised };
  let end = normalised.length;
  while (end > 1 && normalised.charCodeAt(end - 1) === 47) end--;
  return { ok: true, pathType: type, exact: false, path: normalised, match: normalised.slice(0, end) };
}
