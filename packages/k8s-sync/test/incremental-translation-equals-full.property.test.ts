import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { IncrementalTranslator, type KubeObject, snapshotOf, translate } from "../src/index.js";
import { canonical, ingress, ingressClass, OPTIONS, objectArb, service, slice } from "./support/arbitraries.js";

function identity(object: KubeObject): string {
  return `${object.kind}/${object.metadata?.namespace ?? ""}/${object.metadata?.name ?? ""}`;
}

describe("IncrementalTranslator", () => {
  it("always equals translate() of the same objects, whatever sequence of changes led there", () => {
    fc.assert(
      fc.property(fc.array(fc.array(objectArb, { maxLength: 12 }), { minLength: 1, maxLength: 8 }), (steps) => {
        const translator = new IncrementalTranslator(OPTIONS);
        let current = new Map<string, KubeObject>();
        for (const [index, step] of steps.entries()) {
          // Each step adds or replaces the given objects, and every other step also drops some.
          const next = new Map(current);
          if (index % 2 === 1) for (const key of [...next.keys()].filter((_, i) => i % 3 === 0)) next.delete(key);
          for (const object of step) next.set(identity(object), object);
          current = next;
          const objects = [...current.values()];
          translator.apply(objects);
          expect(canonical(translator.translation)).toEqual(canonical(translate(snapshotOf(objects), OPTIONS)));
        }
      }),
      { numRuns: 300 },
    );
  });

  it("applyChanges() with deletions given as other copies (as informers deliver them), mixed with apply(), equals translate() too", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.array(objectArb, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 4 })), {
          minLength: 1,
          maxLength: 8,
        }),
        (steps) => {
          const translator = new IncrementalTranslator(OPTIONS);
          const current = new Map<string, KubeObject>();
          for (const [index, [upserts, picks]] of steps.entries()) {
            // Deleted: a copy of the applied object, or just its kind and name; also a name never applied.
            const keys = [...current.keys()];
            const deleted = [...new Set(picks.map((pick) => keys[pick % Math.max(1, keys.length)]))].flatMap((key) =>
              key === undefined ? [] : [current.get(key) as KubeObject],
            );
            const deletes = deleted.map((object, index) =>
              index % 2 === 0
                ? structuredClone(object)
                : {
                    kind: object.kind,
                    metadata: { namespace: object.metadata?.namespace, name: object.metadata?.name },
                  },
            );
            deletes.push({ kind: "Service", metadata: { namespace: "default", name: "never-applied" } });
            for (const object of deleted) current.delete(identity(object));
            // The last version of a name in one update wins, as the source gathers them.
            const latest = new Map(upserts.map((object) => [identity(object), object]));
            for (const [key, object] of latest) current.set(key, object);
            const objects = [...current.values()];
            // Mostly changes; now and then the whole set, as a full source would send it.
            if (index % 3 === 2) translator.apply(objects);
            else translator.applyChanges([...latest.values()], deletes);
            expect(canonical(translator.translation)).toEqual(canonical(translate(snapshotOf(objects), OPTIONS)));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("an EndpointSlice that changes owner leaves its old Service, whichever copy deletes it", () => {
    const objects = [
      ingressClass(true, "rennet.dev/ingress-controller"),
      service("default", "web", "http", false),
      service("default", "api", "http", false),
      ingress("default", "i1", "a.example.com", "web", undefined, undefined, undefined, 0),
      ingress("default", "i2", "b.example.com", "api", undefined, undefined, undefined, 0),
    ];
    const translator = new IncrementalTranslator(OPTIONS);
    translator.applyChanges([...objects, slice("default", "s1", "web", [true], 8080)], []);
    const endpoints = (key: string) => {
      const resolved = translator.translation.backends.get(key);
      return resolved?.kind === "endpoints" ? resolved.endpoints.length : -1;
    };
    expect([endpoints("default/web:http"), endpoints("default/api:http")]).toEqual([1, 0]);
    const moved = translator.applyChanges([slice("default", "s1", "api", [true, true], 8080)], []);
    expect([...moved.backends.keys()].sort()).toEqual(["default/api:http", "default/web:http"]);
    expect([endpoints("default/web:http"), endpoints("default/api:http")]).toEqual([0, 2]);
    // Deleted through a copy that still names the first owner: the applied version (owned by api) goes.
    translator.applyChanges([], [slice("default", "s1", "web", [true], 8080)]);
    expect([endpoints("default/web:http"), endpoints("default/api:http")]).toEqual([0, 0]);
  });

  it("reports only what changed: an unchanged apply is an empty delta", () => {
    const objects = [
      ingressClass(true, "rennet.dev/ingress-controller"),
      service("default", "web", "http", false),
      slice("default", "s1", "web", [true], 8080),
      ingress("default", "i1", "a.example.com", "web", undefined, undefined, undefined, 0),
    ];
    const translator = new IncrementalTranslator(OPTIONS);
    const first = translator.apply(objects);
    expect(first.upsert.map((ingress) => ingress.name)).toEqual(["i1"]);
    expect([...first.backends.keys()]).toEqual(["default/web:http"]);
    const again = translator.apply(objects);
    expect(again).toEqual({ upsert: [], remove: [], backends: new Map(), tlsChanged: false });
    const moved = translator.apply([
      ...objects.slice(0, 2),
      slice("default", "s1", "web", [true, true], 8080),
      objects[3] as KubeObject,
    ]);
    expect(moved.upsert).toEqual([]);
    expect([...moved.backends.keys()]).toEqual(["default/web:http"]);
  });
});
