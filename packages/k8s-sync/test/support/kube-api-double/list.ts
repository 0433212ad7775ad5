/**
 * List responses: <Kind>List with metadata.resourceVersion at the time of the list, items sorted by
 * namespace/name and, like the API server's JSON for built-in types, without kind/apiVersion on each item.
 * limit/continue pages through the current state (no snapshot at the first page's resourceVersion).
 */
import type { StoredObject } from "./json.js";
import type { ResourceDef } from "./resources.js";
import { apiVersionOf } from "./resources.js";
import type { ObjectFilter } from "./selectors.js";
import { matchesFilter, parseFieldSelector, parseLabelSelector } from "./selectors.js";
import { ApiError, badRequest, failure } from "./status.js";
import type { Store } from "./store.js";

export function filterFromQuery(def: ResourceDef, namespace: string | undefined, query: URLSearchParams): ObjectFilter {
  return {
    namespace,
    labels: parseLabelSelector(query.get("labelSelector")),
    fields: parseFieldSelector(query.get("fieldSelector"), def),
  };
}

interface ContinueToken {
  readonly rv: number;
  readonly after: string;
}

function encodeContinue(t: ContinueToken): string {
  return Buffer.from(JSON.stringify(t)).toString("base64url");
}

function decodeContinue(s: string): ContinueToken {
  try {
    const t = JSON.parse(Buffer.from(s, "base64url").toString("utf8")) as Partial<ContinueToken>;
    if (typeof t.rv === "number" && typeof t.after === "string") return { rv: t.rv, after: t.after };
  } catch {
    // fall through
  }
  throw badRequest("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)");
}

const CONTINUE_EXPIRED =
  "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.";

function keyOf(obj: StoredObject): string {
  return `${obj.metadata.namespace ?? ""}/${obj.metadata.name}`;
}

/** Strips the per-item type information, as the API server's list JSON does for built-in types. */
function listItem(obj: StoredObject): Omit<StoredObject, "kind" | "apiVersion"> {
  const { kind: _k, apiVersion: _a, ...rest } = obj;
  return rest;
}

export function listResponse(store: Store, def: ResourceDef, namespace: string | undefined, query: URLSearchParams) {
  const filter = filterFromQuery(def, namespace, query);
  let items = store.list(def).filter((o) => matchesFilter(filter, def, o));
  let rv = store.resourceVersion;
  const cont = query.get("continue");
  if (cont) {
    const token = decodeContinue(cont);
    if (token.rv < store.oldestWatchable) throw new ApiError(failure(410, "Expired", CONTINUE_EXPIRED));
    items = items.filter((o) => keyOf(o) > token.after);
    rv = token.rv;
  }
  const metadata: { resourceVersion: string; continue?: string; remainingItemCount?: number } = {
    resourceVersion: String(rv),
  };
  const limitParam = query.get("limit");
  const limit = limitParam === null ? 0 : Number.parseInt(limitParam, 10);
  if (limit > 0 && items.length > limit) {
    const page = items.slice(0, limit);
    const last = page[page.length - 1];
    if (last) metadata.continue = encodeContinue({ rv, after: keyOf(last) });
    if (filter.labels.length === 0 && filter.fields.length === 0) metadata.remainingItemCount = items.length - limit;
    items = page;
  }
  return {
    kind: `${def.kind}List`,
    apiVersion: apiVersionOf(def),
    metadata,
    items: items.map(listItem),
  };
}
