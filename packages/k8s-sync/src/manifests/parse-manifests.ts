import { hash } from "node:crypto";
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

// A line (after an optional byte order mark) that starts with a directive, or with a document-end marker.
const DIRECTIVE_OR_DOCUMENT_END = /(?:^|\n)\uFEFF?(?:%|\.\.\.(?:[ \t\r\n]|$))/;

/**
 * Cuts multi-document YAML into pieces that parse, one by one, exactly as
 * the whole text does: the cuts are the lines that start with `---` followed
 * by a space, a tab, a line break or the end of the text. Such a line starts
 * a new document wherever it appears, inside a quoted, block or flow scalar
 * too (YAML 1.2 forbids document markers in content, and the yaml library
 * ends whatever was open there), and YAML documents share nothing: anchors,
 * tags and duplicate keys are per document. Each piece ends with its line
 * break; the first one (before any marker) may hold no document at all
 * (comments) or several.
 *
 * Undefined when a line starts with a directive (`%YAML`, `%TAG`: they
 * belong to the document after them) or a document-end marker (`...`: a
 * document may follow it without `---`): such files are parsed whole. Only
 * `\n` counts as a line break here, as in the yaml library's lexer (`\r\n`
 * ends in `\n`); a lone `\r` or U+2028 never makes a cut.
 */
export function splitYamlDocuments(text: string): string[] | undefined {
  if (DIRECTIVE_OR_DOCUMENT_END.test(text)) return undefined;
  const pieces: string[] = [];
  let start = 0;
  for (let at = text.indexOf("\n---"); at !== -1; at = text.indexOf("\n---", at + 4)) {
    const after = text[at + 4];
    if (after !== undefined && after !== " " && after !== "\t" && after !== "\r" && after !== "\n") continue;
    pieces.push(text.slice(start, at + 1));
    start = at + 1;
  }
  pieces.push(text.slice(start));
  return pieces;
}

/** A document's objects; with the kinds it skipped when it skipped any (seldom: kept apart, to keep the cache small). */
type Piece = readonly KubeObject[] | { readonly objects: readonly KubeObject[]; readonly skipped: readonly string[] };

/**
 * parseManifests() for one file that is read again and again: it keeps the
 * result of each YAML document, so that re-reading a file of hundreds of
 * documents where one changed parses one document. The result is always
 * what parseManifests() gives for the whole text (a test compares them), with
 * the same object instances for unchanged documents:
 *
 * - the text is cut with splitYamlDocuments() and each piece not seen in the
 *   previous read is parsed alone; objects and skipped kinds are the pieces'
 *   in order;
 * - when any piece fails, the whole text is parsed again and that result is
 *   returned, so problems name the document index in the file and carry the
 *   very messages of a whole-file parse; the cost falls on broken files only;
 * - JSON files, and YAML with directives or `...`, are parsed whole, every time.
 *
 * Pieces are known by the SHA-256 of their text (about 0.3 ms for 300
 * documents): keying by the text itself would keep a copy of every file's text
 * alive (9 MB at 10k Ingresses). Only the pieces of the last read are kept.
 *
 * `prepare` turns each parsed object into the one to hand out (ManifestSource
 * stamps creationTimestamp there); the cache keeps the prepared objects, so
 * an unchanged document gives back the very same instances.
 */
export class ManifestFileParser {
  readonly #file: string;
  readonly #prepare: (object: KubeObject) => KubeObject;
  #pieces = new Map<string, Piece>();

  constructor(file: string, prepare: (object: KubeObject) => KubeObject = (object) => object) {
    this.#file = file;
    this.#prepare = prepare;
  }

  parse(text: string): ParsedManifests {
    const file = this.#file;
    const split = file.endsWith(".json") ? undefined : splitYamlDocuments(text);
    if (split === undefined) {
      this.#pieces = new Map();
      return this.#whole(text);
    }
    const pieces = new Map<string, Piece>();
    const objects: KubeObject[] = [];
    const skipped: string[] = [];
    let failed = false;
    for (const document of split) {
      const key = hash("sha256", document, "base64");
      let piece = pieces.get(key) ?? this.#pieces.get(key);
      if (piece === undefined) {
        const parsed = parseManifests(file, document);
        if (!parsed.ok) {
          failed = true;
          continue;
        }
        const prepared = parsed.objects.map(this.#prepare);
        piece = parsed.skipped.length > 0 ? { objects: prepared, skipped: parsed.skipped } : prepared;
      }
      pieces.set(key, piece);
      if ("skipped" in piece) {
        for (const object of piece.objects) objects.push(object);
        for (const kind of piece.skipped) skipped.push(kind);
      } else for (const object of piece) objects.push(object);
    }
    // The good pieces of a broken file are kept: the fixed file will likely reuse them.
    this.#pieces = pieces;
    return failed ? this.#whole(text) : { ok: true, objects, skipped };
  }

  #whole(text: string): ParsedManifests {
    const parsed = parseManifests(this.#file, text);
    return parsed.ok ? { ...parsed, objects: parsed.objects.map(this.#prepare) } : parsed;
  }
}
