/**
 * labelSelector and fieldSelector query parameters: parsing (400 BadRequest on what the API server would refuse)
 * and matching against objects.
 */
import type { KubeObject } from "./json.js";
import type { ResourceDef } from "./resources.js";
import { fieldValue, supportsField } from "./resources.js";
import { badRequest } from "./status.js";

export type LabelOp = "=" | "!=" | "in" | "notin" | "exists" | "!exists";

export interface LabelRequirement {
  readonly key: string;
  readonly op: LabelOp;
  readonly values: readonly string[];
}

export interface FieldRequirement {
  readonly field: string;
  readonly op: "=" | "!=";
  readonly value: string;
}

/** Splits on commas that are not inside parentheses. */
function splitTerms(s: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "," && depth === 0) {
      terms.push(s.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(s.slice(start));
  return terms.map((t) => t.trim()).filter((t) => t !== "");
}

const KEY = "[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?";
const VALUE = "([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?";
const SET_RE = new RegExp(String.raw`^(${KEY})\s+(in|notin)\s+\(([^)]*)\)$`);
const EQ_RE = new RegExp(String.raw`^(${KEY})\s*(==|=|!=)\s*(${VALUE})$`);
const EXISTS_RE = new RegExp(String.raw`^(!?)\s*(${KEY})$`);
const VALUE_RE = new RegExp(`^${VALUE}$`);

export function parseLabelSelector(s: string | null): LabelRequirement[] {
  if (s === null || s.trim() === "") return [];
  return splitTerms(s).map((term) => {
    const set = SET_RE.exec(term);
    if (set) {
      const values = (set[4] ?? "").split(",").map((v) => v.trim());
      if (values.some((v) => !VALUE_RE.test(v)))
        throw badRequest(`unable to parse requirement: invalid value in "${term}"`);
      return { key: set[1] ?? "", op: set[3] === "in" ? "in" : "notin", values };
    }
    const eq = EQ_RE.exec(term);
    if (eq) return { key: eq[1] ?? "", op: eq[3] === "!=" ? "!=" : "=", values: [eq[4] ?? ""] };
    const ex = EXISTS_RE.exec(term);
    if (ex) return { key: ex[2] ?? "", op: ex[1] === "!" ? "!exists" : "exists", values: [] };
    throw badRequest(`unable to parse requirement: found '${term}', expected: in, notin, =, ==, !=, gt, lt`);
  });
}

export function matchesLabels(reqs: readonly LabelRequirement[], obj: KubeObject): boolean {
  const labels = obj.metadata?.labels ?? {};
  return reqs.every((r) => {
    const has = Object.hasOwn(labels, r.key);
    const v = labels[r.key];
    switch (r.op) {
      case "=":
        return has && v === r.values[0];
      case "!=":
        return !has || v !== r.values[0];
      case "in":
        return has && r.values.includes(v ?? "");
      case "notin":
        return !has || !r.values.includes(v ?? "");
      case "exists":
        return has;
      case "!exists":
        return !has;
    }
    return false;
  });
}

export function parseFieldSelector(s: string | null, d: ResourceDef): FieldRequirement[] {
  if (s === null || s.trim() === "") return [];
  return splitTerms(s).map((term) => {
    const m = /^([^=!]+?)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (!m) throw badRequest(`invalid selector: '${s}'; can't understand '${term}'`);
    const field = m[1] ?? "";
    if (!supportsField(d, field)) {
      throw badRequest(`field label not supported: ${field}`);
    }
    return { field, op: m[2] === "!=" ? "!=" : "=", value: m[3] ?? "" };
  });
}

export function matchesFields(reqs: readonly FieldRequirement[], d: ResourceDef, obj: KubeObject): boolean {
  return reqs.every((r) => {
    const v = fieldValue(d, obj, r.field) ?? "";
    return r.op === "=" ? v === r.value : v !== r.value;
  });
}

/** What one list or watch asks for: scope and selectors combined. */
export interface ObjectFilter {
  readonly namespace: string | undefined;
  readonly labels: readonly LabelRequirement[];
  readonly fields: readonly FieldRequirement[];
}

export function matchesFilter(f: ObjectFilter, d: ResourceDef, obj: KubeObject): boolean {
  if (f.namespace !== undefined && obj.metadata?.namespace !== f.namespace) return false;
  return matchesLabels(f.labels, obj) && matchesFields(f.fields, d, obj);
}
