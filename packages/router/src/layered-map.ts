const REMOVED: unique symbol = Symbol("removed");
type Removed = typeof REMOVED;

// The overlay is folded into a new base once it holds this share of the base:
// one Map copy every base.size / 8 changes, so a change stays O(1) amortised.
const FLATTEN_SHARE = 8;
const FLATTEN_MIN = 64;

/**
 * An immutable string-keyed map for the lookup path: a flat base Map, never
 * mutated, plus a small copy-on-write overlay of the changes since it was
 * built. A lookup is one Map probe when the overlay is empty and two at most
 * otherwise; a change copies only the overlay.
 */
export class LayeredMap<V> {
  readonly size: number;
  private readonly base: ReadonlyMap<string, V>;
  private readonly overlay: ReadonlyMap<string, V | Removed> | null;

  private constructor(base: ReadonlyMap<string, V>, overlay: ReadonlyMap<string, V | Removed> | null, size: number) {
    this.base = base;
    this.overlay = overlay;
    this.size = size;
  }

  static from<V>(entries: Iterable<readonly [string, V]>): LayeredMap<V> {
    const base = new Map<string, V>(entries);
    return new LayeredMap<V>(base, null, base.size);
  }

  get(key: string): V | undefined {
    const overlay = this.overlay;
    if (overlay !== null) {
      const value = overlay.get(key);
      if (value !== undefined) return value === REMOVED ? undefined : value;
    }
    return this.base.get(key);
  }

  *entries(): IterableIterator<[string, V]> {
    const overlay = this.overlay;
    for (const entry of this.base) if (overlay === null || !overlay.has(entry[0])) yield entry;
    if (overlay !== null) for (const [key, value] of overlay) if (value !== REMOVED) yield [key, value];
  }

  *values(): IterableIterator<V> {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator](): IterableIterator<[string, V]> {
    return this.entries();
  }

  /** A new map with `changes` applied: a value sets the key, undefined deletes it. */
  with(changes: ReadonlyMap<string, V | undefined>): LayeredMap<V> {
    if (changes.size === 0) return this;
    const overlay = new Map<string, V | Removed>(this.overlay ?? []);
    let size = this.size;
    for (const [key, value] of changes) {
      const had = this.get(key) !== undefined;
      if (value === undefined) {
        if (!had) continue;
        overlay.set(key, REMOVED);
        size--;
      } else {
        overlay.set(key, value);
        if (!had) size++;
      }
    }
    if (overlay.size > Math.max(FLATTEN_MIN, this.base.size / FLATTEN_SHARE)) {
      return LayeredMap.from(new LayeredMap(this.base, overlay, size).entries());
    }
    return new LayeredMap(this.base, overlay, size);
  }
}
