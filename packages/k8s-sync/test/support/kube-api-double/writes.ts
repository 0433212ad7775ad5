/**
 * create (POST), update (PUT), patch (PATCH) and delete (DELETE) on one resource, with the API server's rules the
 * double models: optimistic concurrency on metadata.resourceVersion, the status subresource split, server-managed
 * metadata, MicroTime parsing, delete preconditions.
 */
import { randomInt } from "node:crypto";
import type { KubeObject, StoredObject } from "./json.js";
import { clone, getPath, isPlainObject } from "./json.js";
import { ACCEPTED_PATCH_TYPES, isJsonPatch, jsonPatch, mergePatch, PATCH_TYPES, PatchApplyError } from "./patch.js";
import type { ResourceDef } from "./resources.js";
import { apiVersionOf } from "./resources.js";
import type { Status, StatusDetails } from "./status.js";
import {
  ApiError,
  alreadyExists,
  badRequest,
  conflict,
  failure,
  invalid,
  MODIFIED_CONFLICT,
  notFound,
  success,
  unsupportedMediaType,
} from "./status.js";
import type { Store } from "./store.js";

export interface Target {
  readonly def: ResourceDef;
  readonly namespace: string | undefined;
  readonly name: string;
  readonly subresource: string | undefined;
}

type Named = KubeObject & { metadata: NonNullable<KubeObject["metadata"]> & { name: string } };

const SERVER_MANAGED = ["uid", "resourceVersion", "creationTimestamp", "generation", "deletionTimestamp", "selfLink"];
const MICRO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}(Z|[+-]\d{2}:\d{2})$/;
const NAME_SUFFIX_CHARS = "bcdfghjklmnpqrstvwxz2456789";

function requireObject(def: ResourceDef, body: unknown, parseError: string | undefined): KubeObject {
  if (parseError !== undefined) {
    throw badRequest(`${def.kind} in version "${def.version}" cannot be handled as a ${def.kind}: ${parseError}`);
  }
  if (!isPlainObject(body))
    throw badRequest(`${def.kind} in version "${def.version}" cannot be handled as a ${def.kind}`);
  const obj = body as KubeObject;
  if (obj.apiVersion !== undefined && obj.apiVersion !== apiVersionOf(def)) {
    throw badRequest(
      `the API version in the data (${obj.apiVersion}) does not match the expected API version (${apiVersionOf(def)})`,
    );
  }
  if (obj.kind !== undefined && obj.kind !== def.kind) {
    throw badRequest(`the kind in the data (${obj.kind}) does not match the expected kind (${def.kind})`);
  }
  if (obj.metadata !== undefined && !isPlainObject(obj.metadata)) throw badRequest("metadata must be an object");
  return obj;
}

/** Go's metav1.MicroTime only parses RFC 3339 with exactly six fractional digits. */
function checkMicroTimes(def: ResourceDef, obj: KubeObject): void {
  for (const path of def.microTimeFields) {
    const v = getPath(obj, path);
    if (v === undefined || v === null) continue;
    if (typeof v !== "string" || !MICRO_TIME.test(v)) {
      throw badRequest(
        `${def.kind} in version "${def.version}" cannot be handled as a ${def.kind}: ${path.join(".")}: parsing time ${JSON.stringify(v)} as "2006-01-02T15:04:05.000000Z07:00": cannot parse as RFC 3339 with microseconds`,
      );
    }
  }
}

function checkNamespace(t: Target, obj: KubeObject): void {
  const ns = obj.metadata?.namespace;
  if (t.def.namespaced && ns !== undefined && ns !== "" && ns !== t.namespace) {
    throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
  }
}

function named(obj: KubeObject, name: string, namespace: string | undefined): Named {
  const metadata = { ...(obj.metadata ?? {}), name };
  if (namespace !== undefined) metadata.namespace = namespace;
  return { ...obj, metadata };
}

export function createObject(
  store: Store,
  def: ResourceDef,
  namespace: string | undefined,
  body: unknown,
  parseError: string | undefined,
): StoredObject {
  const obj = clone(requireObject(def, body, parseError));
  const meta = obj.metadata ?? {};
  if (meta.resourceVersion !== undefined && meta.resourceVersion !== "") {
    throw new ApiError(failure(500, "InternalError", "resourceVersion should not be set on objects to be created"));
  }
  checkNamespace({ def, namespace, name: meta.name ?? "", subresource: undefined }, obj);
  let name = meta.name;
  if (!name && meta.generateName) {
    name = meta.generateName;
    for (let i = 0; i < 5; i++) name += NAME_SUFFIX_CHARS[randomInt(NAME_SUFFIX_CHARS.length)];
  }
  if (!name) {
    throw invalid(def, "", [
      {
        reason: "FieldValueRequired",
        message: "Required value: name or generateName is required",
        field: "metadata.name",
      },
    ]);
  }
  for (const k of SERVER_MANAGED) delete meta[k];
  obj.metadata = meta;
  if (def.statusSubresource) {
    if (def.kind === "Namespace") obj.status = { phase: "Active" };
    else delete obj.status;
  }
  checkMicroTimes(def, obj);
  if (store.get(def, namespace, name)) throw alreadyExists(def, name);
  return store.create(def, named(obj, name, def.namespaced ? namespace : undefined));
}

function current(store: Store, t: Target): StoredObject {
  const cur = store.get(t.def, t.namespace, t.name);
  if (!cur) throw notFound(t.def, t.name);
  return cur;
}

