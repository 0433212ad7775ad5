/**
 * The patch formats of PATCH requests: JSON merge patch (RFC 7386), JSON patch (RFC 6902). Strategic merge patch
 * is treated as a merge patch (right for the kinds served here, whose lists have no merge keys rennet relies on);
 * apply patches (server-side apply) as a merge patch of the parsed YAML, with no field ownership.
 */
import { clone, deepEqual, isPlainObject } from "./json.js";

export const PATCH_TYPES = {
  json: "application/json-patch+json",
  merge: "application/merge-patch+json",
  strategic: "application/strategic-merge-patch+json",
  apply: "application/apply-patch+yaml",
} as const;

export const ACCEPTED_PATCH_TYPES = [PATCH_TYPES.json, PATCH_TYPES.merge, PATCH_TYPES.strategic, PATCH_TYPES.apply];

/** A patch that is well-formed but cannot be applied to the object (the API server answers 422). */
export class PatchApplyError extends Error {}

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return clone(patch);
  const result: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

interface Operation {
  op: string;
  path: string;
  from?: string;
  value?: unknown;
}

function parsePointer(pointer: string): string[] {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) throw new PatchApplyError(`invalid JSON pointer ${JSON.stringify(pointer)}`);
  return pointer
    .slice(1)
    .split("/")
    .map((t) => t.replaceAll("~1", "/").replaceAll("~0", "~"));
}

function arrayIndex(arr: unknown[], token: string, forAdd: boolean): number {
  if (forAdd && token === "-") return arr.length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw new PatchApplyError(`invalid array index ${JSON.stringify(token)}`);
  const i = Number(token);
  if (i > arr.length || (!forAdd && i === arr.length)) throw new PatchApplyError(`array index ${i} out of bounds`);
  return i;
}

function getAt(doc: unknown, tokens: readonly string[], pointer: string): unknown {
  let cur = doc;
  for (const t of tokens) {
    if (Array.isArray(cur)) cur = cur[arrayIndex(cur, t, false)];
    else if (isPlainObject(cur) && Object.hasOwn(cur, t)) cur = cur[t];
    else throw new PatchApplyError(`doc is missing path: ${pointer}`);
  }
  return cur;
}

/** The container holding the last token, and that token. */
function parentOf(doc: unknown, pointer: string): [Record<string, unknown> | unknown[], string] {
  const tokens = parsePointer(pointer);
  const last = tokens.pop();
  if (last === undefined) throw new PatchApplyError("the root cannot be the target of this operation");
  const parent = getAt(doc, tokens, pointer);
  if (!Array.isArray(parent) && !isPlainObject(parent)) throw new PatchApplyError(`doc is missing path: ${pointer}`);
  return [parent, last];
}

function add(doc: unknown, pointer: string, value: unknown): unknown {
  if (pointer === "") return clone(value);
  const [parent, key] = parentOf(doc, pointer);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, true), 0, clone(value));
  else parent[key] = clone(value);
  return doc;
}

function remove(doc: unknown, pointer: string): unknown {
  const [parent, key] = parentOf(doc, pointer);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, false), 1);
  else if (Object.hasOwn(parent, key)) delete parent[key];
  else throw new PatchApplyError(`unable to remove nonexistent key: ${key}: missing value`);
  return doc;
}

function replace(doc: unknown, pointer: string, value: unknown): unknown {
  if (pointer === "") return clone(value);
  const [parent, key] = parentOf(doc, pointer);
  if (Array.isArray(parent)) parent[arrayIndex(parent, key, false)] = clone(value);
  else if (Object.hasOwn(parent, key)) parent[key] = clone(value);
  else throw new PatchApplyError(`replace operation does not apply: doc is missing key: ${pointer}: missing value`);
  return doc;
}

/** Checks that a JSON patch body is a list of operations; false when it is malformed (400). */
export function isJsonPatch(body: unknown): body is Operation[] {
  return (
    Array.isArray(body) &&
    body.every((op) => isPlainObject(op) && typeof op.op === "string" && typeof op.path === "string")
  );
}

export function jsonPatch(target: unknown, ops: readonly Operation[]): unknown {
  let doc = clone(target);
  for (const op of ops) {
    switch (op.op) {
      case "add":
        doc = add(doc, op.path, op.value);
        break;
      case "remove":
        doc = remove(doc, op.path);
        break;
      case "replace":
        doc = replace(doc, op.path, op.value);
        break;
      case "move":
      case "copy": {
        if (typeof op.from !== "string") throw new PatchApplyError(`${op.op} operation needs "from"`);
        const value = clone(getAt(doc, parsePointer(op.from), op.from));
        if (op.op === "move") doc = remove(doc, op.from);
        doc = add(doc, op.path, value);
        break;
      }
      case "test":
        if (!deepEqual(getAt(doc, parsePointer(op.path), op.path), op.value)) {
          throw new PatchApplyError(`testing value ${op.path} failed: test failed`);
        }
        break;
      default:
        throw new PatchApplyError(`Unexpected kind: ${op.op}`);
    }
  }
  return doc;
}
