import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { KubeObject } from "../src/index.js";
import { parseManifests } from "../src/index.js";
import { ManifestFileParser, splitYamlDocuments } from "../src/manifests/parse-manifests.js";

const FILE = "/manifests/apps.yaml";

const service = (name: string, port = 80) =>
  `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${name}\nspec:\n  ports:\n    - name: http\n      port: ${port}\n`;

/** A parser that counts the objects it had to parse (prepare runs once per freshly parsed object). */
function counting(file = FILE): { parser: ManifestFileParser; parsed: () => number } {
  let count = 0;
  const parser = new ManifestFileParser(file, (object) => {
    count++;
    return object;
  });
  return { parser, parsed: () => count };
}

function objectsOf(result: ReturnType<typeof parseManifests>): readonly KubeObject[] {
  if (!result.ok) throw new Error(`expected ok, got ${JSON.stringify(result.problems)}`);
  return result.objects;
}

describe("splitYamlDocuments", () => {
  test.each([
    { name: "one document", text: "a: 1\n", pieces: ["a: 1\n"] },
    { name: "no text", text: "", pieces: [""] },
    { name: "a leading marker stays with its document", text: "---\na: 1\n", pieces: ["---\na: 1\n"] },
    { name: "two documents", text: "a: 1\n---\nb: 2\n", pieces: ["a: 1\n", "---\nb: 2\n"] },
    { name: "a trailing marker", text: "a: 1\n---\n", pieces: ["a: 1\n", "---\n"] },
    { name: "a marker at the very end", text: "a: 1\n---", pieces: ["a: 1\n", "---"] },
    { name: "a marker with content", text: "a: 1\n--- {b: 2}\n", pieces: ["a: 1\n", "--- {b: 2}\n"] },
    { name: "a marker and a tab", text: "a: 1\n---\tb\n", pieces: ["a: 1\n", "---\tb\n"] },
    { name: "CRLF", text: "a: 1\r\n---\r\nb: 2\r\n", pieces: ["a: 1\r\n", "---\r\nb: 2\r\n"] },
    { name: "four dashes are no marker", text: "a: 1\n----\n", pieces: ["a: 1\n----\n"] },
    { name: "dashes and text are no marker", text: "a: |\n  x\n---b: 1\n", pieces: ["a: |\n  x\n---b: 1\n"] },
    { name: "an indented marker is content", text: "a: |\n  ---\n  x\n", pieces: ["a: |\n  ---\n  x\n"] },
    { name: "a lone CR is no line break", text: "a: 1\r---\rb: 2\n", pieces: ["a: 1\r---\rb: 2\n"] },
    { name: "nor is U+2028", text: 'a: "x\u2028--- y"\n', pieces: ['a: "x\u2028--- y"\n'] },
  ])("$name", ({ text, pieces }) => {
    expect(splitYamlDocuments(text)).toEqual(pieces);
    expect(pieces.join("")).toBe(text);
  });

  test.each([
    { name: "a %YAML directive", text: "%YAML 1.1\n---\na: yes\n" },
    { name: "a %TAG directive after a document", text: "a: 1\n...\n%TAG ! tag:example.com,2000:\n---\nb: !x 2\n" },
    { name: "a directive after a byte order mark", text: "\uFEFF%YAML 1.2\n---\na: 1\n" },
    { name: "a document-end marker", text: "a: 1\n...\nb: 2\n" },
    { name: "a document-end marker first", text: "...\na: 1\n" },
    { name: "a document-end marker last", text: "a: 1\n..." },
  ])("$name: not split, the file is parsed whole", ({ text }) => {
    expect(splitYamlDocuments(text)).toBeUndefined();
  });
});

