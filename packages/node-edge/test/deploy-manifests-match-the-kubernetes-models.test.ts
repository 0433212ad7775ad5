import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import * as k8s from "@kubernetes/client-node";
import { CONTROLLER_PERMISSIONS } from "@rennet/k8s-sync/cluster";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";

const root = fileURLToPath(new URL("../../..", import.meta.url));

type Attribute = { baseName: string; type: string };
type Model = { getAttributeTypeMap(): Attribute[] };
const models = k8s as unknown as Record<string, Model | undefined>;

// The model class of each kind we ship, from client-node's generated models.
const KIND_MODELS: Record<string, string> = {
  Namespace: "V1Namespace",
  ServiceAccount: "V1ServiceAccount",
  ClusterRole: "V1ClusterRole",
  ClusterRoleBinding: "V1ClusterRoleBinding",
  Role: "V1Role",
  RoleBinding: "V1RoleBinding",
  IngressClass: "V1IngressClass",
  DaemonSet: "V1DaemonSet",
  Deployment: "V1Deployment",
  Service: "V1Service",
  Ingress: "V1Ingress",
  EndpointSlice: "V1EndpointSlice",
};

// Fields the API server requires (the generated models do not say), by JSON path.
const REQUIRED: Record<string, string[]> = {
  DaemonSet: ["spec.selector", "spec.template.spec.containers"],
  Deployment: ["spec.selector", "spec.template.spec.containers"],
  ClusterRoleBinding: ["roleRef", "subjects"],
  RoleBinding: ["roleRef", "subjects"],
  IngressClass: ["spec.controller"],
  Service: ["spec.ports"],
  Ingress: ["spec"],
};

function manifests(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && /\.ya?ml$/.test(entry.name) && entry.name !== "kustomization.yaml")
    .map((entry) => join(entry.parentPath, entry.name));
}

function objects(): Array<{ file: string; object: Record<string, unknown> }> {
  const found: Array<{ file: string; object: Record<string, unknown> }> = [];
  for (const file of [...manifests(join(root, "deploy")), ...manifests(join(root, "examples"))]) {
    for (const document of parseAllDocuments(readFileSync(file, "utf8"))) {
      expect(document.errors, file).toEqual([]);
      const object = document.toJS() as Record<string, unknown> | null;
      if (object !== null) found.push({ file: relative(root, file), object });
    }
  }
  return found;
}

// Walks a value against a model: unknown fields and wrong shapes are problems.
function check(value: unknown, type: string, path: string, problems: string[]): void {
  if (value === null || value === undefined) return;
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (!Array.isArray(value)) problems.push(`${path}: expected a list`);
    else {
      for (const [index, item] of value.entries()) check(item, array[1] as string, `${path}[${index}]`, problems);
    }
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (typeof value !== "object" || Array.isArray(value)) problems.push(`${path}: expected a map`);
    else for (const [key, item] of Object.entries(value)) check(item, map[1] as string, `${path}.${key}`, problems);
    return;
  }
  if (type === "string") {
    if (typeof value !== "string") problems.push(`${path}: expected a string, got ${JSON.stringify(value)}`);
    return;
  }
  if (type === "number") {
    if (typeof value !== "number") problems.push(`${path}: expected a number, got ${JSON.stringify(value)}`);
    return;
  }
  if (type === "boolean") {
    if (typeof value !== "boolean") problems.push(`${path}: expected a boolean`);
    return;
  }
  if (type === "IntOrString") {
    if (typeof value !== "string" && typeof value !== "number") problems.push(`${path}: expected int or string`);
    return;
  }
  const model = models[type];
  if (model === undefined) return; // Date, any: nothing more to check
  if (typeof value !== "object" || Array.isArray(value)) {
    problems.push(`${path}: expected an object (${type})`);
    return;
  }
  const attributes = new Map(model.getAttributeTypeMap().map((attribute) => [attribute.baseName, attribute.type]));
  for (const [key, item] of Object.entries(value)) {
    const itemType = attributes.get(key);
    if (itemType === undefined) problems.push(`${path}.${key}: not a field of ${type}`);
    else check(item, itemType, `${path}.${key}`, problems);
  }
}