/** Combines the stored object and the requested new state according to the (sub)resource written. */
function nextState(t: Target, cur: StoredObject, requested: KubeObject): Named {
  if (t.subresource === "status") {
    const next: KubeObject = clone(cur);
    if (requested.status === undefined) delete next.status;
    else next.status = clone(requested.status);
    return named(next, t.name, cur.metadata.namespace);
  }
  const next: KubeObject = clone(requested);
  if (t.def.statusSubresource) {
    if (cur.status === undefined) delete next.status;
    else next.status = clone(cur.status);
  }
  const meta = { ...(next.metadata ?? {}) };
  for (const k of SERVER_MANAGED) delete meta[k];
  next.metadata = meta;
  return named(next, t.name, cur.metadata.namespace);
}

export function updateObject(store: Store, t: Target, body: unknown, parseError: string | undefined): StoredObject {
  const obj = requireObject(t.def, body, parseError);
  const bodyName = obj.metadata?.name;
  if (bodyName !== t.name) {
    throw badRequest(`the name of the object (${bodyName ?? ""}) does not match the name on the URL (${t.name})`);
  }
  checkNamespace(t, obj);
  checkMicroTimes(t.def, obj);
  const cur = current(store, t);
  const rv = obj.metadata?.resourceVersion;
  if (rv !== undefined && rv !== "" && rv !== cur.metadata.resourceVersion)
    throw conflict(t.def, t.name, MODIFIED_CONFLICT);
  return store.update(t.def, nextState(t, cur, obj));
}

function applyPatch(contentType: string, cur: StoredObject, body: unknown): unknown {
  switch (contentType) {
    case PATCH_TYPES.json:
      if (!isJsonPatch(body))
        throw badRequest("json: cannot unmarshal object into Go value of type []handlers.jsonPatchOp");
      return jsonPatch(cur, body);
    case PATCH_TYPES.merge:
    case PATCH_TYPES.strategic:
    case PATCH_TYPES.apply:
      if (!isPlainObject(body))
        throw badRequest("json: cannot unmarshal array into Go value of type map[string]interface {}");
      return mergePatch(cur, body);
    default:
      throw unsupportedMediaType(ACCEPTED_PATCH_TYPES);
  }
}

export function patchObject(
  store: Store,
  t: Target,
  contentType: string,
  body: unknown,
  parseError: string | undefined,
  query: URLSearchParams,
): { object: StoredObject; created: boolean } {
  if (!ACCEPTED_PATCH_TYPES.includes(contentType as (typeof ACCEPTED_PATCH_TYPES)[number])) {
    throw unsupportedMediaType(ACCEPTED_PATCH_TYPES);
  }
  if (parseError !== undefined || body === undefined) {
    throw badRequest(`error decoding patch: ${parseError ?? "empty body"}`);
  }
  const isApply = contentType === PATCH_TYPES.apply;
  if (isApply && !query.get("fieldManager")) {
    throw badRequest("PATCH requests with apply content type require a fieldManager query parameter");
  }
  if (!isApply && query.get("force") !== null)
    throw badRequest("force: Forbidden: may not be specified for non-apply patch");
  const cur = store.get(t.def, t.namespace, t.name);
  if (!cur) {
    if (isApply && t.subresource === undefined) {
      const created = createObject(
        store,
        t.def,
        t.namespace,
        named(body as KubeObject, t.name, t.namespace),
        undefined,
      );
      return { object: created, created: true };
    }
    throw notFound(t.def, t.name);
  }
  let patched: unknown;
  try {
    patched = applyPatch(contentType, cur, body);
  } catch (err) {
    if (!(err instanceof PatchApplyError)) throw err;
    throw new ApiError(
      failure(422, "Invalid", `the server rejected our request due to an error in our request`, {
        causes: [{ reason: "FieldValueInvalid", message: err.message, field: "patch" }],
      }),
    );
  }
  if (!isPlainObject(patched)) throw badRequest("the patch does not result in an object");
  const obj = patched as KubeObject;
  const meta = obj.metadata ?? {};
  if (meta.name !== t.name || (t.def.namespaced && meta.namespace !== cur.metadata.namespace)) {
    throw invalid(t.def, t.name, [
      { reason: "FieldValueInvalid", message: "Invalid value: field is immutable", field: "metadata.name" },
    ]);
  }
  if (meta.resourceVersion !== cur.metadata.resourceVersion) throw conflict(t.def, t.name, MODIFIED_CONFLICT);
  checkMicroTimes(t.def, obj);
  return { object: store.update(t.def, nextState(t, cur, obj)), created: false };
}

interface Preconditions {
  uid?: unknown;
  resourceVersion?: unknown;
}

export function deleteObject(store: Store, t: Target, body: unknown): Status {
  const cur = current(store, t);
  const pre = isPlainObject(body) && isPlainObject(body.preconditions) ? (body.preconditions as Preconditions) : {};
  if (typeof pre.uid === "string" && pre.uid !== cur.metadata.uid) {
    throw conflict(
      t.def,
      t.name,
      `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${cur.metadata.uid}`,
    );
  }
  if (typeof pre.resourceVersion === "string" && pre.resourceVersion !== cur.metadata.resourceVersion) {
    throw conflict(
      t.def,
      t.name,
      `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${cur.metadata.resourceVersion}`,
    );
  }
  store.delete(t.def, t.namespace, t.name);
  const details: StatusDetails = { name: t.name };
  if (t.def.group) details.group = t.def.group;
  details.kind = t.def.resource;
  details.uid = cur.metadata.uid;
  return success(details);
}
