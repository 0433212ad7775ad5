import { describe, expect, test } from "vitest";
import type { KubeObject, ParsedManifests } from "../src/index.js";
import { parseManifests } from "../src/index.js";

const FILE = "/manifests/cheese.yaml";
const JSON_FILE = "/manifests/cheese.json";

const SERVICE = `apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
spec:
  ports:
    - name: http
      port: 80
`;
const INGRESS = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: cheese
spec:
  rules:
    - host: cheese.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: web
                port:
                  number: 80
`;

function objects(result: ParsedManifests): readonly KubeObject[] {
  if (!result.ok) throw new Error(`expected ok, got ${JSON.stringify(result.problems)}`);
  return result.objects;
}

function names(result: ParsedManifests): string[] {
  return objects(result).map((o) => `${o.kind} ${o.metadata?.namespace ?? ""}/${o.metadata?.name}`);
}

describe("documents", () => {
  test("a multi-document YAML file gives its objects in order", () => {
    const result = parseManifests(FILE, `${SERVICE}---\n${INGRESS}`);
    expect(names(result)).toEqual(["Service shop/web", "Ingress default/cheese"]);
    expect(objects(result)[1]).toMatchObject({
      spec: { rules: [{ host: "cheese.example.com", http: { paths: [{ path: "/", pathType: "Prefix" }] } }] },
    });
  });

  test("empty documents, a leading and a trailing separator, comments-only documents are skipped", () => {
    const text = `---\n# just a comment\n---\n${SERVICE}---\n---\n\n---\n${INGRESS}---\n`;
    expect(names(parseManifests(FILE, text))).toEqual(["Service shop/web", "Ingress default/cheese"]);
  });

  test.each([
    { name: "an empty file", text: "" },
    { name: "whitespace only", text: "\n  \n\n" },
    { name: "comments only", text: "# nothing here yet\n" },
    { name: "separators only", text: "---\n---\n" },
    { name: "an explicit null document", text: "null\n" },
  ])("$name has no objects", ({ text }) => {
    expect(parseManifests(FILE, text)).toEqual({ ok: true, objects: [], skipped: [] });
  });

  test("YAML anchors and aliases are resolved", () => {
    const text = `apiVersion: v1
kind: Service
metadata:
  name: web
  labels: &labels { app: web }
  annotations: *labels
`;
    expect(objects(parseManifests(FILE, text))[0]?.metadata?.annotations).toEqual({ app: "web" });
  });

  test("a YAML List gives its items", () => {
    const text = `apiVersion: v1
kind: List
items:
  - { apiVersion: v1, kind: Service, metadata: { name: a } }
  - { apiVersion: v1, kind: Service, metadata: { name: b } }
`;
    expect(names(parseManifests(FILE, text))).toEqual(["Service default/a", "Service default/b"]);
  });

  test("an empty List has no objects", () => {
    expect(parseManifests(FILE, "apiVersion: v1\nkind: List\nitems: []\n")).toEqual({
      ok: true,
      objects: [],
      skipped: [],
    });
  });
});

describe("JSON", () => {
  const service = (name: string) => ({ apiVersion: "v1", kind: "Service", metadata: { name } });

  test("a single object", () => {
    expect(names(parseManifests(JSON_FILE, JSON.stringify(service("a"))))).toEqual(["Service default/a"]);
  });

  test("an array of objects", () => {
    const text = JSON.stringify([service("a"), service("b")], null, 2);
    expect(names(parseManifests(JSON_FILE, text))).toEqual(["Service default/a", "Service default/b"]);
  });

  test("a List", () => {
    const text = JSON.stringify({ apiVersion: "v1", kind: "List", items: [service("a"), service("b")] }, null, "\t");
    expect(names(parseManifests(JSON_FILE, text))).toEqual(["Service default/a", "Service default/b"]);
  });

  test("null and an empty array have no objects", () => {
    expect(parseManifests(JSON_FILE, "null")).toEqual({ ok: true, objects: [], skipped: [] });
    expect(parseManifests(JSON_FILE, "[]")).toEqual({ ok: true, objects: [], skipped: [] });
  });

  test("invalid JSON rejects the file", () => {
    const result = parseManifests(JSON_FILE, '{"apiVersion": "v1", "kind": "Service",');
    expect(result).toEqual({
      ok: false,
      problems: [{ file: JSON_FILE, message: expect.stringMatching(/^invalid JSON: /) }],
    });
  });

  test("an invalid item of an array is reported with its index", () => {
    const text = JSON.stringify([service("a"), { kind: "Service", metadata: { name: "b" } }]);
    expect(parseManifests(JSON_FILE, text)).toEqual({
      ok: false,
      problems: [{ file: JSON_FILE, document: 1, message: "object Service has no apiVersion" }],
    });
  });

  test("an invalid item of a List is reported with its index", () => {
    const text = JSON.stringify({
      apiVersion: "v1",
      kind: "List",
      items: [service("a"), service("b"), { apiVersion: "v1", kind: "Service", metadata: {} }],
    });
    expect(parseManifests(JSON_FILE, text)).toEqual({
      ok: false,
      problems: [{ file: JSON_FILE, document: 2, message: "object Service has no metadata.name" }],
    });
  });

  test("duplicate keys reject the file", () => {
    const text = '{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a", "name": "b"}}';
    expect(parseManifests(JSON_FILE, text)).toEqual({
      ok: false,
      problems: [{ file: JSON_FILE, message: expect.stringMatching(/^invalid JSON: Map keys must be unique/) }],
    });
  });

  test("a .yaml file holding a JSON object is read as YAML", () => {
    expect(parseManifests(FILE, JSON.stringify(service("a")))).toMatchObject({ ok: true, objects: [service("a")] });
  });
});