// Documents and document-like text chosen to trip a splitter: markers inside scalars and flow
// collections (which end them: YAML forbids markers in content), block scalars, comments, CRLF,
// directives and document-end markers (the whole file is parsed then), and broken documents.
const FRAGMENTS: ReadonlyArray<(n: number) => string> = [
  (n) => service(`web-${n}`, 80 + n),
  (n) => `apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: { name: in-${n}, namespace: shop }\nspec: {}\n`,
  (n) => `apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: d-${n} }\n`,
  (n) => `apiVersion: v1\nkind: List\nitems:\n  - { apiVersion: v1, kind: Service, metadata: { name: l-${n} } }\n`,
  (n) => `# only a comment ${n}\n`,
  () => "",
  () => "null\n",
  (n) =>
    `apiVersion: v1\nkind: Service\nmetadata:\n  name: lit-${n}\n  annotations:\n    text: |\n      ---\n      ...\n      %x\n`,
  (n) => `apiVersion: v1\nkind: Service\nmetadata: &m { name: anchor-${n} }\nspec: { selector: *m }\n`,
  (n) => `apiVersion: v1\r\nkind: Service\r\nmetadata:\r\n  name: crlf-${n}\r\n`,
  (n) => `apiVersion: v1\nkind: Service\nmetadata: { name: "q-${n}", annotations: { a: "--- not a marker" } }\n`,
  (n) => `apiVersion: v1\nkind: Service\nmetadata:\n  name: multi-${n}\n  annotations:\n    a: "line one\n`,
  (n) => `apiVersion: v1\nkind: Service\nmetadata: { name: open-${n},\n`,
  (n) => `metadata: [oops-${n}\n`,
  (n) => `apiVersion: v1\nkind: Service\nmetadata: { namespace: no-name-${n} }\n`,
  (n) => `apiVersion: v1\nkind: Service\nkind: Secret\nmetadata: { name: dup-${n} }\n`,
  (n) => `--- |\nroot block ${n}\n`,
  (n) => `--- # a marker with a comment\n${service(`c-${n}`)}`,
  (n) => `...\n${service(`after-end-${n}`)}`,
  (n) => `%YAML 1.1\n---\n${service(`yaml11-${n}`)}`,
  (n) => `apiVersion: v1\nkind: Service\nmetadata:\n\tname: tab-${n}\n`,
  (n) => `${service(`dashes-${n}`)}----: ${n}\n---x: 1\n`,
  (n) => `apiVersion: v1\nkind: Service\nmetadata: { name: ls-${n}, annotations: { a: "x\u2028--- y" } }\n`,
];
const SEPARATORS = ["---\n", "--- \n", "---\r\n", "---\t\n", "--- # next\n"];

const fileText = fc
  .record({
    bom: fc.boolean(),
    leading: fc.constantFrom("", "---\n", "# header\n", "# header\n---\n"),
    documents: fc.array(fc.tuple(fc.nat(FRAGMENTS.length - 1), fc.nat(3), fc.nat(SEPARATORS.length - 1)), {
      maxLength: 8,
    }),
    trailing: fc.constantFrom("", "---\n", "---", "\n"),
  })
  .map(({ bom, leading, documents, trailing }) => {
    let text = bom ? "\uFEFF" : "";
    text += leading;
    documents.forEach(([fragment, n, separator], index) => {
      if (index > 0) text += SEPARATORS[separator] as string;
      text += (FRAGMENTS[fragment] as (n: number) => string)(n);
    });
    return text + trailing;
  });

