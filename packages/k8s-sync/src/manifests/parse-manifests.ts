import { parseAllDocuments, parseDocument } from "yaml";
import type { KubeObject } from "../objects.js";
import { KINDS, type Kind } from "../snapshot.js";

export interface ManifestProblem {
  readonly file: string;
  /** 0-based index of the YAML document (or JSON List item) at fault. */
  readonly document?: number;
  readonly message: string;
}

export type ParsedManifests =
  | { readonly ok: true; readonly objects: readonly KubeObject[]; readonly skipped: readonly string[] }
  | { readonly ok: false; readonly problems: readonly ManifestProblem[] };

function isKnownKind(kind: string): kind is Kind {
  return Object.hasOwn(KINDS, kind);
}

function describe(object: KubeObject): string {
  return `${object.kind} ${object.metadata?.namespace ? `${object.metadata.namespace}/` : ""}${object.metadata?.name ?? "?"}`;
}

// A structural problem with one object, or null. Rule-level problems (a bad
// path, an unknown Service) are not rejected here: the router and the
// translation report them per Ingress and serve the rest.
function objectProblem(value: unknown): string | null {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "is not a mapping";
  const object = value as KubeObject;
  if (typeof object.kind !== "string" || object.kind === "") return "has no kind";
  if (typeof object.apiVersion !== "string" || object.apiVersion === "") return `${object.kind} has no apiVersion`;
  if (!isKnownKind(object.kind)) return null;
  const expected = KINDS[object.kind].apiVersion;
  if (object.apiVersion !== expected) {
    return `${object.kind} has apiVersion ${object.apiVersion}; rennet reads ${expected}`;
  }
  const metadata = object.metadata as unknown;
  if (typeof metadata !== "object" || metadata === null) return `${object.kind} has no metadata`;
  if (typeof object.metadata?.name !== "string" || object.metadata.name === "")
    return `${object.kind} has no metadata.name`;
  const spec = (object as { spec?: unknown }).spec;
  if (spec !== undefined && spec !== null && (typeof spec !== "object" || Array.isArray(spec))) {
    return `${describe(object)} has a spec that is not a mapping`;
  }
  return null;
}

function withDefaultNamespace(object: KubeObject): KubeObject {
  if (!isKnownKind(object.kind ?? "") || !KINDS[object.kind as Kind].namespaced || object.metadata?.namespace)
    return object;
  return { ...object, metadata: { ...object.metadata, namespace: "default" } };
}

function documentsOf(file: string, text: string): { values: unknown[] } | { problems: ManifestProblem[] } {
  if (file.endsWith(".json")) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      return { problems: [{ file, message: `invalid JSON: ${(error as Error).message}` }] };
    }
    // JSON.parse keeps the last of duplicate keys silently; YAML (a superset of JSON) tells.
    const duplicate = parseDocument(text, { uniqueKeys: true }).errors.find((error) => error.code === "DUPLICATE_KEY");
    if (duplicate !== undefined) {
      return { problems: [{ file, message: `invalid JSON: ${duplicate.message.split("\n")[0]}` }] };
    }
    // The items of a List (or an array) are its documents, so that problems name the item at fault.
    const list = value as { kind?: unknown; items?: unknown } | null;
    if (list !== null && typeof list === "object" && list.kind === "List" && Array.isArray(list.items)) {
      return { values: list.items };
    }
    return { values: Array.isArray(value) ? value : [value] };
  }
  const problems: ManifestProblem[] = [];
  const values: unknown[] = [];
  parseAllDocuments(text, { uniqueKeys: true }).forEach((document, index) => {
    const error = document.errors[0];
    if (error !== undefined) {
      problems.push({ file, document: index, message: `invalid YAML: ${error.message.split("\n")[0]}` });
      return;
    }
    try {
      values.push(document.toJS({ maxAliasCount: 100 }));
    } catch (error) {
      // e.g. "Excessive alias count" for a billion-laughs document: reject, never throw.
      problems.push({ file, document: index, message: `invalid YAML: ${(error as Error).message}` });
    }
  });
  return problems.length > 0 ? { problems } : { values };
}

/**
 * Parses one manifest file (multi-document YAML, or JSON with a single
 * object, an array or a List). All or nothing: a file with any broken
 * document is rejected, so that a half-written file never replaces good
 * content. Objects of other kinds are returned in `skipped`.
 */
export function parseManifests(file: string, text: string): ParsedManifests {
  const documents = documentsOf(file, text);
  if ("problems" in documents) return { ok: false, problems: documents.problems };
  const objects: KubeObject[] = [];
  const skipped: string[] = [];
  const problems: ManifestProblem[] = [];
  documents.values.forEach((value, document) => {
    if (value === null || value === undefined) return; // an empty document, e.g. after a trailing "---"
    const items =
      (value as { kind?: unknown; items?: unknown }).kind === "List" ? (value as { items?: unknown }).items : [value];
    if (!Array.isArray(items)) {
      problems.push({ file, document, message: "List has no items array" });
      return;
    }
    for (const item of items) {
      const problem = objectProblem(item);
      if (problem !== null) {
        problems.push({ file, document, message: `object ${problem}` });
        continue;
      }
      const object = item as KubeObject;
      if (isKnownKind(object.kind ?? "")) objects.push(withDefaultNamespace(object));
      else skipped.push(describe(object));
    }
  });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, objects, skipped };
}