describe("broken YAML rejects the whole file", () => {
  test("the problem names the file and the document", () => {
    const result = parseManifests(FILE, `${SERVICE}---\nmetadata: [unclosed\n---\n${INGRESS}`);
    expect(result).toEqual({
      ok: false,
      problems: [{ file: FILE, document: 1, message: expect.stringMatching(/^invalid YAML: /) }],
    });
  });

  test("bad indentation in the first document", () => {
    const result = parseManifests(FILE, "apiVersion: v1\nkind: Service\n metadata:\n  name: x\n");
    expect(result).toMatchObject({ ok: false, problems: [{ file: FILE, document: 0 }] });
  });

  test("a tab used for indentation", () => {
    const result = parseManifests(FILE, `${SERVICE}---\nkind: Service\nmetadata:\n\tname: x\n`);
    expect(result).toMatchObject({ ok: false, problems: [{ file: FILE, document: 1 }] });
  });

  test("duplicate keys, at the top and nested", () => {
    expect(parseManifests(FILE, "apiVersion: v1\nkind: Service\nkind: Secret\nmetadata: { name: a }\n")).toEqual({
      ok: false,
      problems: [{ file: FILE, document: 0, message: expect.stringMatching(/^invalid YAML: Map keys must be unique/) }],
    });
    expect(
      parseManifests(FILE, `${SERVICE}---\napiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  name: b\n`),
    ).toEqual({
      ok: false,
      problems: [{ file: FILE, document: 1, message: expect.stringMatching(/^invalid YAML: Map keys must be unique/) }],
    });
  });

  test("an alias bomb is rejected, not expanded and not thrown", () => {
    const bomb = [
      'a: &a ["x","x","x","x","x","x","x","x","x"]',
      "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]",
      "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]",
      "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]",
      "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]",
      "f: [*e,*e,*e,*e,*e,*e,*e,*e,*e]",
    ].join("\n");
    let result: ParsedManifests | undefined;
    expect(() => {
      result = parseManifests(FILE, `${SERVICE}---\n${bomb}\n`);
    }).not.toThrow();
    expect(result).toMatchObject({ ok: false, problems: [{ file: FILE, document: 1 }] });
  });

  test("every broken document is reported", () => {
    const result = parseManifests(FILE, `a: [\n---\n${SERVICE}---\nb: {\n`);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problems.map((p) => p.document)).toEqual([0, 2]);
  });
});