function at(object: unknown, path: string): unknown {
  return path.split(".").reduce<unknown>((value, key) => (value as Record<string, unknown> | undefined)?.[key], object);
}

describe("the manifests under deploy/ and examples/", () => {
  const all = objects();

  it("are objects of known kinds whose every field exists in the Kubernetes models", () => {
    const problems: string[] = [];
    for (const { file, object } of all) {
      const modelName = KIND_MODELS[object.kind as string];
      if (modelName === undefined) {
        problems.push(`${file}: unexpected kind ${String(object.kind)}`);
        continue;
      }
      check(object, modelName, `${file}:${object.kind}/${(object.metadata as { name?: string })?.name}`, problems);
      for (const path of REQUIRED[object.kind as string] ?? []) {
        if (at(object, path) === undefined) problems.push(`${file}: ${object.kind} lacks ${path}`);
      }
      if (typeof (object.metadata as { name?: unknown })?.name !== "string") problems.push(`${file}: no metadata.name`);
    }
    expect(problems).toEqual([]);
    expect(all.map(({ object }) => object.kind)).toEqual(
      expect.arrayContaining(["DaemonSet", "ClusterRole", "Ingress"]),
    );
  });

  it("grant rennet every permission its API calls need, and no more", () => {
    const grants = (kind: string) =>
      all
        .filter(({ file, object }) => file.startsWith("deploy") && object.kind === kind)
        .flatMap(
          ({ object }) => (object.rules as Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }>) ?? [],
        );
    const granted = (rules: ReturnType<typeof grants>) => {
      const set = new Set<string>();
      for (const rule of rules) {
        for (const group of rule.apiGroups) {
          for (const resource of rule.resources) for (const verb of rule.verbs) set.add(`${group}|${resource}|${verb}`);
        }
      }
      return set;
    };
    const needed = (scope: "cluster" | "namespace") =>
      new Set(
        CONTROLLER_PERMISSIONS.filter((permission) => permission.scope === scope).flatMap((permission) =>
          permission.verbs.map((verb) => `${permission.group}|${permission.resource}|${verb}`),
        ),
      );
    expect([...granted(grants("ClusterRole"))].sort()).toEqual([...needed("cluster")].sort());
    expect([...granted(grants("Role"))].sort()).toEqual([...needed("namespace")].sort());
  });

  it("deploy rennet as a hardened host-network DaemonSet", () => {
    const daemonSet = all.find(({ object }) => object.kind === "DaemonSet")?.object as unknown as k8s.V1DaemonSet;
    const pod = daemonSet.spec?.template.spec;
    const container = pod?.containers[0];
    expect(pod?.hostNetwork).toBe(true);
    expect(pod?.dnsPolicy).toBe("ClusterFirstWithHostNet");
    expect(pod?.tolerations?.map((toleration) => toleration.key)).toEqual(
      expect.arrayContaining(["node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master"]),
    );
    expect(pod?.securityContext?.runAsNonRoot).toBe(true);
    expect(container?.securityContext?.readOnlyRootFilesystem).toBe(true);
    expect(container?.securityContext?.capabilities).toEqual({ drop: ["ALL"], add: ["NET_BIND_SERVICE"] });
    expect(container?.ports?.map((port) => port.containerPort)).toEqual([80, 443, 8080]);
    expect(container?.readinessProbe?.httpGet?.path).toBe("/readyz");
    expect(container?.livenessProbe?.httpGet?.path).toBe("/healthz");
    expect(container?.env?.find((variable) => variable.name === "NODE_IP")?.valueFrom?.fieldRef?.fieldPath).toBe(
      "status.hostIP",
    );
    expect(pod?.terminationGracePeriodSeconds).toBeGreaterThan(30);
    expect(container?.lifecycle?.preStop).toBeDefined();
  });
});
