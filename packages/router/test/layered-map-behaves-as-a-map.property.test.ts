/**
 * LayeredMap (the immutable map behind host lookups, and node-edge's backends) answers like a
 * plain Map after any sequence of changes, across its overlay folds, and a change never alters
 * the map it was made from.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { LayeredMap } from "../src/index.js";

const key = fc.integer({ min: 0, max: 200 }).map((n) => `k${n}`);
// A batch of changes: a value sets the key, undefined deletes it.
const batch = fc.array(fc.tuple(key, fc.option(fc.integer(), { nil: undefined })), { maxLength: 12 });

describe("LayeredMap", () => {
  test("equals a Map after any sequence of changes, and leaves earlier versions as they were", () => {
    fc.assert(
      fc.property(fc.array(batch, { maxLength: 120 }), (batches) => {
        let map = LayeredMap.from<number>([]);
        const model = new Map<string, number>();
        const versions: Array<[LayeredMap<number>, Map<string, number>]> = [];
        for (const changes of batches) {
          const change = new Map(changes);
          map = map.with(change);
          for (const [k, v] of change) {
            if (v === undefined) model.delete(k);
            else model.set(k, v);
          }
          versions.push([map, new Map(model)]);
        }
        for (const [version, expected] of versions) {
          expect(version.size).toBe(expected.size);
          expect(new Map(version)).toEqual(expected);
          for (const k of ["k0", "k1", "k200", "absent"]) expect(version.get(k)).toBe(expected.get(k));
        }
      }),
      { numRuns: 200 },
    );
  });
});
