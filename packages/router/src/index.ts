/**
 * @rennet/router: Kubernetes Ingress rules compiled into an immutable table
 * that answers match(host, path). Pure and runtime-agnostic: no I/O, no
 * clocks, no dependencies.
 * @module
 */
export { HOP_BY_HOP_HEADERS } from "./hop-by-hop.js";
export { LayeredMap } from "./layered-map.js";
export { normalizeHost } from "./request-host.js";
export { type NormalizedPath, normalizePath } from "./request-path.js";
export { compile } from "./table.js";
export type {
  DefaultBackendRoute,
  Diagnostic,
  DiagnosticCode,
  IngressInput,
  IngressPath,
  IngressRef,
  IngressRule,
  PathType,
  RouteMatch,
  RouteTable,
  TableChanges,
} from "./types.js";