describe("invalid objects reject the whole file", () => {
  test.each([
    { name: "no kind", doc: "apiVersion: v1\nmetadata: { name: a }", message: "object has no kind" },
    { name: "an empty kind", doc: "apiVersion: v1\nkind: ''\nmetadata: { name: a }", message: "object has no kind" },
    {
      name: "a kind that is not a string",
      doc: "apiVersion: v1\nkind: 5\nmetadata: { name: a }",
      message: "object has no kind",
    },
    { name: "no apiVersion", doc: "kind: Service\nmetadata: { name: a }", message: "object Service has no apiVersion" },
    {
      name: "no apiVersion on an unknown kind",
      doc: "kind: ConfigMap\nmetadata: { name: a }",
      message: "object ConfigMap has no apiVersion",
    },
    {
      name: "the old Ingress apiVersion",
      doc: "apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata: { name: a }",
      message: "object Ingress has apiVersion extensions/v1beta1; rennet reads networking.k8s.io/v1",
    },
    {
      name: "networking.k8s.io/v1beta1 for an IngressClass",
      doc: "apiVersion: networking.k8s.io/v1beta1\nkind: IngressClass\nmetadata: { name: a }",
      message: "object IngressClass has apiVersion networking.k8s.io/v1beta1; rennet reads networking.k8s.io/v1",
    },
    {
      name: "the beta EndpointSlice apiVersion",
      doc: "apiVersion: discovery.k8s.io/v1beta1\nkind: EndpointSlice\nmetadata: { name: a }",
      message: "object EndpointSlice has apiVersion discovery.k8s.io/v1beta1; rennet reads discovery.k8s.io/v1",
    },
    {
      name: "a Service with the apps/v1 apiVersion",
      doc: "apiVersion: apps/v1\nkind: Service\nmetadata: { name: a }",
      message: "object Service has apiVersion apps/v1; rennet reads v1",
    },
    { name: "no metadata", doc: "apiVersion: v1\nkind: Service", message: "object Service has no metadata" },
    {
      name: "metadata: null",
      doc: "apiVersion: v1\nkind: Service\nmetadata:",
      message: "object Service has no metadata",
    },
    {
      name: "metadata is a string",
      doc: "apiVersion: v1\nkind: Service\nmetadata: web",
      message: "object Service has no metadata",
    },
    {
      name: "no metadata.name",
      doc: "apiVersion: v1\nkind: Service\nmetadata: { namespace: shop }",
      message: "object Service has no metadata.name",
    },
    {
      name: "an empty metadata.name",
      doc: "apiVersion: v1\nkind: Service\nmetadata: { name: '' }",
      message: "object Service has no metadata.name",
    },
    {
      name: "a metadata.name that is not a string",
      doc: "apiVersion: v1\nkind: Service\nmetadata: { name: 42 }",
      message: "object Service has no metadata.name",
    },
    {
      name: "a spec that is a string",
      doc: "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: { name: a, namespace: shop }\nspec: rules",
      message: "object Ingress shop/a has a spec that is not a mapping",
    },
    {
      name: "a spec that is a list",
      doc: "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: { name: a }\nspec: [rules]",
      message: "object Ingress a has a spec that is not a mapping",
    },
    { name: "a scalar document", doc: "just some text", message: "object is not a mapping" },
    { name: "a list document", doc: "- apiVersion: v1\n  kind: Service", message: "object is not a mapping" },
    { name: "a List without items", doc: "apiVersion: v1\nkind: List", message: "List has no items array" },
    {
      name: "a List whose items is a mapping",
      doc: "apiVersion: v1\nkind: List\nitems: {}",
      message: "List has no items array",
    },
    {
      name: "a List with an invalid item",
      doc: "apiVersion: v1\nkind: List\nitems:\n  - { apiVersion: v1, kind: Service, metadata: { name: a } }\n  - { kind: Service }",
      message: "object Service has no apiVersion",
    },
  ])("$name", ({ doc, message }) => {
    // The invalid object is the second document; the first one is fine but the whole file is rejected.
    expect(parseManifests(FILE, `${SERVICE}---\n${doc}\n---\n${INGRESS}`)).toEqual({
      ok: false,
      problems: [{ file: FILE, document: 1, message }],
    });
  });

  test("every invalid object is reported", () => {
    const result = parseManifests(FILE, `kind: Service\n---\n${SERVICE}---\napiVersion: v1\n`);
    expect(result).toEqual({
      ok: false,
      problems: [
        { file: FILE, document: 0, message: "object Service has no apiVersion" },
        { file: FILE, document: 2, message: "object has no kind" },
      ],
    });
  });

  test("a null spec is accepted", () => {
    const result = parseManifests(
      FILE,
      "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: { name: a }\nspec:\n",
    );
    expect(names(result)).toEqual(["Ingress default/a"]);
  });
});

describe("kinds rennet does not read", () => {
  test("are skipped and listed, and do not reject the file", () => {
    const text = `apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: shop }
spec: { replicas: 2 }
---
${SERVICE}---
apiVersion: v1
kind: ConfigMap
metadata: { name: settings }
data: { a: b }
---
apiVersion: example.com/v1
kind: Cheese
`;
    expect(parseManifests(FILE, text)).toEqual({
      ok: true,
      objects: [expect.objectContaining({ kind: "Service" })],
      skipped: ["Deployment shop/web", "ConfigMap settings", "Cheese ?"],
    });
  });

  test("are not validated beyond kind and apiVersion", () => {
    const result = parseManifests(FILE, "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: 5 }\nspec: [1, 2]\n");
    expect(result).toMatchObject({ ok: true, objects: [], skipped: [expect.stringMatching(/^ConfigMap /)] });
  });
});

describe("namespaces", () => {
  const kinds = [
    { kind: "Ingress", apiVersion: "networking.k8s.io/v1", namespace: "default" },
    { kind: "Service", apiVersion: "v1", namespace: "default" },
    { kind: "EndpointSlice", apiVersion: "discovery.k8s.io/v1", namespace: "default" },
    { kind: "Secret", apiVersion: "v1", namespace: "default" },
    { kind: "IngressClass", apiVersion: "networking.k8s.io/v1", namespace: undefined },
  ];

  test.each(kinds)("$kind without namespace gets namespace $namespace", ({ kind, apiVersion, namespace }) => {
    const [object] = objects(parseManifests(FILE, `apiVersion: ${apiVersion}\nkind: ${kind}\nmetadata: { name: a }\n`));
    expect(object?.metadata?.namespace).toBe(namespace);
    expect(object?.metadata?.name).toBe("a");
  });

  test("an empty namespace counts as none", () => {
    const [object] = objects(
      parseManifests(FILE, "apiVersion: v1\nkind: Service\nmetadata: { name: a, namespace: '' }\n"),
    );
    expect(object?.metadata?.namespace).toBe("default");
  });

  test("an explicit namespace is kept, and the rest of metadata too", () => {
    const text = "apiVersion: v1\nkind: Service\nmetadata: { name: a, namespace: shop, labels: { app: a } }\n";
    expect(objects(parseManifests(FILE, text))[0]?.metadata).toEqual({
      name: "a",
      namespace: "shop",
      labels: { app: "a" },
    });
  });
});