describe("ManifestFileParser", () => {
  test("gives what parseManifests gives for the whole text, version after version (property)", () => {
    fc.assert(
      fc.property(fc.array(fileText, { minLength: 1, maxLength: 6 }), (versions) => {
        // One parser for the whole history, so later versions reuse pieces cached by earlier ones.
        const parser = new ManifestFileParser(FILE);
        for (const text of versions) expect(parser.parse(text)).toEqual(parseManifests(FILE, text));
        // With a prepare step, the same once prepared (whichever way the parser took).
        const stamp = (object: KubeObject): KubeObject => ({ ...object, metadata: { ...object.metadata, uid: "u" } });
        const stamping = new ManifestFileParser(FILE, stamp);
        for (const text of versions) {
          const whole = parseManifests(FILE, text);
          expect(stamping.parse(text)).toEqual(whole.ok ? { ...whole, objects: whole.objects.map(stamp) } : whole);
        }
      }),
      { numRuns: 400 },
    );
  });

  test.each([
    { name: "a broken document keeps its index", text: `${service("a")}---\n${service("b")}---\nmetadata: [x\n` },
    {
      name: "several broken documents, after comment-only pieces",
      text: `# c\n---\na: [\n---\n${service("a")}---\n# c\n---\nb: {\n`,
    },
    { name: "a quoted scalar cut by a marker", text: `a: "x\n---\nb: 1"\n---\n${service("a")}` },
    { name: "a flow sequence cut by a marker", text: `a: [1,\n---\n2]\n` },
    { name: "an invalid object", text: `${service("a")}---\napiVersion: v1\nkind: Service\nmetadata: {}\n` },
    { name: "an invalid List item", text: `${service("a")}---\napiVersion: v1\nkind: List\nitems: [{ kind: X }]\n` },
    { name: "a directive and a broken document", text: `%YAML 1.2\n---\n${service("a")}---\na: [\n` },
  ])("errors are those of a whole-file parse: $name", ({ text }) => {
    const parser = new ManifestFileParser(FILE);
    const result = parser.parse(text);
    expect(result.ok).toBe(false);
    expect(result).toEqual(parseManifests(FILE, text));
    // And again with every good document already cached.
    expect(parser.parse(text)).toEqual(parseManifests(FILE, text));
  });

  test("a JSON file is parsed whole, as parseManifests does", () => {
    const parser = new ManifestFileParser("/manifests/apps.json");
    const text = JSON.stringify([{ apiVersion: "v1", kind: "Service", metadata: { name: "a" } }]);
    expect(parser.parse(text)).toEqual(parseManifests("/manifests/apps.json", text));
    expect(parser.parse("[{")).toEqual(parseManifests("/manifests/apps.json", "[{"));
  });

  test("changing one document of many parses that document alone; the others keep their instances", () => {
    const { parser, parsed } = counting();
    const names = Array.from({ length: 300 }, (_, i) => `web-${i}`);
    const text = (port: (i: number) => number) => names.map((name, i) => service(name, port(i))).join("---\n");
    const first = objectsOf(parser.parse(text(() => 80)));
    expect(parsed()).toBe(300);

    const second = objectsOf(parser.parse(text((i) => (i === 150 ? 81 : 80))));
    expect(parsed()).toBe(301);
    expect(second).toHaveLength(300);
    second.forEach((object, i) => {
      if (i === 150) expect(object).not.toBe(first[i]);
      else expect(object).toBe(first[i]);
    });
    expect(second[150]).toMatchObject({ metadata: { name: "web-150" }, spec: { ports: [{ port: 81 }] } });

    // Adding a document and taking it away again: the others are still reused.
    const third = objectsOf(parser.parse(`${text((i) => (i === 150 ? 81 : 80))}---\n${service("new")}`));
    expect(parsed()).toBe(302);
    expect(third.slice(0, 300)).toEqual(second);
    third.slice(0, 300).forEach((object, i) => {
      expect(object).toBe(second[i]);
    });
    expect(objectsOf(parser.parse(text(() => 80)))).toHaveLength(300);
    expect(parsed()).toBe(303); // web-150 at port 80 was no longer cached: only the last read's documents are
  });

  test("the good documents of a broken version stay cached for the fixed one", () => {
    const { parser, parsed } = counting();
    const good = [service("a"), service("b"), service("c")];
    objectsOf(parser.parse(good.join("---\n")));
    expect(parsed()).toBe(3);
    const broken = parser.parse([good[0], "metadata: [oops\n", good[2]].join("---\n"));
    expect(broken).toMatchObject({ ok: false, problems: [{ file: FILE, document: 1 }] });
    expect(parsed()).toBe(3);
    const fixed = objectsOf(parser.parse([good[0], service("b", 81), good[2]].join("---\n")));
    expect(parsed()).toBe(4);
    expect(fixed.map((o) => o.metadata?.name)).toEqual(["a", "b", "c"]);
  });

  test("prepare is applied to every object handed out, also for files parsed whole", () => {
    const stamp = (object: KubeObject): KubeObject => ({ ...object, metadata: { ...object.metadata, uid: "x" } });
    for (const [file, text] of [
      [FILE, `${service("a")}---\n${service("b")}`],
      [FILE, `%YAML 1.2\n---\n${service("a")}`],
      ["/manifests/a.json", JSON.stringify({ apiVersion: "v1", kind: "Service", metadata: { name: "a" } })],
    ] as const) {
      const result = new ManifestFileParser(file, stamp).parse(text);
      expect(objectsOf(result).every((object) => object.metadata?.uid === "x")).toBe(true);
    }
  });
});
