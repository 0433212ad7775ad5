/** Maps a request path to what it addresses: a discovery document or a resource (collection, object, subresource). */
import type { ResourceDef } from "./resources.js";
import { findByPath } from "./resources.js";

export type Route =
  | { readonly type: "root" }
  | { readonly type: "health" }
  | { readonly type: "version" }
  | { readonly type: "apiVersions" }
  | { readonly type: "apiGroupList" }
  | { readonly type: "apiGroup"; readonly group: string }
  | { readonly type: "resourceList"; readonly group: string; readonly version: string }
  | {
      readonly type: "resource";
      readonly def: ResourceDef;
      /** Set for namespaced paths (/namespaces/<ns>/…); undefined for cluster-wide or cluster-scoped ones. */
      readonly namespace: string | undefined;
      /** Undefined for the collection. */
      readonly name: string | undefined;
      readonly subresource: string | undefined;
    };

function resourceRoute(def: ResourceDef, namespace: string | undefined, tail: readonly string[]): Route | undefined {
  if (tail.length > 2) return undefined;
  const [name, subresource] = tail;
  if (name === "") return undefined;
  if (subresource !== undefined && !(subresource === "status" && def.statusSubresource)) return undefined;
  // A namespaced type is addressed by name only under /namespaces/<ns>/.
  if (def.namespaced && namespace === undefined && name !== undefined) return undefined;
  return { type: "resource", def, namespace, name, subresource };
}

export function route(pathname: string): Route | undefined {
  let segments: string[];
  try {
    segments = pathname
      .split("/")
      .filter((s) => s !== "")
      .map((s) => decodeURIComponent(s));
  } catch {
    return undefined;
  }
  const [first, second, third] = segments;
  if (first === undefined) return { type: "root" };
  if (segments.length === 1 && (first === "healthz" || first === "livez" || first === "readyz")) {
    return { type: "health" };
  }
  if (segments.length === 1 && first === "version") return { type: "version" };

  let group: string;
  let version: string;
  let rest: string[];
  if (first === "api") {
    if (second === undefined) return { type: "apiVersions" };
    group = "";
    version = second;
    rest = segments.slice(2);
  } else if (first === "apis") {
    if (second === undefined) return { type: "apiGroupList" };
    if (third === undefined) return { type: "apiGroup", group: second };
    group = second;
    version = third;
    rest = segments.slice(3);
  } else {
    return undefined;
  }
  const [r0, r1, r2] = rest;
  if (r0 === undefined) return { type: "resourceList", group, version };
  if (r0 === "namespaces" && r1 !== undefined && r2 !== undefined) {
    const namespacedDef = findByPath(group, version, r2);
    if (namespacedDef?.namespaced) return resourceRoute(namespacedDef, r1, rest.slice(3));
  }
  const def = findByPath(group, version, r0);
  if (!def) return undefined;
  return resourceRoute(def, undefined, rest.slice(1));
}
